# ruff: noqa: E501 - the strings below are JavaScript, formatted as JavaScript
"""The script of the HTML report (:mod:`ecsel.casestudies._html`), kept apart from the
Python that fills it.

``EVALUATOR`` scores a row from the JSON description of the closed form (the same
steps as :meth:`ecsel._transform.FeatureMap.log_feature` and
:meth:`ecsel.Signomial.evaluate`); ``VIEWS`` draws the SVG figures and the what-if
panel. Neither loads anything from outside the page.
"""

EVALUATOR = r"""
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("ecsel-data").textContent);
  const M = DATA.model;
  function isMissing(v) {
    return v === null || v === undefined || (typeof v === "number" && Number.isNaN(v));
  }
  function asNumber(v) {
    if (isMissing(v)) return NaN;
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "number") return v;
    const text = String(v).trim();
    if (text === "") return NaN;
    if (text === "True" || text === "true") return 1;
    if (text === "False" || text === "false") return 0;
    return Number(text);
  }
  function asLabel(v) {  // pandas/ecsel: str(value); str(True) is "True"
    if (isMissing(v)) return null;
    if (typeof v === "boolean") return v ? "True" : "False";
    return String(v);
  }
  function logFeature(m, row) {
    const v = row[m.source];
    if (m.level !== null && m.level !== undefined) {  // a level of a categorical column
      const label = asLabel(v);
      if (m.missing) return label === null ? 1 : 0;
      return label === m.level ? 1 : 0;
    }
    if (m.kind === "constant") return 0;
    let x = asNumber(v);
    const absent = Number.isNaN(x);
    if (m.missing) return absent ? 1 : 0;
    if (absent) x = m.fill;
    const upper = (m.upper === null || m.upper === undefined) ? Infinity : m.upper;
    switch (m.kind) {
      case "power": return Math.log((Math.min(Math.max(x, m.lower), upper) + m.shift) / m.scale);
      case "signed": return Math.asinh((Math.min(Math.max(x, m.lower), upper) - m.center) / m.scale);
      case "linear": return (x - m.center) / m.scale;
      case "indicator": return Math.min(1, Math.max(0, (x - m.center) / m.scale));
      default: throw new Error("unknown feature map kind " + m.kind);
    }
  }
  function outputs(row) {
    const logU = M.maps.map(m => logFeature(m, row));
    return M.intercept.map((b, o) => {
      let z = b;
      M.coef[o].forEach((c, k) => {
        if (c === 0) return;
        let power = 0;
        M.exponents[o][k].forEach((a, j) => { if (a !== 0) power += a * logU[j]; });
        z += c * Math.exp(Math.min(M.exp_clamp, Math.max(-M.exp_clamp, power)));
      });
      return z;
    });
  }
  function score(row) {  // decision_function (predict for a regressor)
    const z = outputs(row);
    return M.link === "softmax" ? [0].concat(z) : z[0];
  }
  function proba(row) {  // predict_proba's row: one probability per class
    if (M.link === "identity") return null;
    const s = score(row);
    if (M.link === "logit") { const p = 1 / (1 + Math.exp(-s)); return [1 - p, p]; }
    const top = Math.max(...s);
    const e = s.map(v => Math.exp(v - top));
    const total = e.reduce((a, b) => a + b, 0);
    return e.map(v => v / total);
  }
  window.ecsel = {score: score, proba: proba, data: DATA};
})();
"""

VIEWS = r"""
(function () {
  const D = window.ecsel.data;
  // the SVG namespace, taken from the parser so that the page names no URL at all
  const NS = (() => { const d = document.createElement("div"); d.innerHTML = "<svg></svg>"; return d.firstChild.namespaceURI; })();
  function el(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const k in attrs) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function svg(width, height) { return el("svg", {width: width, height: height, viewBox: `0 0 ${width} ${height}`}); }
  function fmt(v) { return (v === null || v === undefined) ? "missing" : (typeof v === "number" ? Number(v.toPrecision(4)).toString() : String(v)); }
  function scale(lo, hi, a, b) { const span = (hi - lo) || 1; return v => a + (v - lo) / span * (b - a); }
  function axisLabel(s, x, y, text, anchor) { s.appendChild(el("text", {x: x, y: y, "text-anchor": anchor || "middle"}, text)); }

  function bars(target, labels, values, xlabel) {
    const left = 190, width = 520, row = 18, height = row * labels.length + 40;
    const s = svg(width, height);
    const lo = Math.min(0, ...values), hi = Math.max(0, ...values);
    const x = scale(lo, hi, left, width - 60);
    labels.forEach((label, i) => {
      const v = values[i], y = 10 + i * row;
      s.appendChild(el("rect", {x: Math.min(x(0), x(v)), y: y, width: Math.abs(x(v) - x(0)), height: row - 4, fill: v >= 0 ? "#d62728" : "#1f77b4"}));
      axisLabel(s, left - 6, y + row - 7, label.length > 30 ? label.slice(0, 29) + "\u2026" : label, "end");
      axisLabel(s, Math.max(x(0), x(v)) + 4, y + row - 7, fmt(v), "start");
    });
    axisLabel(s, (left + width) / 2, height - 8, xlabel);
    target.replaceChildren(s);
  }

  function waterfall(i) {
    const target = document.getElementById("waterfall");
    const values = D.shap.values[i], names = D.shap.features, base = D.shap.base[i];
    const order = values.map((v, j) => j).sort((a, b) => Math.abs(values[b]) - Math.abs(values[a])).slice(0, 12);
    const left = 230, width = 560, row = 20, height = row * (order.length + 1) + 44;
    const s = svg(width, height);
    let start = base; const ends = [base];
    order.forEach(j => { start += values[j]; ends.push(start); });
    const x = scale(Math.min(...ends), Math.max(...ends), left, width - 70);
    start = base;
    order.forEach((j, r) => {
      const v = values[j], y = 10 + r * row;
      s.appendChild(el("rect", {x: Math.min(x(start), x(start + v)), y: y, width: Math.max(1, Math.abs(x(start + v) - x(start))), height: row - 4, fill: v >= 0 ? "#d62728" : "#1f77b4"}));
      axisLabel(s, left - 6, y + row - 8, `${names[j]} = ${fmt(D.rows[i][names[j]])}`, "end");
      axisLabel(s, Math.max(x(start), x(start + v)) + 4, y + row - 8, (v >= 0 ? "+" : "") + fmt(v), "start");
      start += v;
    });
    s.appendChild(el("line", {x1: x(base), x2: x(base), y1: 4, y2: height - 34, stroke: "grey", "stroke-dasharray": "3,3"}));
    axisLabel(s, (left + width) / 2, height - 8, `${D.score_name}: base ${fmt(base)} \u2192 ${fmt(start)} (row ${i})`);
    target.replaceChildren(s);
  }

  function beeswarm() {
    const names = D.shap.features, values = D.shap.values;
    const mean = names.map((_, j) => values.reduce((a, r) => a + Math.abs(r[j]), 0) / values.length);
    const order = names.map((_, j) => j).filter(j => mean[j] > 0).sort((a, b) => mean[b] - mean[a]).slice(0, 15);
    const left = 190, width = 760, row = 26, height = row * order.length + 44;
    const s = svg(width, height);
    const all = order.flatMap(j => values.map(r => r[j]));
    const x = scale(Math.min(...all, 0), Math.max(...all, 0), left, width - 20);
    order.forEach((j, r) => {
      const y = 16 + r * row, column = names[j];
      const raw = D.rows.map(row => row[column]);
      const numeric = raw.every(v => v === null || typeof v === "number");
      const sorted = raw.filter(v => typeof v === "number").sort((a, b) => a - b);
      axisLabel(s, left - 6, y + 4, column, "end");
      values.forEach((vals, i) => {
        let colour = "#888";  // unordered categories and missing values: grey
        if (numeric && raw[i] !== null && sorted.length > 1) {
          const t = sorted.indexOf(raw[i]) / (sorted.length - 1);
          colour = `rgb(${Math.round(30 + 200 * t)},60,${Math.round(230 - 200 * t)})`;
        }
        const jitter = ((i * 7919) % 17 - 8) * 0.9;
        s.appendChild(el("circle", {cx: x(vals[j]), cy: y + jitter, r: 2.4, fill: colour, "fill-opacity": 0.8}));
      });
    });
    s.appendChild(el("line", {x1: x(0), x2: x(0), y1: 4, y2: height - 34, stroke: "#bbb"}));
    axisLabel(s, (left + width) / 2, height - 8, `Shapley value (${D.score_name}); colour: low (blue) to high (red) numeric value, grey: category or missing`);
    document.getElementById("beeswarm").replaceChildren(s);
  }

  function linePlot(target, xs, ys, xlabel, ylabel, numeric) {
    const width = 340, height = 230, left = 50, bottom = 40;
    const s = svg(width, height);
    const xv = numeric ? xs : xs.map((_, i) => i);
    const flat = ys.flat().filter(v => v !== null);
    const x = scale(Math.min(...xv), Math.max(...xv), left, width - 10);
    const y = scale(Math.min(...flat), Math.max(...flat), height - bottom, 10);
    ys.forEach((series, o) => {
      const points = series.map((v, i) => `${x(xv[i])},${y(v)}`).join(" ");
      s.appendChild(el("polyline", {points: points, fill: "none", stroke: ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"][o % 4], "stroke-width": 2}));
    });
    axisLabel(s, left, height - bottom + 14, fmt(numeric ? Math.min(...xv) : xs[0]), "start");
    axisLabel(s, width - 10, height - bottom + 14, fmt(numeric ? Math.max(...xv) : xs[xs.length - 1]), "end");
    axisLabel(s, 4, 14, fmt(Math.max(...flat)), "start");
    axisLabel(s, 4, height - bottom, fmt(Math.min(...flat)), "start");
    axisLabel(s, (left + width) / 2, height - 8, xlabel);
    const box = document.createElement("div"); box.className = "panel"; box.style.flex = "0 0 350px";
    const title = document.createElement("div"); title.textContent = ylabel;
    box.appendChild(title); box.appendChild(s); target.appendChild(box);
  }

  function front() {
    const target = document.getElementById("front");
    if (!D.front.length) { target.textContent = "No front stored with this model."; return; }
    const width = 560, height = 260, left = 60, bottom = 40;
    const s = svg(width, height);
    const cx = D.front.map(r => r.complexity), cy = D.front.map(r => r.score).filter(v => v !== null);
    const x = scale(Math.min(...cx), Math.max(...cx), left, width - 20);
    const y = scale(Math.min(...cy), Math.max(...cy), height - bottom, 14);
    D.front.forEach(r => {
      if (r.score === null) return;
      const dot = el("circle", {cx: x(r.complexity), cy: y(r.score), r: r.selected ? 6 : 4, fill: r.selected ? "#d62728" : "#1f77b4"});
      dot.appendChild(el("title", {}, `complexity ${r.complexity}, validation score ${fmt(r.score)}: ${r.equation}`));
      s.appendChild(dot);
    });
    axisLabel(s, (left + width) / 2, height - 8, "complexity (number of factors); red: the deployed equation; hover for the equation");
    axisLabel(s, 4, 14, fmt(Math.max(...cy)), "start");
    axisLabel(s, 4, height - bottom, fmt(Math.min(...cy)), "start");
    target.replaceChildren(s);
  }

  function whatIf() {
    const box = document.getElementById("whatif");
    const picker = document.createElement("select"); picker.id = "row-picker";
    D.rows.forEach((_, i) => picker.appendChild(new Option(`row ${i}`, String(i))));
    const head = document.createElement("label"); head.textContent = "start from ";
    head.appendChild(picker); box.appendChild(head); box.appendChild(document.createElement("br"));
    const fields = {};
    D.inputs.forEach(spec => {
      const label = document.createElement("label"); label.textContent = spec.name + " ";
      let input;
      if (spec.type === "number") {
        input = document.createElement("input"); input.type = "number"; input.step = "any";
        input.placeholder = "missing";
      } else {
        input = document.createElement("select");
        input.appendChild(new Option("(missing)", ""));
        (spec.type === "bool" ? ["True", "False"] : spec.levels).forEach(l => input.appendChild(new Option(l, l)));
      }
      input.name = spec.name; input.dataset.column = spec.name;
      input.addEventListener("input", update); input.addEventListener("change", update);
      fields[spec.name] = {spec: spec, input: input};
      box.appendChild(label); box.appendChild(input); box.appendChild(document.createElement("br"));
    });
    function current() {
      const row = {};
      for (const name in fields) {
        const {spec, input} = fields[name];
        const text = input.value;
        if (text === "") row[name] = null;
        else if (spec.type === "number") row[name] = Number(text);
        else if (spec.type === "bool") row[name] = text === "True";
        else row[name] = text;
      }
      return row;
    }
    function load(i) {
      const row = D.rows[i];
      for (const name in fields) {
        const v = row[name];
        fields[name].input.value = v === null ? "" : (typeof v === "boolean" ? (v ? "True" : "False") : String(v));
      }
      waterfall(i); update();
    }
    function update() {
      const row = current(), z = window.ecsel.score(row), p = window.ecsel.proba(row);
      const out = document.getElementById("result");
      if (p === null) { out.textContent = `prediction = ${fmt(z)}`; }
      else if (D.model.link === "logit") {
        out.textContent = `log-odds = ${fmt(z)}, P(y = ${D.model.classes[1]}) = ${fmt(p[1])}`;
      } else {
        out.textContent = D.model.classes.map((c, j) => `P(y = ${c}) = ${fmt(p[j])}`).join(", ");
      }
      out.dataset.score = String(Array.isArray(z) ? z.join(",") : z);
    }
    picker.addEventListener("change", () => load(Number(picker.value)));
    load(0);
  }

  document.getElementById("equation").textContent = D.equation;
  document.getElementById("latex").textContent = D.latex;
  bars(document.getElementById("importance"), D.importance.map(r => r.feature), D.importance.map(r => r.value), `mean |Shapley value| (${D.score_name})`);
  beeswarm();
  const pdp = document.getElementById("pdp");
  D.pdp.forEach(p => linePlot(pdp, p.x, p.y, p.feature, `partial dependence of the ${D.score_name} on ${p.feature}`, p.x.every(v => typeof v === "number")));
  front();
  whatIf();
})();
"""

SCRIPT = EVALUATOR + VIEWS
