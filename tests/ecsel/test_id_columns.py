"""Columns that identify rows (names, indices) are named in a warning at fit time."""

import warnings

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier
from ecsel._base import IDColumnWarning, id_like_columns


def test_id_like_columns_finds_names_and_indices_only():
    rng = np.random.default_rng(0)
    n = 40
    frame = pd.DataFrame({
        "rownames": np.arange(1, n + 1), "car": [f"car {i}" for i in range(n)],
        "shuffled_index": rng.permutation(n) + 100, "count": rng.integers(0, 5, n),
        "x": rng.normal(size=n), "colour": rng.choice(["a", "b"], n),
    })
    assert id_like_columns(frame) == {
        "rownames": "a monotone integer index",
        "car": "a different text value in every row",
        "shuffled_index": "distinct integers, one per row (an index?)",
    }
    assert id_like_columns(frame.head(5)) == {}


def test_fit_warns_naming_the_column():
    rng = np.random.default_rng(1)
    n = 60
    X = pd.DataFrame({"rownames": np.arange(n), "x": rng.uniform(1, 3, n)})
    y = (X["x"] > 2).astype(int)
    with pytest.warns(IDColumnWarning, match="'rownames' looks like a row identifier"):
        ECSELClassifier(n_terms=1, n_restarts=1, max_iter=20).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", IDColumnWarning)
        ECSELClassifier(n_terms=1, n_restarts=1, max_iter=20).fit(X[["x"]], y)
