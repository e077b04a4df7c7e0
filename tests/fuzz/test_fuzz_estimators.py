"""Property-based contract of the estimators, their JSON documents, explanations,
exports and the CLI on generated hostile input (see fuzz_support for the contract)."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from fuzz_support import (
    TARGET_KINDS,
    Recorded,
    budget,
    check_value_error,
    count,
    frames,
    hostile_rows,
    target,
)
from hypothesis import given
from hypothesis import strategies as st

from ecsel import ECSELClassifier, ECSELRegressor, PositivityTransform, Signomial, load_json
from ecsel.cli import main

pytestmark = pytest.mark.usefixtures("fuzz_threads")

#: Export checks beyond JSON / SymPy / torch (ONNX, SQL, Python: being added) register
#: here as ``name -> check(estimator, X)``; each must raise on a broken export.
EXPORT_CHECKS: dict = {}


def _scores(est, X) -> np.ndarray:
    if hasattr(est, "classes_"):
        return np.asarray(est.decision_function(X), dtype=float)
    return np.asarray(est.predict(X), dtype=float)


def check_fitted_contract(est, X: pd.DataFrame, what: str, seed: int = 0) -> None:
    """Everything a fitted estimator promises on its training rows and hostile rows."""
    pred = est.predict(X)
    assert len(pred) == len(X)
    if hasattr(est, "classes_"):
        assert set(np.asarray(pred).tolist()) <= set(est.classes_.tolist()), what
        proba = est.predict_proba(X)
        assert np.isfinite(proba).all(), f"{what}: non-finite probabilities"
        assert ((proba >= 0) & (proba <= 1)).all(), f"{what}: probabilities outside [0, 1]"
        assert np.allclose(proba.sum(axis=1), 1.0, atol=1e-9), f"{what}: rows do not sum to 1"
    scores = _scores(est, X)
    assert np.isfinite(scores).all(), f"{what}: non-finite scores {scores}"

    text = est.to_json()
    back = load_json(text)
    assert back.to_json() == text, f"{what}: the JSON round trip is not exact"
    assert np.array_equal(_scores(back, X), scores), f"{what}: reloaded model differs"

    head = X.head(5)
    expl = est.explain(head)
    assert np.isfinite(expl.values).all(), f"{what}: non-finite Shapley values"
    total = expl.values.sum(-1) + expl.base_values
    expected = _scores(est, head)
    if total.ndim == 2 and expected.ndim == 1:
        total = total[:, -1]
    scale = 1.0 + np.abs(expl.values).sum(-1).max() + np.abs(expl.base_values).max()
    assert np.allclose(total, expected, rtol=1e-6, atol=1e-9 * scale), \
        f"{what}: Shapley values are not complete ({total} vs {expected})"

    est.sympy()
    named = head.set_axis(est.signomial_.input_features, axis=1)  # x0, x1, ... for arrays
    encoded = torch.tensor(est.signomial_.encode(named), dtype=torch.float64)
    out = est.to_torch()(encoded).detach().numpy()
    out = out[:, 0] if expected.ndim == 1 else out
    assert np.allclose(out, expected, rtol=1e-6, atol=1e-9 * scale), f"{what}: torch export"
    for check in EXPORT_CHECKS.values():
        check(est, head)

    new = hostile_rows(X, seed)
    try:
        hostile = _scores(est, new)
    except ValueError as exc:
        check_value_error(exc, f"{what} (predict on hostile rows)")
    else:
        assert np.isfinite(hostile).all(), f"{what}: non-finite scores on {new}"


FIT_PARAMS = st.fixed_dictionaries({
    "n_terms": st.sampled_from([1, 2]),
    "n_restarts": st.sampled_from([1, 2]),
    "max_iter": st.sampled_from([5, 15]),
    "random_state": st.integers(0, 3),
})


@given(data=frames(), target_kind=st.sampled_from(TARGET_KINDS), params=FIT_PARAMS,
       as_array=st.booleans())
@budget(12, long=400)
def test_fit_contract(data, target_kind, params, as_array):
    X, recipe = data
    y = target(target_kind, X, recipe["seed"])
    regress = target_kind in ("regression", "huge_regression") or (
        target_kind == "constant" and recipe["seed"] % 2)
    Est = ECSELRegressor if regress else ECSELClassifier
    what = f"{Est.__name__}({params}) on {recipe}, target {target_kind}"
    Xin = X.to_numpy() if as_array and all(X.dtypes.map(lambda d: d.kind in "fiub")) else X
    count("estimator", "fit")
    with Recorded() as rec:
        try:
            est = Est(**params).fit(Xin, y)
        except ValueError as exc:
            check_value_error(exc, what)
            return
        except Exception as exc:  # noqa: BLE001 - the property: no other type
            raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc
        check_fitted_contract(est, X if Xin is X else pd.DataFrame(Xin), what,
                              recipe["seed"])
    rec.check(what)


# ------------------------------------------------------------------ model documents
_FITTED: dict = {}


def _fitted_documents():
    """Three fitted models (binary with categories and NaN, multiclass, regressor)."""
    if not _FITTED:
        rng = np.random.default_rng(0)
        X = pd.DataFrame({"p": rng.lognormal(size=60), "s": rng.normal(size=60),
                          "c": rng.choice(["u", "v", "w"], 60), "b": rng.random(60) < 0.5})
        X.loc[::7, "p"] = np.nan
        fast = {"n_terms": 2, "n_restarts": 2, "max_iter": 20, "random_state": 0}
        _FITTED["binary"] = (ECSELClassifier(**fast).fit(X, (X.s > 0).astype(int)), X)
        _FITTED["multiclass"] = (ECSELClassifier(**fast).fit(X, np.digitize(X.s, [-.5, .5])), X)
        _FITTED["regressor"] = (ECSELRegressor(**fast).fit(X, 1 + X.s.abs()), X)
    return _FITTED


JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**400, 10**400), st.integers(-3, 3),
    st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([0.0, -5.0, 1e6, 0.5]),
    st.text(max_size=5), st.just([]), st.just({}), st.just([[]]), st.just(["No"]),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _paths(value, prefix + (i,))


@given(which=st.sampled_from(["binary", "multiclass", "regressor"]), data=st.data(),
       action=st.sampled_from(["replace", "replace", "delete", "add", "duplicate"]),
       value=JSON_LEAVES)
@budget(120, long=8000)
def test_model_document_mutations_load_cleanly_or_raise_value_error(which, data, action,
                                                                    value):
    est, X = _fitted_documents()[which]
    doc = json.loads(est.to_json())
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths), label="path")
    mutated = copy.deepcopy(doc)
    parent = mutated
    for key in path[:-1]:
        parent = parent[key]
    if action == "replace":
        parent[path[-1]] = value
    elif action == "delete":
        parent.pop(path[-1])
    elif action == "add" and isinstance(parent, dict):
        parent[f"extra_{path[-1]}"] = value
    elif action == "add":
        parent.append(value)
    else:
        parent[path[-1]] = copy.deepcopy(parent[path[-1]]) if isinstance(parent, dict) \
            else parent[path[-1]]
        if isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
    what = f"{which}: {action} {path} -> {value!r}"
    count("estimator", "document")
    with Recorded() as rec:
        try:
            text = json.dumps(mutated)
        except (ValueError, OverflowError):
            return  # json cannot write it either
        try:
            back = load_json(text)
        except ValueError as exc:
            check_value_error(exc, what)
            return
        except Exception as exc:  # noqa: BLE001
            raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc
        scores = _scores(back, X)
        assert np.isfinite(scores).all(), f"{what}: loads but scores are not finite"
        if hasattr(back, "classes_"):
            proba = back.predict_proba(X)
            assert np.isfinite(proba).all() and np.allclose(proba.sum(1), 1.0), what
    rec.check(what)


# --------------------------------------------------------------- signomial round trip
@given(data=frames(max_rows=20), n_out=st.integers(1, 3), n_terms=st.integers(0, 3),
       seed=st.integers(0, 2**32 - 1))
@budget(60, long=2000)
def test_signomial_json_round_trip_and_finite_evaluation(data, n_out, n_terms, seed):
    X, recipe = data
    X.columns = [str(c) for c in X.columns]
    what = f"signomial on {recipe}"
    count("estimator", "signomial")
    with Recorded() as rec:
        try:
            t = PositivityTransform.fit(X)
        except ValueError as exc:
            check_value_error(exc, what)
            return
        rng = np.random.default_rng(seed)
        m = len(t.feature_maps)
        s = Signomial(rng.normal(size=n_out), rng.normal(size=(n_out, n_terms)) * 10.0,
                      rng.normal(size=(n_out, n_terms, m)) * rng.choice([0.1, 3.0, 50.0]), t)
        back = Signomial.from_json(s.to_json())
        assert back == s and back.to_json() == s.to_json(), what
        z = s.evaluate(X)
        assert np.isfinite(z).all(), f"{what}: non-finite on its own training rows"
        try:
            z = s.evaluate(hostile_rows(X, seed))
        except ValueError as exc:
            check_value_error(exc, what)
        else:
            assert np.isfinite(z).all(), f"{what}: non-finite on hostile rows"
        assert math.isfinite(float(np.abs(s.term_values(X)).max(initial=0.0)))
    rec.check(what)


# ------------------------------------------------------------------------------ CLI
@given(data=frames(max_rows=30, max_cols=3),
       target_kind=st.sampled_from(["binary", "strings", "regression", "constant"]))
@budget(3, long=60)
def test_cli_fit_then_predict_exits_0_or_2_with_one_line(tmp_path_factory, data, target_kind,
                                                         capsys):
    X, recipe = data
    X.columns = [f"c{j}" for j in range(X.shape[1])]
    folder = tmp_path_factory.mktemp("cli")
    frame = X.assign(target=target(target_kind, X, recipe["seed"]))
    frame.to_csv(folder / "d.csv", index=False)
    model, scores = folder / "m.json", folder / "s.csv"
    what = f"ecsel fit on {recipe}, target {target_kind}"
    count("estimator", "cli")
    capsys.readouterr()
    code = main(["fit", str(folder / "d.csv"), "--target", "target", "--out", str(model),
                 "--n-terms", "1", "--n-restarts", "1", "--max-iter", "10", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), f"{what}: exit {code}: {err}"
    if code == 2:
        assert len(err.splitlines()) == 1 and "unexpected" not in err, f"{what}: {err}"
        assert not model.exists()
        return
    code = main(["predict", str(model), str(folder / "d.csv"), "--out", str(scores)])
    err = capsys.readouterr().err.strip()
    assert code in (0, 2), f"{what}: predict exit {code}: {err}"
    if code == 0:
        out = pd.read_csv(scores)
        assert len(out) == len(frame) and out.select_dtypes("number").notna().all().all()
    else:
        assert "unexpected" not in err and not scores.exists(), f"{what}: {err}"
