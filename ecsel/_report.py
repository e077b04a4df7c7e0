"""Reports of the case studies: console text, Markdown, PNG plots, atomic output.

:func:`run_case_study` is what ``ecsel demo`` and the example scripts call: it runs a
case study from :mod:`ecsel._casestudy` with a progress bar, saves the plots and a
``report.md`` into a fresh folder that appears atomically, and returns the results
together with a plain-text summary.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ecsel import _casestudy as cs
from ecsel import _casestudy_explain as cx

# ------------------------------------------------------------------- atomic output


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    The folder is created next to ``target`` (same file system), so the final step is
    a rename; an existing ``target`` is moved aside first and removed afterwards. On
    an exception the temporary folder is deleted and ``target`` is left untouched.
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename."""
    path = Path(path).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


# ------------------------------------------------------------------------ tables
def _fmt(value, floatfmt: str) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else format(float(value), floatfmt)
    return str(value).replace("|", "\\|")


def md_table(frame: pd.DataFrame, floatfmt: str = ".4f", index: bool = True) -> str:
    """A pipe-table (GitHub Markdown) rendering of ``frame``."""
    if index:
        df = frame.rename_axis(frame.index.name or "").reset_index()
    else:
        df = frame
    header = "| " + " | ".join(str(c) for c in df.columns) + " |"
    rule = "|" + "|".join("---" for _ in df.columns) + "|"
    rows = [
        "| " + " | ".join(_fmt(v, floatfmt) for v in row) + " |"
        for row in df.itertuples(index=False)
    ]
    return "\n".join([header, rule, *rows])


def text_table(frame: pd.DataFrame, floatfmt: str = ".4f") -> str:
    """Fixed-width console rendering of ``frame``."""
    return frame.to_string(float_format=lambda v: format(v, floatfmt), na_rep="")


# ------------------------------------------------------------------------- plots
def _pyplot():
    import matplotlib

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo"):
        with contextlib.suppress(Exception):
            matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> str:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    _pyplot().close(fig)
    return path.name


def plot_curves(comparison: cs.Comparison, path: Path) -> str:
    """ROC and precision-recall curves of the three models on the test part."""
    from sklearn.metrics import precision_recall_curve, roc_curve

    plt = _pyplot()
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.2))
    y = comparison.split.y_test
    for name, p in comparison.test_proba.items():
        m = comparison.metrics.loc[name]
        fpr, tpr, _ = roc_curve(y, p)
        ax1.plot(fpr, tpr, label=f"{name} (AUC {m['roc_auc']:.3f})")
        prec, rec, _ = precision_recall_curve(y, p)
        ax2.plot(rec, prec, label=f"{name} (AP {m['pr_auc']:.3f})")
    ax1.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
    ax1.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (test)")
    ax2.set(xlabel="recall", ylabel="precision", title="Precision-recall (test)")
    ax1.legend(fontsize=8)
    ax2.legend(fontsize=8)
    return _save(fig, path)


def plot_importance(expl: cx.Explanation, path: Path, top: int = 12) -> str:
    """Global importance: mean |attribution| of the ECSEL score per input column."""
    plt = _pyplot()
    imp = expl.importance.iloc[:top][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(imp) + 1.2))
    ax.barh(imp.index, imp.to_numpy(), color="#4c72b0")
    ax.set(xlabel="mean |attribution| (log-odds)", title="ECSEL global importance")
    return _save(fig, path)


def plot_beeswarm(
    expl: cx.Explanation, X: pd.DataFrame, path: Path, top: int = 10, seed: int = 0
) -> str:
    """Beeswarm-style summary: one dot per case, coloured by the column's value."""
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    cols = list(expl.importance.index[:top])
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(cols) + 1.4))
    for row, c in enumerate(cols[::-1]):
        values = expl.attributions[c].to_numpy(float)
        raw = X[c]
        if (
            isinstance(raw.dtype, pd.CategoricalDtype)
            or not pd.api.types.is_numeric_dtype(raw.dtype)
            or pd.api.types.is_bool_dtype(raw.dtype)
        ):
            colour = pd.Series(raw).astype(str).astype("category").cat.codes.to_numpy(float)
        else:
            colour = pd.Series(raw.to_numpy(float)).rank(pct=True).to_numpy()
        jitter = rng.uniform(-0.3, 0.3, size=len(values))
        ax.scatter(values, row + jitter, c=colour, cmap="coolwarm", s=6, alpha=0.7, linewidths=0)
    ax.set_yticks(range(len(cols)))
    ax.set_yticklabels(cols[::-1])
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(
        xlabel="attribution to the log-odds (colour: value rank, blue low / red high)",
        title="ECSEL attributions on test cases",
    )
    return _save(fig, path)


def plot_terms(expl: cx.Explanation, path: Path) -> str:
    """Distribution of each term's value on the explained test cases."""
    plt = _pyplot()
    tv = expl.term_values
    active = [k for k in range(tv.shape[1]) if np.any(tv[:, k] != 0)]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.boxplot([tv[:, k] for k in active], showfliers=False)
    ax.set_xticks(range(1, len(active) + 1))
    ax.set_xticklabels([f"term {k}" for k in active])
    ax.axhline(0, color="grey", lw=0.8)
    ax.set(ylabel="contribution to the log-odds", title="ECSEL term contributions (test)")
    return _save(fig, path)


def plot_waterfall(
    expl: cx.Explanation, path: Path, row: pd.Series, title: str, top: int = 8
) -> str:
    """Waterfall of one case's attributions, from the reference score to its score."""
    plt = _pyplot()
    order = row.abs().sort_values(ascending=False).index
    shown = list(order[:top])
    rest = float(row[order[top:]].sum()) if len(order) > top else 0.0
    items = [(c, float(row[c])) for c in shown] + ([("other columns", rest)] if rest else [])
    base = float(expl.attributions.attrs.get("base_value", 0.0))
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(items) + 1.6))
    level = base
    for i, (_, v) in enumerate(items):
        ax.barh(i, v, left=level, color="#c44e52" if v > 0 else "#4c72b0")
        level += v
    ax.set_yticks(range(len(items)))
    ax.set_yticklabels([n for n, _ in items])
    ax.invert_yaxis()
    ax.axvline(base, color="grey", lw=0.8, ls=":")
    ax.axvline(level, color="black", lw=0.8)
    ax.set(xlabel=f"log-odds (reference {base:.2f} -> case {level:.2f})", title=title)
    return _save(fig, path)


def plot_partial_dependence(
    comparison: cs.Comparison, feature: str, path: Path, n_rows: int = 400, seed: int = 0
) -> str:
    """Average predicted probability as ``feature`` varies (ECSEL and both baselines)."""
    plt = _pyplot()
    X = comparison.split.X_fit
    rows = X.sample(n=min(n_rows, len(X)), random_state=seed).reset_index(drop=True)
    values = X[feature]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    categorical = isinstance(
        values.dtype, pd.CategoricalDtype
    ) or not pd.api.types.is_numeric_dtype(values.dtype)
    is_cat_dtype = isinstance(values.dtype, pd.CategoricalDtype)
    if categorical:
        present = set(values.astype(str))
        order = [str(c) for c in values.dtype.categories] if is_cat_dtype else sorted(present)
        grid = [g for g in order if g in present]
    else:
        grid = np.unique(np.quantile(values.to_numpy(float), np.linspace(0.0, 0.99, 40)))
    for name, model in comparison.models.items():
        means = []
        for g in grid:
            trial = rows.copy()
            if categorical and is_cat_dtype:
                cats = values.dtype.categories
                level = cats[[str(c) for c in cats].index(g)]
                trial[feature] = pd.Categorical([level] * len(trial), categories=cats)
            elif categorical:
                trial[feature] = g
            else:
                trial[feature] = float(g)
            data = trial if name == "ECSEL" else cs._as_model_input(trial)
            means.append(float(model.predict_proba(data)[:, 1].mean()))
        xs = np.arange(len(grid)) if categorical else grid
        ax.plot(xs, means, marker="o" if categorical else None, ms=3, label=name)
    if categorical:
        ax.set_xticks(np.arange(len(grid)))
        ax.set_xticklabels([str(g) for g in grid], rotation=45)
    ax.set(
        xlabel=feature,
        ylabel="mean predicted probability",
        title=f"Partial dependence on {feature}",
    )
    ax.legend(fontsize=8)
    return _save(fig, path)


# ------------------------------------------------------------------ case studies
@dataclass
class CaseStudyResult:
    """Results of one case study, as returned by :func:`run_case_study`."""

    name: str
    summary: str
    report: Path | None
    seconds: float
    comparison: cs.Comparison | None = None
    explanation: cx.Explanation | None = None
    feynman: pd.DataFrame | None = None
    figures: list[str] = field(default_factory=list)


class _Bar:
    """A tqdm bar over named steps (a no-op when ``enabled`` is false)."""

    def __init__(self, total: int, desc: str, enabled: bool):
        self.bar = None
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc=desc, unit="step", leave=True)

    def __call__(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(label, refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def default_out_dir(name: str) -> Path:
    """Folder a demo writes to when ``--out`` is not given: ``./ecsel-report-<name>``."""
    return Path.cwd() / f"ecsel-report-{name}"


def run_case_study(
    name: str,
    out_dir: str | os.PathLike | None = None,
    *,
    ecsel_params: dict | None = None,
    progress: bool = True,
    feynman_laws=None,
    full: bool | None = None,
) -> CaseStudyResult:
    """Run a case study end to end and write ``report.md`` with PNG plots.

    Parameters
    ----------
    name : {"shoppers", "fraud", "feynman"}
    out_dir : path or None
        Folder for the report (created atomically, replaced if it exists); ``None``
        writes nothing and only returns the results.
    ecsel_params : dict, optional
        Keyword arguments of :class:`~ecsel.ECSELClassifier` (classification cases)
        or :class:`~ecsel.ECSELRegressor` (Feynman). Default: the library defaults.
    progress : bool, default=True
        Show a tqdm progress bar on stderr.
    feynman_laws : sequence of str, optional
        Laws for the Feynman case (default :data:`ecsel._casestudy.DEMO_FEYNMAN_LAWS`).
    full : bool or None
        Fraud only: which file to use (see :func:`ecsel.datasets.load_credit_card_fraud`).

    Returns
    -------
    CaseStudyResult
    """
    if name not in cs.CASES:
        raise ValueError(f"Unknown case study {name!r}; choose one of {', '.join(cs.CASES)}.")
    start = time.perf_counter()
    if name == "feynman":
        laws = list(feynman_laws or cs.DEMO_FEYNMAN_LAWS)
        bar = _Bar(len(laws) + (out_dir is not None), "ecsel demo feynman", progress)
        try:
            table = cs.run_feynman(laws, regressor_params=ecsel_params, progress=bar)
            seconds = time.perf_counter() - start
            summary = feynman_summary(table)
            report = None
            if out_dir is not None:
                with atomic_dir(out_dir) as tmp:
                    atomic_write_text(tmp / "report.md", feynman_markdown(table, seconds))
                    table.to_csv(tmp / "feynman.csv", index=False)
                report = Path(out_dir).resolve() / "report.md"
                bar("report")
        finally:
            bar.close()
        return CaseStudyResult(name, summary, report, seconds, feynman=table)

    n_steps = 1 + 3 + 1 + (out_dir is not None)
    bar = _Bar(n_steps, f"ecsel demo {name}", progress)
    try:
        bar("load data")
        case = cs.load_case(name, full=full)
        split = cs.split_case(case)
        comparison = cs.compare_classifiers(case, split, ecsel_params=ecsel_params, progress=bar)
        bar("explain")
        with threadpool_limits(1):
            expl = cx.explain_classifier(case, comparison)
        seconds = time.perf_counter() - start
        summary = classification_summary(case, comparison, expl)
        report, figures = None, []
        if out_dir is not None:
            with atomic_dir(out_dir) as tmp, threadpool_limits(1):
                figures = _classification_figures(case, comparison, expl, tmp)
                comparison.metrics.to_csv(tmp / "metrics.csv")
                (tmp / "model.json").write_text(
                    comparison.models["ECSEL"].to_json(), encoding="utf-8"
                )
                seconds = time.perf_counter() - start
                atomic_write_text(
                    tmp / "report.md",
                    classification_markdown(case, comparison, expl, figures, seconds),
                )
            report = Path(out_dir).resolve() / "report.md"
            bar("report")
    finally:
        bar.close()
    return CaseStudyResult(
        name, summary, report, time.perf_counter() - start, comparison, expl, figures=figures
    )


def _library_plot(draw, path: Path) -> str | None:
    """Save a plot drawn by ecsel's own plotting API; ``None`` if it is unavailable."""
    plt = _pyplot()
    try:
        ax = draw()
    except (AttributeError, TypeError, ValueError, NotImplementedError, ImportError):
        plt.close("all")
        return None
    return _save(ax.figure, path)


def _classification_figures(case, comparison, expl, folder: Path) -> list[tuple[str, str]]:
    X_ex = comparison.split.X_test.iloc[
        expl.attributions.attrs.get("rows", np.arange(len(expl.attributions)))
    ].reset_index(drop=True)
    est = comparison.models["ECSEL"]
    lib = expl.library
    figures = [
        ("ROC and precision-recall curves", plot_curves(comparison, folder / "curves.png")),
        ("Global importance", plot_importance(expl, folder / "importance.png")),
    ]
    swarm = (
        _library_plot(lambda: lib.plot_beeswarm(max_display=12), folder / "beeswarm.png")
        if lib is not None
        else None
    )
    figures.append(
        (
            "Attributions on test cases (beeswarm)",
            swarm or plot_beeswarm(expl, X_ex, folder / "beeswarm.png"),
        )
    )
    terms = (
        _library_plot(
            lambda: est.plot_terms(X_ex, background=expl.background), folder / "terms.png"
        )
        if hasattr(est, "plot_terms")
        else None
    )
    figures.append(("Term contributions", terms or plot_terms(expl, folder / "terms.png")))
    x = expl.rejected_case
    attr, _, lib_x = cx.attributions(est, x, expl.background)
    expl.attributions.attrs.setdefault("base_value", attr.attrs.get("base_value", 0.0))
    title = f"Rejected test case #{expl.rejected_index} (p = {expl.rejected_proba:.3f})"
    fall = (
        _library_plot(lambda: lib_x.plot_waterfall(0), folder / "waterfall.png")
        if lib_x is not None
        else None
    )
    figures.append(
        (
            f"Why test case #{expl.rejected_index} was rejected",
            fall or plot_waterfall(expl, folder / "waterfall.png", attr.iloc[0], title),
        )
    )
    top_numeric = [
        c
        for c in expl.importance.index
        if pd.api.types.is_numeric_dtype(case.X[c].dtype)
        and not pd.api.types.is_bool_dtype(case.X[c].dtype)
        and not isinstance(case.X[c].dtype, pd.CategoricalDtype)
    ]
    if top_numeric:
        f = top_numeric[0]
        figures.append(
            (
                f"Partial dependence on {f}",
                plot_partial_dependence(comparison, f, folder / f"pdp_{f}.png"),
            )
        )
    if case.name == "shoppers" and "Month" in case.X.columns:
        figures.append(
            (
                "Partial dependence on Month (seasonality)",
                plot_partial_dependence(comparison, "Month", folder / "pdp_Month.png"),
            )
        )
    return figures


# ---------------------------------------------------------------------- rendering
def _metric_frame(comparison: cs.Comparison) -> pd.DataFrame:
    cols = ["roc_auc", "pr_auc", "f1", "threshold"]
    extra = [c for c in ("pr_auc_pop", "f1_pop") if c in comparison.metrics.columns]
    table = comparison.metrics[cols + extra + ["n_terms", "fit_s"]].copy()
    table["n_terms"] = table["n_terms"].astype("Int64")
    return table


def _cf_text(expl: cx.Explanation, threshold: float) -> str:
    if expl.counterfactual is None:
        return (
            "No single change of an actionable column within its observed range lifts it "
            "above the threshold."
        )
    parts = [
        f"{r['feature']}: {r['from']:.4g} -> {r['to']:.4g}"
        if isinstance(r["from"], (int, float, np.number))
        else f"{r['feature']}: {r['from']} -> {r['to']}"
        for _, r in expl.counterfactual.iterrows()
    ]
    p = (
        float(expl.counterfactual["probability_after"].iloc[0])
        if "probability_after" in expl.counterfactual.columns
        else float("nan")
    )
    return (
        f"Changing {'; '.join(parts)} lifts the probability from {expl.rejected_proba:.3f} "
        f"to {p:.3f} (threshold {threshold:.3f})."
    )


def elasticity_tables(expl: cx.Explanation, top: int = 12) -> tuple[pd.DataFrame, str]:
    """Exponents of power / linear features, and a sentence on the one-hot switches."""
    el = expl.elasticities
    cont = el[el["kind"] != "indicator"]
    cont = cont.reindex(cont["exponent"].abs().sort_values(ascending=False).index).head(top)
    switches = el[el["kind"] == "indicator"]
    if len(switches):
        big = switches.reindex(switches["exponent"].abs().sort_values(ascending=False).index)
        shown = ", ".join(
            f"{r.feature} {r.exponent:+.3g} (term {r.term})" for r in big.head(5).itertuples()
        )
        text = (
            f"{len(switches)} switch exponent(s) on binary / one-hot features; the "
            f"largest: {shown}."
        )
    else:
        text = "No binary or one-hot switches."
    return cont, text


def classification_summary(
    case: cs.CaseData, comparison: cs.Comparison, expl: cx.Explanation
) -> str:
    """Console summary of a classification case study."""
    threshold = float(comparison.metrics.loc["ECSEL", "threshold"])
    el, switches = elasticity_tables(expl)
    lines = [
        f"== {case.title} ==",
        *case.notes,
        "Protocol: 70/30 stratified train/test split (seed 0); every model is fitted on "
        "80% of the training part and its F1 threshold is tuned on the other 20%.",
        "",
        f"ECSEL equation (log-odds of {case.labels[1]}, {expl.n_terms} term(s)):",
        expl.equation,
        "",
        "Held-out test metrics:",
        text_table(_metric_frame(comparison)),
        "",
        "Elasticities (exponents of the numeric features in each term):",
        text_table(
            el.set_index(["term", "feature"])[
                [c for c in ("kind", "exponent", "score_elasticity") if c in el.columns]
            ]
        ),
        switches,
        "",
        f"Top attributions ({expl.attribution_method}), 1 %-trimmed mean |attribution|:",
        text_table(expl.importance.head(8).to_frame("mean |attribution|")),
        "",
        f"Counterfactual for rejected test case #{expl.rejected_index} "
        f"(a true {case.labels[1]}, p = {expl.rejected_proba:.3f}):",
        _cf_text(expl, threshold),
        "",
        "What the equation reveals:",
        *[f"- {f}" for f in expl.findings],
    ]
    return "\n".join(lines)


def classification_markdown(
    case: cs.CaseData, comparison: cs.Comparison, expl: cx.Explanation, figures, seconds: float
) -> str:
    """The Markdown report of a classification case study."""
    import ecsel

    threshold = float(comparison.metrics.loc["ECSEL", "threshold"])
    el, switches = elasticity_tables(expl, top=15)
    est = comparison.models["ECSEL"]
    parts = [
        f"# ecsel demo: {case.title}",
        "",
        f"ecsel {ecsel.__version__}; finished in {seconds:.1f} s.",
        "",
        "## Data",
        "",
        *[f"- {n}" for n in case.notes],
        "- Protocol: 70/30 stratified train/test split (seed 0); each model is fitted on "
        "80 % of the training part, its F1 threshold tuned on the remaining 20 % "
        "(validation), and everything below is measured on the test part.",
        "",
        "## The learned equation",
        "",
        f"Log-odds of *{case.labels[1]}* ({expl.n_terms} term(s); one-hot levels appear as "
        "`exp(g*col[level])` switches):",
        "",
        "```",
        expl.equation,
        "```",
        "",
        "LaTeX:",
        "",
        "```latex",
        est.latex(precision=3),
        "```",
        "",
        "## Held-out metrics",
        "",
        md_table(_metric_frame(comparison)),
        "",
        "`pr_auc_pop` / `f1_pop` (fraud sample only) weight the test and validation rows by "
        "`sample_weight` so they reflect the population fraud rate."
        if "pr_auc_pop" in comparison.metrics.columns
        else "",
        "",
        "## Elasticities",
        "",
        "Exponent of each numeric feature in each term (terms numbered from 0, as in "
        "`signomial_.term_values` and the term plot): for a power feature, the "
        "elasticity of the term in `x + shift` (a 1 % rise multiplies the term by about "
        "1 + exponent %); for a linear feature (signed values, map "
        "`(x - median) / std`), the log-change of the term per standard deviation.",
        "",
        md_table(el, ".4g", index=False),
        "",
        switches,
        "",
        "## Attributions",
        "",
        f"Method: {expl.attribution_method}.",
        "",
        "Exact Shapley values of the log-odds of 1,000 random test rows, relative to "
        "the typical training row (median of each numeric column, mode of the others). "
        "Global importance: their mean absolute value (the largest 1 % of each column "
        "trimmed).",
        "",
        md_table(expl.importance.head(10).to_frame("mean |attribution|")),
        "",
        "## A rejected case and its counterfactual",
        "",
        f"Test case #{expl.rejected_index} is a true *{case.labels[1]}* that ECSEL scores "
        f"p = {expl.rejected_proba:.3f}, below the tuned threshold {threshold:.3f}.",
        "",
        md_table(expl.rejected_case.T.rename(columns={0: "value"}), ".4g"),
        "",
        _cf_text(expl, threshold),
        "",
        "## What the equation reveals",
        "",
        *[f"- {f}" for f in expl.findings],
        "",
        "## Plots",
        "",
    ]
    for title, fname in figures:
        parts += [f"### {title}", "", f"![{title}]({fname})", ""]
    parts += [
        "Files: `metrics.csv` (the table above), `model.json` (reload with "
        "`ecsel.load_json` or use with `ecsel predict` / `ecsel explain`).",
        "",
    ]
    return "\n".join(parts)


def feynman_summary(table: pd.DataFrame) -> str:
    """Console summary of the Feynman recovery run."""
    cols = ["law", "recovered", "r2", "n_terms", "fit_s", "truth", "found"]
    return "\n".join(
        [
            "== AI Feynman: symbolic recovery with ECSELRegressor ==",
            text_table(table[cols].set_index("law"), ".4g"),
            f"Recovered {int(table['recovered'].sum())} of {len(table)} laws.",
        ]
    )


def feynman_markdown(table: pd.DataFrame, seconds: float) -> str:
    """The Markdown report of the Feynman recovery run."""
    import ecsel

    cols = ["law", "recovered", "r2", "n_terms", "fit_s", "truth", "found"]
    return "\n".join(
        [
            "# ecsel demo: AI Feynman symbolic recovery",
            "",
            f"ecsel {ecsel.__version__}; finished in {seconds:.1f} s.",
            "",
            "Each law is sampled on its published ranges (Udrescu & Tegmark 2020): 500 rows "
            "to fit, 500 to test, no noise. A law counts as recovered when the fitted "
            "signomial has the true terms (exponents to 1e-3, coefficients within 1 %).",
            "",
            md_table(table[cols], ".6g", index=False),
            "",
            f"Recovered {int(table['recovered'].sum())} of {len(table)} laws.",
            "",
        ]
    )
