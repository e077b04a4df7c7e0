"""The scikit-learn estimator contract for both ECSEL estimators."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.estimator_checks import parametrize_with_checks

from ecsel import ECSELClassifier, ECSELRegressor


# Small budgets keep the ~100 checks fast; the defaults are exercised elsewhere.
@parametrize_with_checks(
    [ECSELClassifier(n_terms=1, max_iter=60, n_restarts=2),
     ECSELRegressor(n_terms=1, max_iter=60, n_restarts=4)]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


def _law_frame(n=400, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"m": rng.uniform(1, 5, n), "v": rng.uniform(1, 5, n)})
    return X, 0.5 * X["m"] * X["v"] ** 2


def test_clone_keeps_every_parameter():
    est = ECSELClassifier(n_terms=2, alpha=0.05, n_restarts=3, class_weight="balanced",
                          random_state=7)
    assert clone(est).get_params() == est.get_params()


def test_dataframe_feature_names_and_count():
    X, y = _law_frame()
    est = ECSELRegressor(random_state=0).fit(X, y)
    assert est.n_features_in_ == 2
    assert list(est.feature_names_in_) == ["m", "v"]
    with pytest.raises(ValueError, match="feature names"):
        est.predict(X[["v", "m"]].rename(columns={"v": "a", "m": "b"}))


def test_array_input_uses_positional_symbols():
    X, y = _law_frame()
    est = ECSELRegressor(random_state=0).fit(X.to_numpy(), y.to_numpy())
    assert not hasattr(est, "feature_names_in_")
    assert {str(s) for s in est.sympy().free_symbols} == {"x0", "x1"}


def test_pipeline_and_grid_search():
    X, y = _law_frame()
    pipe = make_pipeline(FunctionTransformer(), ECSELRegressor(random_state=0, max_iter=100))
    search = GridSearchCV(pipe, {"ecselregressor__n_terms": [1, 2]}, cv=3).fit(X, y)
    assert search.best_params_["ecselregressor__n_terms"] == 1
    assert search.score(X, y) > 1 - 1e-9


def test_pickle_round_trip_predicts_identically():
    X, y = _law_frame()
    est = ECSELRegressor(random_state=0).fit(X, y)
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(again.predict(X), est.predict(X))
    assert again.signomial_ == est.signomial_
