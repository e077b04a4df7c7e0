"""The figures of the case-study reports (matplotlib is imported only when drawing).

Per-model explanation plots are the estimator's own (:mod:`ecsel.explain`); this module
adds the figures that compare ECSEL with the baselines.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import precision_recall_curve, roc_curve

from ecsel._transform import is_categorical
from ecsel.casestudies._data import CaseData, is_level_column
from ecsel.casestudies._findings import CaseExplanation, attributions
from ecsel.casestudies._models import Comparison, as_model_input


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


def plot_curves(comparison: Comparison, path: Path) -> str:
    """ROC and precision-recall curves of the three models on the test part."""
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


def plot_importance(expl: CaseExplanation, path: Path, top: int = 12) -> str:
    """Global importance: mean |attribution| of the ECSEL score per input column."""
    plt = _pyplot()
    imp = expl.importance.iloc[:top][::-1]
    fig, ax = plt.subplots(figsize=(6.5, 0.35 * len(imp) + 1.2))
    ax.barh(imp.index, imp.to_numpy(), color="#4c72b0")
    ax.set(xlabel="mean |attribution| (log-odds)", title="ECSEL global importance")
    return _save(fig, path)


def plot_partial_dependence(
    comparison: Comparison, feature: str, path: Path, n_rows: int = 400, seed: int = 0
) -> str:
    """Average predicted probability as ``feature`` varies (ECSEL and both baselines)."""
    plt = _pyplot()
    X = comparison.split.X_fit
    rows = X.sample(n=min(n_rows, len(X)), random_state=seed).reset_index(drop=True)
    values = X[feature]
    fig, ax = plt.subplots(figsize=(6.5, 4))
    categorical = is_categorical(values) or not pd.api.types.is_numeric_dtype(values.dtype)
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
            data = trial if name == "ECSEL" else as_model_input(trial)
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


def _save_axes(ax, path: Path) -> str:
    """Save the figure of axes drawn by ecsel's own plotting API."""
    return _save(ax.figure, path)


def classification_figures(
    case: CaseData, comparison: Comparison, expl: CaseExplanation, folder: Path
) -> list[tuple[str, str]]:
    """Draw the report's figures into ``folder``; ``(title, file name)`` pairs.

    The beeswarm, term and waterfall plots are the estimator's own
    (:meth:`ecsel.Explanation.plot_beeswarm`, :meth:`~ecsel.ECSELClassifier.plot_terms`,
    :meth:`ecsel.Explanation.plot_waterfall`); the curves, the trimmed importance and
    the three-model partial dependence compare models, so they are drawn here.
    """
    X_ex = comparison.split.X_test.iloc[
        expl.attributions.attrs.get("rows", np.arange(len(expl.attributions)))
    ].reset_index(drop=True)
    est = comparison.models["ECSEL"]
    figures = [
        ("ROC and precision-recall curves", plot_curves(comparison, folder / "curves.png")),
        ("Global importance", plot_importance(expl, folder / "importance.png")),
    ]
    _pyplot()
    figures.append(
        (
            "Attributions on test cases (beeswarm)",
            _save_axes(expl.library.plot_beeswarm(max_display=12), folder / "beeswarm.png"),
        )
    )
    terms = est.plot_terms(X_ex, background=expl.background)
    figures.append(("Term contributions", _save_axes(terms, folder / "terms.png")))
    x = expl.rejected_case
    attr, _, lib_x = attributions(est, x, expl.background)
    expl.attributions.attrs.setdefault("base_value", attr.attrs.get("base_value", 0.0))
    figures.append(
        (
            f"Why test case #{expl.rejected_index} was rejected",
            _save_axes(lib_x.plot_waterfall(0), folder / "waterfall.png"),
        )
    )
    top_numeric = [c for c in expl.importance.index if not is_level_column(case.X[c])]
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


__all__ = [
    "classification_figures",
    "plot_curves",
    "plot_importance",
    "plot_partial_dependence",
]
