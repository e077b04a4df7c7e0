"""Signomial evaluation and exports (SymPy, LaTeX, JSON, torch) against exact oracles."""

import json
import pickle

import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch

from ecsel import ECSELClassifier, ECSELRegressor, Signomial, load_json
from ecsel._transform import PositivityTransform


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame({
        "r": rng.uniform(0.5, 4.0, 50),          # strictly positive -> power
        "n": rng.poisson(1, 50).astype(float),   # has zeros -> shifted power
        "t": rng.normal(0.0, 2.0, 50),           # signed -> linear (exp map)
        "flag": rng.random(50) < 0.5,            # bool -> indicator
        "city": rng.choice(["a", "b", "c"], 50),  # string -> one-hot indicators
    })


@pytest.fixture
def signomial(frame):
    transform = PositivityTransform.fit(frame)
    m = len(transform.feature_maps)
    rng = np.random.default_rng(1)
    exponents = rng.normal(0, 0.7, (1, 2, m))
    return Signomial([0.25], [[1.5, -0.75]], exponents, transform, ["y"])


def _manual(signomial, frame):
    """Hand-written oracle of the documented transform and formula."""
    log_u = []
    for fmap in signomial.transform.feature_maps:
        col = frame[fmap.source]
        if fmap.level is not None:
            log_u.append((col.astype(str) == fmap.level).to_numpy(float))
        elif fmap.kind == "power":
            log_u.append(np.log((np.maximum(col, fmap.lower) + fmap.shift) / fmap.scale))
        elif fmap.kind == "linear":
            log_u.append((col - fmap.center) / fmap.scale)
        elif fmap.kind == "signed":
            log_u.append(np.arcsinh((np.clip(col, fmap.lower, fmap.upper) - fmap.center)
                                    / fmap.scale))
        else:
            log_u.append(np.clip((col.astype(float) - fmap.center) / fmap.scale, 0, 1))
    log_u = np.column_stack(log_u)
    terms = signomial.coef[0] * np.exp(log_u @ signomial.exponents[0].T)
    return signomial.intercept[0] + terms.sum(1)


def test_evaluate_matches_the_documented_formula(signomial, frame):
    np.testing.assert_allclose(signomial.evaluate(frame)[:, 0], _manual(signomial, frame),
                               rtol=1e-12)


def test_transform_picks_the_documented_maps(frame):
    maps = {m.name: m for m in PositivityTransform.fit(frame).feature_maps}
    assert maps["r"].kind == "power" and maps["r"].shift == 0
    assert maps["r"].scale == pytest.approx(np.exp(np.log(frame.r).mean()))
    assert maps["n"].kind == "power"
    assert maps["n"].shift == np.median(frame.n[frame.n > 0])
    assert maps["t"].kind == "signed" and maps["t"].center == pytest.approx(frame.t.median())
    q1, q3 = np.percentile(frame.t, [25, 75])
    assert maps["t"].scale == pytest.approx((q3 - q1) / 1.349)
    assert (maps["t"].lower, maps["t"].upper) == (frame.t.min(), frame.t.max())
    assert maps["flag"].kind == "indicator"
    reference = frame.city.value_counts().idxmax()
    assert f"city[{reference}]" not in maps and len([k for k in maps if "city" in k]) == 2


def test_sympy_in_original_units_equals_evaluate(signomial, frame):
    expr = signomial.to_sympy()
    symbols = {str(s): s for s in expr.free_symbols}
    encoded = signomial.encode(frame)
    args = {}
    for j, fmap in enumerate(signomial.transform.feature_maps):
        key = fmap.name if fmap.level is not None else fmap.source
        if key in symbols:
            args[symbols[key]] = encoded[:, j]
    f = sp.lambdify(list(args), expr, "numpy")
    np.testing.assert_allclose(f(*args.values()), signomial.evaluate(frame)[:, 0], rtol=1e-10)


def test_latex_and_str_are_readable(signomial):
    assert signomial.to_latex().startswith("y = ")
    assert "city[" in str(signomial)
    assert str(signomial).startswith("y = ")


def test_json_round_trip_is_exact(signomial, frame):
    again = Signomial.from_json(signomial.to_json())
    assert again == signomial
    np.testing.assert_array_equal(again.evaluate(frame), signomial.evaluate(frame))


@pytest.mark.parametrize("text", ["not json", "[]", json.dumps({"format": "other"}),
                                  json.dumps({"format": "ecsel.signomial", "version": 1})])
def test_bad_json_raises_value_error(text):
    with pytest.raises(ValueError):
        Signomial.from_json(text)


def test_signomial_is_immutable_and_picklable(signomial):
    with pytest.raises(AttributeError):
        signomial.coef = None
    with pytest.raises(ValueError):
        signomial.coef[0, 0] = 1.0
    assert pickle.loads(pickle.dumps(signomial)) == signomial


def test_torch_evaluation_is_differentiable_and_matches(signomial, frame):
    encoded = torch.tensor(signomial.encode(frame), requires_grad=True)
    scores = signomial.evaluate_encoded_torch(encoded)
    np.testing.assert_allclose(scores.detach().numpy(), signomial.evaluate(frame), rtol=1e-12)
    scores.sum().backward()
    # d z / d r by central differences on the numpy path.
    j = signomial.feature_names.index("r")
    step = 1e-6
    up, down = frame.copy(), frame.copy()
    up["r"] += step
    down["r"] -= step
    numeric = (signomial.evaluate(up) - signomial.evaluate(down))[:, 0] / (2 * step)
    np.testing.assert_allclose(encoded.grad[:, j].numpy(), numeric, rtol=1e-6)


def test_estimator_json_round_trip_predicts_identically(frame):
    y = (frame.r * np.exp(0.3 * frame.t) > 2).astype(int)
    clf = ECSELClassifier(n_terms=1, random_state=0, max_iter=100).fit(frame, y)
    again = load_json(clf.to_json())
    np.testing.assert_array_equal(again.predict_proba(frame), clf.predict_proba(frame))
    np.testing.assert_array_equal(again.classes_, clf.classes_)
    reg = ECSELRegressor(random_state=0, max_iter=50).fit(frame[["r"]], frame.r**2)
    np.testing.assert_array_equal(load_json(reg.to_json()).predict(frame[["r"]]),
                                  reg.predict(frame[["r"]]))


def test_estimator_json_rejects_garbage():
    with pytest.raises(ValueError):
        load_json('{"format": "ecsel.estimator", "estimator": "Nope"}')
    with pytest.raises(ValueError):
        load_json("{")
