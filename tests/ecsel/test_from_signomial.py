"""``from_signomial``: the public door from a Signomial to a fitted estimator."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.validation import check_is_fitted

from ecsel import ECSELClassifier, ECSELRegressor, PositivityTransform, Signomial, load_json


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.uniform(1, 3, 40), "g": rng.choice(["u", "v"], 40)})


def _signomial(frame, n_outputs=1, names=None):
    t = PositivityTransform.fit(frame)
    m = len(t.feature_maps)
    expo = np.zeros((n_outputs, 1, m))
    expo[:, 0, 0] = 1.0
    return Signomial(np.full(n_outputs, 0.5), np.ones((n_outputs, 1)), expo, t, names)


def test_regressor_has_every_fitted_attribute_of_a_fit(frame):
    sig = _signomial(frame, names=["y"])
    est = ECSELRegressor.from_signomial(sig, frame, n_terms=2)
    check_is_fitted(est)
    assert est.signomial_ is sig and est.n_terms_ == 1 and est.n_terms == 2
    assert est.n_features_in_ == 2 and list(est.feature_names_in_) == ["a", "g"]
    assert len(est.equations_) == 1 and est.selected_index_ == 0
    assert est.equations_.loc[0, "signomial"] is sig
    assert len(est.background_) == 40 and est.feature_range_["g"] == ("u", "v")
    np.testing.assert_array_equal(est.predict(frame), sig.evaluate(frame)[:, 0])
    assert est.select(model_selection="accuracy").selected_index_ == 0
    assert "from_signomial" in est.front_summary()
    assert clone(est).get_params() == est.get_params()
    np.testing.assert_array_equal(load_json(est.to_json()).predict(frame), est.predict(frame))


def test_array_columns_leave_feature_names_unset():
    X = np.linspace(1, 2, 10)[:, None]
    sig = _signomial(pd.DataFrame(X, columns=["x0"]))
    est = ECSELRegressor.from_signomial(sig, X)
    assert not hasattr(est, "feature_names_in_") and est.n_features_in_ == 1
    np.testing.assert_allclose(est.predict(X), sig.evaluate(pd.DataFrame(X, columns=["x0"]))[:, 0])


def test_classifier_classes_and_threshold(frame):
    est = ECSELClassifier.from_signomial(_signomial(frame, names=["yes"]), frame,
                                         classes=["no", "yes"], threshold=0.9)
    assert list(est.classes_) == ["no", "yes"] and est.threshold_ == 0.9
    proba = est.predict_proba(frame)[:, 1]
    np.testing.assert_array_equal(est.predict(frame), np.where(proba >= 0.9, "yes", "no"))
    three = ECSELClassifier.from_signomial(_signomial(frame, n_outputs=2))
    assert three.classes_.tolist() == [0, 1, 2]


def test_bad_input_is_a_clear_error(frame):
    sig = _signomial(frame)
    with pytest.raises(ValueError, match="3 labels"):
        ECSELClassifier.from_signomial(_signomial(frame, n_outputs=2), classes=[0, 1])
    with pytest.raises(ValueError, match="no classes"):
        ECSELRegressor.from_signomial(sig, classes=[0, 1])
    with pytest.raises(ValueError, match="must be a Signomial"):
        ECSELRegressor.from_signomial("z = x")
    with pytest.raises(ValueError, match="columns"):
        ECSELRegressor.from_signomial(sig, frame.rename(columns={"a": "b"}))
    with pytest.raises(ValueError, match="alpha"):
        ECSELRegressor.from_signomial(sig, alpha=-1.0)
