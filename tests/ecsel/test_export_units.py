"""Every map of the transform through every export, on hand-built equations (issue 30).

No fitting: a signomial with a non-zero exponent on every model feature of a frame
that has each kind of column (power with and without shift, signed, binary,
boolean, booleans with missing entries, categorical and string with missing
entries, a constant column, the legacy linear map). The oracle is
``Signomial.evaluate`` on hostile rows.
"""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from ecsel import PositivityTransform, Signomial
from ecsel._transform import FeatureMap
from ecsel.export.onnx import onnx_inputs
from ecsel.export.sql import signomial_to_sql

ort = pytest.importorskip("onnxruntime")
duckdb = pytest.importorskip("duckdb")


def training_frame() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 60
    frame = pd.DataFrame({
        "positive": rng.lognormal(0.0, 1.0, n),
        "count": rng.poisson(1.0, n).astype(float),
        "signed": rng.standard_t(3, n),
        "binary": rng.integers(0, 2, n).astype(float) * 3.0 + 2.0,
        "flag": rng.random(n) < 0.4,
        "maybe": pd.Series(rng.choice([True, False, None], n), dtype=object),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], n)),
        "city": pd.Series(rng.choice(["Oslo", "Rome", None], n), dtype=object),
        "same": np.full(n, 7.0),
        "gappy": np.where(rng.random(n) < 0.2, np.nan, rng.gamma(2.0, 1.0, n)),
    })
    return frame


def hostile(frame: pd.DataFrame) -> pd.DataFrame:
    rows = frame.to_dict("records")
    extra = []
    for name in ["positive", "count", "signed", "binary", "same", "gappy"]:
        for value in [np.nan, -1e6, 0.0, 1e-300, 5e-324, 1e6, 1e250, 1.7e308, -1.7e308]:
            extra.append({**rows[0], name: value})
    for name in ["colour", "city"]:
        extra += [{**rows[1], name: None}, {**rows[1], name: "unseen"}]
    extra += [{**rows[2], "maybe": None}, {**rows[2], "flag": True},
              {**rows[2], "flag": False}]
    out = pd.concat([frame, pd.DataFrame(extra)], ignore_index=True)
    out["colour"] = pd.Categorical(out["colour"].astype(object),
                                   categories=["blue", "green", "red", "unseen"])
    out["flag"] = out["flag"].astype(bool)
    return out


def unit_signomial():
    """Two outputs, three terms, a non-zero exponent on every model feature."""
    frame = training_frame()
    t = PositivityTransform.fit(frame)
    kinds = {m.kind for m in t.feature_maps}
    assert {"power", "signed", "indicator", "constant"} <= kinds
    assert set(t.boolean_inputs) == {"flag", "maybe"}
    # the legacy linear map, as a model saved before the signed map would have it
    legacy = [FeatureMap("signed", "signed", "linear", scale=1.3, center=0.2)
              if m.name == "signed" else m for m in t.feature_maps]
    t = PositivityTransform(legacy, t.input_features, t.boolean_inputs)
    rng = np.random.default_rng(1)
    m = len(t.feature_maps)
    expo = rng.normal(0.0, 0.7, (2, 3, m))
    coef = rng.normal(0.0, 2.0, (2, 3))
    coef[1, 2] = 0.0  # a dropped term
    expo[0, 2] = 0.0  # a term without factors
    return Signomial([0.3, -1.1], coef, expo, t, ["a", "b"])


@pytest.fixture(scope="module")
def signomial():
    return unit_signomial()


@pytest.fixture(scope="module")
def rows(signomial):
    X = hostile(training_frame())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return X, signomial.evaluate(X)


def rel_error(got, want) -> float:
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape and np.all(np.isfinite(got))
    return float(np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-300)))


def test_python_covers_every_map(signomial, rows):
    X, want = rows
    namespace: dict = {}
    exec(signomial.to_python(), namespace)
    out = [namespace["ecsel_predict"](r) for r in X.to_dict("records")]
    got = np.array([[r["a"], r["b"]] for r in out])
    assert rel_error(got, want) <= 1e-12


def test_python_source_uses_only_math(signomial):
    source = signomial.to_python()
    imports = [line for line in source.splitlines() if "import" in line]
    assert imports == ["import math"]


def _sql_rows(db_rows, columns=("a", "b")):
    frame = pd.DataFrame(db_rows, columns=["row_id", *columns]).sort_values("row_id")
    return frame[list(columns)].to_numpy(dtype=np.float64)


def test_sqlite_covers_every_map(signomial, rows):
    X, want = rows
    db = sqlite3.connect(":memory:")
    X.assign(row_id=np.arange(len(X))).to_sql("t", db, index=False)
    got = _sql_rows(db.execute(signomial.to_sql("t", keep=["row_id"])).fetchall())
    assert rel_error(got, want) <= 1e-12


def test_duckdb_covers_every_map(signomial, rows):
    X, want = rows
    db = duckdb.connect()
    frame = X.assign(row_id=np.arange(len(X)))
    db.register("frame", frame)
    db.execute("CREATE TABLE t AS SELECT * FROM frame")
    types = dict(db.execute("SELECT column_name, data_type FROM information_schema.columns "
                            "WHERE table_name = 't'").fetchall())
    assert types["flag"] == types["maybe"] == "BOOLEAN"  # the documented convention
    got = _sql_rows(db.execute(signomial.to_sql("t", "duckdb", keep=["row_id"])).fetchall())
    assert rel_error(got, want) <= 1e-12
    # NaN stored as a value (not NULL) is missing too
    db.execute("UPDATE t SET gappy = 'NaN'::DOUBLE WHERE gappy IS NULL")
    again = _sql_rows(db.execute(signomial.to_sql("t", "duckdb", keep=["row_id"])).fetchall())
    assert rel_error(again, want) <= 1e-12


def test_onnx_covers_every_map(signomial, rows):
    X, want = rows
    model = signomial.to_onnx()
    kinds = {i.name: i.type.tensor_type.elem_type for i in model.graph.input}
    assert [i.name for i in model.graph.input] == list(X.columns)
    assert kinds["flag"] == kinds["colour"] == 8 and kinds["positive"] == 11  # string, double
    session = ort.InferenceSession(model.SerializeToString())
    got = session.run(["scores"], onnx_inputs(model, X))[0]
    assert rel_error(got, want) <= 1e-9


def test_onnx_reads_boolean_spellings(signomial, rows):
    X, want = rows
    model = signomial.to_onnx()
    feed = onnx_inputs(model, X)
    session = ort.InferenceSession(model.SerializeToString())
    spelled = {"True": "true", "False": "0"}
    feed["flag"] = np.vectorize(spelled.get)(feed["flag"]).astype(object)
    got = session.run(["scores"], feed)[0]
    assert rel_error(got, want) <= 1e-9


def test_sql_rejects_unknown_dialect_and_bad_table(signomial):
    with pytest.raises(ValueError, match="dialect must be one of"):
        signomial.to_sql("t", dialect="oracle")
    with pytest.raises(ValueError, match="table must be a non-empty string"):
        signomial_to_sql(signomial, "")


def test_python_rejects_a_name_that_is_no_identifier(signomial):
    with pytest.raises(ValueError, match="identifier"):
        signomial.to_python(name="not a name")


def test_onnx_refuses_the_empty_string_as_a_level():
    frame = pd.DataFrame({"c": ["", "x", "x", "y"]})
    s = Signomial([0.0], [[1.0]], [[[1.0, 1.0]]], PositivityTransform.fit(frame))
    with pytest.raises(ValueError, match="empty string"):
        s.to_onnx()


def test_onnx_refuses_an_input_named_like_an_output():
    frame = pd.DataFrame({"scores": [1.0, 2.0, 4.0]})
    s = Signomial([0.0], [[1.0]], [[[1.0]]], PositivityTransform.fit(frame))
    with pytest.raises(ValueError, match="name of a graph output"):
        s.to_onnx()


def test_constant_equation_exports(signomial):
    t = signomial.transform
    s = Signomial([2.5], np.zeros((1, 1)), np.zeros((1, 1, len(t.feature_maps))), t)
    X = hostile(training_frame()).iloc[:5]
    session = ort.InferenceSession(s.to_onnx().SerializeToString())
    assert session.run(None, onnx_inputs(s.to_onnx(), X))[0].ravel().tolist() == [2.5] * 5
    namespace: dict = {}
    exec(s.to_python(), namespace)
    assert namespace["ecsel_predict"]({}) == {"z0": 2.5}
    assert sqlite3.connect(":memory:").execute(s.to_sql("(SELECT 1)")).fetchall() == [(2.5,)]
