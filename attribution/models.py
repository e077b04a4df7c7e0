"""Old home of the reference models; they moved to :mod:`attribution.testing`.

Kept as a thin alias because the README and user scripts import from here.
"""

from .testing import *  # noqa: F403
from .testing import __all__  # noqa: F401
