"""Bad input gets a clear ValueError and leaves nothing half-fitted."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from ecsel import ECSELClassifier, ECSELRegressor

FAST = {"max_iter": 30, "n_restarts": 2, "n_terms": 1}


def _data(n=80):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 2, n), "b": rng.uniform(1, 2, n)})
    return X, (X.a > 1.5).astype(int)


@pytest.mark.parametrize("Est", [ECSELClassifier, ECSELRegressor])
@pytest.mark.parametrize("case", ["inf", "inf_frame", "one_d", "empty", "bad_dtype",
                                  "too_many_categories", "y_length"])
def test_bad_fit_input_raises_and_leaves_estimator_unfitted(Est, case):
    X, y = _data()
    # NaN is accepted (missing values, tests/ecsel/test_missing_values.py); inf is not.
    if case == "inf":
        X = X.to_numpy(copy=True)
        X[0, 0] = np.inf
        match = "infinity"
    elif case == "inf_frame":
        X.loc[5, "a"] = -np.inf
        match = "infinity"
    elif case == "one_d":
        X = X.a.to_numpy()
        match = "2D array"
    elif case == "empty":
        X, y = X.iloc[:0], y.iloc[:0]
        match = "0 sample"
    elif case == "bad_dtype":
        X["when"] = pd.date_range("2020-01-01", periods=len(X))
        match = "cannot interpret"
    elif case == "too_many_categories":
        X["id"] = [f"user{i}" for i in range(len(X))]
        match = "distinct non-numeric"
    else:
        y = y[:-1]
        match = "inconsistent numbers of samples"
    est = Est(**FAST)
    with pytest.raises(ValueError, match=match):
        est.fit(X, y)
    with pytest.raises(NotFittedError):
        check_is_fitted(est)


def test_single_class_is_rejected():
    X, _ = _data()
    with pytest.raises(ValueError, match="only one class"):
        ECSELClassifier(**FAST).fit(X, np.ones(len(X)))


def test_failed_refit_keeps_the_previous_model():
    X, y = _data()
    est = ECSELClassifier(**FAST, random_state=0).fit(X, y)
    before = est.signomial_
    bad = X.copy()
    bad.loc[0, "a"] = np.inf
    with pytest.raises(ValueError):
        est.fit(bad, y)
    assert est.signomial_ is before


@pytest.mark.parametrize("Est", [ECSELClassifier, ECSELRegressor])
def test_predict_input_is_checked(Est):
    X, y = _data()
    est = Est(**FAST, random_state=0).fit(X.to_numpy(), y.to_numpy())
    with pytest.raises(ValueError, match="features"):
        est.predict(np.ones((3, 3)))
    with pytest.raises(ValueError, match="infinity"):
        est.predict(np.array([[np.inf, 1.0]]))
    with pytest.raises(ValueError, match="0 sample"):
        est.predict(np.ones((0, 2)))


@pytest.mark.parametrize("param, value", [("n_terms", 0), ("n_terms", "many"), ("alpha", -1.0),
                                          ("n_restarts", 0), ("max_iter", 1.5),
                                          ("validation_fraction", 0.9), ("device", "tpu")])
def test_bad_parameters_raise(param, value):
    X, y = _data()
    with pytest.raises(ValueError, match=param if param != "device" else "device"):
        ECSELClassifier(**{**FAST, param: value}).fit(X, y)


def test_regressor_rejects_non_numeric_target():
    X, _ = _data()
    with pytest.raises(ValueError):
        ECSELRegressor(**FAST).fit(X, np.array(["a"] * len(X), dtype=object))
