"""Reports of the case studies: console text, Markdown tables, the report folder.

:func:`run_case_study` is what ``ecsel demo`` and the example scripts call: it runs a
case study with a progress bar, saves the plots (:mod:`ecsel.casestudies._figures`)
and a ``report.md`` into a fresh folder that appears atomically, and returns the
results together with a plain-text summary.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from ecsel import __version__
from ecsel._io import atomic_dir, atomic_write_text
from ecsel.casestudies._data import CASES, DEMO_FEYNMAN_LAWS, CaseData, load_case, split_case
from ecsel.casestudies._figures import classification_figures
from ecsel.casestudies._findings import CaseExplanation, explain_classifier
from ecsel.casestudies._models import Comparison, compare_classifiers, run_feynman


# ------------------------------------------------------------------------ tables
def _fmt(value, floatfmt: str) -> str:
    if value is None or value is pd.NA:
        return ""
    if isinstance(value, (float, np.floating)):
        return "" if np.isnan(value) else format(float(value), floatfmt)
    return str(value).replace("|", "\\|")


def md_table(frame: pd.DataFrame, floatfmt: str = ".4f", index: bool = True) -> str:
    """A pipe-table (GitHub Markdown) rendering of ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> print(md_table(pd.DataFrame({"auc": [0.91]}, index=["ECSEL"]), ".2f"))
    |  | auc |
    |---|---|
    | ECSEL | 0.91 |
    """
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
    """Fixed-width console rendering of ``frame``.

    Examples
    --------
    >>> import pandas as pd
    >>> print(text_table(pd.DataFrame({"auc": [0.91]}, index=["ECSEL"]), ".2f"))
           auc
    ECSEL 0.91
    """
    return frame.to_string(float_format=lambda v: format(v, floatfmt), na_rep="")



# ------------------------------------------------------------------ case studies
@dataclass
class CaseStudyResult:
    """Results of one case study, as returned by :func:`run_case_study`.

    Examples
    --------
    >>> from ecsel.casestudies import run_case_study
    >>> result = run_case_study("feynman", None, feynman_laws=["I.12.1"], progress=False,
    ...                         ecsel_params={"n_restarts": 4})
    >>> result.name, result.report is None
    ('feynman', True)
    """

    name: str
    summary: str
    report: Path | None
    seconds: float
    comparison: Comparison | None = None
    explanation: CaseExplanation | None = None
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
    """Folder a demo writes to when ``--out`` is not given: ``./ecsel-report-<name>``.

    Examples
    --------
    >>> default_out_dir("fraud").name
    'ecsel-report-fraud'
    """
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
        Laws for the Feynman case (default :data:`ecsel.casestudies.DEMO_FEYNMAN_LAWS`).
    full : bool or None
        Fraud only: which file to use (see :func:`ecsel.datasets.load_credit_card_fraud`).

    Returns
    -------
    CaseStudyResult

    Examples
    --------
    >>> from ecsel.casestudies import run_case_study
    >>> result = run_case_study("feynman", None, feynman_laws=["I.12.1"], progress=False,
    ...                         ecsel_params={"n_restarts": 4})
    >>> print(result.summary.splitlines()[-1])
    Recovered 1 of 1 laws.
    """
    if name not in CASES:
        raise ValueError(f"Unknown case study {name!r}; choose one of {', '.join(CASES)}.")
    start = time.perf_counter()
    if name == "feynman":
        laws = list(feynman_laws or DEMO_FEYNMAN_LAWS)
        bar = _Bar(len(laws) + (out_dir is not None), "ecsel demo feynman", progress)
        try:
            table = run_feynman(laws, regressor_params=ecsel_params, progress=bar)
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
        case = load_case(name, full=full)
        split = split_case(case)
        comparison = compare_classifiers(case, split, ecsel_params=ecsel_params, progress=bar)
        bar("explain")
        with threadpool_limits(1):
            expl = explain_classifier(case, comparison)
        seconds = time.perf_counter() - start
        summary = classification_summary(case, comparison, expl)
        report, figures = None, []
        if out_dir is not None:
            with atomic_dir(out_dir) as tmp, threadpool_limits(1):
                figures = classification_figures(case, comparison, expl, tmp)
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



# ---------------------------------------------------------------------- rendering
def _metric_frame(comparison: Comparison) -> pd.DataFrame:
    cols = ["roc_auc", "pr_auc", "f1", "threshold"]
    extra = [c for c in ("pr_auc_pop", "f1_pop") if c in comparison.metrics.columns]
    table = comparison.metrics[cols + extra + ["n_terms", "fit_s"]].copy()
    table["n_terms"] = table["n_terms"].astype("Int64")
    return table


def _cf_text(expl: CaseExplanation, threshold: float) -> str:
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


def elasticity_tables(expl: CaseExplanation, top: int = 12) -> tuple[pd.DataFrame, str]:
    """Exponents of power / linear features, and a sentence on the one-hot switches."""
    el = expl.elasticities
    cont = el[el["kind"] != "indicator"]
    cont = cont.reindex(cont["exponent"].abs().sort_values(ascending=False).index).head(top)
    switches = el[el["kind"] == "indicator"]
    if len(switches):
        big = switches.reindex(switches["exponent"].abs().sort_values(ascending=False).index)
        shown = ", ".join(
            f"{r.feature} {r.exponent:+.3g}" for r in big.head(5).itertuples()
        )
        text = (
            f"{len(switches)} switch exponent(s) on binary / one-hot features; the "
            f"largest: {shown}."
        )
    else:
        text = "No binary or one-hot switches."
    return cont, text


def classification_summary(
    case: CaseData, comparison: Comparison, expl: CaseExplanation
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
        f"ECSEL equation (y = 1: {case.labels[1]}; {expl.n_terms} term(s)):",
        expl.equation,
        "",
        "Complexity-accuracy front (validation split; * = the deployed equation):",
        comparison.models["ECSEL"].front_summary(width=100),
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
    case: CaseData, comparison: Comparison, expl: CaseExplanation, figures, seconds: float
) -> str:
    """The Markdown report of a classification case study."""
    threshold = float(comparison.metrics.loc["ECSEL", "threshold"])
    el, switches = elasticity_tables(expl, top=15)
    est = comparison.models["ECSEL"]
    parts = [
        f"# ecsel demo: {case.title}",
        "",
        f"ecsel {__version__}; finished in {seconds:.1f} s.",
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
        f"`y = 1` is *{case.labels[1]}* ({expl.n_terms} term(s); one-hot levels appear as "
        "`exp(g*col[level])` switches; a term written `c*(x/x_ref)**a` is `c` at a "
        "typical row, `x_ref` being the column's geometric mean):",
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
        "### The complexity-accuracy front",
        "",
        "Every candidate equation found during the fit (validation split); `*` marks the "
        "deployed one (`est.equations_`, `est.select(index)` to deploy another):",
        "",
        "```",
        est.front_summary(width=100),
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
        "Exponent of each feature in each term (the terms as printed in the equation "
        "and on the term plot are listed first): for a power feature, the elasticity of "
        "the term in `x + shift` (a 1 % rise multiplies the term by about 1 + exponent %); for a "
        "signed feature (negative values allowed, factor "
        "`exp(g * asinh((clip(x, min, max) - median) / s))`, s = IQR / 1.349), `g` is "
        "the log-change of the term per spread `s` near the median and a power-law "
        "exponent in the tails. `score_elasticity` is the median over the explained rows "
        "of `d log z / d log x` for the whole log-odds `z` (every term and the intercept): "
        "a 1 % rise of `x` moves `z` by about that many %.",
        "",
        "\n".join(f"- {name}: `{text}`"
                  for name, text in expl.elasticities.attrs.get("terms", {}).items()),
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
    """Console summary of the Feynman recovery run.

    Examples
    --------
    >>> from ecsel.casestudies import run_case_study
    >>> result = run_case_study("feynman", None, feynman_laws=["I.12.1"], progress=False,
    ...                         ecsel_params={"n_restarts": 4})
    >>> feynman_summary(result.feynman) == result.summary
    True
    """
    cols = ["law", "recovered", "r2", "n_terms", "fit_s", "truth", "found"]
    return "\n".join(
        [
            "== AI Feynman: symbolic recovery with ECSELRegressor ==",
            text_table(table[cols].set_index("law"), ".4g"),
            f"Recovered {int(table['recovered'].sum())} of {len(table)} laws.",
        ]
    )


def feynman_markdown(table: pd.DataFrame, seconds: float) -> str:
    """The Markdown report of the Feynman recovery run.

    Examples
    --------
    >>> from ecsel.casestudies import run_case_study
    >>> result = run_case_study("feynman", None, feynman_laws=["I.12.1"], progress=False,
    ...                         ecsel_params={"n_restarts": 4})
    >>> feynman_markdown(result.feynman, 1.0).splitlines()[0]
    '# ecsel demo: AI Feynman symbolic recovery'
    """
    cols = ["law", "recovered", "r2", "n_terms", "fit_s", "truth", "found"]
    return "\n".join(
        [
            "# ecsel demo: AI Feynman symbolic recovery",
            "",
            f"ecsel {__version__}; finished in {seconds:.1f} s.",
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
