"""The findings of the case studies: attributions, elasticities, counterfactuals.

Everything here comes from the fitted estimator's own exact methods
(:mod:`ecsel.explain`); :mod:`ecsel.casestudies._data` and
:mod:`ecsel.casestudies._models` hold the data, splits, baselines and metrics.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import spearmanr, trim_mean

from ecsel.casestudies._data import CaseData, is_level_column
from ecsel.casestudies._models import Comparison
from ecsel.export.sympy import term_expressions


def attributions(est, X: pd.DataFrame, background: pd.DataFrame):
    """Per-column attributions of the decision function, the method, the raw object.

    Exact interventional Shapley values from ``est.explain`` (for a multiclass model,
    those of the last class).

    Returns
    -------
    (pandas.DataFrame, str, ecsel.Explanation)

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> frame, method, _ = attributions(est, X.iloc[:3], median_row(X))
    >>> list(frame.columns)
    ['m', 'v']
    """
    exp = est.explain(X, background=background)
    values = np.asarray(exp.values, dtype=float)
    if values.ndim == 3:
        values = values[..., -1, :]
    frame = pd.DataFrame(values, columns=list(exp.feature_names))
    base = np.asarray(exp.base_values, dtype=float).reshape(-1)
    frame.attrs["base_value"] = float(base[0]) if base.size else 0.0
    return frame, "exact interventional Shapley values (`est.explain`)", exp


def elasticities(est, X: pd.DataFrame) -> pd.DataFrame:
    """Exponents of the fitted terms, per model feature (the elasticities of each term).

    ``term`` numbers the terms in the order of ``table.attrs["terms"]``, which holds
    each term as printed in ``str(est.signomial_)`` (and on the term plot).
    For a power feature ``u = (x + shift) / scale`` the exponent ``a`` is the
    elasticity of the term in ``x + shift``; for an indicator it is the log-change of
    the term when the switch is on; for a signed feature the term's factor is
    ``exp(a * asinh((clip(x) - median) / s))``. ``score_elasticity`` is the median,
    over the rows of ``X`` where the feature is non-zero, of the point elasticity
    ``d log z / d log x`` of the whole score ``z`` (all terms and the intercept
    together): a 1 % rise of ``x`` moves ``z`` by about ``score_elasticity`` %.

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> table = elasticities(est, X.iloc[:5])
    >>> table[["term", "feature", "exponent"]].to_numpy().tolist(), table.attrs["terms"]
    ([['term 1', 'm', 1.0], ['term 1', 'v', 2.0]], {'term 1': '0.5*m*v**2'})
    """
    sig = est.signomial_
    printed = term_expressions(sig, 0, precision=4)
    rows = []
    for number, k in enumerate(printed, 1):
        for j, fmap in enumerate(sig.transform.feature_maps):
            a = float(sig.exponents[0, k, j])
            if a == 0:
                continue
            rows.append({"term": f"term {number}", "feature": fmap.name, "kind": fmap.kind,
                         "exponent": a})
    table = pd.DataFrame(rows, columns=["term", "feature", "kind", "exponent"])
    table.attrs["terms"] = {f"term {n}": str(e) for n, e in enumerate(printed.values(), 1)}
    if len(table) and sig.n_outputs == 1:
        el = est.elasticities(X)  # one column per numeric input column
        values = X[list(el.columns)].apply(pd.to_numeric, errors="coerce").abs()
        el = el.where(values.to_numpy() > 0)  # x = 0: elasticity 0 by definition
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=RuntimeWarning)
            median = el.median(skipna=True)
        table["score_elasticity"] = table["feature"].map(median.to_dict())
    return table


def _score_proba(est, X: pd.DataFrame) -> np.ndarray:
    return est.predict_proba(X)[:, 1]


def counterfactual(
    est, x: pd.DataFrame, reference: pd.DataFrame, features: Sequence[str], threshold: float
) -> pd.DataFrame | None:
    """Smallest single-feature change that lifts ``x`` to ``threshold``.

    Scans, for each feature in ``features``, the quantiles of its values in
    ``reference`` and keeps the feature whose flipping value is nearest in standard
    deviations; the exact value is then solved by ``est.counterfactual`` (restricted
    to that feature and to its range in ``reference``) when the installed ecsel has
    it. Returns a table (``feature``, ``from``, ``to``, ``probability_after``) or
    ``None`` when no single change within the observed ranges is enough.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ecsel import ECSELClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.uniform(1, 5, 300)})
    >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=100, random_state=0)
    >>> clf = clf.fit(X, (X.a > 3).astype(int))
    >>> cf = counterfactual(clf, X.iloc[[int(np.argmin(X.a))]], X, ["a"], 0.5)
    >>> cf["feature"].tolist(), bool(cf["probability_after"].iloc[0] >= 0.5)
    (['a'], True)
    """
    best = None
    for feature in features:
        values = np.unique(np.quantile(reference[feature].to_numpy(float), np.linspace(0, 1, 201)))
        trial = pd.concat([x] * len(values), ignore_index=True)
        trial[feature] = values
        proba = _score_proba(est, trial)
        ok = proba >= threshold
        if not ok.any():
            continue
        std = float(reference[feature].std()) or 1.0
        dist = np.abs(values - float(x[feature].iloc[0])) / std
        dist[~ok] = np.inf
        i = int(np.argmin(dist))
        if best is None or dist[i] < best[0]:
            best = (dist[i], feature, float(x[feature].iloc[0]), float(values[i]), float(proba[i]))
    if best is None:
        return None
    _, feature, old, new, p = best
    method = getattr(est, "counterfactual", None)
    if method is not None:
        try:
            bounds = {feature: (float(reference[feature].min()), float(reference[feature].max()))}
            table = _normalise_cf(
                est,
                x,
                method(
                    x,
                    target_class=est.classes_[1],
                    target_proba=threshold,
                    features=[feature],
                    bounds=bounds,
                ),
            )
            if table is not None:
                return table
        except (TypeError, ValueError, AttributeError, NotImplementedError, RuntimeError):
            pass
    return pd.DataFrame([{"feature": feature, "from": old, "to": new, "probability_after": p}])


def _normalise_cf(est, x: pd.DataFrame, result) -> pd.DataFrame | None:
    """Change table from ``est.counterfactual`` output (rows original / counterfactual)."""
    if not isinstance(result, pd.DataFrame) or "counterfactual" not in result.index:
        return None
    status = str(result.loc["counterfactual"].get("status", "found"))
    if status != "found":
        return None
    row = result.loc[["counterfactual"], [c for c in x.columns]].reset_index(drop=True)
    p = float(_score_proba(est, row.astype(x.dtypes.to_dict(), errors="ignore"))[0])
    changes = []
    for c in x.columns:
        old, new = x[c].iloc[0], row[c].iloc[0]
        if isinstance(old, (int, float, np.number)) and isinstance(new, (int, float, np.number)):
            if np.isclose(float(old), float(new), rtol=1e-9, atol=1e-12):
                continue
        elif old == new:
            continue
        changes.append({"feature": c, "from": old, "to": new, "probability_after": p})
    return pd.DataFrame(changes) if changes else None


def robust_importance(attr: pd.DataFrame, trim: float = 0.01) -> pd.Series:
    """Global importance: the ``trim``-trimmed mean of |attribution| per column.

    Trimming the largest 1 % keeps a handful of extreme rows (heavy-tailed inputs on
    which an exponential term extrapolates) from deciding the ranking.

    Examples
    --------
    >>> import pandas as pd
    >>> robust_importance(pd.DataFrame({"a": [1.0, -1.0], "b": [3.0, 0.0]})).to_dict()
    {'b': 1.5, 'a': 1.0}
    """
    values = np.abs(attr.to_numpy(float))
    scores = trim_mean(values, trim, axis=0) if len(values) >= 20 else values.mean(axis=0)
    return pd.Series(scores, index=attr.columns).sort_values(ascending=False)


@dataclass
class CaseExplanation:
    """Everything the report says about the fitted ECSEL model.

    Examples
    --------
    >>> import dataclasses
    >>> [f.name for f in dataclasses.fields(CaseExplanation)][:3]
    ['equation', 'n_terms', 'attributions']
    """

    equation: str
    n_terms: int
    attributions: pd.DataFrame
    attribution_method: str
    importance: pd.Series
    elasticities: pd.DataFrame
    rejected_index: int
    rejected_case: pd.DataFrame
    rejected_proba: float
    counterfactual: pd.DataFrame | None
    findings: list[str] = field(default_factory=list)
    term_values: np.ndarray | None = None
    library: object | None = None
    background: pd.DataFrame | None = None


def median_row(X: pd.DataFrame) -> pd.DataFrame:
    """One typical row: the median of numeric columns, the mode of the others.

    Used as the reference of the attributions. A sample of rows would be the
    textbook interventional background, but on heavy-tailed data (the fraud
    components) a single extreme background row, on which an exponential term
    reaches 1e9, would shift every attribution by that amount.

    Examples
    --------
    >>> import pandas as pd
    >>> row = median_row(pd.DataFrame({"x": [1.0, 2.0, 9.0], "c": ["a", "b", "b"]}))
    >>> float(row.x[0]), row.c[0]
    (2.0, 'b')
    """
    row = {}
    for c in X.columns:
        col = X[c]
        row[c] = [col.mode(dropna=True).iloc[0] if is_level_column(col) else float(col.median())]
    out = pd.DataFrame(row)
    return out.astype(X.dtypes.to_dict())


def explain_classifier(
    case: CaseData, comparison: Comparison, *, n_explain: int = 1000, random_state: int = 0
) -> CaseExplanation:
    """Attributions, importance, elasticities, a counterfactual and the findings.

    Attributions are exact Shapley values of the log-odds relative to the typical
    training row (:func:`median_row`), for ``n_explain`` random test rows.

    Examples
    --------
    >>> from ecsel.casestudies import compare_classifiers, make_toy_case, split_case
    >>> case = make_toy_case()
    >>> fast = {"n_terms": 1, "n_restarts": 2, "max_iter": 100}
    >>> comparison = compare_classifiers(case, split_case(case), ecsel_params=fast)
    >>> expl = explain_classifier(case, comparison, n_explain=50)
    >>> len(expl.attributions), expl.findings[1].startswith("Share of the")
    (50, True)
    """
    est = comparison.models["ECSEL"]
    split = comparison.split
    rng = np.random.default_rng(random_state)
    background = median_row(split.X_fit)
    n = min(n_explain, len(split.X_test))
    ex_idx = np.sort(rng.choice(len(split.X_test), size=n, replace=False))
    X_ex = split.X_test.iloc[ex_idx].reset_index(drop=True)
    attr, method, library = attributions(est, X_ex, background)
    attr.attrs["rows"] = ex_idx
    importance = robust_importance(attr)
    threshold = float(comparison.metrics.loc["ECSEL", "threshold"])
    proba = comparison.test_proba["ECSEL"]
    # A rejected case: the true buyer / fraud with the median score among those
    # predicted below the threshold (else the median rejected case).
    rejected = np.flatnonzero((proba < threshold) & (split.y_test == 1))
    if not len(rejected):
        rejected = np.flatnonzero(proba < threshold)
    order = rejected[np.argsort(proba[rejected], kind="stable")]
    i = int(order[len(order) // 2])
    x = split.X_test.iloc[[i]].reset_index(drop=True)
    actionable = [f for f in importance.index if f in case.actionable][:6]
    cf = counterfactual(est, x, split.X_fit, actionable, threshold)
    expl = CaseExplanation(
        equation=str(est.signomial_),
        n_terms=int(est.n_terms_),
        attributions=attr,
        attribution_method=method,
        importance=importance,
        elasticities=elasticities(est, X_ex),
        rejected_index=i,
        rejected_case=x,
        rejected_proba=float(proba[i]),
        counterfactual=cf,
        term_values=est.signomial_.term_values(X_ex)[:, 0, :],
        library=library,
        background=background,
    )
    expl.findings = findings(case, comparison, expl)
    return expl


def findings(case: CaseData, comparison: Comparison, expl: CaseExplanation) -> list[str]:
    """What the equation reveals about the data, computed from the fitted model.

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace as NS
    >>> models = ["ECSEL", "LogisticRegression", "HistGradientBoosting"]
    >>> metrics = pd.DataFrame({"roc_auc": [0.90, 0.85, 0.92]}, index=models)
    >>> expl = NS(n_terms=2, importance=pd.Series({"a": 3.0, "b": 1.0}),
    ...           attributions=pd.DataFrame({"a": [1.0], "b": [0.5]}))
    >>> comparison = NS(metrics=metrics, split=NS(X_test=pd.DataFrame({"a": [1.0], "b": [2.0]})))
    >>> print(findings(NS(name="toy"), comparison, expl)[1])
    Share of the (1 %-trimmed) mean |attribution| of the score: a (75%), b (25%).
    """
    imp = expl.importance
    share = imp / imp.sum()
    out = []
    m = comparison.metrics
    gap = m.loc["HistGradientBoosting", "roc_auc"] - m.loc["ECSEL", "roc_auc"]
    out.append(
        f"With {expl.n_terms} term(s), ECSEL's test ROC AUC is {m.loc['ECSEL', 'roc_auc']:.4f}: "
        f"{abs(gap):.4f} {'below' if gap > 0 else 'above'} HistGradientBoosting "
        f"({m.loc['HistGradientBoosting', 'roc_auc']:.4f}), "
        f"{m.loc['ECSEL', 'roc_auc'] - m.loc['LogisticRegression', 'roc_auc']:+.4f} "
        f"relative to LogisticRegression ({m.loc['LogisticRegression', 'roc_auc']:.4f})."
    )
    top = ", ".join(f"{c} ({share[c]:.0%})" for c in imp.index[:5])
    out.append(f"Share of the (1 %-trimmed) mean |attribution| of the score: {top}.")
    attr = expl.attributions
    X_ex = comparison.split.X_test.iloc[attr.attrs.get("rows", np.arange(len(attr)))]
    X_ex = X_ex.reset_index(drop=True)
    if case.name == "shoppers":
        pv = share.get("PageValues", 0.0)
        rank = list(imp.index).index("PageValues") + 1 if "PageValues" in imp.index else None
        zero = X_ex["PageValues"] == 0
        top_share = float((attr.abs().idxmax(axis=1) == "PageValues")[~zero].mean())
        out.append(
            f"PageValues ranks {rank} of {len(imp)} columns ({pv:.0%} of the total "
            f"attribution) and dominates wherever it is non-zero: relative to the typical "
            f"session (PageValues = 0), the {(~zero).mean():.0%} of sessions that reached a "
            f"page with a value gain on average {attr.loc[~zero, 'PageValues'].mean():+.2f} "
            f"in log-odds from it, and for {top_share:.0%} of them it is the largest "
            f"attribution of all columns."
        )
        if "Month" in attr.columns:
            by_month = attr["Month"].groupby(X_ex["Month"].astype(str), observed=True).mean()
            by_month = by_month.sort_values()
            rate = (
                pd.Series(comparison.split.y_test)
                .groupby(comparison.split.X_test["Month"].astype(str).to_numpy())
                .mean()
            )
            ref = str(expl.background["Month"].iloc[0]) if expl.background is not None else "?"
            out.append(
                f"Seasonal Month effect (relative to {ref}, the most common month): the "
                f"Month attribution is highest in {by_month.index[-1]} (mean "
                f"{by_month.iloc[-1]:+.2f}), then {by_month.index[-2]} ({by_month.iloc[-2]:+.2f}),"
                f" and lowest in {by_month.index[0]} ({by_month.iloc[0]:+.2f}); the observed "
                f"purchase rate is {rate.max():.0%} in {rate.idxmax()} against "
                f"{rate.min():.0%} in {rate.idxmin()}. Month ranks "
                f"{list(imp.index).index('Month') + 1} of {len(imp)} columns."
            )
    elif case.name == "fraud":
        y = case.y
        text = f"Class imbalance: {y.mean():.2%} frauds in the data used"
        if case.sample_weight is not None:
            w = case.sample_weight
            text += (
                f" ({np.sum(w * y) / np.sum(w):.3%} in the population after "
                "reweighting); PR AUC and F1 therefore matter more than ROC AUC, and "
                "the population-weighted columns show what a deployment would see"
            )
        out.append(text + ".")
        directions = []
        for c in [c for c in imp.index if c.startswith("V")][:6]:
            corr = spearmanr(X_ex[c].to_numpy(float), attr[c].to_numpy(float)).statistic
            directions.append(
                f"{c} ({'higher' if corr > 0 else 'lower'} values raise "
                f"the fraud score; Spearman {corr:+.2f})"
            )
        out.append("Components that drive fraud: " + "; ".join(directions) + ".")
    return out


