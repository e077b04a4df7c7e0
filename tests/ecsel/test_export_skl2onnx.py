"""skl2onnx converts scikit-learn pipelines that end in an ECSEL estimator (issue 30)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel.export.onnx import register_skl2onnx

ort = pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType  # noqa: E402

FAST = {"n_terms": 2, "n_restarts": 2, "max_iter": 30, "random_state": 0}


@pytest.fixture(scope="module", autouse=True)
def registered():
    register_skl2onnx(ECSELClassifier, ECSELRegressor)


def _run(pipe, X, tensor_type, dtype, options=None):
    model = skl2onnx.to_onnx(pipe, initial_types=[("X", tensor_type([None, X.shape[1]]))],
                             target_opset=17, options=options)
    session = ort.InferenceSession(model.SerializeToString())
    return session.run(None, {"X": X.astype(dtype)})


@pytest.fixture(scope="module")
def binary():
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:, :6].copy()
    pipe = make_pipeline(StandardScaler(), ECSELClassifier(**FAST))
    return pipe.fit(X[:300], y[:300]), X


def test_binary_pipeline_in_double(binary):
    pipe, X = binary
    label, proba = _run(pipe, X, DoubleTensorType, np.float64, {id(pipe): {"zipmap": False}})
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(label, pipe.predict(X))


def test_binary_pipeline_in_float_with_zipmap(binary):
    pipe, X = binary
    label, proba = _run(pipe, X, FloatTensorType, np.float32)
    # float32 inputs and outputs: the preceding steps round, so compare at float precision
    p1 = np.array([row[1] for row in proba])
    np.testing.assert_allclose(p1, pipe.predict_proba(X)[:, 1], atol=1e-4)
    # float32 rounding may flip a label only where the probability is within that
    # rounding of the threshold; every other label agrees exactly
    expected = pipe.predict_proba(X)[:, 1]
    clear = np.abs(expected - pipe[-1].threshold_) > 1e-4
    assert clear.sum() > len(clear) // 2  # the comparison covers most rows
    np.testing.assert_array_equal(np.asarray(label)[clear], pipe.predict(X)[clear])


def test_multiclass_pipeline():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    pipe = make_pipeline(StandardScaler(), ECSELClassifier(**FAST)).fit(X, labels)
    label, proba = _run(pipe, X, DoubleTensorType, np.float64, {id(pipe): {"zipmap": False}})
    np.testing.assert_allclose(proba, pipe.predict_proba(X), rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(label, pipe.predict(X))


def test_regressor_pipeline():
    rng = np.random.default_rng(0)
    X = rng.uniform(1.0, 5.0, (80, 3))
    y = 2.0 * X[:, 0] ** 1.5 / X[:, 1]
    pipe = make_pipeline(StandardScaler(), ECSELRegressor(**FAST)).fit(X, y)
    (out,) = _run(pipe, X, DoubleTensorType, np.float64)
    assert out.shape == (80, 1)
    np.testing.assert_allclose(out[:, 0], pipe.predict(X), rtol=1e-9)


def test_categorical_inputs_are_refused_with_a_clear_error():
    X = pd.DataFrame({"x": np.linspace(1.0, 3.0, 40), "c": ["a", "b"] * 20})
    est = ECSELClassifier(**FAST).fit(X, (X.x > 2).astype(int))
    with pytest.raises(ValueError, match="numeric columns"):
        skl2onnx.to_onnx(est, initial_types=[("X", DoubleTensorType([None, 2]))],
                         target_opset=17)
