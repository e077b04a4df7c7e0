"""Case studies shared by ``ecsel demo`` and the scripts in ``examples/``.

Everything a case study computes lives here, so the command-line demo and the example
scripts print and plot exactly the same numbers:

* :func:`load_case` prepares a bundled data set (Online Shoppers, credit-card fraud);
* :func:`split_case` makes the 70/30 stratified train/test split (seed 0) and carves a
  stratified validation part out of the training data for threshold tuning;
* :func:`compare_classifiers` fits ECSEL, a standardised one-hot LogisticRegression and
  HistGradientBoosting on the same rows and scores them on the test part (ROC AUC,
  PR AUC, F1 at the threshold that maximises F1 on the validation part);
* :func:`ecsel._casestudy_explain.explain_classifier` computes attributions, global
  importance, elasticities, a counterfactual for a rejected case and the findings;
* :func:`run_feynman` fits :class:`~ecsel.ECSELRegressor` to laws of the AI Feynman
  benchmark and checks whether the true equation was recovered.

Explanations come from the estimator's own exact ``explain`` / ``counterfactual``
methods (:mod:`ecsel.explain`).
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    precision_recall_curve,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from threadpoolctl import threadpool_limits

from ecsel._transform import _is_categorical

CASES = ("shoppers", "fraud", "feynman")

#: ECSEL settings of the case studies: the library defaults (``ECSELClassifier()``).
DEFAULT_ECSEL_PARAMS: dict = {}

#: Lighter settings used by ``ecsel demo --fast`` (fixed model size, fewer restarts).
FAST_ECSEL_PARAMS: dict = {"n_terms": 2, "n_restarts": 4, "max_iter": 300}

#: Feynman laws fitted by ``ecsel demo feynman`` (signomial laws of 1-2 terms).
DEMO_FEYNMAN_LAWS = (
    "I.12.1",
    "I.12.2",
    "I.14.3",
    "I.39.22",
    "I.47.23",
    "I.32.5",
    "II.11.20",
    "I.13.12",
    "II.2.42",
    "I.24.6",
)

Progress = Callable[[str], None]


def _noop(_: str) -> None:
    return None


# ------------------------------------------------------------------------------ data
@dataclass
class CaseData:
    """A prepared binary classification case study.

    Attributes
    ----------
    name : str
        ``"shoppers"`` or ``"fraud"``.
    title : str
        Human-readable title.
    X : pandas.DataFrame
        Raw features, as ECSEL takes them (categorical columns untouched).
    y : numpy.ndarray
        0/1 labels.
    sample_weight : numpy.ndarray or None
        Weights that restore the population class rate (fraud sample only).
    notes : list of str
        What was done to the data (dropped rows, which file was used).
    labels : tuple of str
        Names of class 0 and class 1.
    actionable : list of str
        Columns a counterfactual may change.
    """

    name: str
    title: str
    X: pd.DataFrame
    y: np.ndarray
    sample_weight: np.ndarray | None
    notes: list[str]
    labels: tuple[str, str]
    actionable: list[str]


def load_case(name: str, *, full: bool | None = None) -> CaseData:
    """Load and prepare a bundled classification data set.

    Parameters
    ----------
    name : {"shoppers", "fraud"}
    full : bool or None, default=None
        Fraud only: passed to :func:`ecsel.datasets.load_credit_card_fraud`. ``None``
        uses the full file when it is installed and the bundled sample otherwise.

    Returns
    -------
    CaseData
    """
    from ecsel.datasets import load_credit_card_fraud, load_online_shoppers

    if name == "shoppers":
        X, y = load_online_shoppers(return_X_y=True)
        missing = X.isna().any(axis=1).to_numpy()
        negative = (X.filter(like="_Duration") < 0).any(axis=1).to_numpy()
        X = X.loc[~missing].reset_index(drop=True)
        y = np.asarray(y)[~missing].astype(int)
        notes = [
            "UCI Online Shoppers Purchasing Intention (Sakar et al. 2019, CC BY 4.0), "
            f"bundled copy: {len(missing):,} sessions x 17 features.",
            f"Dropped {int(missing.sum())} sessions whose eight page-count and rate columns "
            "are empty (NaN): ECSEL rejects missing values. "
            f"Kept {len(X):,} sessions; {int(negative.sum())} of them have -1 in the "
            "`*_Duration` columns and are kept as recorded.",
            f"Purchase rate: {y.mean():.1%} ({int(y.sum()):,} purchases).",
        ]
        return CaseData(
            "shoppers",
            "Online Shoppers Purchasing Intention",
            X,
            y,
            None,
            notes,
            ("no purchase", "purchase"),
            [
                "PageValues",
                "ProductRelated",
                "ProductRelated_Duration",
                "Administrative",
                "ExitRates",
                "BounceRates",
            ],
        )
    if name == "fraud":
        bunch = load_credit_card_fraud(full=full)
        X = bunch.data.reset_index(drop=True)
        y = np.asarray(bunch.target).astype(int)
        weight = np.asarray(bunch.sample_weight, dtype=float)
        population_rate = float(np.sum(weight * y) / np.sum(weight))
        notes = [
            f"ULB credit-card fraud data (Dal Pozzolo et al. 2015; ODbL 1.0 / DbCL 1.0). "
            f"Data used: {bunch.source}.",
            f"Fraud rate in the data used: {y.mean():.2%} ({int(y.sum())} of {len(y):,}); "
            f"in the card-holder population: {population_rate:.3%}. "
            + (
                "Population-weighted metrics use the loader's `sample_weight`."
                if bunch.is_sample
                else "This is the full file: no reweighting is needed."
            ),
        ]
        return CaseData(
            "fraud",
            "Credit-card fraud (ULB)",
            X,
            y,
            weight if bunch.is_sample else None,
            notes,
            ("legitimate", "fraud"),
            [c for c in X.columns if c.startswith("V")],
        )
    raise ValueError(f"Unknown case study {name!r}; choose 'shoppers' or 'fraud'.")


@dataclass
class Split:
    """Train (fit + validation) and test parts of a case study."""

    X_fit: pd.DataFrame
    y_fit: np.ndarray
    X_val: pd.DataFrame
    y_val: np.ndarray
    X_test: pd.DataFrame
    y_test: np.ndarray
    w_fit: np.ndarray | None = None
    w_val: np.ndarray | None = None
    w_test: np.ndarray | None = None


def split_case(
    case: CaseData, *, test_size: float = 0.3, validation_size: float = 0.2, random_state: int = 0
) -> Split:
    """70/30 stratified train/test split, then a stratified validation part of the train.

    Models are fitted on the remaining ``1 - validation_size`` of the training part; the
    validation part only tunes the F1 threshold.
    """
    index = np.arange(len(case.y))
    train, test = train_test_split(
        index, test_size=test_size, stratify=case.y, random_state=random_state
    )
    fit, val = train_test_split(
        train, test_size=validation_size, stratify=case.y[train], random_state=random_state
    )
    w = case.sample_weight

    def part(idx):
        return case.X.iloc[idx].reset_index(drop=True), case.y[idx]

    X_fit, y_fit = part(fit)
    X_val, y_val = part(val)
    X_test, y_test = part(test)
    return Split(
        X_fit,
        y_fit,
        X_val,
        y_val,
        X_test,
        y_test,
        None if w is None else w[fit],
        None if w is None else w[val],
        None if w is None else w[test],
    )


# ------------------------------------------------------------------------ baselines
def categorical_columns(X: pd.DataFrame) -> list[str]:
    """Columns that are one-hot encoded by the LogisticRegression baseline."""
    return [c for c in X.columns if _is_categorical(X[c])]


def make_logistic(X: pd.DataFrame):
    """Standardised numeric columns + one-hot categoricals -> LogisticRegression."""
    cats = categorical_columns(X)
    nums = [c for c in X.columns if c not in cats]
    pre = ColumnTransformer(
        [("num", StandardScaler(), nums), ("cat", OneHotEncoder(handle_unknown="ignore"), cats)],
    )
    return make_pipeline(pre, LogisticRegression(max_iter=5000))


def make_hgb(random_state: int = 0):
    """HistGradientBoosting with native categorical support."""
    return HistGradientBoostingClassifier(
        categorical_features="from_dtype", random_state=random_state
    )


def _as_model_input(X: pd.DataFrame) -> pd.DataFrame:
    """Baselines take booleans as 0/1 floats and strings as categories."""
    out = X.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c].dtype):
            out[c] = out[c].astype(float)
        elif (
            pd.api.types.is_object_dtype(out[c].dtype)
            or pd.api.types.is_string_dtype(out[c].dtype)
            and not isinstance(out[c].dtype, pd.CategoricalDtype)
        ):
            out[c] = out[c].astype("category")
    return out


# -------------------------------------------------------------------------- metrics
def tune_threshold(y: np.ndarray, score: np.ndarray, sample_weight=None) -> float:
    """Threshold on ``score`` that maximises F1 on ``(y, score)``."""
    precision, recall, thresholds = precision_recall_curve(y, score, sample_weight=sample_weight)
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0)
    best = int(np.argmax(f1[:-1])) if len(thresholds) else 0
    return float(thresholds[best]) if len(thresholds) else 0.5


def score_model(y_val, p_val, y_test, p_test, w_val=None, w_test=None) -> dict:
    """ROC AUC, PR AUC and F1 at the validation-tuned threshold, on the test part."""
    threshold = tune_threshold(y_val, p_val, w_val)
    return {
        "roc_auc": float(roc_auc_score(y_test, p_test, sample_weight=w_test)),
        "pr_auc": float(average_precision_score(y_test, p_test, sample_weight=w_test)),
        "f1": float(f1_score(y_test, p_test >= threshold, sample_weight=w_test)),
        "threshold": threshold,
    }


@dataclass
class Comparison:
    """Fitted models of a case study and their held-out scores.

    Attributes
    ----------
    models : dict
        ``{"ECSEL": est, "LogisticRegression": pipe, "HistGradientBoosting": hgb}``.
    metrics : pandas.DataFrame
        One row per model: ``roc_auc``, ``pr_auc``, ``f1``, ``threshold``, ``fit_s``,
        ``n_terms`` and, with sample weights, the population-weighted ``pr_auc_pop``
        and ``f1_pop``.
    test_proba : dict
        Test-set probabilities of class 1 per model.
    """

    models: dict
    metrics: pd.DataFrame
    test_proba: dict
    split: Split


def compare_classifiers(
    case: CaseData,
    split: Split,
    *,
    ecsel_params: dict | None = None,
    random_state: int = 0,
    progress: Progress = _noop,
) -> Comparison:
    """Fit ECSEL and the two baselines on ``split.X_fit`` and score them on the test part."""
    from ecsel import ECSELClassifier

    params = dict(DEFAULT_ECSEL_PARAMS if ecsel_params is None else ecsel_params)
    params.setdefault("random_state", random_state)
    factories = {
        "ECSEL": lambda: ECSELClassifier(**params),
        "LogisticRegression": lambda: make_logistic(split.X_fit),
        "HistGradientBoosting": lambda: make_hgb(random_state),
    }
    models, rows, probas = {}, [], {}
    for name, factory in factories.items():
        progress(f"fit {name}")
        raw = name == "ECSEL"
        X_fit = split.X_fit if raw else _as_model_input(split.X_fit)
        X_val = split.X_val if raw else _as_model_input(split.X_val)
        X_test = split.X_test if raw else _as_model_input(split.X_test)
        start = time.perf_counter()
        # One OpenMP thread for the baselines: on a busy 2-core machine HGB's thread
        # pool was measured 50x slower than a single thread.
        limit = contextlib.nullcontext() if raw else threadpool_limits(1)
        with warnings.catch_warnings(), limit:
            warnings.simplefilter("ignore", category=UserWarning)
            model = factory().fit(X_fit, split.y_fit)
        fit_s = time.perf_counter() - start
        p_val = model.predict_proba(X_val)[:, 1]
        p_test = model.predict_proba(X_test)[:, 1]
        row = {"model": name, **score_model(split.y_val, p_val, split.y_test, p_test)}
        if split.w_test is not None:
            pop = score_model(split.y_val, p_val, split.y_test, p_test, split.w_val, split.w_test)
            row.update(pr_auc_pop=pop["pr_auc"], f1_pop=pop["f1"])
        row["fit_s"] = fit_s
        row["n_terms"] = int(model.n_terms_) if raw else np.nan
        rows.append(row)
        models[name] = model
        probas[name] = p_test
    metrics = pd.DataFrame(rows).set_index("model")
    return Comparison(models, metrics, probas, split)


# -------------------------------------------------------------------------- Feynman
def run_feynman(
    laws: Sequence[str] = DEMO_FEYNMAN_LAWS,
    *,
    n_samples: int = 500,
    noise: float = 0.0,
    random_state: int = 0,
    regressor_params: dict | None = None,
    progress: Progress = _noop,
) -> pd.DataFrame:
    """Fit :class:`~ecsel.ECSELRegressor` to Feynman laws and check recovery.

    A law counts as recovered when the fitted equation has the true terms: the same
    exponents (to 1e-3) and coefficients within 1 % (:func:`ecsel.recovery.exact_recovery`).

    Returns
    -------
    pandas.DataFrame
        One row per law: ``law``, ``truth``, ``found``, ``r2``, ``recovered``,
        ``n_terms``, ``fit_s``.
    """
    from ecsel import ECSELRegressor
    from ecsel.datasets import load_feynman
    from ecsel.recovery import exact_recovery

    rows = []
    for law in laws:
        progress(f"fit {law}")
        X, y, truth = load_feynman(
            law, n_samples=2 * n_samples, noise=noise, random_state=random_state
        )
        X_tr, X_te = X.iloc[:n_samples], X.iloc[n_samples:]
        y_tr, y_te = np.asarray(y)[:n_samples], np.asarray(y)[n_samples:]
        est = ECSELRegressor(random_state=random_state, **(regressor_params or {}))
        start = time.perf_counter()
        est.fit(X_tr, y_tr)
        fit_s = time.perf_counter() - start
        r2 = float(est.score(X_te, y_te))
        found = est.sympy(precision=4)
        recovered = exact_recovery(est, truth, list(X.columns))
        rows.append(
            {
                "law": law,
                "truth": str(truth),
                "found": str(found),
                "r2": r2,
                "recovered": recovered,
                "n_terms": int(est.n_terms_),
                "fit_s": fit_s,
            }
        )
    return pd.DataFrame(rows)


def headline_auc(
    case: CaseData,
    *,
    ecsel_params: dict | None = None,
    random_state: int = 0,
    test_size: float = 0.3,
) -> dict:
    """ROC AUC of ECSEL and HistGradientBoosting fitted on the whole 70 % training part.

    This is the protocol of the Online Shoppers target (``ECSELClassifier()`` on the
    raw DataFrame within 0.01 of HistGradientBoosting with at most 3 terms): no
    validation part is held out, as no threshold is tuned.
    """
    from ecsel import ECSELClassifier

    X_tr, X_te, y_tr, y_te = train_test_split(
        case.X, case.y, test_size=test_size, stratify=case.y, random_state=random_state
    )
    params = {"random_state": random_state, **(ecsel_params or {})}
    start = time.perf_counter()
    est = ECSELClassifier(**params).fit(X_tr, y_tr)
    ecsel_s = time.perf_counter() - start
    with threadpool_limits(1):
        hgb = make_hgb(random_state).fit(_as_model_input(X_tr), y_tr)
        p_hgb = hgb.predict_proba(_as_model_input(X_te))[:, 1]
    auc = float(roc_auc_score(y_te, est.predict_proba(X_te)[:, 1]))
    auc_hgb = float(roc_auc_score(y_te, p_hgb))
    return {
        "ecsel_roc_auc": auc,
        "hgb_roc_auc": auc_hgb,
        "gap": auc_hgb - auc,
        "n_terms": int(est.n_terms_),
        "ecsel_fit_s": ecsel_s,
    }
