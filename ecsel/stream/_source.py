"""Tables too large for memory: Parquet files, folders of them, or CSV, read in chunks.

A :class:`TableSource` cuts its data into *chunks* (a Parquet row group, or a slice of
at most ``chunk_rows`` rows of one) with a global row offset each, so that every row
has a fixed index ``0 .. n_rows - 1`` whatever process reads it. CSV input is first
converted, one block at a time, into a temporary Parquet file (deleted by
:meth:`TableSource.close`), so CSV and Parquet behave the same afterwards.

pyarrow is imported lazily: it is the ``parquet`` extra.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
CSV_SUFFIXES = (".csv", ".csv.gz", ".tsv")
DEFAULT_CHUNK_ROWS = 1 << 17


class InputError(ValueError):
    """Input data that cannot be read (a corrupt page, files that disagree): it names
    the file and, for a corrupt page, the row group.

    Examples
    --------
    >>> issubclass(InputError, ValueError)  # callers that catch ValueError see it
    True
    """


def _kind(arrow_type) -> str:
    """Coarse kind of an Arrow type: numbers (and booleans) mix across files, the
    rest must match."""
    text = str(arrow_type)
    if text == "null":
        return "null"
    if text == "bool" or text.startswith(("int", "uint", "float", "double", "decimal")):
        return "number"
    return text.replace("large_", "")


def require_pyarrow():
    """Import pyarrow or fail with an ImportError that names the extra."""
    try:
        import pyarrow  # noqa: F401
        import pyarrow.parquet as pq
    except ImportError as exc:  # pragma: no cover - pyarrow is installed in CI
        raise ImportError(
            "Reading Parquet or CSV in chunks needs pyarrow: pip install 'ecsel[parquet]'."
        ) from exc
    return pq


# The row hash is the fit's own (one split rule in memory and streamed); re-exported
# here for the samples of the streaming passes.
from ecsel._fit.source import row_uniform  # noqa: E402,F401


@dataclass(frozen=True)
class Chunk:
    """Rows ``offset .. offset + n_rows - 1`` of the table: a row-group slice."""

    index: int
    file: int
    row_group: int
    start: int
    n_rows: int
    offset: int

    @property
    def rows(self) -> np.ndarray:
        return np.arange(self.offset, self.offset + self.n_rows, dtype=np.int64)


def _list_files(path: Path) -> tuple[list[Path], str]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and p.name.lower().endswith(PARQUET_SUFFIXES))
        if files:
            return files, "parquet"
        files = sorted(p for p in path.rglob("*") if p.is_file()
                       and p.name.lower().endswith(CSV_SUFFIXES))
        if files:
            return files, "csv"
        raise ValueError(f"Folder {str(path)!r} contains no Parquet or CSV files.")
    if not path.exists():
        raise ValueError(f"No such file or folder: {str(path)!r}.")
    name = path.name.lower()
    if name.endswith(CSV_SUFFIXES):
        return [path], "csv"
    return [path], "parquet"


class TableSource:
    """A Parquet file, a folder of Parquet (or CSV) files, or a CSV file, in chunks.

    Parameters
    ----------
    path : str or path-like
        A ``.parquet`` file, a ``.csv`` file, or a folder (all Parquet files below
        it in sorted order; CSV files when it holds no Parquet file).
    chunk_rows : int, default=131072
        Most rows in memory per chunk (row groups larger than this are sliced).
    columns : list of str, optional
        Columns to read (all by default; pandas' ``__index_level_*`` columns are
        always dropped).
    int_columns : list of str, optional
        CSV only: integer columns kept as integers (e.g. a class label). Other
        integer columns are read as float64, so that a later block with decimals
        does not contradict the type guessed from the first block.

    Attributes
    ----------
    columns : list of str
    n_rows : int
    chunks : list of Chunk

    Examples
    --------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "t.csv")
    >>> pd.DataFrame({"a": [1.0, 2.0, 3.0], "y": [0, 1, 0]}).to_csv(path, index=False)
    >>> with TableSource(path, chunk_rows=2) as source:
    ...     [len(source.read(c)) for c in source.chunks], source.columns
    ([2, 1], ['a', 'y'])
    """

    def __init__(self, path, *, chunk_rows: int = DEFAULT_CHUNK_ROWS, columns=None,
                 int_columns=()):
        pq = require_pyarrow()
        if int(chunk_rows) < 1:
            raise ValueError(f"chunk_rows must be a positive int, got {chunk_rows!r}.")
        self.path = str(path)
        self.chunk_rows = int(chunk_rows)
        self._tmpdir = None
        self._cache: OrderedDict = OrderedDict()
        self._int_columns = set(int_columns)
        files, kind = _list_files(Path(path))
        originals = list(files)
        if kind == "csv":
            self._tmpdir = tempfile.mkdtemp(prefix="ecsel-csv-")
            files = [self._csv_to_parquet(f, i) for i, f in enumerate(files)]
        try:
            self._files = [pq.ParquetFile(str(f)) for f in files]
        except Exception as exc:
            self.close()
            raise ValueError(f"Cannot read {self.path!r} as Parquet: {exc}") from exc
        names = [n for n in self._files[0].schema_arrow.names
                 if not n.startswith("__index_level_")]
        self._names = [str(f) for f in originals]
        for f, pf in zip(originals, self._files):
            other = [n for n in pf.schema_arrow.names if not n.startswith("__index_level_")]
            if other != names:
                self.close()
                raise InputError(f"{str(f)!r} has columns {other}, expected {names}.")
            for name in names:
                first = self._files[0].schema_arrow.field(name).type
                here = pf.schema_arrow.field(name).type
                if _kind(here) != _kind(first) and "null" not in (_kind(here), _kind(first)):
                    self.close()
                    raise InputError(
                        f"column {name!r} is {here} in {str(f)!r} but {first} in "
                        f"{str(originals[0])!r}; every file must hold the same kind of data")
        if columns is not None:
            missing = [c for c in columns if c not in names]
            if missing:
                self.close()
                raise ValueError(f"Columns {missing} are not in {self.path!r} "
                                 f"(it has {names}).")
            names = list(columns)
        self.columns = names
        self.chunks = self._make_chunks()
        self.n_rows = sum(c.n_rows for c in self.chunks)
        if self.n_rows == 0:
            self.close()
            raise ValueError(f"{self.path!r} has no data rows.")

    # ---------------------------------------------------------------- setup
    def _csv_to_parquet(self, path: Path, i: int) -> str:
        import pyarrow as pa
        import pyarrow.csv as pacsv
        import pyarrow.parquet as pq

        out = os.path.join(self._tmpdir, f"part-{i:05d}.parquet")
        try:
            first = pacsv.open_csv(str(path))
            schema = first.schema
            first.close()
            types = {f.name: (pa.float64() if pa.types.is_integer(f.type)
                              and f.name not in self._int_columns else f.type)
                     for f in schema}
            reader = pacsv.open_csv(
                str(path), read_options=pacsv.ReadOptions(block_size=1 << 24),
                convert_options=pacsv.ConvertOptions(column_types=types),
            )
            with pq.ParquetWriter(out, reader.schema) as writer:
                for batch in reader:
                    writer.write_table(pa.Table.from_batches([batch]),
                                       row_group_size=self.chunk_rows)
        except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as exc:
            self.close()
            raise ValueError(f"Cannot read {str(path)!r} as CSV: {exc}") from exc
        return out

    def _make_chunks(self) -> list[Chunk]:
        chunks, offset = [], 0
        for fi, pf in enumerate(self._files):
            for rg in range(pf.metadata.num_row_groups):
                n = pf.metadata.row_group(rg).num_rows
                for start in range(0, n, self.chunk_rows):
                    size = min(self.chunk_rows, n - start)
                    chunks.append(Chunk(len(chunks), fi, rg, start, size, offset))
                    offset += size
        return chunks

    # --------------------------------------------------------------- reading
    def read(self, chunk: Chunk) -> pd.DataFrame:
        """The rows of ``chunk`` as a DataFrame (columns in :attr:`columns` order).

        Examples
        --------
        >>> import os
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> pd.DataFrame({"a": [1.5, 2.5, 3.5], "y": [0, 1, 0]}).to_csv(path, index=False)
        >>> with TableSource(path, chunk_rows=2, int_columns=["y"]) as source:
        ...     last = source.read(source.chunks[-1])
        >>> last  # the index continues from the first chunk
             a  y
        2  3.5  0
        """
        key = (chunk.file, chunk.row_group)
        table = self._cache.get(key)
        if table is None:
            try:
                table = self._files[chunk.file].read_row_group(chunk.row_group,
                                                               columns=self.columns)
            except (OSError, ValueError) as exc:  # corrupt pages: ArrowInvalid, OSError
                raise InputError(f"cannot read row group {chunk.row_group} of "
                                 f"{self._names[chunk.file]!r}: {exc}") from exc
            self._cache[key] = table
            while len(self._cache) > 2:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        part = table.slice(chunk.start, chunk.n_rows)
        frame = part.to_pandas()
        frame.index = pd.RangeIndex(chunk.offset, chunk.offset + chunk.n_rows)
        return frame

    def __iter__(self):
        for chunk in self.chunks:
            yield chunk, self.read(chunk)

    def approx_nbytes(self) -> int:
        """Uncompressed size of the selected columns (from the Parquet metadata).

        Examples
        --------
        >>> import os
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> pd.DataFrame({"a": range(1000), "b": range(1000)}).to_csv(path, index=False)
        >>> with TableSource(path) as both, TableSource(path, columns=["a"]) as one:
        ...     sizes = both.approx_nbytes(), one.approx_nbytes()
        >>> sizes[1] > 8000, sizes[0] > sizes[1]  # float64: at least 8 bytes per value
        (True, True)
        """
        total = 0
        for pf in self._files:
            meta = pf.metadata
            for rg in range(meta.num_row_groups):
                group = meta.row_group(rg)
                for j in range(group.num_columns):
                    col = group.column(j)
                    if col.path_in_schema in self.columns:
                        total += col.total_uncompressed_size
        return total

    def close(self) -> None:
        """Forget cached row groups and delete the temporary copy of CSV input.

        Examples
        --------
        >>> import os
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "t.csv")
        >>> pd.DataFrame({"a": [1.0, 2.0]}).to_csv(path, index=False)
        >>> source = TableSource(path)
        >>> copy = source._tmpdir  # CSV input is read through a temporary Parquet copy
        >>> os.path.isdir(copy), source.close(), os.path.exists(copy)
        (True, None, False)
        """
        self._cache.clear()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

    def __enter__(self) -> TableSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"TableSource({self.path!r}, n_rows={getattr(self, 'n_rows', '?')})"
