"""Correctness of the fit engine (ecsel._fit): bounded scores, small data, terms, exponents.

Timing is measured in benchmarks/fit_speed.py, never here.
"""

import itertools
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_wine

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel._fit import primitives
from ecsel._fit.classify import EXPO_BOUND_SMALL, SmallDataWarning


def test_six_row_example_has_small_exponents_and_warns():
    X = np.arange(1.0, 7.0)[:, None]
    y = np.array([0, 1, 0, 1, 1, 0])
    with pytest.warns(SmallDataWarning):
        clf = ECSELClassifier(random_state=0).fit(X, y)
    assert np.abs(clf.signomial_.exponents).max() <= EXPO_BOUND_SMALL
    assert np.abs(clf.decision_function(X)).max() < 100


def test_every_front_row_of_tiny_fits_keeps_the_small_data_exponent_bound():
    # Every 4-, 5- and 6-row subset of the six-row example: the sparsity path's
    # refits keep the search's box too (they once reached |exponent| 14.9).
    x = np.arange(1.0, 7.0)
    y = np.array([0, 1, 0, 1, 1, 0])
    for size in (4, 5, 6):
        for rows in itertools.combinations(range(6), size):
            rows = list(rows)
            if len(set(y[rows])) < 2:
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SmallDataWarning)
                clf = ECSELClassifier(random_state=0).fit(x[rows, None], y[rows])
            for signomial in clf.equations_.signomial:
                assert np.abs(signomial.exponents).max() <= EXPO_BOUND_SMALL * (1 + 1e-9)
            assert np.abs(clf.decision_function(x[rows, None])).max() <= 100


def test_wine_scores_stay_bounded():
    X, y = load_wine(return_X_y=True, as_frame=True)
    clf = ECSELClassifier(random_state=0).fit(X, y)
    assert np.abs(clf.decision_function(X)).max() <= 100
    assert clf.score(X, y) > 0.95


def test_lbfgs_respects_masks_and_bounds():
    x = torch.tensor([3.0, -2.0, 0.5], dtype=torch.float64)
    (out,) = primitives.lbfgs(
        [x], lambda t: ((t[0] - 4.0) ** 2).sum(), masks=[torch.tensor([True, True, False])],
        bounds=[(torch.tensor(-1.0), torch.tensor(2.5))])
    assert out.tolist() == pytest.approx([2.5, 2.5, 0.5], abs=1e-9)


def test_lbfgs_on_iteration_sees_each_iterate_and_stops_the_run():
    # Rosenbrock needs many iterations: stopping after the third must return the
    # third iterate, not the optimum.
    def rosenbrock(t):
        x = t[0]
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    start = torch.tensor([-1.2, 1.0], dtype=torch.float64)
    seen = []

    def stop_after_three(tensors):
        seen.append(tensors[0].clone())
        return len(seen) == 3

    (out,) = primitives.lbfgs([start], rosenbrock, on_iteration=stop_after_three)
    assert len(seen) == 3
    assert torch.equal(out, seen[-1])
    assert float(rosenbrock([out])) > 1e-3
    (full,) = primitives.lbfgs([start], rosenbrock, on_iteration=lambda t: False)
    assert full.tolist() == pytest.approx([1.0, 1.0], abs=1e-6)


def test_path_polish_with_validation_never_returns_a_worse_validation_loss():
    from ecsel._fit import engine, sparsify

    g = torch.Generator().manual_seed(0)
    log_u = torch.randn(400, 4, generator=g, dtype=torch.float64)
    logit = 1.5 * log_u[:, 0] - log_u[:, 1]
    y = (torch.rand(400, generator=g, dtype=torch.float64) < torch.sigmoid(logit)).double()
    train = engine.Data(log_u[:300], y[:300], torch.ones(300, dtype=torch.float64))
    val = engine.Data(log_u[300:], y[300:], torch.ones(100, dtype=torch.float64))
    start = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
                          torch.tensor([[[-1.0, 1.0]]], dtype=torch.float64),
                          torch.tensor([[[[0.3, 0.0, 0.2, 0.1], [0.0, 0.4, 0.0, 0.1]]]],
                                       dtype=torch.float64))
    before = float(val.loss(start, "binary")[0])
    out = sparsify.polish(start, train, "binary", val=val)
    after = float(val.loss(out, "binary")[0])
    assert after < before
    unchecked = sparsify.polish(start, train, "binary")
    assert float(train.loss(unchecked, "binary")[0]) < float(train.loss(start, "binary")[0])
    # Zero exponents stay zero.
    assert bool(((out.expo == 0) == (start.expo == 0)).all())


def test_adam_matches_closed_form_minimum():
    target = torch.tensor([[0.7], [-1.3]], dtype=torch.float64)

    def loss(w, batch):
        return ((w[0] - target) ** 2).sum(-1)

    best, val, _ = primitives.adam_prox(
        [torch.zeros(2, 1, dtype=torch.float64)], loss, lambda: [None],
        lambda w: loss(w, None), lambda w: None, lr=0.05, max_iter=3000, patience=20)
    assert best[0][:, 0].tolist() == pytest.approx([0.7, -1.3], abs=1e-2)


def test_regressor_finds_integer_exponents_of_a_collinear_cubic():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, 300)
    y = x**3 + x**2 + x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = ECSELRegressor(random_state=0)
        if "model_selection" in est.get_params():
            est.set_params(model_selection="accuracy")
        est.fit(x[:, None], y)
    expo = np.sort(est.signomial_.exponents.ravel())
    assert est.n_terms_ == 3
    assert expo.tolist() == pytest.approx([1.0, 2.0, 3.0], abs=1e-9)
