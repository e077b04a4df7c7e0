"""Parquet, folder and large-CSV inputs of ``ecsel fit/predict/explain`` (ecsel.stream).

A Parquet file, a folder of Parquet (or CSV) files, a CSV larger than
``--memory-budget`` (counting about 10 bytes of working memory per byte of CSV), or
any run under ``torchrun`` goes through :mod:`ecsel.stream`: the fit reads the table
in chunks (data-parallel across ranks under ``torchrun``; only rank 0 writes the
model), and predictions or attributions are written chunk by chunk. Every output is
written to a temporary file and renamed into place.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

import pandas as pd

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel.casestudies import median_row
from ecsel.cli._commands import attribution_table
from ecsel.cli._io import (
    CLIError,
    check_columns,
    load_model,
    one_line,
    read_csv,
    save_text,
    split_columns,
)
from ecsel.stream import (
    DistributedFitError,
    InputError,
    TableSource,
    fit_stream,
    init_from_env,
    sample_frame,
    write_stream,
)
from ecsel.stream._dist import Comm

UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20,
         "mib": 2**20, "g": 2**30, "gb": 2**30, "gib": 2**30}
WORKING_FACTOR = 10


def parse_bytes(text: str) -> int:
    """``"1GiB"`` -> 1073741824 (argparse type of ``--memory-budget``)."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([a-zA-Z]*)\s*", str(text))
    if not match or match.group(2).lower() not in UNITS:
        raise ValueError(f"invalid size {text!r} (use e.g. 512MiB or 2GiB)")
    return int(float(match.group(1)) * UNITS[match.group(2).lower()])


def wants_stream(path: str, budget: int) -> bool:
    p = Path(path)
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        return True
    if p.is_dir() or p.name.lower().endswith((".parquet", ".pq", ".parq")):
        return True
    return p.is_file() and p.stat().st_size * WORKING_FACTOR > budget


def _source(path: str, **kw):
    try:
        return TableSource(path, **kw)
    except (ValueError, ImportError) as exc:
        raise CLIError(f"cannot read {path}: {one_line(exc)}") from exc


def stream_fit(args) -> int:
    regress = args.task == "regress"
    init_from_env(device="auto", timeout_s=args.timeout)
    comm = Comm()
    params = {"random_state": args.random_state, "verbose": not args.quiet and comm.rank == 0}
    for name in ("n_terms", "n_restarts", "max_iter"):
        if getattr(args, name) is not None:
            params[name] = getattr(args, name)
    source = _source(args.data, int_columns=[] if regress else [args.target])
    try:
        dropped = split_columns(args.drop)
        features = [c for c in source.columns if c != args.target and c not in dropped]
        start = time.perf_counter()
        estimator = (ECSELRegressor if regress else ECSELClassifier)(**params)
        est = fit_stream(estimator, source, target=args.target,
                         features=features)
    except (ValueError, DistributedFitError) as exc:
        raise CLIError(f"cannot fit {args.data}: {one_line(exc)}") from exc
    finally:
        source.close()
    if comm.rank != 0:
        return 0
    print(f"ecsel fit (streamed, {comm.world} process(es)): {source.n_rows:,} rows, "
          f"{len(features)} features ({time.perf_counter() - start:.1f} s)")
    print(f"\nequation ({est.n_terms_} term(s); y is the column {args.target!r}):")
    print(est.signomial_)
    if args.out:
        save_text(args.out, est.to_json())
        print(f"\nsaved the model to {Path(args.out).resolve()}")
    return 0


def _write(args, est, fn, columns) -> int:
    source = _source(args.data, columns=None)
    try:
        missing = [c for c in columns if c not in source.columns]
        if missing:
            raise CLIError(f"{args.data} lacks {len(missing)} column(s) the model needs: "
                           f"{', '.join(map(repr, missing[:8]))}")
        n = write_stream(source, args.out, fn)
    except InputError as exc:  # before OSError: a corrupt input is not the output's fault
        raise CLIError(f"cannot read {args.data}: {one_line(exc)}") from exc
    except ValueError as exc:
        raise CLIError(f"cannot apply the model to {args.data}: {one_line(exc)}") from exc
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {one_line(exc)}") from exc
    finally:
        source.close()
    if args.out not in (None, "-"):
        print(f"wrote {n:,} rows to {Path(args.out).resolve()}", file=sys.stderr)
    return 0


def stream_predict(args) -> int:
    est = load_model(args.model)
    columns = list(est.signomial_.input_features)

    def fn(frame):
        X = frame[columns].reset_index(drop=True)
        out = pd.DataFrame({"prediction": est.predict(X)})
        if hasattr(est, "classes_"):
            proba = est.predict_proba(X)
            for j, c in enumerate(est.classes_):
                out[f"proba_{c}"] = proba[:, j]
        return out

    return _write(args, est, fn, columns)


def stream_explain(args) -> int:
    est = load_model(args.model)
    columns = list(est.signomial_.input_features)
    if args.background is not None:
        background = check_columns(est, read_csv(args.background), args.background)
    else:  # the typical row of a 100,000-row hash sample: one reference for all chunks
        try:
            background = median_row(sample_frame(args.data, columns, rows=100_000))
        except (ValueError, KeyError) as exc:
            raise CLIError(f"cannot read {args.data}: {one_line(exc)}") from exc
    def fn(frame):
        X = frame[columns].reset_index(drop=True)
        values, bases = attribution_table(est, X, background)
        out = pd.concat([values, bases], axis=1)
        if hasattr(est, "classes_") and len(est.classes_) == 2:
            out["score"] = est.decision_function(X)
        elif not hasattr(est, "classes_"):
            out["score"] = est.predict(X)
        return out

    return _write(args, est, fn, columns)


def streaming(in_memory, streamed):
    """The sub-command: ``streamed`` for Parquet / folder / large-CSV input, else ``in_memory``."""

    def run(args) -> int:
        if wants_stream(args.data, args.memory_budget):
            return streamed(args)
        return in_memory(args)

    return run
