"""The ``ecsel`` command: fit, predict, explain and the bundled demos.

Examples
--------
.. code-block:: console

    $ ecsel fit sessions.csv --target Revenue --out model.json
    $ ecsel predict model.json new_sessions.csv --out predictions.csv
    $ ecsel explain model.json new_sessions.csv --out attributions.csv
    $ ecsel demo shoppers --out report/

Bad input (a missing file or column, a non-numeric regression target, an unreadable
model) gives a one-line ``ecsel: error: ...`` on stderr and exit status 2. Every
output file is written to a temporary file and renamed into place, so an interrupted
or failed run never leaves a half-written file behind. Set ``ECSEL_DEBUG=1`` to get
the traceback of an unexpected error.

The package has four parts: :mod:`ecsel.cli._io` (reading tables and models, atomic
writes, one-line errors), :mod:`ecsel.cli._commands` (one function per sub-command,
using only ecsel's public API and :mod:`ecsel.casestudies`), :mod:`ecsel.cli._stream`
(the same commands through :mod:`ecsel.stream`) and :mod:`ecsel.cli._main` (the parser
and :func:`main`). The commands are loaded when one runs (PEP 562 ``__getattr__``
below: ``commands`` and ``streams``), so ``ecsel --help`` and ``ecsel --version``
import neither torch nor scikit-learn.

>>> from ecsel.cli import main
>>> main(["--version"])
ecsel 0.1.0
0
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

#: Lazy attributes: the entry points and the two command modules, loaded on first use.
_LAZY = {
    "CLIError": ("ecsel.cli._errors", "CLIError"),
    "build_parser": ("ecsel.cli._main", "build_parser"),
    "main": ("ecsel.cli._main", "main"),
    "commands": ("ecsel.cli._commands", None),
    "streams": ("ecsel.cli._stream", None),
}

__all__ = ["CLIError", "build_parser", "main"]

if TYPE_CHECKING:
    from ecsel.cli._errors import CLIError
    from ecsel.cli._main import build_parser, main


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module_name, attribute = _LAZY[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value
