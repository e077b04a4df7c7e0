"""Elasticities, monotonicity, partial dependence, boundaries, counterfactuals, torch, plots."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch
from scipy.special import logit

from ecsel import ECSELClassifier, ECSELRegressor, Signomial
from ecsel._transform import PositivityTransform
from ecsel.explain._boundary import NO_CHANGE


def install(est, frame, intercept, coef, exponents, classes=None, names=None):
    sig = Signomial(intercept, coef, exponents, PositivityTransform.fit(frame), names)
    return type(est).from_signomial(sig, frame, classes=classes, **est.get_params())


@pytest.fixture(scope="module")
def positive_frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({"a": rng.uniform(1.0, 5.0, 80), "b": rng.uniform(0.5, 2.0, 80),
                         "c": rng.uniform(1.0, 3.0, 80)})


def one_term_binary(frame):
    # z = -1 + 2 * u_a^1.5 * u_b^-0.8 (c unused), threshold 0.5 -> boundary z = 0
    return install(ECSELClassifier(), frame, [-1.0], [[2.0]], [[[1.5, -0.8, 0.0]]],
                   classes=np.array([0, 1]), names=["1"])


def two_term_binary(frame):
    return install(ECSELClassifier(), frame, [-2.0], [[1.0, 0.6]],
                   [[[1.2, -0.5, 0.0], [0.0, 0.7, 1.1]]], classes=np.array([0, 1]),
                   names=["1"])


# ---------------------------------------------------------------- elasticity
def test_one_term_elasticity_is_the_exponent(positive_frame):
    est = install(ECSELRegressor(), positive_frame, [0.0], [[3.0]], [[[1.5, -0.8, 0.0]]])
    e = est.elasticities(positive_frame.iloc[:10])
    assert list(e.columns) == list(positive_frame.columns)
    assert list(e.index) == list(positive_frame.index[:10])
    np.testing.assert_allclose(e, np.tile([1.5, -0.8, 0.0], (10, 1)), rtol=1e-12, atol=1e-15)


def test_elasticity_matches_finite_differences(positive_frame):
    est = two_term_binary(positive_frame)
    X = positive_frame.iloc[:6]
    e = est.elasticities(X).to_numpy()
    h = 1e-6
    for j, col in enumerate(X.columns):
        up, down = X.copy(), X.copy()
        up[col] *= np.exp(h)
        down[col] *= np.exp(-h)
        z_up, z_down = est.decision_function(up), est.decision_function(down)
        numeric = (np.log(np.abs(z_up)) - np.log(np.abs(z_down))) / (2 * h)
        np.testing.assert_allclose(e[:, j], numeric, rtol=1e-5, atol=1e-8)


def test_monotonicity_proved_numerical_and_constant(positive_frame):
    est = install(ECSELRegressor(), positive_frame, [0.0], [[1.0, -1.0]],
                  [[[1.0, 0.5, 0.0], [2.0, 0.5, 0.0]]])
    table = est.monotonicity()
    # a: u - u^2 on [1, 5] with the geometric-mean scale: rises then falls (non-monotone)
    assert table.loc["a", "monotonicity"] == "non-monotone"
    assert table.loc["c", "monotonicity"] == "constant"
    mono = one_term_binary(positive_frame).monotonicity()
    assert mono["monotonicity"].tolist() == ["increasing (proved)", "decreasing (proved)",
                                             "constant"]


def test_importance_table(positive_frame):
    est = two_term_binary(positive_frame)
    table = est.feature_importance(positive_frame)
    assert list(table.columns) == ["mean_abs_shapley", "share", "n_terms",
                                   "median_elasticity", "monotonicity"]
    assert table["share"].sum() == pytest.approx(1.0)
    assert table.loc["b", "n_terms"] == 2 and table.loc["a", "n_terms"] == 1
    expl = est.explain(positive_frame)
    assert table.loc["a", "mean_abs_shapley"] == pytest.approx(np.abs(expl.values[:, 0]).mean())


def test_partial_dependence_is_the_background_average(positive_frame):
    est = two_term_binary(positive_frame)
    grid = np.array([1.0, 2.0, 4.5])
    pdp = est.partial_dependence("b", values=grid)
    brute = []
    for v in grid:
        probe = est.background_.copy()
        probe["b"] = v
        brute.append(est.decision_function(probe).mean())
    np.testing.assert_allclose(pdp["1"], brute, rtol=1e-12)


# ------------------------------------------------------------------ boundary
def test_one_term_boundary_closed_form_agrees_with_root_finding(positive_frame):
    est = one_term_binary(positive_frame)
    X = positive_frame.iloc[:8]
    closed = est.decision_boundary_at(X, "a")
    assert set(closed["method"]) == {"closed form"}
    # same model with two terms (second one zero-valued) forces the root finder
    sig = est.signomial_
    two = install(ECSELClassifier(), positive_frame, sig.intercept, [[2.0, 1e-300]],
                  [[[1.5, -0.8, 0.0], [1.0, 0.0, 0.0]]], classes=np.array([0, 1]))
    found = two.decision_boundary_at(X, "a")
    assert set(found["method"]) == {"root finding"}
    has = closed["note"] == ""
    assert has.any()
    np.testing.assert_allclose(found["boundary"][has], closed["boundary"][has], rtol=1e-9)
    for i in np.flatnonzero(has):
        probe = X.iloc[[i]].copy()
        probe["a"] = closed["boundary"][i]
        assert est.decision_function(probe)[0] == pytest.approx(logit(0.5), abs=1e-10)
        assert closed["new_prediction"][i] != closed["prediction"][i]


def test_no_change_inside_range(positive_frame):
    est = one_term_binary(positive_frame)
    table = est.decision_boundary_at(positive_frame.iloc[:3], "c")
    assert table["note"].tolist() == [NO_CHANGE] * 3 and table["boundary"].isna().all()


def test_two_term_boundary_roots_flip_the_class(positive_frame):
    est = two_term_binary(positive_frame)
    table = est.decision_boundary_at(positive_frame.iloc[:10], "b", bounds=(0.01, 100.0))
    found = table[table["note"] == ""]
    assert len(found) > 0
    for i, row in found.iterrows():
        probe = positive_frame.iloc[[i]].copy()
        probe["b"] = row["boundary"]
        assert abs(est.decision_function(probe)[0]) < 1e-9


def test_sympy_boundary_solves_to_the_closed_form(positive_frame):
    est = one_term_binary(positive_frame)
    eq = est.decision_boundary()
    assert isinstance(eq, sp.Equality)
    x = positive_frame.iloc[[0]]
    sols = est.decision_boundary(solve_for="a")
    assert len(sols) == 1
    value = float(sols[0].subs({sp.Symbol("b", positive=True): float(x["b"].iloc[0])}))
    closed = est.decision_boundary_at(x, "a", bounds=(1e-3, 1e3))["boundary"][0]
    assert value == pytest.approx(closed, rel=1e-9)


def test_multiclass_boundary_equation_and_root():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.uniform(1, 4, 60), "b": rng.uniform(1, 4, 60)})
    est = install(ECSELClassifier(), frame, [0.0, -1.0], [[1.0], [1.0]],
                  [[[1.0, 0.0]], [[2.0, -0.5]]], classes=np.array(["x", "y", "z"]),
                  names=["y", "z"])
    eq = est.decision_boundary(classes=("y", "z"))
    assert isinstance(eq, sp.Equality)
    # y's score u_a is always > 0 = x's score: the equation stays an equation, no solution
    never = est.decision_boundary(classes=("x", "y"))
    assert isinstance(never, sp.Equality) and est.decision_boundary(("x", "y"),
                                                                     solve_for="a") == []
    table = est.decision_boundary_at(frame.iloc[:5], "a")
    for i, row in table[table["note"] == ""].iterrows():
        probe = frame.iloc[[i]].copy()
        probe["a"] = row["boundary"]
        scores = np.sort(est.decision_function(probe)[0])
        assert scores[-1] - scores[-2] < 1e-8  # two classes tie at the boundary


# ------------------------------------------------------------ counterfactual
def test_single_feature_counterfactual_is_the_boundary(positive_frame):
    est = one_term_binary(positive_frame)
    x = positive_frame.iloc[[int(np.argmin(est.decision_function(positive_frame)))]]
    assert est.predict(x)[0] == 0
    cf = est.counterfactual(x, target_class=1, features=["a"], bounds={"a": (0.1, 50.0)})
    assert cf.loc["counterfactual", "prediction"] == 1
    assert cf.loc["counterfactual", "status"] == "found"
    boundary = est.decision_boundary_at(x, "a", bounds=(0.1, 50.0))["boundary"][0]
    # the counterfactual sits just past the boundary (margin >= 1e-9 in score units)
    assert cf.loc["counterfactual", "a"] == pytest.approx(boundary, rel=1e-7)
    assert cf.loc["counterfactual", "a"] != boundary
    assert cf.loc["counterfactual", "b"] == x["b"].iloc[0]
    cf90 = est.counterfactual(x, target_class=1, target_proba=0.9, features=["a"],
                              bounds={"a": (0.1, 50.0)})
    assert cf90.loc["counterfactual", "proba_1"] == pytest.approx(0.9, abs=1e-6)


def test_several_features_respect_bounds_and_immutables(positive_frame):
    est = two_term_binary(positive_frame)
    z = est.decision_function(positive_frame)
    x = positive_frame.iloc[[int(np.argmin(z))]]
    bounds = {"a": (0.5, 8.0), "b": (0.1, 4.0), "c": (0.5, 6.0)}
    cf = est.counterfactual(x, features=["a", "b", "c"], immutable=["c"], bounds=bounds)
    new = cf.loc["counterfactual"]
    assert new["prediction"] == 1 and new["c"] == x["c"].iloc[0]
    assert 0.5 <= new["a"] <= 8.0 and 0.1 <= new["b"] <= 4.0
    singles = [est.counterfactual(x, features=[f], bounds=bounds) for f in ("a", "b")]
    single_best = min(s.loc["counterfactual", "distance"] for s in singles
                      if s.loc["counterfactual", "status"] == "found")
    assert new["distance"] <= single_best + 1e-9
    absolute = est.counterfactual(x, features=["a", "b"], bounds=bounds, relative=False)
    assert absolute.loc["counterfactual", "distance_kind"] == "absolute"


def test_infeasible_counterfactual_is_reported(positive_frame):
    est = one_term_binary(positive_frame)
    x = positive_frame.iloc[[int(np.argmin(est.decision_function(positive_frame)))]]
    cf = est.counterfactual(x, features=["c"])
    assert cf.loc["counterfactual", "status"] == "infeasible within the bounds"
    with pytest.raises(ValueError, match="target_class"):
        est.counterfactual(x, target_class=7)


# --------------------------------------------------------------------- torch
def test_to_torch_matches_decision_function_and_multiclass_layout(positive_frame):
    est = two_term_binary(positive_frame)
    module = est.to_torch()
    x = torch.tensor(positive_frame.to_numpy())
    np.testing.assert_allclose(module(x)[:, 0].detach().numpy(),
                               est.decision_function(positive_frame), rtol=1e-12)
    multi = install(ECSELClassifier(), positive_frame, [0.1, 0.2], [[1.0], [-1.0]],
                    np.ones((2, 1, 3)) * 0.3, classes=np.array([0, 1, 2]))
    out = multi.to_torch()(x).detach().numpy()
    np.testing.assert_allclose(out, multi.decision_function(positive_frame), rtol=1e-12)


def exact_log_path_ig(est, x, base):
    """attribution-methods.md 8.6: IG along x(t) = x'^(1-t) x^t, exact per term."""
    sig = est.signomial_
    lx, lb = sig.log_features(x)[0], sig.log_features(base)[0]
    out = np.zeros(len(lx))
    for k in range(sig.coef.shape[1]):
        beta = sig.exponents[0, k]
        part = beta * (lx - lb)
        s = part.sum()
        m_x, m_b = np.exp(lx @ beta), np.exp(lb @ beta)
        out += sig.coef[0, k] * part / s * (m_x - m_b)
    return out


def test_integrated_gradients_on_torch_module_match_exact_formula(positive_frame):
    est = two_term_binary(positive_frame)
    module = est.to_torch()
    x, base = positive_frame.iloc[[3]], positive_frame.iloc[[11]]
    xv, bv = x.to_numpy()[0], base.to_numpy()[0]
    steps = 1000
    t = (np.arange(steps) + 0.5) / steps  # midpoint rule on the geometric path
    path = torch.tensor(bv ** (1 - t[:, None]) * xv ** t[:, None], requires_grad=True)
    module(path)[:, 0].sum().backward()
    velocity = path.detach().numpy() * np.log(xv / bv)  # d x(t) / d t
    ig = (path.grad.numpy() * velocity).mean(axis=0)
    exact = exact_log_path_ig(est, x, base)
    np.testing.assert_allclose(ig, exact, rtol=1e-5, atol=1e-8)
    assert exact.sum() == pytest.approx(float(np.diff(est.decision_function(
        pd.concat([base, x])))[0]), rel=1e-12)


def test_captum_ig_on_signed_features_matches_exact_formula():
    captum = pytest.importorskip("captum.attr")
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"s": rng.normal(0, 1, 50), "t": rng.normal(0, 2, 50)})
    # linear maps (the legacy signed map, still loadable): log u is affine in x, so
    # captum's straight line IS the log path
    from ecsel._transform import FeatureMap

    linear = PositivityTransform([FeatureMap(c, c, "linear", scale=float(frame[c].std()),
                                             center=float(frame[c].median()))
                                  for c in frame.columns], list(frame.columns))
    est = ECSELRegressor.from_signomial(
        Signomial([0.5], [[1.0, -0.4]], [[[0.7, 0.2], [-0.3, 0.5]]], linear))
    x, base = frame.iloc[[0]], frame.iloc[[1]]
    ig = captum.IntegratedGradients(est.to_torch())
    attr = ig.attribute(torch.tensor(x.to_numpy()), baselines=torch.tensor(base.to_numpy()),
                        target=0, n_steps=200, method="gausslegendre")
    # captum builds its path with float32 step sizes: agreement to ~1e-8, not 1e-15
    np.testing.assert_allclose(attr.numpy()[0], exact_log_path_ig(est, x, base), rtol=1e-7)


# --------------------------------------------------------------------- plots
def test_plots_save_pngs(tmp_path, positive_frame):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    est = two_term_binary(positive_frame)
    expl = est.explain(positive_frame)
    axes = {
        "waterfall": expl.plot_waterfall(0),
        "beeswarm": expl.plot_beeswarm(),
        "bar": expl.plot_bar(),
        "terms": est.plot_terms(positive_frame.iloc[[0]]),
        "terms_mean": est.plot_terms(positive_frame),
        "pdp": est.plot_partial_dependence("a"),
    }
    for name, ax in axes.items():
        path = tmp_path / f"{name}.png"
        ax.figure.savefig(path)
        assert path.stat().st_size > 1000
    assert len(axes["waterfall"].patches) == 3
    fig, ax = plt.subplots()
    assert expl.plot_beeswarm(ax=ax) is ax
    plt.close("all")


def test_categorical_and_multiclass_tables():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"a": rng.uniform(1, 4, 60),
                          "colour": pd.Categorical(rng.choice(["r", "g", "b"], 60))})
    m = len(PositivityTransform.fit(frame).feature_maps)  # a + two indicators
    est = install(ECSELClassifier(), frame, [0.0, -0.5], [[1.0], [-1.0]],
                  np.array([[[1.0] + [0.8] * (m - 1)], [[-0.5] + [-1.5] * (m - 1)]]),
                  classes=np.array(["x", "y", "z"]), names=["y", "z"])
    mono = est.monotonicity()
    assert mono.loc[("y", "a"), "monotonicity"] == "increasing (proved)"
    assert mono.loc[("z", "colour"), "monotonicity"] == "categorical (unordered)"
    table = est.feature_importance(frame)
    assert set(table.index) == {"a", "colour"} and "y: increasing" in table.loc["a",
                                                                              "monotonicity"]
    # categorical columns have no derivative: only a, once per non-reference class
    assert list(est.elasticities(frame.iloc[:4]).columns) == [("y", "a"), ("z", "a")]
    changes = est.decision_boundary_at(frame.iloc[:6], "colour")
    assert set(changes["method"]) == {"enumeration"}
    for i, row in changes.iterrows():
        for level in row["all_boundaries"]:
            probe = frame.iloc[[i]].copy()
            probe["colour"] = pd.Categorical([level], categories=frame["colour"].cat.categories)
            assert est.predict(probe)[0] != row["prediction"]
    # Categorical counterfactuals: brute force over the levels is the oracle.
    for i in range(6):
        x = frame.iloc[[i]]
        reaching = []
        for level in frame["colour"].cat.categories:
            probe = x.copy()
            probe["colour"] = pd.Categorical([level], categories=frame["colour"].cat.categories)
            if est.predict(probe)[0] == "z":
                reaching.append(level)
        cf = est.counterfactual(x, target_class="z", features=["colour"])
        status = cf.loc["counterfactual", "status"]
        if est.predict(x)[0] == "z":
            assert status == "already reached"
        elif reaching:
            assert status == "found" and cf.loc["counterfactual", "colour"] in reaching
            assert cf.loc["counterfactual", "prediction"] == "z"
            assert cf.loc["counterfactual", "distance"] == 1.0
        else:
            assert status == "infeasible within the bounds"
    both = est.counterfactual(frame.iloc[[0]], target_class="z", features=["a", "colour"])
    assert both.loc["counterfactual", "status"] in ("found", "already reached",
                                                      "infeasible within the bounds")
    if both.loc["counterfactual", "status"] == "found":
        assert both.loc["counterfactual", "prediction"] == "z"
    pdp = est.partial_dependence("colour")
    assert list(pdp.columns) == ["colour", "y", "z"] and len(pdp) == 3


def test_missing_training_ranges_need_explicit_bounds(positive_frame):
    est = one_term_binary(positive_frame)
    del est.feature_range_, est.background_  # as after loading a model from JSON
    with pytest.raises(ValueError, match="pass bounds"):
        est.decision_boundary_at(positive_frame.iloc[:2], "a")
    with pytest.raises(ValueError, match="pass bounds"):
        est.counterfactual(positive_frame.iloc[[0]], features=["a"])
    table = est.decision_boundary_at(positive_frame.iloc[:2], "a", bounds=(0.01, 100.0))
    assert len(table) == 2
    expl = est.explain(positive_frame.iloc[:30])  # background: a sample of the rows
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values,
                               est.decision_function(positive_frame.iloc[:30]), rtol=1e-12)


def test_categorical_counterfactual_switches_to_the_flipping_level():
    rng = np.random.default_rng(5)
    frame = pd.DataFrame({"a": rng.uniform(1, 4, 90),
                          "colour": rng.choice(["red", "green", "blue"], 90, p=[0.5, 0.3, 0.2])})
    transform = PositivityTransform.fit(frame)
    names = [m.name for m in transform.feature_maps]
    assert names == ["a", "colour[green]", "colour[blue]"]  # red is the reference
    # z = -2 + exp(3 [green] - 3 [blue]): only green is predicted positive.
    est = install(ECSELClassifier(), frame, [-2.0], [[1.0]], [[[0.0, 3.0, -3.0]]],
                  classes=np.array([0, 1]), names=["1"])
    for colour, expected in [("red", "found"), ("blue", "found"), ("green", "already reached")]:
        x = frame[frame.colour == colour].iloc[[0]]
        cf = est.counterfactual(x, target_class=1, features=["colour"])
        assert cf.loc["counterfactual", "status"] == expected
        if expected == "found":
            assert cf.loc["counterfactual", "colour"] == "green"
            assert cf.loc["counterfactual", "prediction"] == 1
            assert cf.loc["counterfactual", "distance"] == 1.0
    # Numeric-only moves cannot flip it (a has exponent 0): infeasible, with or without a.
    x = frame[frame.colour == "red"].iloc[[0]]
    assert est.counterfactual(x, target_class=1, features=["a"]).loc[
        "counterfactual", "status"] == "infeasible within the bounds"
    mixed = est.counterfactual(x, target_class=1, features=["a", "colour"])
    assert mixed.loc["counterfactual", "colour"] == "green"
    assert mixed.loc["counterfactual", "a"] == pytest.approx(x.a.iloc[0])
