"""Dask scoring partition by partition and GridSearchCV on a LocalCluster (loopback)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.model_selection import GridSearchCV

from ecsel import ECSELClassifier, load_json

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from ecsel.stream.dask import ParallelPostFit  # noqa: E402

FAST = dict(n_terms=1, max_iter=60, n_restarts=4, random_state=0)


def _data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.lognormal(0, 0.6, n), "b": rng.lognormal(0, 0.6, n),
                      "c": rng.choice(["u", "v", "w"], n)})
    logit = 3 * X.a * X.b ** -0.5 - 3 + (X.c == "v")
    y = pd.Series((rng.random(n) < expit(logit)).astype(int), name="y")
    return X, y


@pytest.fixture(scope="module")
def client():
    # In-process scheduler and worker (inproc:// transport): nothing leaves the process.
    cluster = distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                       dashboard_address=None)
    c = distributed.Client(cluster, timeout="20s")
    yield c
    c.close(timeout=10)
    cluster.close(timeout=10)


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return ECSELClassifier(**FAST).fit(X, y), X, y


def test_dask_scoring_equals_in_memory(client, fitted):
    clf, X, _ = fitted
    X = X.set_axis(pd.RangeIndex(100, 100 + len(X)))  # a non-default index is kept
    ddf = dd.from_pandas(X, npartitions=4)
    wrapped = ParallelPostFit(clf)
    pred = wrapped.predict(ddf)
    assert pred.npartitions == 4  # lazy, one task per partition
    pred = pred.compute()
    np.testing.assert_array_equal(pred.to_numpy(), clf.predict(X))
    assert pred.index.equals(X.index)
    np.testing.assert_allclose(wrapped.predict_proba(ddf).compute().to_numpy(),
                               clf.predict_proba(X), rtol=1e-13, atol=0)
    np.testing.assert_allclose(wrapped.decision_function(ddf).compute().to_numpy(),
                               clf.decision_function(X), rtol=1e-13, atol=0)
    exp = wrapped.explain(ddf).compute()
    assert list(exp.columns) == ["a", "b", "c"]
    np.testing.assert_allclose(exp.to_numpy(), clf.explain(X).values, rtol=1e-10, atol=1e-12)


def test_dask_explain_of_a_loaded_model_needs_a_background(client, fitted):
    clf, X, _ = fitted
    loaded = load_json(clf.to_json())
    ddf = dd.from_pandas(X, npartitions=3)
    if getattr(loaded, "background_", None) is None:
        with pytest.raises(ValueError, match="needs one background"):
            ParallelPostFit(loaded).explain(ddf)
    background = X.iloc[:20]
    got = ParallelPostFit(loaded).explain(ddf, background=background).compute()
    np.testing.assert_allclose(got.to_numpy(), loaded.explain(X, background=background).values,
                               rtol=1e-10, atol=1e-12)
    with pytest.raises(ValueError, match="lacks the columns"):
        ParallelPostFit(clf).predict(ddf[["a", "b"]])


def test_grid_search_through_joblib_dask_backend(client):
    from joblib import parallel_config

    X, y = _data(n=600, seed=1)
    grid = {"alpha": [1e-3, 1e-2]}
    local = GridSearchCV(ECSELClassifier(**FAST), grid, cv=2, scoring="roc_auc").fit(X, y)
    with parallel_config(backend="dask"):
        remote = GridSearchCV(ECSELClassifier(**FAST), grid, cv=2, scoring="roc_auc",
                              n_jobs=-1).fit(X, y)
    np.testing.assert_allclose(remote.cv_results_["mean_test_score"],
                               local.cv_results_["mean_test_score"], rtol=1e-9)
    assert remote.best_params_ == local.best_params_
    assert len(client.scheduler_info()["workers"]) == 1
