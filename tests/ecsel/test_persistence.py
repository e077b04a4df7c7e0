"""Model files: exact round trips, and every malformed field refused with its name."""

import copy
import json

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier, ECSELRegressor, Signomial, load_json
from ecsel._transform import FeatureMap, PositivityTransform
from ecsel.cli import main

FAST = {"n_terms": 1, "n_restarts": 2, "max_iter": 30, "random_state": 0}


@pytest.fixture(scope="module")
def classifier_doc():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(1, 5, 80), "s": rng.normal(size=80),
                      "c": rng.choice(["u", "v"], 80)})
    clf = ECSELClassifier(**FAST).fit(X, (X.a * (1 + (X.c == "v")) > 3).astype(int))
    return json.loads(clf.to_json())


@pytest.fixture(scope="module")
def regressor_doc():
    X = pd.DataFrame({"a": np.linspace(1, 3, 30)})
    return json.loads(ECSELRegressor(**FAST).fit(X, 2 * X.a).to_json())


def test_constant_regressor_round_trips():
    # issue 32 item 1: the fitted equation is a constant, its exponents (1, 0, m)
    # are written as [[]]; reading them back used to raise "must have 3 dimensions".
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"flag": rng.integers(0, 2, 50).astype(bool)})
    est = ECSELRegressor(n_terms=1, random_state=0).fit(X, 3 + 0.01 * rng.normal(size=50))
    assert est.signomial_.n_terms == 0
    back = load_json(est.to_json())
    assert back.signomial_ == est.signomial_
    assert back.to_json() == est.to_json()
    assert np.array_equal(back.predict(X), est.predict(X))


def test_signomial_without_terms_round_trips():
    t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
    s = Signomial([1.5, -2.0], np.zeros((2, 0)), np.zeros((2, 0, 1)), t)
    assert Signomial.from_json(s.to_json()) == s


def _edit(doc, path, value):
    """A copy of ``doc`` with the field at ``path`` (keys / indices) set or deleted."""
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


class _Deleted:
    """Marks a field to delete; its repr is stable, so test ids agree across workers."""

    def __repr__(self):
        return "<deleted>"


_DELETE = _Deleted()
FMAP = ("signomial", "transform", "feature_maps", 0)
BAD_CLASSIFIER = [
    (("version",), 99, "version"),
    (("version",), True, "version"),
    (("version",), _DELETE, "version"),
    (("estimator",), ["ECSELClassifier"], "estimator"),
    (("estimator",), "LogisticRegression", "estimator"),
    (("params",), [], "params"),
    (("params", "n_terms__x"), 1, "params.n_terms__x"),
    (("params", "n_terms"), 0, "params"),
    (("params", "alpha"), "big", "params"),
    (("params", "max_iter"), 10**400, "params.max_iter"),
    (("n_features_in",), 7, "n_features_in"),
    (("n_features_in",), "3", "n_features_in"),
    (("n_features_in",), _DELETE, "n_features_in"),
    (("feature_names_in",), ["a", "b", "z"], "feature_names_in"),
    (("feature_names_in",), ["a", "a", "c"], "feature_names_in"),
    (("threshold",), float("nan"), "threshold"),
    (("threshold",), 7, "threshold"),
    (("threshold",), "0.5", "threshold"),
    (("threshold",), _DELETE, "threshold"),
    (("classes",), [0], "classes"),
    (("classes",), [], "classes"),
    (("classes",), [1, 1], "classes"),
    (("classes",), ["No"], "classes"),
    (("classes",), [0, 1, 2], "classes"),
    (("classes",), [1, 0], "classes"),
    (("classes",), [0, "1"], "classes"),
    (("classes",), _DELETE, "classes"),
    (("extra",), 1, "model.extra"),
    (("signomial", "version"), 2, "version"),
    (("signomial", "coef"), [[float("inf")]], "signomial.coef[0][0]"),
    (("signomial", "coef"), [["1"]], "signomial.coef[0][0]"),
    (("signomial", "coef"), [[1e400]], "signomial.coef[0][0]"),
    (("signomial", "coef"), [[1, 2, 3]], "signomial"),
    (("signomial", "intercept"), [None], "signomial.intercept[0]"),
    (("signomial", "intercept"), [], "signomial.intercept"),
    (("signomial", "exponents"), [[[1e200, -1e200, 0.0]]], "signomial.exponents"),
    (("signomial", "exponents"), [[[0.5, 0.0]]], "signomial"),
    (("signomial", "exponents"), [[[0.5, 0.0, [1]]]], "signomial.exponents[0][0][2]"),
    (("signomial", "output_names"), "1", "signomial.output_names"),
    (("signomial", "transform", "input_features"), ["a", "s"], "input_features"),
    (("signomial", "transform", "input_features"), ["a", "a", "c"], "input_features"),
    (FMAP + ("scale",), -5, "feature_maps[0].scale"),
    (FMAP + ("scale",), 0, "feature_maps[0].scale"),
    (FMAP + ("scale",), float("nan"), "feature_maps[0].scale"),
    (FMAP + ("scale",), float("inf"), "feature_maps[0].scale"),
    (FMAP + ("scale",), "2", "feature_maps[0].scale"),
    (FMAP + ("scale",), None, "feature_maps[0].scale"),
    (FMAP + ("scale",), _DELETE, "feature_maps[0].scale"),
    (FMAP + ("lower",), _DELETE, "feature_maps[0].lower"),
    (FMAP + ("lower",), -1.0, "feature_maps[0].lower"),
    (FMAP + ("level",), 7, "feature_maps[0].level"),
    (FMAP + ("missing",), "yes", "feature_maps[0].missing"),
    (FMAP + ("missing",), True, "feature_maps[0].missing"),
    (FMAP + ("kind",), "log", "feature_maps[0].kind"),
    (FMAP + ("source",), "zzz", "feature_maps[0].source"),
    (FMAP + ("name",), 3, "feature_maps[0].name"),
    (FMAP + ("n_terms__x",), 1, "feature_maps[0].n_terms__x"),
    (("signomial", "transform", "feature_maps", 1, "upper"), _DELETE, "feature_maps[1].upper"),
    (("signomial", "transform", "feature_maps", 1, "upper"), -1e9, "feature_maps[1].upper"),
]


@pytest.mark.parametrize(("path", "value", "field"), BAD_CLASSIFIER,
                         ids=[f"{'.'.join(map(str, p))}={v!r}"[:60] for p, v, _ in BAD_CLASSIFIER])
def test_malformed_classifier_field_is_refused_with_its_name(classifier_doc, path, value,
                                                            field):
    assert [m["kind"] for m in classifier_doc["signomial"]["transform"]["feature_maps"]] \
        == ["power", "signed", "indicator"]
    text = json.dumps(_edit(classifier_doc, path, value))
    with pytest.raises(ValueError, match=field.replace("[", r"\[").replace("]", r"\]")):
        load_json(text)


@pytest.mark.parametrize(("path", "value", "field"), [
    (("classes",), [0, 1], "model.classes"),
    (("threshold",), 0.5, "model.threshold"),
    (("y_scale",), -1.0, "y_scale"),
    (("signomial", "intercept"), [1.0, 2.0], "signomial"),
])
def test_malformed_regressor_field_is_refused_with_its_name(regressor_doc, path, value, field):
    with pytest.raises(ValueError, match=field):
        load_json(json.dumps(_edit(regressor_doc, path, value)))


@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000, '{"format": 1e400}',
                                  "", "null", '{"format": "ecsel.estimator"}'])
def test_hostile_documents_raise_value_error(text):
    with pytest.raises(ValueError):
        load_json(text)


def test_round_trip_is_exact(classifier_doc, regressor_doc):
    for doc in (classifier_doc, regressor_doc):
        assert json.loads(load_json(json.dumps(doc)).to_json()) == doc


def test_old_documents_without_upper_and_missing_still_load():
    # Documents written before the signed map and the missingness indicators lack
    # these two fields; for the maps that do not use them the absence is the truth.
    fmap = FeatureMap("x", "x", "power", scale=2.0, lower=0.1).to_dict()
    del fmap["upper"], fmap["missing"]
    assert FeatureMap.from_dict(fmap) == FeatureMap("x", "x", "power", scale=2.0, lower=0.1)


def test_cli_refuses_a_hand_edited_model_with_exit_2(tmp_path, classifier_doc, capsys):
    # issue 31 item 4: scale -5 used to load and print empty probabilities, exit 0
    model = tmp_path / "m.json"
    model.write_text(json.dumps(_edit(classifier_doc, FMAP + ("scale",), -5)))
    data = tmp_path / "d.csv"
    pd.DataFrame({"a": [2.0], "s": [0.1], "c": ["u"]}).to_csv(data, index=False)
    out = tmp_path / "p.csv"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "feature_maps[0].scale" in err
    assert not out.exists()


def test_large_fitted_exponents_of_a_narrow_column_round_trip():
    # 1e10 + small integers: log u spans ~5e-9, so the fitted exponent is ~1e8-1e9;
    # a plausibility bound on exponents (first tried: 1e4) refused the library's own file
    rng = np.random.default_rng(0)
    x = 1e10 + rng.integers(0, 50, 200).astype(float)
    X = pd.DataFrame({"x": x, "z": rng.normal(size=200)})
    clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=50, random_state=0).fit(
        X, (x > 1e10 + 25).astype(int))
    assert np.abs(clf.signomial_.exponents).max() > 1e6
    assert load_json(clf.to_json()).to_json() == clf.to_json()


@pytest.mark.parametrize("values", [[0.0, 5e-324, 0.0], [0.0, 5e-324, -5e-324, 0.0],
                                    [-1e308, 1e308, -1e308]])
def test_transforms_of_extreme_columns_round_trip(values):
    # found by the long fuzz run: a subnormal spread gave scale 0, which the reader
    # (rightly) refuses, so the fitted transform could not be read back
    t = PositivityTransform.fit(pd.DataFrame({"x": values}))
    assert all(m.scale > 0 for m in t.feature_maps)
    assert PositivityTransform.from_dict(t.to_dict()).to_dict() == t.to_dict()


def test_wrong_json_types_are_named_in_json_terms(classifier_doc):
    with pytest.raises(ValueError, match=r"feature_maps\[0\]': expected an object, got null"):
        load_json(json.dumps(_edit(classifier_doc, FMAP, None)))
