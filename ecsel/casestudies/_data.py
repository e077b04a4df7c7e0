"""The data half of the case studies: bundled data sets, prepared, and their splits.

* :func:`load_case` prepares a bundled data set (Online Shoppers, credit-card fraud);
* :func:`split_case` makes the 70/30 stratified train/test split (seed 0) and carves a
  stratified validation part out of the training data for threshold tuning.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ecsel._transform import is_categorical
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers

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


def no_progress(_: str) -> None:
    return None


# ------------------------------------------------------------------------------ data
def is_level_column(series: pd.Series) -> bool:
    """Whether a column is summarised by its levels rather than by numbers.

    Categorical, string, object and boolean columns (and any other non-numeric dtype)
    are level columns: their typical value is the mode, they are not swept on a
    numeric grid. "Categorical" itself is the transform's definition.

    Examples
    --------
    >>> import pandas as pd
    >>> [is_level_column(pd.Series(v)) for v in ([1.5, 2.0], ["a", "b"], [True, False])]
    [False, True, True]
    """
    return (
        is_categorical(series)
        or pd.api.types.is_bool_dtype(series.dtype)
        or not pd.api.types.is_numeric_dtype(series.dtype)
    )


@dataclass
class CaseData:
    """A prepared binary classification case study.

    Attributes
    ----------
    name : str
        ``"shoppers"``, ``"fraud"`` (or ``"toy"``, :func:`make_toy_case`).
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

    Examples
    --------
    >>> from ecsel.casestudies import load_case
    >>> case = load_case("shoppers")
    >>> case.labels, case.X.shape[1]
    (('no purchase', 'purchase'), 17)
    """

    name: str
    title: str
    X: pd.DataFrame
    y: np.ndarray
    sample_weight: np.ndarray | None
    notes: list[str]
    labels: tuple[str, str]
    actionable: list[str]


def make_toy_case(n_samples: int = 400, random_state: int = 0) -> CaseData:
    """A small synthetic case: ``y = [a * b + noise > 9]`` on two features in [1, 5].

    For examples and quick checks of the case-study pipeline (seconds to fit).

    Examples
    --------
    >>> case = make_toy_case()
    >>> case.X.shape, case.labels, case.actionable
    ((400, 2), ('no', 'yes'), ['a', 'b'])
    """
    rng = np.random.default_rng(random_state)
    X = pd.DataFrame({"a": rng.uniform(1, 5, n_samples), "b": rng.uniform(1, 5, n_samples)})
    y = (X.a * X.b + rng.normal(0, 1, n_samples) > 9).astype(int).to_numpy()
    return CaseData("toy", "Toy", X, y, None, [], ("no", "yes"), ["a", "b"])


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

    Examples
    --------
    >>> case = load_case("shoppers")
    >>> case.name, len(case.X) == len(case.y), sorted(set(case.y.tolist()))
    ('shoppers', True, [0, 1])
    """
    if name == "shoppers":
        X, y = load_online_shoppers(return_X_y=True)
        missing = X.isna().any(axis=1).to_numpy()
        negative = (X.filter(like="_Duration") < 0).any(axis=1).to_numpy()
        X = X.reset_index(drop=True)
        y = np.asarray(y).astype(int)
        notes = [
            "UCI Online Shoppers Purchasing Intention (Sakar et al. 2019, CC BY 4.0), "
            f"bundled copy: {len(missing):,} sessions x 17 features.",
            f"All sessions are kept: {int(missing.sum())} have empty (NaN) page-count and "
            "rate columns, which ECSEL handles natively (a fill value and a missingness "
            "factor `exp(g * col[missing])` in the equation); the logistic baseline imputes "
            "the median and adds missingness indicators, boosting takes NaN natively. "
            f"{int(negative.sum())} sessions have -1 in the "
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
    """Train (fit + validation) and test parts of a case study.

    Examples
    --------
    >>> from ecsel.casestudies import load_case, split_case
    >>> split = split_case(load_case("shoppers"))
    >>> round(len(split.X_test) / (len(split.X_fit) + len(split.X_val) + len(split.X_test)), 2)
    0.3
    """

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

    Examples
    --------
    >>> split = split_case(load_case("shoppers"))
    >>> round(len(split.X_val) / (len(split.X_fit) + len(split.X_val)), 2)
    0.2
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

