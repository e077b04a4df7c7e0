"""Constraints as exact properties: monotonic_cst, exponent_bounds, units (issue 28).

Oracles: hand-built signomials of known direction, brute-force finite differences
far outside the training range, and homogeneity checked by linear algebra on the
exponents of every front row.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from ecsel import ECSELClassifier, ECSELRegressor, PositivityTransform, Signomial, load_json
from ecsel._fit import constraints as cst
from ecsel._fit.symbolic import solve_coefficients
from ecsel.cli import main

FAST_REG = dict(n_restarts=4, max_iter=60, random_state=0)
# A constraint the data contradict keeps "auto" growing: the fits below fix the size.
SMALL_REG = dict(FAST_REG, n_terms=2)
FAST_CLF = dict(n_restarts=2, max_iter=40, random_state=0)


def _rows(est):
    return list(est.equations_["signomial"])


def _brute_force_violations(est, X, column, sign, n=400, factor=10.0, seed=0):
    """Rows of random points (from ``factor`` times the range) where a step up in
    ``column`` moves the prediction against ``sign``, for every front row."""
    rng = np.random.default_rng(seed)
    lo, hi = X.min(), X.max()
    span = hi - lo
    points = pd.DataFrame({c: rng.uniform(lo[c] - factor * span[c], hi[c] + factor * span[c], n)
                           for c in X.columns})
    points = points.clip(lower=0.0)  # the columns here are non-negative quantities
    step = points.copy()
    step[column] = step[column] + rng.uniform(1e-3, 1.0, n) * span[column]
    bad = 0
    for sig in _rows(est):
        before, after = sig.evaluate(points)[:, 0], sig.evaluate(step)[:, 0]
        bad += int(np.sum(sign * (after - before) < -1e-9 * (1 + np.abs(before))))
    return bad


# ------------------------------------------------------------------ parsing
def test_monotonic_parsing_errors():
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["u", "v", "u"]})
    t = PositivityTransform.fit(frame)
    with pytest.raises(ValueError, match="one entry per feature"):
        cst.monotonic_signs([1], t)
    with pytest.raises(ValueError, match="unknown feature"):
        cst.monotonic_signs({"zz": 1}, t)
    with pytest.raises(ValueError, match="-1, 0 or \\+1"):
        cst.monotonic_signs({"a": 2}, t)
    with pytest.raises(ValueError, match="not numeric"):
        cst.monotonic_signs({"c": -1}, t)
    assert cst.monotonic_signs(np.array([-1, 0]), t) == {"a": -1}
    with pytest.raises(ValueError, match="low <= 0 <= high"):
        cst.exponent_box({"a": (0.5, 2)}, t)


def test_fit_rejects_categorical_constraint():
    X = pd.DataFrame({"a": np.linspace(1, 2, 30), "c": ["u", "v", "w"] * 10})
    with pytest.raises(ValueError, match="not numeric"):
        ECSELRegressor(monotonic_cst={"c": 1}, **FAST_REG).fit(X, X["a"])
    with pytest.raises(ValueError, match="multiclass"):
        ECSELClassifier(monotonic_cst={"a": 1}, **FAST_CLF).fit(X[["a"]], X["c"])


# ------------------------------------------------- hand-built signomials
def test_certification_of_hand_built_signomials():
    t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 4.0], "y": [-1.0, 0.0, 3.0]}))
    c = cst.build(t, monotonic_cst={"x": 1, "y": -1})
    # 2 x^1.5 - 3 x^-1 is increasing in x; -exp(0.5 asinh(.)) decreasing in y.
    good_coef, good_expo = np.array([[2.0, -3.0, -1.0]]), \
        np.array([[[1.5, 0.0], [-1.0, 0.0], [0.0, 0.5]]])
    assert c.satisfied(good_coef, good_expo)
    bad_expo = good_expo.copy()
    bad_expo[0, 1, 0] = 1.0  # -3 x: decreasing
    assert not c.satisfied(good_coef, bad_expo)
    # The brute-force oracle agrees with both verdicts.
    sig_good = Signomial([0.0], good_coef, good_expo, t)
    sig_bad = Signomial([0.0], good_coef, bad_expo, t)
    grid = pd.DataFrame({"x": np.geomspace(0.01, 400, 500), "y": np.zeros(500)})
    assert np.all(np.diff(sig_good.evaluate(grid)[:, 0]) >= 0)
    assert np.any(np.diff(sig_bad.evaluate(grid)[:, 0]) < 0)


def test_projection_keeps_signs_and_box():
    c = cst.Constraints(np.array([1, -1, 0]), np.array([-2.0, -np.inf, -1.0]),
                        np.array([2.0, np.inf, 1.0]))
    expo = torch.tensor([[[3.0, 1.0, 5.0], [-0.5, -4.0, 0.0]]], dtype=torch.float64)
    c.project_exponents_(expo)
    # term 0: the box gives [2, 1, 1]; signed effects (+2, -1) disagree and the
    # larger side keeps; term 1: effects (-0.5, +4): the -0.5 goes.
    assert expo.tolist() == [[[2.0, 0.0, 1.0], [0.0, -4.0, 0.0]]]
    expo = torch.tensor([[[1.0, 1.0, 0.0], [-1.0, 0.0, 0.0]]], dtype=torch.float64)
    coef = torch.tensor([[1.0, 2.0]], dtype=torch.float64)
    c.project_pair_(coef, expo)  # c > 0: a_0 must be >= 0 and a_1 <= 0
    assert expo.tolist() == [[[1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]]


def test_signed_least_squares_is_feasible_and_exact_when_unconstrained():
    g = torch.Generator().manual_seed(0)
    phi = torch.rand(3, 50, 2, generator=g, dtype=torch.float64)
    y = phi[0, :, 0] - 2 * phi[0, :, 1]
    free = cst.solve_signed(phi, y, True, torch.zeros(3, 2), solve_coefficients)
    assert torch.equal(free, solve_coefficients(phi, y, True))
    orient = torch.tensor([[1.0, 1.0]] * 3, dtype=torch.float64)
    theta = cst.solve_signed(phi, y, True, orient, solve_coefficients)
    assert bool((theta[:, 1:] * orient >= 0).all())


# --------------------------------------------------------------- regressor
def test_regressor_monotone_every_front_row_brute_force():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 4, 200), "b": rng.uniform(1, 4, 200)})
    y = 3 / X.a + X.b + rng.normal(0, 0.05, 200)  # truly decreasing in a
    free = ECSELRegressor(**SMALL_REG).fit(X, y)
    assert _brute_force_violations(free, X, "a", +1) > 0
    est = ECSELRegressor(monotonic_cst={"a": 1}, **SMALL_REG).fit(X, y)
    for sig in _rows(est):
        assert np.all(sig.coef[..., None] * sig.exponents[..., 0] >= 0)
    assert _brute_force_violations(est, X, "a", +1) == 0
    table = est.monotonicity()
    assert table.loc["a", "constraint"] == 1 and table.loc["a", "certified"]


def test_regressor_exponent_bounds_every_row():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.uniform(1, 4, 150), "b": rng.uniform(1, 4, 150)})
    y = X.a**3 * X.b
    est = ECSELRegressor(exponent_bounds={"a": (-1, 2)}, **SMALL_REG).fit(X, y)
    for sig in _rows(est):
        assert np.all((sig.exponents[..., 0] >= -1) & (sig.exponents[..., 0] <= 2))


def _dims(units, target, columns):
    bases = sorted({b for d in units.values() for b in d} | set(target))
    D = np.array([[units[c].get(b, 0.0) for b in bases] for c in columns])
    return D, np.array([target.get(b, 0.0) for b in bases])


def test_units_every_front_row_homogeneous():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"m": rng.uniform(1, 5, 200), "v": rng.uniform(1, 5, 200),
                      "h": rng.uniform(1, 5, 200), "g": rng.uniform(9, 10, 200)})
    y = 0.5 * X.m * X.v**2 + X.m * X.g * X.h + rng.normal(0, 0.5, 200)
    units = {"m": {"kg": 1}, "v": {"m": 1, "s": -1}, "h": {"m": 1}, "g": {"m": 1, "s": -2}}
    target = {"kg": 1, "m": 2, "s": -2}
    est = ECSELRegressor(units=units, target_units=target, **SMALL_REG).fit(X, y)
    D, d_y = _dims(units, target, list(X.columns))
    for sig in _rows(est):
        live = sig.coef[0] != 0
        assert np.allclose(sig.exponents[0][live] @ D, d_y, atol=1e-12)
        assert sig.intercept[0] == 0.0
    assert est.score(X, y) > 0.99


def test_units_errors_and_dimensionless_intercept():
    X = pd.DataFrame({"a": np.linspace(1, 3, 40), "b": np.linspace(3, 1, 40)})
    with pytest.raises(ValueError, match="no entry"):
        ECSELRegressor(units={"a": {"m": 1}}, target_units={"m": 1}, **FAST_REG).fit(X, X.a)
    with pytest.raises(ValueError, match="together"):
        ECSELRegressor(units={"a": {"m": 1}, "b": {}}, **FAST_REG).fit(X, X.a)
    with pytest.raises(ValueError, match="inconsistent"):
        ECSELRegressor(units={"a": {"m": 1}, "b": {"m": 2}}, target_units={"s": 1},
                       **FAST_REG).fit(X, X.a)
    est = ECSELRegressor(units={"a": {"m": 1}, "b": {"m": 1}}, target_units={},
                         **FAST_REG).fit(X, 1.0 + X.a / X.b)
    assert abs(est.signomial_.intercept[0] - 1.0) < 1e-6


# -------------------------------------------------------------- classifier
def test_classifier_monotone_with_missing_values():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame({"a": rng.uniform(0.5, 3, n), "b": rng.uniform(0.5, 3, n)})
    logit = 2.0 * (X.a - 1.5) ** 2 - 1.0 + (X.b - 1.5)  # U-shaped in a
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    X.loc[rng.uniform(size=n) < 0.2, "a"] = np.nan
    y[X.a.isna().to_numpy()] = 1  # missingness says a lot: the indicator would use it
    est = ECSELClassifier(monotonic_cst=[-1, 0], **FAST_CLF).fit(X, y)
    names = est.signomial_.transform.feature_names
    assert "a[missing]" in names
    for sig in _rows(est):
        assert np.all(sig.coef[..., None] * sig.exponents[..., 0] * -1 >= 0)
        assert np.all(sig.exponents[..., names.index("a[missing]")] == 0)
    table = est.monotonicity()
    assert table.loc["a", "certified"] and table.loc["b", "certified"] is None
    fill = est.signomial_.transform.fill_values()["a"]
    probe = pd.DataFrame({"a": [np.nan, fill], "b": [1.0, 1.0]})
    p = est.predict_proba(probe)[:, 1]
    assert p[0] == p[1]
    X_obs = X.dropna()
    assert _brute_force_violations(est, X_obs, "a", -1) == 0


def test_json_round_trip_and_cli_keep_certificate(tmp_path):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 4, 120), "b": rng.uniform(1, 4, 120)})
    y = 3 / X.a + X.b
    est = ECSELRegressor(monotonic_cst={"a": 1}, exponent_bounds=(-2, 2), **SMALL_REG).fit(X, y)
    again = load_json(est.to_json())
    assert again.monotonic_cst == {"a": 1}
    assert again.exponent_bounds == {"a": (-2.0, 2.0), "b": (-2.0, 2.0)}
    pd.testing.assert_frame_equal(again.monotonicity(X), est.monotonicity(X))
    assert bool(again.monotonicity(X).loc["a", "certified"])
    data = X.assign(y=y)
    path, out = tmp_path / "d.csv", tmp_path / "m.json"
    data.to_csv(path, index=False)
    code = main(["fit", str(path), "--target", "y", "--monotonic", "a=+1", "-q", "--n-terms",
                 "1", "--n-restarts", "2", "--max-iter", "30", "--out", str(out)])
    assert code == 0
    doc = json.loads(out.read_text())
    assert doc["constraints"]["monotonic"] == {"a": 1}
    assert load_json(out.read_text()).monotonicity().loc["a", "certified"]
    assert main(["fit", str(path), "--target", "y", "--monotonic", "a=up", "-q"]) == 2
