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

The package has three parts: :mod:`ecsel.cli._io` (reading tables and models, atomic
writes, one-line errors), :mod:`ecsel.cli._commands` (one function per sub-command,
using only ecsel's public API and :mod:`ecsel.casestudies`) and
:mod:`ecsel.cli._main` (the parser and :func:`main`).

>>> from ecsel.cli import main
>>> main(["--version"])
ecsel 0.1.0
0
"""

from ecsel.cli._io import CLIError
from ecsel.cli._main import build_parser, main

__all__ = ["CLIError", "build_parser", "main"]
