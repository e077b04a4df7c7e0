"""``ecsel export``: every format written atomically, checked by running it; bad input exits 2."""

from __future__ import annotations

import sqlite3

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier
from ecsel._testing import example_estimator
from ecsel.cli import main
from ecsel.export.onnx import onnx_inputs

ort = pytest.importorskip("onnxruntime")
duckdb = pytest.importorskip("duckdb")
onnx = pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    """A classifier saved as JSON, its training frame with missing values and categories."""
    rng = np.random.default_rng(0)
    n = 120
    X = pd.DataFrame({"size": rng.lognormal(0.0, 0.5, n),
                      "colour": rng.choice(["red", "blue", None], n)})
    X.loc[::9, "size"] = np.nan
    y = np.where(np.log(X["size"].fillna(1.0)) + 0.8 * (X["colour"] == "red")
                 + rng.normal(0, 0.3, n) > 0.3, "yes", "no")
    est = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=40, random_state=0).fit(X, y)
    path = tmp_path_factory.mktemp("export") / "model.json"
    path.write_text(est.to_json())
    X = pd.concat([X, pd.DataFrame({"size": [np.nan, 1e9], "colour": ["unseen", None]})],
                  ignore_index=True)
    return est, X, path


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("ecsel: error: ") and "Traceback" not in err[0]
    return err[0]


def test_export_python_runs_as_written(classifier, tmp_path):
    est, X, model = classifier
    out = tmp_path / "score.py"
    assert main(["export", str(model), "--format", "python", "--out", str(out)]) == 0
    namespace: dict = {}
    exec(out.read_text(), namespace)
    got = [namespace["ecsel_predict"](row) for row in X.to_dict("records")]
    np.testing.assert_allclose([g["probabilities"] for g in got], est.predict_proba(X),
                               rtol=1e-12)
    assert [g["label"] for g in got] == est.predict(X).tolist()


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb"])
def test_export_sql_runs_in_the_database(classifier, tmp_path, dialect):
    est, X, model = classifier
    out = tmp_path / "score.sql"
    args = ["export", str(model), "--format", "sql", "--table", "visits", "--keep", "id",
            "--out", str(out)]
    assert main(args + ["--dialect", dialect]) == 0
    frame = X.assign(id=np.arange(len(X)))
    query = out.read_text() + " ORDER BY id"
    if dialect == "sqlite":
        db = sqlite3.connect(":memory:")
        frame.to_sql("visits", db, index=False)
        rows = pd.read_sql_query(query, db)
    else:
        db = duckdb.connect()
        db.register("frame", frame)
        db.execute("CREATE TABLE visits AS SELECT * FROM frame")
        rows = db.execute(query).df()
    np.testing.assert_allclose(rows["score"], est.decision_function(X), rtol=1e-12)
    assert rows["prediction"].tolist() == est.predict(X).tolist()


def test_export_sql_to_standard_output(classifier, capsys):
    _, _, model = classifier
    assert main(["export", str(model), "--format", "sql"]) == 0
    assert capsys.readouterr().out.startswith("SELECT")


def test_export_onnx_file(classifier, tmp_path):
    est, X, model = classifier
    out = tmp_path / "model.onnx"
    assert main(["export", str(model), "--format", "onnx", "--out", str(out)]) == 0
    graph = onnx.load(str(out))
    session = ort.InferenceSession(out.read_bytes())
    label, proba = session.run(["label", "probabilities"], onnx_inputs(graph, X))
    # the ONNX floor: relative 1e-6, measured against max(|p|, 1e-9) as in the equivalence
    # tests (the estimator's own 1 - p already carries 1e-16 of absolute rounding)
    np.testing.assert_allclose(proba, est.predict_proba(X), rtol=1e-6, atol=1e-15)
    assert label.tolist() == est.predict(X).tolist()


def test_export_regressor(tmp_path):
    est, X = example_estimator()
    model = tmp_path / "reg.json"
    model.write_text(est.to_json())
    out = tmp_path / "reg.py"
    assert main(["export", str(model), "--format", "python", "--name", "price",
                 "--out", str(out)]) == 0
    namespace: dict = {}
    exec(out.read_text(), namespace)
    got = [namespace["price"](row) for row in X.to_dict("records")]
    np.testing.assert_allclose(got, est.predict(X), rtol=1e-12)


@pytest.mark.parametrize("extra, message", [
    (["--format", "python", "--dialect", "duckdb"], "--dialect applies to --format sql"),
    (["--format", "onnx"], "give --out FILE"),
    (["--format", "excel"], "invalid choice"),
    (["--format", "sql", "--dialect", "oracle"], "invalid choice"),
    (["--format", "python", "--name", "two words"], "identifier"),
    (["--format", "sql", "--table", ""], "table must be a non-empty string"),
])
def test_export_bad_arguments_exit_2(classifier, capsys, tmp_path, extra, message):
    _, _, model = classifier
    out = tmp_path / "never.txt"
    code = main(["export", str(model), *extra] + (["--out", str(out)] if "onnx" not in
                                                   extra else []))
    assert code == 2
    assert message in _error_line(capsys)
    assert not out.exists()


def test_export_bad_model_exit_2(tmp_path, capsys):
    assert main(["export", str(tmp_path / "none.json"), "--format", "sql"]) == 2
    assert "no such file" in _error_line(capsys)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert main(["export", str(bad), "--format", "sql"]) == 2
    assert "not a valid ecsel model" in _error_line(capsys)


def test_export_failure_leaves_existing_file_untouched(classifier, tmp_path, capsys):
    _, _, model = classifier
    out = tmp_path / "score.py"
    out.write_text("previous")
    assert main(["export", str(model), "--format", "python", "--name", "1x",
                 "--out", str(out)]) == 2
    _error_line(capsys)
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["score.py"]  # no temporary file left


def test_export_unwritable_destination_exit_2(classifier, tmp_path, capsys):
    _, _, model = classifier
    (tmp_path / "folder").mkdir()
    assert main(["export", str(model), "--format", "sql", "--out", str(tmp_path / "folder")]) == 2
    assert "cannot write" in _error_line(capsys)
