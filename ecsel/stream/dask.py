"""Score Dask dataframes partition by partition (the ``dask`` extra).

:class:`ParallelPostFit` wraps a fitted ECSEL estimator the way
``dask_ml.wrappers.ParallelPostFit`` does: ``predict``, ``predict_proba``,
``decision_function`` and ``explain`` take a ``dask.dataframe.DataFrame`` and return
a lazy Dask collection (one task per partition, index kept), and pass pandas or
NumPy input straight to the estimator. Every partition is scored by the same model
with the same explanation background, so the result equals the in-memory one.

Hyperparameter search on a Dask cluster needs no wrapper: ECSEL estimators pickle,
so ``GridSearchCV`` runs through joblib's Dask backend::

    from distributed import Client
    from joblib import parallel_config
    with Client(cluster), parallel_config(backend="dask"):
        GridSearchCV(ECSELClassifier(), grid, cv=3).fit(X, y)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ecsel.stream._predict import scores_frame


def _require_dask():
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - dask is installed in CI
        raise ImportError("Dask scoring needs dask: pip install 'ecsel[dask]'.") from exc
    return dd


def _is_dask_frame(X) -> bool:
    return type(X).__module__.startswith("dask") and hasattr(X, "map_partitions")


class ParallelPostFit(MetaEstimatorMixin, BaseEstimator):
    """Score ``dask.dataframe`` inputs partition by partition with an ECSEL estimator.

    Parameters
    ----------
    estimator : ECSEL estimator
        Used as is when it is already fitted; otherwise ``fit`` fits a clone.

    Attributes
    ----------
    estimator_ : estimator
        The fitted estimator that scores the partitions.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> ddf = dd.from_pandas(X, npartitions=3)
    >>> lazy = ParallelPostFit(est).predict(ddf)
    >>> bool(np.allclose(lazy.compute(scheduler="sync").to_numpy(), est.predict(X)))
    True
    """

    _parameter_constraints: dict = {"estimator": [HasMethods(["fit", "predict"])]}

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y=None, **fit_params):
        """Fit a clone of ``estimator`` in memory (a Dask input is computed first)."""
        if _is_dask_frame(X):
            X = X.compute()
        if _is_dask_frame(y):
            y = y.compute()
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        return self

    def _fitted(self):
        est = getattr(self, "estimator_", None)
        if est is None:
            check_is_fitted(self.estimator)
            est = self.estimator
        return est

    def _map(self, X, method: str, background=None):
        est = self._fitted()
        columns = list(est.signomial_.input_features)
        if not _is_dask_frame(X):
            return getattr(est, method)(X) if method != "explain" else \
                est.explain(X, background=background)
        _require_dask()
        missing = [c for c in columns if c not in X.columns]
        if missing:
            raise ValueError(f"The dask dataframe lacks the columns {missing} the model needs.")
        if method == "explain" and background is None and \
                getattr(est, "background_", None) is None:
            raise ValueError(
                "explain on a dask dataframe needs one background for every partition: "
                "pass background= (the estimator has no stored background_)."
            )
        head = X._meta[columns].iloc[:0]
        meta = scores_frame(est, _meta_rows(est, head), method, background).iloc[:0]

        def score(part: pd.DataFrame) -> pd.DataFrame:
            if len(part) == 0:
                return meta.set_axis(part.index[:0])
            out = scores_frame(est, part[columns].reset_index(drop=True), method, background)
            return out.set_axis(part.index)

        frame = X.map_partitions(score, meta=meta)
        if method in ("predict", "decision_function") and meta.shape[1] == 1:
            return frame[meta.columns[0]]
        return frame

    def predict(self, X):
        """Predictions; a Dask Series named ``prediction`` for a Dask input."""
        return self._map(X, "predict")

    def predict_proba(self, X):
        """Probabilities; a Dask DataFrame with columns ``proba_<class>``."""
        return self._map(X, "predict_proba")

    def decision_function(self, X):
        """Scores; a Dask Series ``score`` (binary) or DataFrame ``score_<class>``."""
        return self._map(X, "decision_function")

    def explain(self, X, background=None):
        """Shapley attributions; a Dask DataFrame with one column per input feature
        (``<class>:<feature>`` for a multiclass model). For a pandas input, the
        estimator's :class:`~ecsel.explain.Explanation`."""
        return self._map(X, "explain", background)

    def score(self, X, y):
        est = self._fitted()
        if _is_dask_frame(X):
            X = X.compute()
        if _is_dask_frame(y):
            y = y.compute()
        return est.score(X, y)


def _meta_rows(est, head: pd.DataFrame) -> pd.DataFrame:
    """Two valid rows with the right dtypes, to infer the output columns."""
    rows = getattr(est, "background_", None)
    if rows is not None and len(rows):
        return rows.iloc[:2].reset_index(drop=True)
    ranges = getattr(est, "feature_range_", {}) or {}
    data = {}
    for c in head.columns:
        r = ranges.get(c)
        if r is not None and len(r) and not isinstance(r[0], (int, float, np.number)):
            data[c] = [r[0], r[0]]
        else:
            data[c] = [float(r[0]), float(r[1])] if r is not None else [1.0, 1.0]
    return pd.DataFrame(data)
