"""Exact Shapley values of ECSEL models: brute force, shap oracle, axioms, layouts, errors."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier, ECSELRegressor, Signomial
from ecsel._transform import PositivityTransform
from ecsel.explain import Explanation


# --------------------------------------------------------------------- helpers
def mixed_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """Power (positive), power with zeros (shifted), linear (signed), categorical."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "pos": rng.uniform(0.5, 4.0, n),
        "count": rng.poisson(1.5, n).astype(float),
        "signed": rng.normal(0.0, 1.0, n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
    })


def install(est, frame, intercept, coef, exponents, classes=None, names=None):
    transform = PositivityTransform.fit(frame)
    sig = Signomial(intercept, coef, exponents, transform, names)
    return type(est).from_signomial(sig, frame, classes=classes, **est.get_params())


def random_model(frame, n_out=1, n_terms=3, seed=0, scale=0.7):
    m = len(PositivityTransform.fit(frame).feature_maps)
    rng = np.random.default_rng(seed)
    return (rng.normal(0, 1, n_out), rng.normal(0, 1, (n_out, n_terms)),
            rng.normal(0, scale, (n_out, n_terms, m)))


def brute_force_shapley(score, x: pd.DataFrame, background: pd.DataFrame) -> np.ndarray:
    """Interventional Shapley values by enumerating every coalition of raw columns.

    ``score(frame) -> (n, O)``; returns (O, p) for the single row ``x``.
    """
    columns = list(x.columns)
    p = len(columns)

    def value(coalition):
        hybrid = background.copy()
        for j in coalition:
            hybrid[columns[j]] = [x[columns[j]].iloc[0]] * len(hybrid)
        return score(hybrid).mean(axis=0)

    cache = {}
    phi = np.zeros((score(x).shape[1], p))
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in combinations(others, size):
                key_without, key_with = frozenset(subset), frozenset(subset) | {j}
                for key in (key_without, key_with):
                    if key not in cache:
                        cache[key] = value(key)
                phi[:, j] += weight * (cache[key_with] - cache[key_without])
    return phi


# ------------------------------------------------------------------ exactness
def test_matches_brute_force_mixed_columns_three_terms():
    frame = mixed_frame(60)
    est = install(ECSELRegressor(), frame, *random_model(frame, n_terms=3), names=["y"])
    X, back = frame.iloc[:5], frame.iloc[40:47]
    expl = est.explain(X, background=back)
    assert expl.values.shape == (5, 4)
    assert expl.feature_names == ["pos", "count", "signed", "colour"]
    for i in range(len(X)):
        oracle = brute_force_shapley(est.signomial_.evaluate, X.iloc[[i]], back)[0]
        np.testing.assert_allclose(expl.values[i], oracle, rtol=1e-10, atol=1e-12)


def test_completeness_to_machine_precision_many_columns():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.uniform(0.2, 5.0, (80, 12)), columns=[f"f{j}" for j in range(12)])
    est = install(ECSELRegressor(), frame, *random_model(frame, n_terms=4, seed=1, scale=0.4))
    expl = est.explain(frame)
    total = expl.values.sum(-1) + expl.base_values
    np.testing.assert_allclose(total, est.predict(frame), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(expl.base_values, est.predict(est.background_).mean(),
                               rtol=1e-12)


def test_clamped_terms_still_exact():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.uniform(0.01, 100.0, (40, 3)), columns=["a", "b", "c"])
    expo = np.array([[[14.0, 12.0, -10.0], [0.5, 0.0, 0.2]]])  # argument reaches +-60
    est = install(ECSELRegressor(), frame, [0.1], [[1e-3, 2.0]], expo)
    power = est.signomial_.log_features(frame) @ expo[0, 0]
    assert np.abs(power).max() > 60
    X, back = frame.iloc[:4], frame.iloc[10:16]
    expl = est.explain(X, background=back)
    for i in range(len(X)):
        oracle = brute_force_shapley(est.signomial_.evaluate, X.iloc[[i]], back)[0]
        np.testing.assert_allclose(expl.values[i], oracle, rtol=1e-9)
    scale = max(np.abs(expl.values).max(), np.abs(expl.base_values).max())
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values, est.predict(X),
                               rtol=1e-12, atol=1e-13 * scale)  # machine precision of the scale


def test_shap_kernel_explainer_with_all_coalitions_is_an_exact_oracle():
    """KernelSHAP enumerating all 2^p coalitions solves the Shapley regression exactly.

    (``shap.explainers.Exact`` gives the same numbers but spends ~25 s compiling.)
    """
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.uniform(0.5, 3.0, (50, 5)), columns=list("abcde"))
    est = install(ECSELRegressor(), frame, *random_model(frame, n_terms=2, seed=4))
    X, back = frame.iloc[:6], frame.iloc[20:32]
    kernel = shap.KernelExplainer(lambda a: est.signomial_.evaluate(a)[:, 0], back.to_numpy())
    oracle = kernel.shap_values(X.to_numpy(), nsamples=2**5, l1_reg=False, silent=True)
    expl = est.explain(X, background=back)
    np.testing.assert_allclose(expl.values, oracle, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(expl.base_values, kernel.expected_value, rtol=1e-12)


# --------------------------------------------------------------------- axioms
def test_dummy_feature_gets_exactly_zero():
    frame = mixed_frame(50, seed=2)
    intercept, coef, expo = random_model(frame, n_terms=3, seed=2)
    expo[:, :, 1] = 0.0  # "count" is absent from the equation
    est = install(ECSELRegressor(), frame, intercept, coef, expo)
    expl = est.explain(frame.iloc[:20])
    assert np.all(expl.values[:, 1] == 0.0)
    assert np.any(expl.values[:, 0] != 0.0)


def test_symmetric_players_get_equal_values():
    rng = np.random.default_rng(9)
    a = rng.uniform(1.0, 4.0, 30)
    frame = pd.DataFrame({"a": a, "b": a[::-1].copy(), "c": rng.uniform(1.0, 2.0, 30)})
    frame.loc[0, ["a", "b"]] = [3.0, 3.0]
    # a and b enter every term with equal exponents and equal maps (same geometric mean).
    est = install(ECSELRegressor(), frame, [0.3], [[1.5, -0.7]],
                  [[[0.8, 0.8, 0.3], [-0.4, -0.4, 1.0]]])
    back = pd.DataFrame({"a": [2.0, 1.5], "b": [2.0, 1.5], "c": [1.2, 1.7]})
    expl = est.explain(frame.iloc[[0]], background=back)
    assert expl.values[0, 0] == pytest.approx(expl.values[0, 1], rel=1e-13)
    assert expl.values[0, 0] != pytest.approx(0.0)


# -------------------------------------------------------------------- layouts
def test_binary_classifier_explains_decision_function():
    frame = mixed_frame(60, seed=4)
    est = install(ECSELClassifier(), frame, *random_model(frame, n_terms=2, seed=5),
                  classes=np.array(["no", "yes"]), names=["yes"])
    expl = est.explain(frame.iloc[:15])
    assert expl.values.shape == (15, 4) and expl.base_values.shape == (15,)
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values,
                               est.decision_function(frame.iloc[:15]), rtol=1e-12, atol=1e-12)


def test_multiclass_shapes_reference_class_and_brute_force():
    frame = mixed_frame(60, seed=6)
    est = install(ECSELClassifier(), frame, *random_model(frame, n_out=2, n_terms=2, seed=6),
                  classes=np.array([0, 1, 2]), names=["1", "2"])
    X, back = frame.iloc[:3], frame.iloc[30:36]
    expl = est.explain(X, background=back)
    assert expl.values.shape == (3, 3, 4) and expl.base_values.shape == (3, 3)
    assert np.all(expl.values[:, 0] == 0) and np.all(expl.base_values[:, 0] == 0)
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values,
                               est.decision_function(X), rtol=1e-12, atol=1e-12)
    oracle = brute_force_shapley(est.signomial_.evaluate, X.iloc[[1]], back)
    np.testing.assert_allclose(expl.values[1, 1:], oracle, rtol=1e-10, atol=1e-12)
    assert expl.output_names == ["0", "1", "2"]
    wide = expl.to_frame()
    assert wide.shape == (3, 12) and wide.columns.nlevels == 2
    long = expl.to_frame(long=True)
    assert len(long) == 3 * 3 * 4
    assert expl.output("2").values.shape == (3, 4)


def test_explanation_container():
    frame = mixed_frame(30, seed=8)
    est = install(ECSELRegressor(), frame, *random_model(frame, seed=8))
    expl = est.explain(frame.iloc[:10])
    assert isinstance(expl, Explanation)
    assert expl[2].values.shape == (1, 4) and len(expl[:4]) == 4
    assert expl.data.shape == (10, 4) and expl.data[0, 3] == frame["colour"].iloc[0]
    tidy = expl.to_frame(long=True)
    assert list(tidy.columns) == ["sample", "feature", "value", "base_value"]
    np.testing.assert_allclose(tidy.groupby("sample")["value"].sum(), expl.values.sum(-1))
    assert list(expl.mean_abs().index) == expl.feature_names


# ---------------------------------------------------------- other methods
def test_log_linear_is_exact_for_one_term():
    frame = mixed_frame(40, seed=10)
    est = install(ECSELRegressor(), frame, *random_model(frame, n_terms=1, seed=10))
    X, back = frame.iloc[:8], frame.iloc[20:30]
    expl = est.explain(X, background=back, method="log-linear")
    sig = est.signomial_
    log_score = np.log(np.abs(est.predict(X) - sig.intercept[0]))
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values, log_score, rtol=1e-12)
    a = sig.exponents[0, 0]
    expected_pos = a[0] * (sig.log_features(X)[:, 0] - sig.log_features(back)[:, 0].mean())
    np.testing.assert_allclose(expl.values[:, 0], expected_pos, rtol=1e-12)
    two_terms = install(ECSELRegressor(), frame, *random_model(frame, n_terms=2))
    with pytest.raises(ValueError, match="one-term"):
        two_terms.explain(X, method="log-linear")


def test_term_contributions_add_up():
    frame = mixed_frame(40, seed=11)
    est = install(ECSELRegressor(), frame, *random_model(frame, n_terms=3, seed=11))
    expl = est.explain(frame.iloc[:9], method="terms")
    # each term is labelled as it is printed in the equation
    printed = str(est.signomial_.to_sympy(precision=3, reference="auto"))
    assert len(expl.feature_names) == 3
    assert all(name in printed or name.lstrip("-") in printed for name in expl.feature_names)
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values,
                               est.predict(frame.iloc[:9]), rtol=1e-12)
    terms = est.signomial_.term_values(frame.iloc[:9])[:, 0]
    np.testing.assert_allclose(np.diff(expl.values, axis=0), np.diff(terms, axis=0), rtol=1e-12)


def test_default_background_is_stored_at_fit():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"m": rng.uniform(1, 5, 150), "v": rng.uniform(1, 5, 150)})
    est = ECSELRegressor(n_terms=1, n_restarts=2, max_iter=20, random_state=0)
    est.fit(X, X["m"] * X["v"])
    assert len(est.background_) == 100 and list(est.background_.columns) == ["m", "v"]
    assert est.feature_range_["m"] == (X["m"].min(), X["m"].max())
    expl = est.explain(X.iloc[:5])
    np.testing.assert_allclose(expl.base_values, est.predict(est.background_).mean(),
                               rtol=1e-12)


# ----------------------------------------------------------------- bad input
def test_bad_input_gives_clear_errors():
    frame = mixed_frame(30, seed=12)
    est = install(ECSELRegressor(), frame, *random_model(frame, seed=12))
    with pytest.raises(ValueError, match="feature"):
        est.explain(np.ones((2, 3)))
    with_inf = frame.iloc[:3].copy()
    with_inf.loc[1, "pos"] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        est.explain(with_inf)
    with pytest.raises(ValueError, match="background has columns"):
        est.explain(frame.iloc[:3], background=frame.rename(columns={"pos": "other"}))
    with pytest.raises(ValueError, match="method"):
        est.explain(frame.iloc[:3], method="kernel")


def test_fast_log_features_equal_the_transform():
    from ecsel.explain._common import log_features

    frame = mixed_frame(40, seed=13)
    est = install(ECSELRegressor(), frame, *random_model(frame, seed=13))
    np.testing.assert_array_equal(log_features(est.signomial_, frame),
                                  est.signomial_.log_features(frame))
