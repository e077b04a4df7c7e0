"""``python -m ecsel.cli``: the same as the ``ecsel`` command."""

import sys

from ecsel.cli._main import main

sys.exit(main())
