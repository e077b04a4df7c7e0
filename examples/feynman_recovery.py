"""Symbolic recovery: can ECSELRegressor find the laws of the AI Feynman benchmark?

Samples signomial laws of the AI Feynman table (Udrescu & Tegmark 2020) on their
published ranges (500 rows to fit, 500 to test), fits ``ECSELRegressor`` and checks
whether the fitted equation has exactly the true terms: same exponents (to 1e-3) and
coefficients within 1 %. Writes ``report.md`` and ``feynman.csv``.

Run::

    python examples/feynman_recovery.py [--laws I.12.1,I.14.3] [--out DIR]

``--laws all`` tries every signomial law (``list_feynman(signomial_only=True)``; this
takes several minutes). The environment variable ``ECSEL_FEYNMAN_LAWS`` sets the
default list (the test suite uses it to run one law).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ecsel.casestudies import DEMO_FEYNMAN_LAWS, run_case_study
from ecsel.datasets import list_feynman


def main(argv: list[str] | None = None) -> int:
    """Fit the laws and print the recovery table; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--laws",
        default=os.environ.get("ECSEL_FEYNMAN_LAWS", ",".join(DEMO_FEYNMAN_LAWS)),
        help="comma-separated law names, or 'all' (signomial laws)",
    )
    parser.add_argument("--out", type=Path, default=Path("ecsel-report-feynman-example"))
    args = parser.parse_args(argv)
    laws = list_feynman(signomial_only=True) if args.laws == "all" else args.laws.split(",")
    result = run_case_study("feynman", args.out, feynman_laws=laws)
    print(result.summary)
    print(f"\nReport: {result.report} ({result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
