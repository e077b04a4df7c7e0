"""Scale benchmarks: in-memory fit, out-of-core Parquet fit, 1 vs 2 gloo ranks, Dask scoring.

Modes (each prints one JSON line per measurement, and ``--md`` appends a table row):

``memory``  ``ECSELClassifier()`` / ``ECSELRegressor()`` on 100,000 x 20 rows in memory
            (the Wave-1 numbers).
``stream``  ``ecsel.stream.fit_stream(ECSELClassifier(random_state=0), path, ...)`` on
            synthetic Parquet files of 1 M, 5 M and 20 M rows x 10 features; every size
            runs in a fresh process, which reports its rows/s and peak RSS
            (``ru_maxrss``), and the ROC AUC on 200,000 fresh rows.
``gloo``    the same fit on one file with 1 process and with ``torchrun
            --nproc-per-node 2`` (gloo), speed-up and whether the equations agree.
``dask``    scoring throughput: ``ecsel.stream.dask`` on a ``distributed.LocalCluster``
            vs in-memory ``predict_proba``.

Usage: ``python benchmarks/scale.py stream --rows 1000000 5000000 20000000``
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

ROOT = Path(__file__).resolve().parents[1]


def make_data(rows: int, features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.lognormal(0, 0.5, (rows, features)),
                     columns=[f"f{j}" for j in range(features)])
    score = 2 * X.f0 * X.f1**-0.5 - X.f2**1.5 + 0.5
    y_class = (rng.random(rows) < expit(score)).astype(int)
    y_reg = score + rng.normal(0, 0.1, rows)
    return X, y_class, y_reg


def write_parquet(path: Path, rows: int, features: int, seed: int = 0,
                  block: int = 1_000_000, row_group: int = 131_072) -> None:
    """Write ``rows`` synthetic rows in blocks (memory stays at one block)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for i, start in enumerate(range(0, rows, block)):
            X, y, _ = make_data(min(block, rows - start), features, seed=seed * 100_003 + i)
            table = pa.Table.from_pandas(X.assign(y=y), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema)
            writer.write_table(table, row_group_size=row_group)
    finally:
        if writer is not None:
            writer.close()


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _auc(clf, test_path) -> float:
    from sklearn.metrics import roc_auc_score

    test = pd.read_parquet(test_path)
    return float(roc_auc_score(test.y, clf.decision_function(test.drop(columns="y"))))


def fit_one(path: str, test_path: str, out: str | None = None) -> dict:
    """One streaming fit in this process (also the torchrun entry point)."""
    from ecsel import ECSELClassifier
    from ecsel.stream import fit_stream, init_from_env
    from ecsel.stream._dist import Comm

    torch.set_num_threads(1)
    init_from_env(device="cpu")
    comm = Comm()
    start = time.perf_counter()
    clf = fit_stream(ECSELClassifier(random_state=0), path, target="y")
    seconds = time.perf_counter() - start
    import pyarrow.parquet as pq

    rows = pq.ParquetFile(path).metadata.num_rows
    result = dict(rows=rows, world=comm.world, seconds=round(seconds, 1),
                  rows_per_s=round(rows / seconds), peak_rss_mib=round(peak_mib()),
                  n_terms=int(clf.n_terms_), equation=str(clf.sympy(precision=3)),
                  exponents=clf.signomial_.exponents.tolist())
    if comm.rank == 0:
        result["test_auc"] = round(_auc(clf, test_path), 4)
        if out:
            Path(out).write_text(json.dumps(result))
        print(json.dumps(result), flush=True)
    return result


def _child(args, extra=()):
    cmd = [sys.executable, str(Path(__file__).resolve()), "_fit", *args]
    proc = subprocess.run([*extra, *cmd] if extra else cmd, capture_output=True, text=True)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return proc


def mode_stream(args, folder: Path) -> None:
    test = folder / "test.parquet"
    write_parquet(test, 200_000, args.features, seed=999)
    for rows in args.rows:
        path = folder / f"train_{rows}.parquet"
        start = time.perf_counter()
        write_parquet(path, rows, args.features, seed=1)
        made = time.perf_counter() - start
        out = folder / f"result_{rows}.json"
        _child([str(path), str(test), str(out)])
        result = json.loads(out.read_text())
        result["file_mib"] = round(path.stat().st_size / 2**20)
        result["write_seconds"] = round(made, 1)
        print(json.dumps(result), flush=True)
        path.unlink()


def mode_gloo(args, folder: Path) -> None:
    test = folder / "test.parquet"
    write_parquet(test, 200_000, args.features, seed=999)
    path = folder / "train.parquet"
    write_parquet(path, args.rows[0], args.features, seed=1)
    results = {}
    for world in (1, 2):
        out = folder / f"gloo_{world}.json"
        extra = () if world == 1 else (sys.executable, "-m", "torch.distributed.run",
                                       "--nproc-per-node", "2", "--master-port", "29533")
        if world == 1:
            _child([str(path), str(test), str(out)])
        else:
            cmd = [*extra, str(Path(__file__).resolve()), "_fit", str(path), str(test),
                   str(out)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode:
                raise RuntimeError(proc.stderr[-2000:])
        results[world] = json.loads(out.read_text())
        print(json.dumps(results[world]), flush=True)
    e1, e2 = np.array(results[1]["exponents"]), np.array(results[2]["exponents"])
    same = e1.shape == e2.shape and bool(np.array_equal(e1 != 0, e2 != 0))
    print(json.dumps(dict(speedup=round(results[1]["seconds"] / results[2]["seconds"], 2),
                          same_monomials=same,
                          max_exponent_diff=float(np.abs(e1 - e2).max()) if same else None,
                          auc_diff=abs(results[1]["test_auc"] - results[2]["test_auc"]))))


def mode_dask(args, folder: Path) -> None:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    from ecsel import ECSELClassifier
    from ecsel.stream.dask import ParallelPostFit

    torch.set_num_threads(1)
    X, y, _ = make_data(args.rows[0], args.features)
    clf = ECSELClassifier(n_terms=2, random_state=0).fit(X.iloc[:50_000], y[:50_000])
    times = {"memory": [], "dask": []}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      host="127.0.0.1", dashboard_address=None) as cluster, Client(cluster):
        ddf = dd.from_pandas(X, npartitions=8).persist()
        wrapped = ParallelPostFit(clf)
        for _ in range(args.repeats):
            start = time.perf_counter()
            mem = clf.predict_proba(X)
            times["memory"].append(time.perf_counter() - start)
            start = time.perf_counter()
            got = wrapped.predict_proba(ddf).compute()
            times["dask"].append(time.perf_counter() - start)
        equal = bool(np.allclose(got.to_numpy(), mem, rtol=1e-12, atol=0))
    med = {k: float(np.median(v)) for k, v in times.items()}
    print(json.dumps(dict(rows=len(X), memory_s=round(med["memory"], 3),
                          dask_s=round(med["dask"], 3),
                          memory_rows_per_s=round(len(X) / med["memory"]),
                          dask_rows_per_s=round(len(X) / med["dask"]), equal=equal)))


def mode_memory(args) -> None:
    from ecsel import ECSELClassifier, ECSELRegressor

    torch.set_num_threads(1)
    X, y_class, y_reg = make_data(args.rows[0], args.features)
    print(f"data: {X.memory_usage().sum() / 2**20:.1f} MiB; peak before fitting: "
          f"{peak_mib():.0f} MiB")
    for est, y in ((ECSELClassifier(random_state=0), y_class),
                   (ECSELRegressor(random_state=0), y_reg)):
        start = time.perf_counter()
        est.fit(X, y)
        print(f"{type(est).__name__}: {time.perf_counter() - start:.1f} s, "
              f"score {est.score(X, y):.4f}, n_terms {est.n_terms_}, "
              f"peak RSS so far {peak_mib():.0f} MiB", flush=True)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_fit":
        fit_one(*argv[1:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["memory", "stream", "gloo", "dask"])
    parser.add_argument("--rows", type=int, nargs="+", default=None)
    parser.add_argument("--features", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", default=None, help="scratch folder (default: a temp dir)")
    args = parser.parse_args(argv)
    defaults = {"memory": ([100_000], 20), "stream": ([1_000_000, 5_000_000, 20_000_000], 10),
                "gloo": ([1_000_000], 10), "dask": ([1_000_000], 10)}
    args.rows = args.rows or defaults[args.mode][0]
    args.features = args.features or defaults[args.mode][1]
    if args.mode == "memory":
        mode_memory(args)
        return
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        {"stream": mode_stream, "gloo": mode_gloo, "dask": mode_dask}[args.mode](args, Path(tmp))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
