"""Bundled tabular data sets, the test-AUC helper and the CPU name shared by the classifier
benchmarks.

``benchmarks/`` is on ``sys.path`` when a script runs, so scripts import this as
``from _tabular import ...``.
"""

from __future__ import annotations

import platform
from collections.abc import Iterator

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.metrics import roc_auc_score

from ecsel.datasets import load_credit_card_fraud, load_online_shoppers


def four_datasets() -> Iterator[tuple[str, pd.DataFrame, pd.Series]]:
    """breast_cancer, wine, iris and Online Shoppers (rows with missing values dropped)."""
    for loader in (load_breast_cancer, load_wine, load_iris):
        X, y = loader(return_X_y=True, as_frame=True)
        yield loader.__name__.removeprefix("load_"), X, y
    X, y = load_online_shoppers(return_X_y=True)
    keep = ~X.isna().any(axis=1)
    yield "online_shoppers", X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)


def fraud_sample() -> tuple[str, pd.DataFrame, np.ndarray]:
    """The bundled ULB credit-card fraud sample."""
    fraud = load_credit_card_fraud()
    return "credit_card_fraud (sample)", fraud.data, fraud.target


def proba_auc(y, proba: np.ndarray) -> float:
    """Test ROC AUC from predicted probabilities (one-vs-rest macro for multiclass)."""
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    return float(roc_auc_score(y, proba, multi_class="ovr"))


def model_auc(model, X, y) -> float:
    """:func:`proba_auc` of ``model.predict_proba(X)``."""
    return proba_auc(y, model.predict_proba(X))


def cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what :mod:`platform` knows."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            model = next(line.split(":", 1)[1].strip() for line in handle
                         if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return model
