"""Signed, heavy-tailed columns: the robust, clipped asinh map and its exports."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch

from ecsel import ECSELClassifier, ECSELRegressor, Signomial
from ecsel._transform import PositivityTransform


@pytest.fixture(scope="module")
def tails():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"t": rng.standard_t(1.5, 300) * 3.0 + 1.0,
                         "pos": rng.lognormal(0.0, 1.0, 300)})


def test_signed_map_parameters_are_robust_and_exact(tails):
    fmap = PositivityTransform.fit(tails).feature_maps[0]
    t = tails.t.to_numpy()
    q1, q3 = np.percentile(t, [25, 75])
    assert fmap.kind == "signed"
    assert fmap.center == np.median(t)
    assert fmap.scale == (q3 - q1) / 1.349
    assert (fmap.lower, fmap.upper) == (t.min(), t.max())
    x = np.array([fmap.center, t.max(), 0.3])
    expected = np.arcsinh((x - np.median(t)) / ((q3 - q1) / 1.349))
    np.testing.assert_array_equal(fmap.log_feature(x), expected)
    assert fmap.log_feature(np.array([fmap.center]))[0] == 0.0


def test_held_out_values_are_clipped_at_the_training_range(tails):
    fmap = PositivityTransform.fit(tails).feature_maps[0]
    far = np.array([-1e12, fmap.lower - 1.0, fmap.upper + 1.0, 1e300])
    at_bounds = np.array([fmap.lower, fmap.lower, fmap.upper, fmap.upper])
    np.testing.assert_array_equal(fmap.log_feature(far), fmap.log_feature(at_bounds))
    bound = np.arcsinh(max(fmap.center - fmap.lower, fmap.upper - fmap.center) / fmap.scale)
    probe = np.linspace(-1e6, 1e6, 1001)
    assert np.abs(fmap.log_feature(probe)).max() <= bound


def test_constant_iqr_falls_back_to_the_standard_deviation():
    values = np.r_[np.zeros(90), np.linspace(-5, 5, 10)]
    fmap = PositivityTransform.fit(pd.DataFrame({"s": values})).feature_maps[0]
    assert fmap.kind == "signed" and fmap.scale == np.std(values)


def _model(frame, exponents, coef=((1.5, -0.5),)):
    sig = Signomial([0.2], coef, exponents, PositivityTransform.fit(frame), ["y"])
    return ECSELRegressor.from_signomial(sig, frame)


def test_sympy_torch_json_reproduce_the_score_beyond_the_range(tails):
    est = _model(tails, [[[0.8, 0.5], [-0.3, 1.0]]])
    sig = est.signomial_
    rows = pd.DataFrame({"t": [-1e4, tails.t.min(), 0.5, tails.t.max() + 50, 3e3],
                         "pos": [0.5, 1.0, 2.0, 3.0, 40.0]})
    expected = est.predict(rows)
    expr = sig.to_sympy()
    f = sp.lambdify([sp.Symbol("t", real=True), sp.Symbol("pos", positive=True)], expr,
                    "numpy")
    np.testing.assert_allclose(f(rows.t.to_numpy(), rows.pos.to_numpy()), expected,
                               rtol=1e-12)
    assert "asinh" in str(expr)
    module = est.to_torch()
    out = module(torch.tensor(sig.encode(rows), dtype=torch.float64))
    np.testing.assert_allclose(out.detach().numpy()[:, 0], expected, rtol=1e-12)
    again = Signomial.from_json(sig.to_json())
    np.testing.assert_array_equal(again.evaluate(rows)[:, 0], expected)


def test_legacy_linear_maps_still_load_and_predict():
    legacy = {"name": "s", "source": "s", "kind": "linear", "scale": 2.0, "shift": 0.0,
              "center": 1.0, "lower": 0.0, "level": None, "high": 1.0}
    doc = {"format": "ecsel.signomial", "version": 1, "intercept": [0.0], "coef": [[1.0]],
           "exponents": [[[0.5]]], "output_names": ["y"],
           "transform": {"input_features": ["s"], "feature_maps": [legacy]}}
    sig = Signomial.from_json(json.dumps(doc))
    x = np.array([-3.0, 1.0, 9.0])
    np.testing.assert_allclose(sig.evaluate(pd.DataFrame({"s": x}))[:, 0],
                               np.exp(0.5 * (x - 1.0) / 2.0), rtol=1e-14)


def test_elasticity_and_closed_form_boundary_of_a_signed_feature(tails):
    est = _model(tails[["t"]], [[[0.8], [0.0]]])
    fmap = est.signomial_.transform.feature_maps[0]
    x = pd.DataFrame({"t": [0.5, 2.0]})
    z = (x.t.to_numpy() - fmap.center) / fmap.scale
    # score = 0.2 - 0.5 + 1.5 exp(0.8 asinh(z)): d score / d x = 0.8 term / (s sqrt(1+z^2))
    score = est.predict(x)
    dz = (score + 0.3) * 0.8 / (fmap.scale * np.sqrt(1 + z * z))
    np.testing.assert_allclose(est.elasticities(x, semi=True), (dz / score)[:, None],
                               rtol=1e-12)
    outside = pd.DataFrame({"t": [fmap.upper + 10.0]})
    assert est.elasticities(outside, semi=True).iloc[0, 0] == 0.0  # clipped: flat
    est = _model(tails[["t"]], [[[0.8], [0.0]]], coef=[[1.5, 0.0]])  # one term
    level = float(est.predict(pd.DataFrame({"t": [3.0]}))[0])
    root = est.decision_boundary_at(pd.DataFrame({"t": [0.0]}), "t", level=level)
    assert root["method"].iloc[0] == "closed form"
    assert root["boundary"].iloc[0] == pytest.approx(3.0, rel=1e-9)


def test_fitted_logits_stay_bounded_on_far_out_rows():
    rng = np.random.default_rng(1)
    n = 400
    X = pd.DataFrame({"a": rng.standard_t(1.2, n), "b": rng.standard_t(2.0, n)})
    y = (X.a + 0.5 * X.b + rng.logistic(0, 0.5, n) > 0).astype(int)
    est = ECSELClassifier(n_terms=2, max_iter=60, n_restarts=2, random_state=0).fit(X, y)
    far = pd.DataFrame({"a": [-1e9, 1e9, 1e9], "b": [1e9, -1e9, 1e9]})
    at_range = pd.DataFrame({"a": [X.a.min(), X.a.max(), X.a.max()],
                             "b": [X.b.max(), X.b.min(), X.b.max()]})
    np.testing.assert_array_equal(est.decision_function(far), est.decision_function(at_range))
    # |z| <= |b| + sum_k |c_k| exp(sum_j |g_kj| max|log u_j|), whatever the input
    sig = est.signomial_
    bound_j = np.array([np.arcsinh(max(m.center - m.lower, m.upper - m.center) / m.scale)
                        for m in sig.transform.feature_maps])
    bound = abs(sig.intercept[0]) + np.sum(np.abs(sig.coef[0])
                                           * np.exp(np.abs(sig.exponents[0]) @ bound_j))
    probe = pd.DataFrame(rng.standard_cauchy((2000, 2)) * 1e6, columns=["a", "b"])
    assert np.abs(est.decision_function(probe)).max() <= bound
