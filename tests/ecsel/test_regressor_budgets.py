"""The regressor's budgets bound its work (counted, not timed), and its progress
bar reports the sizes actually fitted."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

import ecsel._base
from ecsel import ECSELRegressor
from ecsel._fit import primitives
from ecsel._fit.budget import MAX_SUBSETS, QUICK_POLISH, SUBSETS_PER_RESTART, SearchBudget
from ecsel._fit.symbolic import SymbolicSearch
from ecsel.regressor import MAX_AUTO_TERMS, auto_size_limit


def _polynomial_search(n_restarts, max_iter):
    x = torch.linspace(0.5, 2.0, 300, dtype=torch.float64)
    log_u, y = torch.log(x)[:, None], x**4 + x**3 + x**2 + x
    return SymbolicSearch((log_u, y), (log_u, y), n_restarts=n_restarts, l1=0.0,
                          max_iter=max_iter, generator=torch.Generator().manual_seed(0),
                          rng=None)


@pytest.mark.parametrize("n_restarts", [1, 2, 32])
def test_subset_search_respects_n_restarts(n_restarts):
    search = _polynomial_search(n_restarts, 40)
    lattice = search.lattice().shape[0]
    search.best_subset(3)
    allowed = min(MAX_SUBSETS, SUBSETS_PER_RESTART * n_restarts)
    subsets = search.n_lattice_evaluated - (lattice if math.comb(lattice, 3) > allowed else 0)
    assert 0 < subsets <= allowed
    # The pool is the largest whose subsets fit the budget.
    pool = max(p for p in range(3, lattice + 1) if math.comb(p, 3) <= allowed)
    assert subsets == math.comb(pool, 3)


def _record_lbfgs(monkeypatch):
    calls = []
    original = primitives.lbfgs

    def recording(*args, **kwargs):
        calls.append(kwargs["max_iter"])
        return original(*args, **kwargs)

    monkeypatch.setattr(primitives, "lbfgs", recording)
    return calls


def test_size_search_polishes_within_the_budget(monkeypatch):
    calls = _record_lbfgs(monkeypatch)
    search = _polynomial_search(n_restarts=2, max_iter=20)
    search.run(3, search.log_linear_start())
    budget = SearchBudget.from_params(2, 20)
    assert calls and max(calls) <= budget.polish_iter == QUICK_POLISH
    assert search.n_polishes == len(calls)
    assert search.n_steps <= 20

    # One restart: one lattice term set and one Adam restart are polished at full
    # length, plus the clean-up's all-at-once snap (the rest are quick refits).
    calls.clear()
    search = _polynomial_search(n_restarts=1, max_iter=100)
    search.run(3, search.log_linear_start())
    full = SearchBudget.from_params(1, 100).polish_iter
    assert full == 50 and max(calls) == full
    assert calls.count(full) <= 3

    calls.clear()
    search = _polynomial_search(n_restarts=32, max_iter=400)
    search.run(3, search.log_linear_start())
    assert max(calls) == 200


def test_fit_with_small_budget_bounds_every_stage(monkeypatch):
    calls = _record_lbfgs(monkeypatch)
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(1, 5, (200, 3)), columns=["a", "b", "c"])
    y = np.sin(X.a) * X.b + np.log(X.c) + rng.normal(0, 0.1, 200)
    est = ECSELRegressor(n_terms=2, n_restarts=2, max_iter=20, random_state=0).fit(X, y)
    assert max(calls) <= QUICK_POLISH
    assert est.n_iter_ <= 20


@pytest.mark.parametrize("n_rows, n_features", [(19, 10), (19, 2), (3, 1), (1600, 9)])
def test_auto_sizes_fit_fewer_numbers_than_rows(n_rows, n_features):
    limit = auto_size_limit(n_rows, n_features)
    assert 1 <= limit <= MAX_AUTO_TERMS
    if limit > 1:
        assert limit * (n_features + 1) + 1 < n_rows
    if limit < MAX_AUTO_TERMS:
        assert (limit + 1) * (n_features + 1) + 1 >= n_rows


class _RecordingBar:
    bars = []

    def __init__(self, total, desc, leave):
        self.total, self.n, self.closed_at = total, 0, None
        _RecordingBar.bars.append(self)

    def update(self, k):
        self.n += k

    def set_postfix_str(self, text):
        self.postfix = text

    def refresh(self):
        pass

    def close(self):
        self.closed_at = (self.n, self.total)


def test_progress_bar_total_is_the_sizes_fitted(monkeypatch):
    monkeypatch.setattr(ecsel._base, "tqdm", _RecordingBar)
    _RecordingBar.bars.clear()
    rng = np.random.default_rng(1)
    # 24 rows, 10 features (an mtcars-shaped table): few sizes are allowed and the
    # search stops early; the bar must end full, at the count fitted.
    X = pd.DataFrame(rng.uniform(1, 5, (24, 10)), columns=[f"x{i}" for i in range(10)])
    y = 3 * X.x0 / X.x1 + rng.normal(0, 0.5, 24)
    ECSELRegressor(random_state=0, verbose=True).fit(X, y)
    X2 = pd.DataFrame(rng.uniform(1, 5, (300, 2)), columns=["a", "b"])
    ECSELRegressor(random_state=0, verbose=True).fit(X2, X2.a * X2.b**2)
    assert len(_RecordingBar.bars) == 2
    for bar in _RecordingBar.bars:
        n, total = bar.closed_at
        assert n == total >= 1
    # The exact law stops after its first size, far below the 10 announced.
    assert _RecordingBar.bars[1].closed_at == (1, 1)
