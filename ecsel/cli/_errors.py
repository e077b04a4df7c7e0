"""Errors and exit codes of the ``ecsel`` command.

Kept apart from :mod:`ecsel.cli._io` (which reads tables with pandas) so that the
parser, ``--help`` and ``--version`` load nothing heavy.
"""

from __future__ import annotations

USAGE_ERROR = 2
INTERNAL_ERROR = 1


class CLIError(Exception):
    """A user error: reported as one line on stderr with exit status 2.

    Examples
    --------
    >>> from ecsel.cli import CLIError, main
    >>> issubclass(CLIError, Exception)
    True
    >>> main(["fit", "no-such-file.csv", "--target", "y"])  # one line on stderr, status 2
    2
    """


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."
