"""A self-contained interactive HTML report of a fitted ECSEL model.

One file, no external URL: the styles, the script and every figure (SVG drawn by the
script) are inline. The page holds the equation, the complexity-accuracy front, the
feature importance, the Shapley beeswarm, a per-row waterfall, partial dependence and
a what-if panel. The what-if panel scores an edited row in the browser from the
closed form: :func:`model_description` turns the signomial and the public attributes
of its transform (every :class:`~ecsel._transform.FeatureMap` field, its ``fill``)
into JSON, and the script evaluates that description exactly as
:meth:`ecsel.Signomial.evaluate` does. The page exposes ``window.ecsel.score(row)``
and ``window.ecsel.proba(row)`` (``row``: column -> value, ``null`` for missing).
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from ecsel._io import atomic_write_text
from ecsel._transform import EXP_CLAMP
from ecsel.casestudies._html_script import SCRIPT

#: Rows whose Shapley values are embedded (beeswarm and waterfall).
MAX_ROWS = 200
#: Features drawn in the partial-dependence panel.
MAX_PDP = 6


def _finite(value):
    """JSON has no NaN: missing numbers become ``null``."""
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.bool_,)):
        return bool(value)
    return value


def model_description(est) -> dict:
    """The JSON-ready closed form the page's evaluator runs.

    Every field of every feature map is passed on (``FeatureMap.to_dict``) with its
    ``fill`` value, so a field the transform gains is visible to the script; the
    browser test checks the script against ``decision_function``.

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> d = model_description(est)
    >>> d["link"], d["inputs"], [m["kind"] for m in d["maps"]], d["exp_clamp"]
    ('identity', ['m', 'v'], ['power', 'power'], 60.0)
    """
    sig = est.signomial_
    maps = []
    for fmap in sig.transform.feature_maps:
        entry = {k: _finite(v) for k, v in fmap.to_dict().items()}
        entry["fill"] = _finite(float(fmap.fill))
        maps.append(entry)
    classes = [str(c) for c in getattr(est, "classes_", [])]
    return {
        "inputs": list(sig.input_features),
        "maps": maps,
        "intercept": sig.intercept.tolist(),
        "coef": sig.coef.tolist(),
        "exponents": sig.exponents.tolist(),
        "outputs": list(sig.output_names),
        "link": sig.link,
        "classes": classes,
        "exp_clamp": EXP_CLAMP,
    }


def _row_records(frame: pd.DataFrame) -> list[dict]:
    return [{c: _finite(v) if not pd.isna(v) else None for c, v in row.items()}
            for row in frame.to_dict(orient="records")]


def _inputs_spec(est, X: pd.DataFrame) -> list[dict]:
    """One what-if input per column: a number field or a list of levels."""
    sig = est.signomial_
    spec = []
    for column in sig.input_features:
        maps = [m for m in sig.transform.feature_maps if m.source == column]
        levels = [m.level for m in maps if m.level is not None and not m.missing]
        series = X[column]
        if levels or any(m.level is not None for m in maps) or series.dtype == object:
            observed = sorted({str(v) for v in series.dropna()} | set(levels))
            spec.append({"name": column, "type": "level", "levels": observed})
        elif pd.api.types.is_bool_dtype(series.dtype):
            spec.append({"name": column, "type": "bool"})
        else:
            spec.append({"name": column, "type": "number"})
    return spec


def _front(est) -> list[dict]:
    table = getattr(est, "equations_", None)
    if table is None:
        return []
    selected = getattr(est, "selected_index_", None)
    return [{"complexity": int(r.complexity), "score": _finite(float(r.score)),
             "equation": str(r.equation), "selected": bool(i == selected)}
            for i, r in table.iterrows()]


def _partial_dependence(est, X: pd.DataFrame, features: list[str]) -> list[dict]:
    out = []
    for feature in features:
        pdp = est.partial_dependence(X, feature)
        out.append({"feature": feature,
                    "x": [_finite(v) if not isinstance(v, str) else v for v in pdp.iloc[:, 0]],
                    "y": [[_finite(v) for v in pdp[c]] for c in pdp.columns[1:]],
                    "outputs": [str(c) for c in pdp.columns[1:]]})
    return out


def report_data(est, X: pd.DataFrame, title: str = "ECSEL model") -> dict:
    """Everything the page shows, computed once in Python (exactly, from the closed form)."""
    sig = est.signomial_
    X = X[list(sig.input_features)].reset_index(drop=True)
    rows = X.sample(n=MAX_ROWS, random_state=0) if len(X) > MAX_ROWS else X
    rows = rows.reset_index(drop=True)
    expl = est.explain(rows)
    values = np.asarray(expl.values, dtype=float)
    base = np.asarray(expl.base_values, dtype=float)
    if values.ndim == 3:  # multiclass: the first non-reference class's log-odds
        values, base = values[:, 1], base[:, 1]
    importance = est.feature_importance(rows)
    top = [f for f in importance.index if importance.loc[f, "mean_abs_shapley"] > 0]
    numeric_top = [f for f in top if f in X.columns][:MAX_PDP]
    return {
        "title": title,
        "equation": str(sig),
        "latex": sig.to_latex(precision=4),
        "model": model_description(est),
        "inputs": _inputs_spec(est, X),
        "rows": _row_records(rows),
        "shap": {"values": values.tolist(), "base": np.broadcast_to(base, len(rows)).tolist(),
                 "features": list(expl.feature_names)},
        "importance": [{"feature": f, "value": _finite(float(importance.loc[f,
                                                                              "mean_abs_shapley"]))}
                       for f in importance.index],
        "front": _front(est),
        "pdp": _partial_dependence(est, rows, numeric_top),
        "score_name": "log-odds" if sig.link != "identity" else "score",
    }


_STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#222}
h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}
pre{background:#f6f6f6;padding:.6em;white-space:pre-wrap;word-break:break-word}
.grid{display:flex;flex-wrap:wrap;gap:1em}.panel{flex:1 1 480px}
#whatif label{display:inline-block;width:14em;margin:.15em 0}
#whatif input,#whatif select{width:10em}
#result{font-size:1.2em;font-weight:600;margin:.6em 0}
svg text{font-size:11px}
"""


def html_report(est, X: pd.DataFrame, title: str = "ECSEL model") -> str:
    """The report as one HTML string (see the module docstring).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> page = html_report(est, X)
    >>> page.startswith("<!DOCTYPE html>"), "window.ecsel" in page, "http" in page
    (True, True, False)
    """
    data = json.dumps(report_data(est, X, title), allow_nan=False, separators=(",", ":"))
    # "</" would end the script element early
    data = data.replace("</", "<\\/")
    script = SCRIPT
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<link rel=\"icon\" href=\"data:,\">"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        "<h2>The equation</h2><pre id=\"equation\"></pre>"
        "<details><summary>LaTeX</summary><pre id=\"latex\"></pre></details>"
        "<h2>What if?</h2><p>Edit a row (pick one of the explained rows to start); the "
        "score and the probability are recomputed in this page from the equation above."
        "</p><div id=\"whatif\"></div><div id=\"result\"></div>"
        "<div class=\"grid\"><div class=\"panel\"><h2>This row, feature by feature "
        "(exact Shapley values)</h2><div id=\"waterfall\"></div></div>"
        "<div class=\"panel\"><h2>Feature importance (mean |Shapley value|)</h2>"
        "<div id=\"importance\"></div></div></div>"
        "<h2>Shapley values of the explained rows</h2><div id=\"beeswarm\"></div>"
        "<h2>Partial dependence</h2><div id=\"pdp\" class=\"grid\"></div>"
        "<h2>Complexity-accuracy front</h2><div id=\"front\"></div>"
        f"<script id=\"ecsel-data\" type=\"application/json\">{data}</script>"
        f"<script>{script}</script></body></html>\n"
    )


def write_html_report(est, X: pd.DataFrame, out, title: str = "ECSEL model") -> Path:
    """Write :func:`html_report` to ``out`` atomically; returns the path.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> page = write_html_report(est, X, Path(tempfile.mkdtemp()) / "report.html")
    >>> page.name, page.stat().st_size < 2_000_000
    ('report.html', True)
    """
    out = Path(out)
    atomic_write_text(out, html_report(est, X, title))
    return out
