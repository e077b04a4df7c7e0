"""Tests of the ``ecsel`` command line: every command, every bad input, atomic output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecsel import load_json
from ecsel.cli import main

FAST = ["--n-terms", "1", "--n-restarts", "2", "--max-iter", "60", "-q"]


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """A small classification CSV with numeric, string and boolean columns."""
    rng = np.random.default_rng(0)
    n = 240
    frame = pd.DataFrame(
        {
            "size": rng.uniform(1.0, 5.0, n),
            "price": rng.uniform(1.0, 3.0, n),
            "colour": rng.choice(["red", "blue", "green"], n),
            "promo": rng.random(n) < 0.3,
        }
    )
    score = np.log(frame["size"]) - 0.8 * np.log(frame["price"]) + 0.5 * (frame["colour"] == "red")
    frame["bought"] = np.where(score + rng.normal(0, 0.2, n) > 0.4, "yes", "no")
    frame["amount"] = 2.0 * frame["size"] ** 1.5 / frame["price"]
    path = tmp_path_factory.mktemp("cli") / "shop.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def model(data, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model.json"
    code = main(
        ["fit", str(data), "--target", "bought", "--drop", "amount", "--out", str(out), *FAST]
    )
    assert code == 0
    return out


def _error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("ecsel: error: ")
    assert "Traceback" not in err[0]
    return err[0]


def test_fit_classifier_prints_equation_metrics_and_saves_json(model, data, capsys):
    est = load_json(model.read_text())
    assert list(est.classes_) == ["no", "yes"]
    assert est.signomial_.input_features == ["size", "price", "colour", "promo"]
    frame = pd.read_csv(data)
    assert est.score(frame[["size", "price", "colour", "promo"]], frame["bought"]) > 0.7


def test_fit_output_text(data, tmp_path, capsys):
    code = main(["fit", str(data), "--target", "bought", "--drop", "amount", *FAST])
    out = capsys.readouterr().out
    assert code == 0
    assert "logit P(y = yes) =" in out
    assert "roc_auc" in out and "top features" in out
    assert not list(tmp_path.iterdir())  # no --out: nothing written


def test_fit_regression(data, tmp_path, capsys):
    out = tmp_path / "reg.json"
    code = main(
        [
            "fit",
            str(data),
            "--target",
            "amount",
            "--task",
            "regress",
            "--drop",
            "bought",
            "--n-terms",
            "1",
            "-q",
            "--out",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 0
    assert "r2" in text
    assert json.loads(out.read_text())["estimator"] == "ECSELRegressor"


def test_predict_to_stdout_and_file(model, data, tmp_path, capsys):
    assert main(["predict", str(model), str(data)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "prediction,proba_no,proba_yes"
    assert len(lines) == 1 + len(pd.read_csv(data))
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 0
    pred = pd.read_csv(out)
    assert set(pred["prediction"]) <= {"no", "yes"}
    np.testing.assert_allclose(pred["proba_no"] + pred["proba_yes"], 1.0)


def test_explain_attributions_add_up(model, data, tmp_path):
    out = tmp_path / "attr.csv"
    assert main(["explain", str(model), str(data), "--out", str(out)]) == 0
    attr = pd.read_csv(out)
    features = ["size", "price", "colour", "promo"]
    assert list(attr.columns) == [*features, "base_value", "score"]
    np.testing.assert_allclose(
        attr[features].sum(axis=1) + attr["base_value"], attr["score"], rtol=1e-6, atol=1e-6
    )


def test_console_script_runs_as_subprocess(model, data):
    result = subprocess.run(
        [sys.executable, "-m", "ecsel.cli", "predict", str(model), str(data)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    bad = subprocess.run(
        [sys.executable, "-m", "ecsel.cli", "predict", str(model), "missing.csv"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "ecsel: error: no such file: missing.csv"


@pytest.mark.parametrize(
    "args, message",
    [
        (["fit", "missing.csv", "--target", "y"], "no such file"),
        (["fit", "{data}", "--target", "nope"], "target column 'nope' not in"),
        (["fit", "{data}", "--target", "colour", "--task", "regress"], "needs a numeric target"),
        (["fit", "{data}", "--target", "bought", "--test-size", "1.5"], "--test-size"),
        (["fit", "{data}", "--target", "bought", "--n-terms", "0"], "positive integer"),
        (["fit", "{data}"], "--target"),
        (["predict", "{bad_json}", "{data}"], "not a valid ecsel model"),
        (["predict", "{other_json}", "{data}"], "not a valid ecsel model"),
        (["predict", "{model}", "{wrong_columns}"], "lacks 2 column(s) the model needs"),
        (["fit", "{data}", "--target", "bought", "--drop", "amount,nope"], "--drop: no column"),
        (["explain", "{model}", "missing.csv"], "no such file"),
        (["explain", "missing.json", "{data}"], "no such file"),
        (["explain", "{model}", "{empty}"], "no data rows"),
        (["demo", "nope"], "invalid choice"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, model, data, tmp_path, capsys):
    files = {"data": data, "model": model}
    (tmp_path / "bad.json").write_text("{not json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something else"}))
    frame = pd.read_csv(data)
    frame.drop(columns=["size", "colour"]).to_csv(tmp_path / "wrong.csv", index=False)
    nan = frame.copy()
    nan.loc[3, "price"] = np.nan
    nan.to_csv(tmp_path / "nan.csv", index=False)
    (tmp_path / "empty.csv").write_text("size,price,colour,promo\n")
    files.update(
        bad_json=tmp_path / "bad.json",
        other_json=tmp_path / "other.json",
        wrong_columns=tmp_path / "wrong.csv",
        nan_data=tmp_path / "nan.csv",
        empty=tmp_path / "empty.csv",
    )
    argv = [a.format(**files) for a in args]
    assert main(argv) == 2
    assert message in _error_line(capsys)


def test_missing_values_are_read_as_the_library_reads_them(data, tmp_path, capsys):
    frame = pd.read_csv(data)
    frame.loc[[1, 5, 9], "size"] = np.nan
    frame.loc[[2], "colour"] = np.nan
    frame.loc[[7], "bought"] = np.nan
    path, model = tmp_path / "nan.csv", tmp_path / "nan.json"
    frame.to_csv(path, index=False)
    argv = ["fit", str(path), "--target", "bought", "--drop", "amount", "--out", str(model)]
    assert main([*argv, *FAST]) == 0
    captured = capsys.readouterr()
    assert "dropped 1 row(s) whose target 'bought' is missing" in captured.err
    assert "--dropna" not in captured.err + captured.out
    est = load_json(model)
    assert "size[missing]" in est.signomial_.feature_names
    # predict reads NaN too, and agrees with the library on the same rows
    assert main(["predict", str(model), str(path), "--out", str(tmp_path / "p.csv")]) == 0
    written = pd.read_csv(tmp_path / "p.csv")
    X = pd.read_csv(path)[list(est.feature_names_in_)]
    np.testing.assert_allclose(written["proba_yes"], est.predict_proba(X)[:, 1], rtol=1e-12)
    assert written["proba_yes"].notna().all()
    # --dropna still drops the incomplete rows when asked
    assert main(["fit", str(path), "--target", "bought", "--drop", "amount", "--dropna",
                 *FAST]) == 0
    assert "dropped 5 row(s) with missing values" in capsys.readouterr().err


def test_drop_takes_a_comma_list_and_id_columns_are_named(data, tmp_path, capsys):
    frame = pd.read_csv(data)
    frame.insert(0, "rownames", np.arange(1, len(frame) + 1))
    frame["name"] = [f"car {i}" for i in range(len(frame))]
    path = tmp_path / "ids.csv"
    frame.to_csv(path, index=False)
    assert main(["fit", str(path), "--target", "bought", "--drop", "amount,name", *FAST]) == 0
    err = capsys.readouterr().err.splitlines()
    warned = [line for line in err if line.startswith("ecsel: warning: ")]
    assert len(warned) == 1 and "'rownames' looks like a row identifier" in warned[0]
    assert main(["fit", str(path), "--target", "bought", "--drop", "amount,rownames",
                 "--drop", "name", *FAST]) == 0
    assert "warning" not in capsys.readouterr().err


def test_failed_fit_leaves_no_output(data, tmp_path, capsys):
    out = tmp_path / "model.json"
    out.write_text("previous model")
    code = main(["fit", str(data), "--target", "colour", "--task", "regress", "--out", str(out)])
    assert code == 2
    assert out.read_text() == "previous model"
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"]


def test_output_is_written_atomically(model, data, tmp_path, monkeypatch, capsys):
    """A crash while writing keeps the old file and leaves no temporary file."""
    out = tmp_path / "pred.csv"
    out.write_text("old")

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("ecsel._io.os.replace", boom)
    assert main(["predict", str(model), str(data), "--out", str(out)]) == 2
    line = _error_line(capsys)
    assert "cannot write" in line and "disk full" in line
    assert out.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["pred.csv"]


def test_unwritable_output_is_a_usage_error(model, data, tmp_path, capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    assert main(["predict", str(model), str(data), "--out", str(blocker / "p.csv")]) == 2
    assert "cannot write" in _error_line(capsys)
    assert blocker.read_text() == "not a folder"


def test_atomic_dir_replaces_only_on_success(tmp_path):
    from ecsel._io import atomic_dir

    target = tmp_path / "report"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    assert (target / "a.txt").read_text() == "1"
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("2")
        raise RuntimeError("fail halfway")
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_help_and_version(capsys):
    assert main(["--version"]) == 0
    assert "ecsel" in capsys.readouterr().out
    assert main(["demo", "--help"]) == 0
    assert "shoppers" in capsys.readouterr().out
    assert main([]) == 2


def test_demo_feynman_writes_report(tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["demo", "feynman", "--laws", "I.12.1", "--out", str(out), "--fast", "-q"])
    assert code == 0
    assert (out / "report.md").read_text().startswith("# ecsel demo: AI Feynman")
    assert pd.read_csv(out / "feynman.csv")["law"].tolist() == ["I.12.1"]
    assert str(out.resolve()) in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo"]


def test_multiclass_fit_predict_explain(tmp_path, capsys):
    rng = np.random.default_rng(1)
    n = 300
    frame = pd.DataFrame({"a": rng.uniform(1, 4, n), "b": rng.uniform(1, 4, n)})
    frame["kind"] = np.select([frame.a > 2.8, frame.b > 2.5], ["x", "y"], default="z")
    data, model = tmp_path / "multi.csv", tmp_path / "multi.json"
    frame.to_csv(data, index=False)
    assert main(["fit", str(data), "--target", "kind", "--out", str(model), *FAST]) == 0
    assert "log P(y = y)/P(y = x) =" in capsys.readouterr().out
    assert main(["predict", str(model), str(data)]) == 0
    header = capsys.readouterr().out.splitlines()[0]
    assert header == "prediction,proba_x,proba_y,proba_z"
    out = tmp_path / "attr.csv"
    assert main(["explain", str(model), str(data), "--out", str(out)]) == 0
    attr = pd.read_csv(out)
    assert {"y:a", "z:b", "y:base_value"} <= set(attr.columns)
    assert len(attr) == n


def test_report_writes_one_self_contained_html_file(model, data, tmp_path, capsys):
    out = tmp_path / "report.html"
    assert main(["report", str(model), str(data), "--out", str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert out.stat().st_size < 2_000_000 and "http" not in page
    assert "window.ecsel" in page and "logit P(y = yes)" in page
    assert main(["report", str(model), str(tmp_path / "nope.csv")]) == 2
