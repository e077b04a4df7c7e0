"""The property-based suite: one torch thread, and the case counts of the session.

``ECSEL_FUZZ_REPORT=path`` writes ``{"estimator": {...}, "attribution": {...}}`` (cases
run per property) when the session ends; docs/benchmarks.md records them.
"""

import os

import pytest
import torch
from fuzz_support import write_report


@pytest.fixture
def fuzz_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("ECSEL_FUZZ_REPORT")
    if path:
        write_report(path, failed=session.testsfailed)
