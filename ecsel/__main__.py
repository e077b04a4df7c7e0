"""``python -m ecsel``: the same as the ``ecsel`` command (see :mod:`ecsel.cli`)."""

import sys

from ecsel.cli._main import main

sys.exit(main())
