"""``ecsel fit/predict/explain`` on Parquet files and folders (streamed in chunks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from ecsel import load_json
from ecsel.cli import main

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    n = 3000
    X = pd.DataFrame({"a": rng.lognormal(0, 0.6, n), "b": rng.lognormal(0, 0.6, n)})
    X["y"] = (rng.random(n) < expit(3 * X.a * X.b ** -0.5 - 3)).astype(int)
    (folder / "parts").mkdir()
    for i in range(3):
        X.iloc[1000 * i:1000 * (i + 1)].to_parquet(folder / "parts" / f"{i}.parquet")
    return folder, X


def test_cli_fit_predict_explain_on_parquet(table, capsys):
    folder, X = table
    model = folder / "model.json"
    code = main(["fit", str(folder / "parts"), "--target", "y", "--n-terms", "1",
                 "--max-iter", "60", "--n-restarts", "4", "--out", str(model), "-q"])
    assert code == 0, capsys.readouterr().err
    assert "streamed, 1 process(es)): 3,000 rows, 2 features" in capsys.readouterr().out
    est = load_json(model.read_text())
    assert main(["predict", str(model), str(folder / "parts"),
                 "--out", str(folder / "p.parquet")]) == 0
    pred = pd.read_parquet(folder / "p.parquet")
    np.testing.assert_allclose(pred["proba_1"], est.predict_proba(X[["a", "b"]])[:, 1],
                               rtol=1e-12)
    assert main(["explain", str(model), str(folder / "parts"),
                 "--out", str(folder / "e.csv")]) == 0
    exp = pd.read_csv(folder / "e.csv")
    np.testing.assert_allclose(exp[["a", "b"]].sum(1) + exp.base_value, exp.score,
                               rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(exp.score, est.decision_function(X[["a", "b"]]), rtol=1e-9)


def test_cli_stream_errors_are_one_line_and_leave_no_file(table, capsys):
    folder, _ = table
    out = folder / "bad.json"
    assert main(["fit", str(folder / "parts"), "--target", "nope", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ecsel: error: cannot fit") and "'nope'" in err
    assert "\n" not in err and not out.exists()
    assert main(["fit", str(folder / "parts"), "--target", "y",
                 "--memory-budget", "lots"]) == 2
    assert "invalid size" in capsys.readouterr().err


def test_cli_streamed_regression(table, capsys):
    folder, X = table
    X.assign(y=2.0 * X.a * X.b ** 2).to_parquet(folder / "r.parquet", row_group_size=1000)
    model = folder / "r.json"
    code = main(["fit", str(folder / "r.parquet"), "--target", "y", "--task", "regress",
                 "--n-terms", "1", "--out", str(model), "-q"])
    assert code == 0, capsys.readouterr().err
    assert "y = 2.0*a*b**2" in capsys.readouterr().out
    est = load_json(model.read_text())
    np.testing.assert_allclose(est.predict(X[["a", "b"]]), 2.0 * X.a * X.b ** 2, rtol=1e-6)
