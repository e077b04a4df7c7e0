"""Score a table chunk by chunk and write the result atomically (Parquet or CSV).

The output is written to a temporary file next to the target and renamed into
place only when every chunk has been written, so a failed or interrupted run never
leaves a partial file.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from ecsel._io import atomic_path
from ecsel.stream._source import PARQUET_SUFFIXES, TableSource, row_uniform

SALT_PREDICT_SAMPLE = 29
STREAM_METHODS = ("predict", "predict_proba", "decision_function", "explain")


def _open(source, columns=None, chunk_rows: int = 1 << 17) -> tuple[TableSource, bool]:
    if isinstance(source, TableSource):
        return source, False
    return TableSource(source, chunk_rows=chunk_rows, columns=columns), True


def sample_frame(source, columns, rows: int = 100_000) -> pd.DataFrame:
    """A deterministic row-hash sample of about ``rows`` rows (in row order).

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> pd.DataFrame({"a": range(10)}).to_parquet(path)
    >>> len(sample_frame(path, ["a"], rows=100))
    10
    """
    table, own = _open(source, columns)
    try:
        rate = min(1.0, rows / table.n_rows)
        parts = []
        for _, frame in table:
            keep = row_uniform(frame.index.to_numpy(), SALT_PREDICT_SAMPLE) < rate
            parts.append(frame.loc[keep, list(columns)])
        return pd.concat(parts).reset_index(drop=True)
    finally:
        if own:
            table.close()


def write_stream(source, out, fn: Callable[[pd.DataFrame], pd.DataFrame], *,
                 columns=None, chunk_rows: int = 1 << 17) -> int:
    """Write ``fn(chunk)`` for every chunk of ``source`` to ``out``; return the rows.

    ``out`` ending in ``.parquet`` (or ``.pq``) gives one Parquet file, any other name
    a CSV file, ``None`` or ``"-"`` CSV on standard output.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> pd.DataFrame({"a": [1.0, 2.0]}).to_parquet(os.path.join(folder, "in.parquet"))
    >>> write_stream(os.path.join(folder, "in.parquet"), os.path.join(folder, "out.csv"),
    ...              lambda f: f.assign(b=2 * f.a))
    2
    >>> open(os.path.join(folder, "out.csv")).read().split()
    ['a,b', '1.0,2.0', '2.0,4.0']
    """
    table, own = _open(source, columns, chunk_rows)
    try:
        if out is None or str(out) == "-":
            return _write_csv(table, fn, sys.stdout)
        parquet = Path(out).resolve().name.lower().endswith(PARQUET_SUFFIXES)
        with atomic_path(out) as tmp:
            if parquet:
                n = _write_parquet(table, fn, str(tmp))
            else:
                with open(tmp, "w", encoding="utf-8", newline="") as handle:
                    n = _write_csv(table, fn, handle)
        return n
    finally:
        if own:
            table.close()


def _write_csv(table, fn, handle) -> int:
    n = 0
    for i, (_, frame) in enumerate(table):
        result = fn(frame)
        result.to_csv(handle, index=False, header=(i == 0))
        n += len(result)
    return n


def _write_parquet(table, fn, tmp) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer, n = None, 0
    try:
        for _, frame in table:
            result = pa.Table.from_pandas(fn(frame), preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, result.schema)
            writer.write_table(result)
            n += result.num_rows
    finally:
        if writer is not None:
            writer.close()
    return n


def scores_frame(est, X: pd.DataFrame, method: str, background=None) -> pd.DataFrame:
    """One chunk's output of ``method`` as a DataFrame (the columns ``predict_stream`` writes).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> list(scores_frame(est, X.head(2), "predict").columns)
    ['prediction']
    """
    if method not in STREAM_METHODS:
        raise ValueError(f"method must be one of {STREAM_METHODS}, got {method!r}.")
    classes = getattr(est, "classes_", None)
    if method == "predict":
        return pd.DataFrame({"prediction": est.predict(X)})
    if method == "predict_proba":
        proba = est.predict_proba(X)
        return pd.DataFrame(proba, columns=[f"proba_{c}" for c in classes])
    if method == "decision_function":
        scores = np.asarray(est.decision_function(X))
        if scores.ndim == 1:
            return pd.DataFrame({"score": scores})
        return pd.DataFrame(scores, columns=[f"score_{c}" for c in classes])
    exp = est.explain(X, background=background)
    values = np.asarray(exp.values, dtype=float)
    names = [str(f) for f in exp.feature_names]
    if values.ndim == 2:
        return pd.DataFrame(values, columns=names)
    return pd.DataFrame(values.reshape(len(X), -1),
                        columns=[f"{c}:{f}" for c in classes for f in names])


def predict_stream(est, source, out, *, method: str = "predict", background=None,
                   chunk_rows: int = 1 << 17) -> int:
    """Write ``est.<method>`` of every row of a Parquet / CSV table, chunk by chunk.

    Parameters
    ----------
    est : fitted ECSEL estimator
    source : str, path-like or TableSource
    out : str or None
        ``.parquet`` or CSV path (written atomically), or None for standard output.
    method : {"predict", "predict_proba", "decision_function", "explain"}
    background : DataFrame, optional
        Reference rows of ``explain``; default ``est.background_``, else a
        100-row hash sample of the table (the same for every chunk).

    Returns
    -------
    int
        Rows written.

    Examples
    --------
    >>> import os, tempfile
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> folder = tempfile.mkdtemp()
    >>> X.to_parquet(os.path.join(folder, "x.parquet"))
    >>> predict_stream(est, os.path.join(folder, "x.parquet"),
    ...                os.path.join(folder, "p.parquet")) == len(X)
    True
    """
    if method not in STREAM_METHODS:
        raise ValueError(f"method must be one of {STREAM_METHODS}, got {method!r}.")
    columns = list(est.signomial_.input_features)
    table, own = _open(source, None, chunk_rows)
    try:
        missing = [c for c in columns if c not in table.columns]
        if missing:
            raise ValueError(f"{table.path!r} lacks the columns {missing} the model needs.")
        if method == "explain" and background is None and \
                getattr(est, "background_", None) is None:
            background = sample_frame(table, columns, rows=100)
        return write_stream(table, out, lambda f: scores_frame(
            est, f[columns].reset_index(drop=True), method, background))
    finally:
        if own:
            table.close()
