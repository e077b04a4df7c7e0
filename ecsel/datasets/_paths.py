"""Locate the data files shipped with ecsel.

In a wheel the repository's top-level ``datasets/`` folder is installed as
``ecsel/_data`` (``[tool.hatch.build.targets.wheel.force-include]`` in
``pyproject.toml``); in a source checkout or an editable install the files are read
from ``<repo>/datasets``.
"""

from __future__ import annotations

from pathlib import Path

import ecsel


class DataFileNotFoundError(FileNotFoundError, ValueError):
    """A data file is missing or a data source is unavailable.

    Subclasses both :class:`FileNotFoundError` and :class:`ValueError`, so either
    ``except`` clause catches it.

    Examples
    --------
    >>> from ecsel.datasets import DataFileNotFoundError, data_path
    >>> issubclass(DataFileNotFoundError, FileNotFoundError), issubclass(
    ...     DataFileNotFoundError, ValueError)
    (True, True)
    >>> try:
    ...     data_path("no-such-file.csv")
    ... except ValueError as error:  # FileNotFoundError catches it as well
    ...     print(type(error).__name__)
    DataFileNotFoundError
    """


def data_dirs() -> list[Path]:
    """Return the candidate data folders, most specific first."""
    package = Path(ecsel.__file__).resolve().parent
    return [package / "_data", package.parent / "datasets"]


def data_path(filename: str) -> Path:
    """Return the path of a shipped data file.

    Parameters
    ----------
    filename : str
        Name of the file inside the data folder, e.g. ``"FeynmanEquations.csv"``.

    Returns
    -------
    pathlib.Path
        The first existing ``<candidate>/<filename>``.

    Raises
    ------
    DataFileNotFoundError
        If no candidate folder holds the file.

    Examples
    --------
    >>> from ecsel.datasets import data_path
    >>> path = data_path("FeynmanEquations.csv")
    >>> path.name, path.is_file()
    ('FeynmanEquations.csv', True)
    """
    candidates = [folder / filename for folder in data_dirs()]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise DataFileNotFoundError(
        f"data file {filename!r} not found (looked in: {tried}); reinstall ecsel or run "
        "from a complete source checkout"
    )
