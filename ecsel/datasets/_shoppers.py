"""UCI Online Shoppers Purchasing Intention (Sakar et al., 2019)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._bunch import frame_dataset
from ._paths import data_path

__all__ = ["load_online_shoppers"]

SHOPPERS_FILE = "online_shoppers_intention.csv"
N_ROWS = 12_330
TARGET = "Revenue"
FEATURES = [
    "Administrative",
    "Administrative_Duration",
    "Informational",
    "Informational_Duration",
    "ProductRelated",
    "ProductRelated_Duration",
    "BounceRates",
    "ExitRates",
    "PageValues",
    "SpecialDay",
    "Month",
    "OperatingSystems",
    "Browser",
    "Region",
    "TrafficType",
    "VisitorType",
    "Weekend",
]
NUMERIC = FEATURES[:10]
CODES = ["OperatingSystems", "Browser", "Region", "TrafficType"]
_CALENDAR = ["Jan", "Feb", "Mar", "Apr", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

DESCR = """\
.. _online_shoppers_dataset:

Online Shoppers Purchasing Intention
------------------------------------

12,330 sessions of an online shop over one year, one per user; 1,908 (15.5%) ended in a
purchase (``Revenue``). Source: UCI Machine Learning Repository, data set 468
(Sakar, Polat, Katircioglu & Kastro, 2019, "Real-time prediction of online shoppers'
purchasing intention using multilayer perceptron and LSTM recurrent neural networks",
Neural Computing and Applications 31:6893-6908, doi:10.1007/s00521-018-3523-0).
License: CC BY 4.0. The shipped file is an unmodified copy of the UCI CSV; see
``datasets/README.md`` for its checksum.

Features (original names; dtypes chosen by ecsel.datasets):

- Administrative, Informational, ProductRelated (float64): pages of each kind visited.
  Counts, but float64 because 14 rows leave them empty (see below).
- Administrative_Duration, Informational_Duration, ProductRelated_Duration (float64):
  seconds spent on those pages.
- BounceRates, ExitRates, PageValues (float64): Google Analytics page metrics.
- SpecialDay (float64): closeness of the visit to a special day (0 to 1).
- Month (category): "Feb", "Mar", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov",
  "Dec", spelled as in the file (note "June"); categories in calendar order,
  unordered; January and April do not occur.
- OperatingSystems, Browser, Region, TrafficType (category of int64): anonymised
  nominal codes; their numeric order means nothing, so they are categorical with the
  observed integer codes as categories.
- VisitorType (category): "New_Visitor", "Other", "Returning_Visitor".
- Weekend (bool).

Target: Revenue, 1 when the session ended in a purchase, else 0 (int64).

Quirks kept as in the source: 14 rows (all in March, none with a purchase) have the
eight columns Administrative ... ExitRates empty (NaN); 33 rows have -1 in the three
duration columns.
"""


def load_online_shoppers(return_X_y: bool = False) -> Bunch | tuple[pd.DataFrame, pd.Series]:
    """Load the UCI Online Shoppers Purchasing Intention data set.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.

    Returns
    -------
    data : sklearn.utils.Bunch
        With attributes ``data`` (DataFrame, 12,330 x 17, original column names),
        ``target`` (Series ``Revenue``, int64 0/1), ``frame`` (the 17 features plus
        ``Revenue``), ``feature_names`` (list), ``target_names``
        (``["no purchase", "purchase"]``, indexed by the label), ``DESCR`` (str) and
        ``filename`` (path of the CSV read).
    (X, y) : tuple of pandas.DataFrame and pandas.Series
        If ``return_X_y`` is true.

    Notes
    -----
    Dtypes: the ten numeric columns are float64 (14 rows lack the first eight);
    ``Month`` and ``VisitorType`` are unordered categoricals (``Month`` categories in
    calendar order, spelled as in the file); the nominal codes ``OperatingSystems``,
    ``Browser``, ``Region`` and ``TrafficType`` are categoricals of their integer
    codes; ``Weekend`` is bool. Use ``X.select_dtypes("number")`` for the numeric
    block, or ``HistGradientBoostingClassifier(categorical_features="from_dtype")``
    to use the categoricals natively. Full description: ``load_online_shoppers().DESCR``.

    Examples
    --------
    >>> from ecsel.datasets import load_online_shoppers
    >>> X, y = load_online_shoppers(return_X_y=True)
    >>> X.shape, int(y.sum())
    ((12330, 17), 1908)
    >>> str(X["Month"].dtype), str(X["Weekend"].dtype), str(y.dtype)
    ('category', 'bool', 'int64')
    >>> list(X["Month"].cat.categories)[:4]
    ['Feb', 'Mar', 'May', 'June']
    """
    path = data_path(SHOPPERS_FILE)
    raw = pd.read_csv(path)
    if list(raw.columns) != [*FEATURES, TARGET] or len(raw) != N_ROWS:
        raise ValueError(f"{path} does not have the expected 12,330 x 18 layout")
    frame = pd.DataFrame(index=raw.index)
    for column in NUMERIC:
        frame[column] = raw[column].astype(np.float64)
    months = [m for m in _CALENDAR if m in set(raw["Month"])]
    if set(raw["Month"]) - set(months):
        raise ValueError(f"unexpected Month values in {path}")
    frame["Month"] = pd.Categorical(raw["Month"], categories=months)
    for column in CODES:
        values = raw[column].astype(np.int64)
        frame[column] = pd.Categorical(values, categories=np.sort(values.unique()))
    frame["VisitorType"] = pd.Categorical(
        raw["VisitorType"], categories=sorted(raw["VisitorType"].unique())
    )
    frame["Weekend"] = _to_bool(raw["Weekend"], "Weekend")
    frame[TARGET] = _to_bool(raw[TARGET], TARGET).astype(np.int64)
    return frame_dataset(
        frame, FEATURES, TARGET, return_X_y=return_X_y,
        target_names=["no purchase", "purchase"], descr=DESCR, filename=str(path),
    )


def _to_bool(column: pd.Series, name: str) -> pd.Series:
    if column.dtype == bool:
        return column
    mapping = {"TRUE": True, "FALSE": False, "True": True, "False": False}
    mapped = column.map(mapping)
    if mapped.isna().any():
        raise ValueError(f"column {name} is not boolean")
    return mapped.astype(bool)
