"""Atomic output: a file or a folder appears complete or not at all.

The command line (:mod:`ecsel.cli`) and the case-study reports
(:mod:`ecsel.casestudies`) write everything through these helpers, so an
interrupted or failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder that replaces ``target`` only if the block succeeds.

    The folder is created next to ``target`` (same file system), so the final step is
    a rename; an existing ``target`` is moved aside first and removed afterwards. On
    an exception the temporary folder is deleted and ``target`` is left untouched.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> root = Path(tempfile.mkdtemp())
    >>> with atomic_dir(root / "report") as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> sorted(p.name for p in (root / "report").iterdir())
    ['a.txt']
    """
    target = Path(target).resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.{os.getpid()}.old")
        os.replace(target, old)
    os.replace(tmp, target)
    if old is not None:
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file and an atomic rename.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = atomic_write_text(Path(tempfile.mkdtemp()) / "model.json", "{}")
    >>> out.read_text()
    '{}'
    >>> oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())  # not mkstemp's 0600
    True
    """
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and an atomic rename.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> atomic_write_bytes(Path(tempfile.mkdtemp()) / "model.onnx", b"ONNX").read_bytes()
    b'ONNX'
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path).resolve()


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary file path that replaces ``target`` only if the block succeeds.

    The file is created next to ``target`` (same file system), so the final step is a
    rename; on an exception it is deleted and ``target`` is left untouched. For writers
    that need a file name (Parquet, CSV streams) rather than bytes in memory.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> out = Path(tempfile.mkdtemp()) / "scores.csv"
    >>> with atomic_path(out) as tmp:
    ...     _ = tmp.write_text("a,b")
    >>> out.read_text(), tmp.exists()
    ('a,b', False)
    """
    path = Path(target).resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        # mkstemp creates 0600; a report or a model is an ordinary file (0644 under the
        # usual umask), like the PNGs written next to it
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


__all__ = ["atomic_dir", "atomic_path", "atomic_write_bytes", "atomic_write_text"]
