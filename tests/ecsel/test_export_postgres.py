"""The Postgres dialect in a real Postgres server (issue 30).

Starts a throw-away cluster on a Unix socket (``initdb``/``pg_ctl``/``psql``; as the
``postgres`` user when run as root), so it runs only where the server binaries are
installed and ``ECSEL_TEST_POSTGRES=1`` asks for it (a cluster and the four fits take
a minute). The oracles are those of ``test_export_units`` and
``test_export_equivalence``: ``Signomial.evaluate`` and the estimator itself.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("ECSEL_TEST_POSTGRES") != "1"
    or not all(shutil.which(b) for b in ("initdb", "pg_ctl", "psql")),
    reason="set ECSEL_TEST_POSTGRES=1 where Postgres server binaries are installed")

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "ecsel"))


@pytest.fixture(scope="module")
def pg():
    from export_equivalence import Postgres

    server = Postgres()
    yield server
    server.close()


def test_postgres_covers_every_map(pg):
    from test_export_units import hostile, training_frame, unit_signomial

    s = unit_signomial()
    X = hostile(training_frame())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = s.evaluate(X)
    pg.load(X.assign(row_id=np.arange(len(X))), "t")
    rows = pg.query(s.to_sql("t", "postgres", keep=["row_id"])).sort_values("row_id")
    got = rows[["a", "b"]].to_numpy(dtype=np.float64)
    assert np.max(np.abs(got - want) / np.abs(want)) <= 1e-12


@pytest.mark.parametrize("case", ["shoppers", "fraud", "multiclass", "regressor"])
def test_postgres_reproduces_estimator_on_every_row(pg, case):
    from export_equivalence import run_postgres
    from test_export_equivalence import EXACT, check, fit_cases, reference

    global _CASES
    if "_CASES" not in globals():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CASES = fit_cases()
    est, X = _CASES[case]
    check(run_postgres(pg)(est, X), reference(est, X), EXACT)
