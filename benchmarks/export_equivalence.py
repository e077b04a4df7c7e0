"""Exports against the estimator, row by row: ONNX, SQL (SQLite, DuckDB, Postgres), Python.

Protocol (issue 30): four fitted models with the estimators' default settings (Online
Shoppers raw with NaN and categories; the credit-card fraud data (the full file where
``load_credit_card_fraud`` finds it, else the bundled sample); a three-class target,
``VisitorType``, on the other shoppers columns; a regressor on raw shoppers columns),
each fitted on the first 70 % of the rows and evaluated on **all** rows plus the
hostile rows of ``tests/ecsel/test_export_equivalence.py`` (NaN in every column, unseen
levels, values far beyond the training range). For every export the largest relative
error against ``decision_function`` / ``predict_proba`` / ``predict`` is recorded, and
whether the predicted class agrees on every row. Postgres runs when its server
binaries are installed (a throw-away cluster on a Unix socket, via ``psql``).

Usage: ``python benchmarks/export_equivalence.py [--out docs/bench/exports.md] [--fast]``
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "ecsel"))

from test_export_equivalence import (  # noqa: E402  (the tests' oracles, reused)
    PROBA_FLOOR,
    hostile_rows,
    reference,
    rel_error,
    run_duckdb,
    run_onnx,
    run_python,
    run_sqlite,
)

from ecsel import ECSELClassifier, ECSELRegressor  # noqa: E402
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers  # noqa: E402


def models(fast: bool):
    params = {"n_terms": 2, "n_restarts": 2, "max_iter": 30} if fast else {}
    X, y = load_online_shoppers(return_X_y=True)
    n = int(0.7 * len(X))
    out = {}
    out["Online Shoppers"] = (ECSELClassifier(random_state=0, **params).fit(X[:n], y[:n]), X)
    Xf, yf = load_credit_card_fraud(return_X_y=True)
    nf = int(0.7 * len(Xf))
    # the full ULB file where it is installed, else the bundled sample
    out[f"credit-card fraud ({len(Xf):,} rows)"] = (
        ECSELClassifier(random_state=0, **params).fit(Xf[:nf], yf[:nf]), Xf)
    Xm, ym = X.drop(columns=["VisitorType"]), X["VisitorType"].astype(str)
    out["shoppers VisitorType (3 classes)"] = (
        ECSELClassifier(random_state=0, **params).fit(Xm[:n], ym[:n]), Xm)
    Xr = X[["Administrative", "ExitRates", "Month", "Weekend", "ProductRelated_Duration"]]
    rng = np.random.default_rng(0)
    yr = (5.0 * (X.ExitRates.fillna(0.02) + 0.02) ** -0.5 * np.where(X.Month == "Nov", 1.5, 1)
          * np.where(X.Weekend, 1.2, 1.0) * (X.Administrative.fillna(0) + 1.0) ** 0.3
          * np.exp(rng.normal(0, 0.05, len(X))))
    reg_params = {"n_terms": 1, "n_restarts": 2, "max_iter": 20} if fast else {}
    out["regressor (shoppers columns)"] = (
        ECSELRegressor(random_state=0, **reg_params).fit(Xr[:n], yr[:n]), Xr)
    return {name: (est, hostile_rows(X)) for name, (est, X) in out.items()}


class Postgres:
    """A throw-away Postgres cluster on a Unix socket (run as ``postgres`` under root)."""

    def __init__(self):
        self.root = Path(tempfile.mkdtemp(prefix="ecsel_pg_"))
        self.user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.user:
            shutil.chown(self.root, "postgres")
        subprocess.run(self.user + ["initdb", "-D", str(self.root / "data"), "-A", "trust",
                                    "-U", "postgres"], check=True, capture_output=True)
        subprocess.run(self.user + ["pg_ctl", "-D", str(self.root / "data"), "-w", "-l",
                                    str(self.root / "log"), "-o",
                                    f"-k {self.root} -p 55432 -c listen_addresses=''",
                                    "start"], check=True, capture_output=True)
        self.version = self.psql("SHOW server_version").strip()

    def psql(self, sql: str, stdin: str | None = None) -> str:
        done = subprocess.run(["psql", "-h", str(self.root), "-p", "55432", "-U", "postgres",
                               "-v", "ON_ERROR_STOP=1", "-Atq", "-c", sql], input=stdin,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"psql failed: {done.stderr.strip()[:500]}")
        return done.stdout

    def load(self, frame: pd.DataFrame, table: str) -> None:
        types = []
        for name in frame.columns:
            dtype = frame[name].dtype
            boolean = pd.api.types.infer_dtype(frame[name], skipna=True) == "boolean"
            kind = ("BOOLEAN" if boolean else
                    "DOUBLE PRECISION" if pd.api.types.is_float_dtype(dtype) else
                    "BIGINT" if pd.api.types.is_integer_dtype(dtype) else "TEXT")
            types.append(f'"{name}" {kind}')
        self.psql(f"DROP TABLE IF EXISTS {table}; CREATE TABLE {table} ({', '.join(types)})")
        self.psql(f"COPY {table} FROM STDIN WITH (FORMAT csv)",
                  stdin=frame.to_csv(index=False, header=False))

    def query(self, sql: str) -> pd.DataFrame:
        text = self.psql(f"COPY ({sql.rstrip()}) TO STDOUT WITH (FORMAT csv, HEADER)")
        return pd.read_csv(io.StringIO(text))

    def close(self):
        subprocess.run(self.user + ["pg_ctl", "-D", str(self.root / "data"), "-m", "fast",
                                    "stop"], capture_output=True)
        shutil.rmtree(self.root, ignore_errors=True)


def run_postgres(pg: Postgres):
    def run(est, X, index=None):
        pg.load(X.assign(row_id=np.arange(len(X))), "raw")
        rows = pg.query(est.to_sql("raw", dialect="postgres", keep=["row_id"], index=index))
        rows = rows.sort_values("row_id")
        if not hasattr(est, "classes_"):
            return {"prediction": rows["prediction"].to_numpy(dtype=np.float64)}
        scores = "score" if len(est.classes_) == 2 else [f"score_{c}" for c in est.classes_]
        labels = rows["prediction"].to_numpy()
        return {"score": rows[scores].to_numpy(dtype=np.float64),
                "proba": rows[[f"proba_{c}" for c in est.classes_]].to_numpy(np.float64),
                "label": labels.astype(est.classes_.dtype)}
    return run


def measure(est, X, run, floor: float, index=None) -> dict:
    want = reference(est, X, index=index)
    got = run(est, X, index=index)
    out = {}
    for key, value in want.items():
        if key == "label":
            out["labels agree"] = int(np.sum(np.asarray(got[key]).astype(value.dtype) == value))
        else:
            out[key] = rel_error(got[key], value, floor if key == "proba" else 0.0)
    out["rows"] = len(X)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "bench" / "exports.md"))
    parser.add_argument("--fast", action="store_true", help="small fits (a smoke run)")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    cases = models(args.fast)
    fit_s = time.perf_counter() - start
    runners = {"Python": (run_python, 0.0), "SQLite": (run_sqlite, 0.0),
               "DuckDB": (run_duckdb, 0.0), "ONNX (onnxruntime)": (run_onnx, PROBA_FLOOR)}
    pg = None
    if shutil.which("initdb") and shutil.which("pg_ctl") and shutil.which("psql"):
        try:
            pg = Postgres()
            runners["Postgres " + pg.version] = (run_postgres(pg), 0.0)
        except (subprocess.CalledProcessError, OSError, LookupError) as exc:
            print(f"Postgres not measured: {exc}", file=sys.stderr)
    lines = []
    try:
        for name, (est, X) in cases.items():
            other = [i for i in est.equations_.index if i != est.selected_index_]
            index = max(other, key=lambda i: est.equations_.loc[i, "complexity"])
            for target, (run, floor) in runners.items():
                for row, label in ((None, f"selected ({est.selected_index_})"),
                                   (index, f"index={index}")):
                    m = measure(est, X, run, floor, index=row)
                    cells = [name, target, label, str(m["rows"])]
                    for key in ("score", "proba", "prediction"):
                        cells.append(f"{m[key]:.1e}" if key in m else "")
                    cells.append(f"{m['labels agree']}/{m['rows']}" if "labels agree" in m
                                 else "")
                    lines.append("| " + " | ".join(cells) + " |")
                    print(lines[-1], flush=True)
    finally:
        if pg is not None:
            pg.close()
    load = os.getloadavg()
    header = [
        "# Exports reproduce the estimator (ONNX, SQL, Python)",
        "",
        f"Command: `python benchmarks/export_equivalence.py{' --fast' if args.fast else ''}`. "
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f} at the end; fits took {fit_s:.0f} s.",
        "",
        "Largest relative error over all rows (all rows of each data set plus its hostile "
        "rows: NaN in every column, unseen levels, values far beyond the training range), "
        "for the selected equation and for another row of `equations_` (`index=`). "
        "`score` is `decision_function`, `proba` `predict_proba`, `prediction` a "
        "regressor's `predict`; the last column counts rows whose predicted class "
        "agrees. ONNX probabilities are compared relative to max(|p|, 1e-9) (the "
        "estimator's own `1 - p` carries an absolute rounding error near 1e-16); "
        "everything else is plain relative error. Floors: 1e-9 for SQL and Python, "
        "1e-6 for ONNX, every class agreeing.",
        "",
        "| data | target | equation | rows | score | proba | prediction | class agrees |",
        "|---|---|---|---|---|---|---|---|",
    ]
    Path(args.out).write_text("\n".join(header + lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
