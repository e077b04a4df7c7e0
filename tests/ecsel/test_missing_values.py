"""Native missing values: fill values, missingness indicators, equation, explanations."""

from __future__ import annotations

import math
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier, ECSELRegressor, Signomial
from ecsel._transform import MissingValueWarning, PositivityTransform

FAST = {"max_iter": 40, "n_restarts": 2, "n_terms": 1, "random_state": 0}


def holey_frame(n: int = 60, seed: int = 0) -> pd.DataFrame:
    """Positive, signed and categorical columns, each with missing entries."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "pos": rng.uniform(0.5, 4.0, n),
        "signed": rng.standard_t(3, n),
        "colour": rng.choice(["red", "green", "blue"], n).astype(object),
        "clean": rng.uniform(1.0, 2.0, n),
    })
    frame.loc[[1, 4, 9, 30], "pos"] = np.nan
    frame.loc[[2, 4, 11], "signed"] = np.nan
    frame.loc[[3, 9], "colour"] = None
    return frame


def install(est, frame, intercept, coef, exponents, names=None):
    sig = Signomial(intercept, coef, exponents, PositivityTransform.fit(frame), names)
    return type(est).from_signomial(sig, frame, **est.get_params())


def random_exponents(frame, n_terms=2, seed=0, scale=0.6):
    m = len(PositivityTransform.fit(frame).feature_maps)
    return np.random.default_rng(seed).normal(0, scale, (1, n_terms, m))


# -------------------------------------------------------------------- transform
def test_fill_values_are_neutral_and_indicators_are_added():
    frame = holey_frame()
    t = PositivityTransform.fit(frame)
    counts = frame.colour.value_counts()
    others = sorted(counts.index[counts < counts.max()])
    assert len(others) == 2  # the most frequent level is the reference
    assert t.feature_names == ["pos", "pos[missing]", "signed", "signed[missing]",
                               *(f"colour[{c}]" for c in others), "colour[missing]", "clean"]
    maps = {m.name: m for m in t.feature_maps}
    observed = frame.pos.dropna()
    # power map: fill = geometric mean of the observed values, where log u = 0
    assert maps["pos"].fill == pytest.approx(np.exp(np.log(observed).mean()), rel=1e-12)
    assert maps["signed"].fill == frame.signed.median()
    log_u = t.log_features(t.encode(frame))
    np.testing.assert_array_equal(log_u[frame.pos.isna(), 0], 0.0)
    np.testing.assert_array_equal(log_u[:, 1], frame.pos.isna().to_numpy(float))
    np.testing.assert_array_equal(log_u[frame.signed.isna(), 2], 0.0)
    np.testing.assert_array_equal(log_u[:, 3], frame.signed.isna().to_numpy(float))
    # missing is a level of its own: no other level is set on those rows
    np.testing.assert_array_equal(log_u[:, 6], frame.colour.isna().to_numpy(float))
    assert np.all(log_u[frame.colour.isna().to_numpy()][:, 4:6] == 0)
    assert "clean[missing]" not in t.feature_names
    assert np.isfinite(log_u).all()


def test_missing_label_does_not_collide_with_a_real_level():
    frame = pd.DataFrame({"c": ["missing", "a", "a", None, "missing", "a"]})
    t = PositivityTransform.fit(frame)
    assert t.feature_names == ["c[missing]", "c[missing_]"]
    np.testing.assert_array_equal(t.encode(frame), [[1, 0], [0, 0], [0, 0], [0, 1], [1, 0],
                                                    [0, 0]])


@pytest.mark.parametrize("dtype", ["boolean", "Int64", "Float64"])
def test_nullable_extension_dtypes(dtype):
    values = [True, False, None, True] if dtype == "boolean" else [1, 0, None, 3]
    frame = pd.DataFrame({"v": pd.array(values, dtype=dtype)})
    t = PositivityTransform.fit(frame)
    assert t.feature_names == ["v", "v[missing]"]
    np.testing.assert_array_equal(t.encode(frame)[:, 1], [0, 0, 1, 0])


def test_value_at_rows_with_missing_entries_by_hand():
    frame = holey_frame()
    t = PositivityTransform.fit(frame)
    maps = {m.name: m for m in t.feature_maps}
    # one term: 2 * u_pos^1.5 * exp(0.7 pos[missing]) * exp(-0.4 asinh-signed)
    #           * exp(-1.2 signed[missing]) * exp(0.9 colour[missing])
    a = np.zeros(len(t.feature_maps))
    names = t.feature_names
    for name, value in {"pos": 1.5, "pos[missing]": 0.7, "signed": -0.4,
                        "signed[missing]": -1.2, "colour[missing]": 0.9}.items():
        a[names.index(name)] = value
    sig = Signomial([0.5], [[2.0]], [[a]], t)
    z = sig.evaluate(frame)[:, 0]
    # row 4: pos and signed missing, colour present
    assert z[4] == pytest.approx(0.5 + 2.0 * math.exp(0.7) * math.exp(-1.2), rel=1e-14)
    # row 9: pos and colour missing; signed observed
    s = maps["signed"]
    sig_factor = math.exp(-0.4 * math.asinh((frame.signed[9] - s.center) / s.scale))
    assert z[9] == pytest.approx(0.5 + 2.0 * math.exp(0.7) * sig_factor * math.exp(0.9),
                                 rel=1e-14)
    # row 0: nothing missing
    pos_factor = (frame.pos[0] / maps["pos"].scale) ** 1.5
    sig_factor = math.exp(-0.4 * math.asinh((frame.signed[0] - s.center) / s.scale))
    assert z[0] == pytest.approx(0.5 + 2.0 * pos_factor * sig_factor, rel=1e-14)


# --------------------------------------------------------------------- equation
def _sympy_value(sig, frame):
    """Evaluate ``to_sympy()`` with the documented reading of a missing entry."""
    expr = sig.to_sympy()
    symbols = {str(s): s for s in expr.free_symbols}
    fills = sig.transform.fill_values()
    out = []
    for _, row in frame.iterrows():
        subs = {}
        for fmap in sig.transform.feature_maps:
            if fmap.missing:
                key, value = fmap.name, float(pd.isna(row[fmap.source]))
            elif fmap.level is not None:
                key = fmap.name
                value = float(not pd.isna(row[fmap.source]) and str(row[fmap.source])
                              == fmap.level)
            else:
                key = fmap.source
                value = fills[key] if pd.isna(row[key]) else float(row[key])
            if key in symbols:
                subs[symbols[key]] = value
        out.append(float(expr.subs(subs)))
    return np.array(out)


def test_sympy_str_latex_show_the_indicators_and_reproduce_the_score():
    frame = holey_frame(40)
    est = install(ECSELRegressor(), frame, [0.3], [[1.0, -0.5]], random_exponents(frame))
    sig = est.signomial_
    expr = sig.to_sympy()
    names = {str(s) for s in expr.free_symbols}
    assert {"pos[missing]", "signed[missing]", "colour[missing]"} <= names
    np.testing.assert_allclose(_sympy_value(sig, frame), est.predict(frame), rtol=1e-12)
    text = str(sig)
    fill = sig.transform.fill_values()["pos"]
    assert f"where pos is missing: pos = {fill:.4g} and pos[missing] = 1" in text
    assert "where colour is missing: colour[missing] = 1" in text
    assert "pos[missing]" in est.latex()
    # a column the equation does not use gets no note
    a = np.zeros((1, 1, len(sig.feature_names)))
    a[0, 0, sig.feature_names.index("clean")] = 1.0
    only_clean = Signomial([0.0], [[1.0]], a, sig.transform)
    assert "missing" not in str(only_clean)


def test_json_round_trip_keeps_missing_handling():
    frame = holey_frame(40)
    est = install(ECSELRegressor(), frame, [0.3], [[1.0, -0.5]], random_exponents(frame))
    again = Signomial.from_json(est.signomial_.to_json())
    assert again == est.signomial_
    np.testing.assert_array_equal(again.evaluate(frame), est.signomial_.evaluate(frame))
    from ecsel import load_json

    loaded = load_json(est.to_json())
    np.testing.assert_array_equal(loaded.predict(frame), est.predict(frame))


# ---------------------------------------------------------- predict-time rules
def test_unseen_nan_gets_fill_value_and_a_warning():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"pos": rng.uniform(1, 3, 50), "signed": rng.normal(0, 1, 50),
                          "colour": rng.choice(["a", "b"], 50).astype(object)})
    est = install(ECSELRegressor(), frame, [0.1], [[1.0, 2.0]], random_exponents(frame))
    fills = est.signomial_.transform.fill_values()
    probe = frame.iloc[:3].copy()
    probe.loc[0, "pos"] = np.nan
    probe.loc[1, "signed"] = np.nan
    probe.loc[2, "colour"] = None
    with pytest.warns(MissingValueWarning, match="had none in training") as record:
        z = est.predict(probe)
    assert len(record) == 3
    expected = frame.iloc[:3].copy()
    expected.loc[0, "pos"] = fills["pos"]
    expected.loc[1, "signed"] = fills["signed"]
    reference = frame.colour.value_counts().idxmax()
    expected.loc[2, "colour"] = reference
    np.testing.assert_array_equal(z, est.predict(expected))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est.predict(frame)  # no NaN: no warning


@pytest.mark.parametrize("Est", [ECSELClassifier, ECSELRegressor])
def test_inf_is_still_a_clear_error(Est):
    frame = holey_frame(40)
    y = (np.arange(40) % 2).astype(int)
    bad = frame.copy()
    bad.loc[0, "signed"] = np.inf
    with pytest.raises(ValueError, match="infinity in column 'signed'"):
        Est(**FAST).fit(bad, y)
    est = Est(**FAST).fit(frame, y)
    with pytest.raises(ValueError, match="infinity"):
        est.predict(bad)
    with pytest.raises(ValueError, match="infinity"):
        Est(**FAST).fit(np.array([[1.0, np.inf]] * 20), y[:20])


def test_tags_allow_nan():
    assert ECSELClassifier().__sklearn_tags__().input_tags.allow_nan
    assert ECSELRegressor().__sklearn_tags__().input_tags.allow_nan


# ------------------------------------------------------------------ fitting
def test_fit_learns_what_missingness_means():
    """y depends on whether x is missing (not at random): the indicator's weight shows it."""
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"x": rng.uniform(1.0, 3.0, n), "w": rng.normal(0, 1, n),
                          "kind": rng.choice(["a", "b", "c"], n).astype(object),
                          "flag": rng.random(n) < 0.5})
    absent = rng.random(n) < 0.3
    frame.loc[absent, "x"] = np.nan
    y = (absent & (rng.random(n) < 0.9)) | (~absent & (rng.random(n) < 0.1))
    est = ECSELClassifier(**{**FAST, "max_iter": 150}).fit(frame, y.astype(int))
    sig = est.signomial_
    m = sig.feature_names.index("x[missing]")
    k = int(np.flatnonzero(sig.coef[0])[0])
    assert sig.coef[0, k] * sig.exponents[0, k, m] > 0  # missing raises the score
    proba = est.predict_proba(frame)[:, 1]
    assert proba[absent].mean() > 0.7 > 0.3 > proba[~absent].mean()
    assert np.isfinite(est.decision_function(frame)).all()


def test_numpy_arrays_with_nan_fit():
    rng = np.random.default_rng(2)
    X = rng.uniform(1, 2, (80, 2))
    X[::7, 1] = np.nan
    y = (X[:, 0] > 1.5).astype(int)
    est = ECSELClassifier(**FAST).fit(X, y)
    assert "x1[missing]" in est.signomial_.feature_names
    assert np.isfinite(est.decision_function(X)).all()


def test_online_shoppers_as_loaded_fits():
    from ecsel.datasets import load_online_shoppers

    X, y = load_online_shoppers(return_X_y=True)
    assert X.isna().any().any()
    rows = np.flatnonzero(X.isna().any(axis=1).to_numpy())[:10].tolist() + list(range(400))
    est = ECSELClassifier(**FAST).fit(X.iloc[rows], np.asarray(y)[rows])
    assert "Administrative[missing]" in est.signomial_.feature_names
    assert np.isfinite(est.decision_function(X.iloc[rows])).all()


# ------------------------------------------------------------- explanations
def brute_force_shapley(score, x: pd.DataFrame, background: pd.DataFrame) -> np.ndarray:
    """Interventional Shapley values of raw columns (missing entries move as values)."""
    columns = list(x.columns)
    p = len(columns)
    cache = {}

    def value(coalition):
        if coalition not in cache:
            hybrid = background.copy()
            for j in coalition:
                hybrid[columns[j]] = [x[columns[j]].iloc[0]] * len(hybrid)
            cache[coalition] = score(hybrid).mean()
        return cache[coalition]

    phi = np.zeros(p)
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for size in range(p):
            weight = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
            for subset in combinations(others, size):
                phi[j] += weight * (value(frozenset(subset) | {j}) - value(frozenset(subset)))
    return phi


def test_shapley_with_missing_entries_is_exact_and_complete():
    frame = holey_frame(50, seed=3)
    est = install(ECSELRegressor(), frame, [0.2], [[1.0, -0.7]],
                  random_exponents(frame, seed=3))
    X = frame.iloc[[1, 2, 3, 4, 9]]  # rows with missing entries in every column kind
    back = frame.iloc[20:32]
    expl = est.explain(X, background=back)
    assert expl.values.shape == (5, 4)  # one player per RAW column: indicators included
    np.testing.assert_allclose(expl.values.sum(-1) + expl.base_values, est.predict(X),
                               rtol=1e-12, atol=1e-12)
    for i in range(len(X)):
        oracle = brute_force_shapley(lambda f: est.predict(f), X.iloc[[i]], back)
        np.testing.assert_allclose(expl.values[i], oracle, rtol=1e-10, atol=1e-12)


def test_counterfactual_never_proposes_missing_and_holds_missing_entries():
    frame = holey_frame(60, seed=4)
    y = np.arange(60) % 2
    a = np.zeros((1, 1, len(PositivityTransform.fit(frame).feature_maps)))
    names = PositivityTransform.fit(frame).feature_names
    a[0, 0, names.index("clean")] = 2.0
    a[0, 0, names.index("pos")] = 1.0
    a[0, 0, names.index("colour[missing]")] = 3.0  # missing colour would help a lot
    sig = Signomial([-1.3], [[1.0]], a, PositivityTransform.fit(frame), ["1"])
    est = ECSELClassifier.from_signomial(sig, frame, classes=np.array([0, 1]))
    assert set(y) == {0, 1}
    row = frame.iloc[[1]].assign(clean=1.1)  # pos is missing in this row
    assert row.pos.isna().all() and est.predict(row)[0] == 0
    cf = est.counterfactual(row, target_class=1, features=["pos", "clean", "colour"])
    result = cf.loc["counterfactual"]
    assert cf.loc["counterfactual", "status"] == "found"
    assert pd.isna(result["pos"])  # held as it is
    assert result["colour"] == row.colour.iloc[0]  # never switched to missing
    assert result["clean"] != row.clean.iloc[0]
    assert est.decision_function(cf.loc[["counterfactual"], frame.columns])[0] >= 0
    with pytest.raises(ValueError, match="missing in x"):
        est.counterfactual(row, target_class=1, features=["pos"])


def test_partial_dependence_and_monotonicity_ignore_the_indicator():
    frame = holey_frame(50, seed=5)
    t = PositivityTransform.fit(frame)
    names = t.feature_names
    a = np.zeros((1, 1, len(names)))
    a[0, 0, names.index("pos")] = 1.5          # increasing in pos
    a[0, 0, names.index("pos[missing]")] = -2.0  # missing pos lowers the score
    a[0, 0, names.index("clean")] = 0.5
    est = install(ECSELRegressor(), frame, [0.0], [[1.0]], a)
    mono = est.monotonicity()
    assert mono.loc["pos", "monotonicity"] == "increasing (proved)"
    values = np.array([0.7, 1.0, 2.5])
    back = frame.iloc[:20]
    pd_frame = est.partial_dependence("pos", values=values, background=back)
    # by hand: PD(t) = mean_b z(t, b_rest) with pos observed = t (indicator 0)
    expected = [est.predict(back.assign(pos=v)).mean() for v in values]
    np.testing.assert_allclose(pd_frame.iloc[:, 1], expected, rtol=1e-12)
    assert not pd_frame.isna().any().any()
    # the training range of pos ignores the missing entries
    assert est.feature_range_["pos"] == (frame.pos.min(), frame.pos.max())
    assert "missing" not in est.feature_range_["colour"]
    el = est.elasticities(frame.iloc[:6]).to_numpy()
    assert np.isnan(el[1, 0]) and np.isnan(el[4, 0])  # pos missing: no elasticity
    assert el[0, 0] == pytest.approx(1.5, rel=1e-12)  # one term, shift 0: the exponent
