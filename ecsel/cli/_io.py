"""Input and output of the ``ecsel`` command: reading tables, loading models, writing.

Every error a user can cause is a :class:`~ecsel.cli._errors.CLIError` with a one-line
message; every file is written through :func:`ecsel._io.atomic_write_text`.
"""

from __future__ import annotations

import contextlib
import io
import sys
import warnings
from pathlib import Path

import pandas as pd

import ecsel
from ecsel._io import atomic_write_bytes, atomic_write_text
from ecsel.cli._errors import CLIError, one_line


def read_csv(path: str):
    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such file: {path}")
    if p.is_dir():
        raise CLIError(f"{path} is a folder, not a CSV file")
    try:
        frame = pd.read_csv(p)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
        OSError,
    ) as exc:
        raise CLIError(f"cannot read {path} as CSV: {one_line(exc)}") from exc
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise CLIError(f"{path} has no data rows")
    return frame


def load_model(path: str):
    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such file: {path}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read model {path}: {one_line(exc)}") from exc
    try:
        return ecsel.load_json(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise CLIError(f"{path} is not a valid ecsel model: {one_line(exc)}") from exc


def check_columns(model, frame, path: str):
    """The model's input columns from ``frame`` (extra columns are ignored)."""
    columns = list(model.signomial_.input_features)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise CLIError(f"{path} lacks {len(missing)} column(s) the model needs: {shown}")
    return frame[columns]


@contextlib.contextmanager
def one_line_warnings():
    """Show the library's warnings (ID-like columns, values missing only at predict
    time, ...) as ``ecsel: warning: ...`` lines on stderr, each once."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            seen = set()
            for item in caught:
                text = one_line(item.message)
                if text not in seen and not issubclass(item.category, DeprecationWarning):
                    seen.add(text)
                    print(f"ecsel: warning: {text}", file=sys.stderr)


def split_columns(values) -> list[str]:
    """``--drop a,b --drop c`` -> ``["a", "b", "c"]``.

    Examples
    --------
    >>> split_columns(["a,b", "c"]), split_columns(None)
    (['a', 'b', 'c'], [])
    """
    return [name.strip() for value in values or [] for name in value.split(",")
            if name.strip()]


def write_csv(frame, out: str | None, index: bool = False) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=index)
    if out is None or out == "-":
        sys.stdout.write(buffer.getvalue())
    else:
        save_text(out, buffer.getvalue())
        print(f"wrote {Path(out).resolve()}", file=sys.stderr)


def save_text(out: str, text: str) -> None:
    """Atomic write; an OS error (no such folder, no permission, disk full) is a CLIError."""
    try:
        atomic_write_text(out, text)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {one_line(exc)}") from exc


def save_bytes(out: str, data: bytes) -> None:
    """:func:`save_text` for binary output (an ONNX file)."""
    try:
        atomic_write_bytes(out, data)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {one_line(exc)}") from exc


def guess_task(y) -> str:
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return "classify"
    values = y.dropna().unique()
    integral = bool(pd.Series(values).eq(pd.Series(values).round()).all())
    return "classify" if integral and len(values) <= 20 else "regress"



def parse_monotonic(text: str) -> dict[str, int]:
    """``"PageValues=+1,ExitRates=-1"`` as ``{column: sign}`` (the ``--monotonic`` flag).

    Examples
    --------
    >>> parse_monotonic("PageValues=+1, ExitRates=-1")
    {'PageValues': 1, 'ExitRates': -1}
    >>> parse_monotonic("PageValues=up")
    Traceback (most recent call last):
    ...
    ecsel.cli._errors.CLIError: --monotonic: 'PageValues=up' is not COLUMN=+1, COLUMN=-1 or COLUMN=0
    """
    signs = {}
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        column, _, value = item.rpartition("=")
        if not column or value.strip() not in ("+1", "1", "-1", "0"):
            raise CLIError(f"--monotonic: {item!r} is not COLUMN=+1, COLUMN=-1 or COLUMN=0")
        signs[column.strip()] = int(value.strip())
    if not signs:
        raise CLIError("--monotonic needs at least one COLUMN=SIGN")
    return signs


def read_units(path: str, features, target: str) -> tuple[dict, dict]:
    """``(units, target_units)`` from a CSV with one row per column (the ``--units`` flag).

    The first column names the data column; every other numeric column is a base
    dimension (``m, s, kg, ...``) holding that column's power; text columns (a
    description) are ignored. Rows are needed for every feature and the target.
    """
    table = read_csv(path)
    name = table.columns[0]
    bases = [c for c in table.columns[1:] if pd.api.types.is_numeric_dtype(table[c])]
    rows = {str(r[name]): {b: float(r[b]) for b in bases if float(r[b]) != 0}
            for _, r in table.iterrows()}
    missing = [c for c in [*features, target] if c not in rows]
    if missing:
        raise CLIError(f"--units: {path} has no row for {', '.join(map(str, missing))}")
    return {c: rows[c] for c in features}, rows[target]
