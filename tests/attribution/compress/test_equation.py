"""The equation student: exact differentiable Shapley values and the attribution term."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
import torch

from attribution.compress import EquationStudent, normalized_distance, teacher_attributions
from ecsel import ECSELRegressor, PositivityTransform, Signomial
from ecsel.explain import column_index, signomial_shapley_torch


@pytest.fixture(scope="module")
def fitted():
    """A regressor built around a dense random 3-term equation (no fit).

    Only the closed forms are compared, so the equation need not fit anything. Every
    column (numeric, categorical, linear) is used.
    """
    rng = np.random.default_rng(0)
    X = pd.DataFrame({
        "m": rng.uniform(1, 4, 120),
        "v": rng.uniform(0.5, 3, 120),
        "g": rng.choice(["a", "b", "c"], 120),
        "t": rng.normal(0, 1, 120),
    })
    transform = PositivityTransform.fit(X)
    dense = Signomial([0.3], [[1.0, -0.5, 2.0]],
                      rng.uniform(-1, 1, (1, 3, len(transform.feature_maps))), transform, ["y"])
    return ECSELRegressor.from_signomial(dense, X), X


def _params(sig):
    f64 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
    return f64(sig.coef), f64(sig.exponents)


def test_torch_shapley_equals_ecsel_explain(fitted):
    est, X = fitted
    sig = est.signomial_
    coef, expo = _params(sig)
    rows, back = X.iloc[:25], X.iloc[80:110]
    phi = signomial_shapley_torch(
        coef, expo, torch.tensor(sig.log_features(rows)), torch.tensor(sig.log_features(back)),
        torch.as_tensor(column_index(sig)), X.shape[1])
    ref = est.explain(rows, background=back).values
    np.testing.assert_allclose(phi[:, 0].numpy(), ref, rtol=1e-9, atol=1e-10)


def test_torch_shapley_equals_brute_force_enumeration():
    g = torch.Generator().manual_seed(1)
    p, n_terms = 4, 2
    coef = torch.randn(1, n_terms, generator=g, dtype=torch.float64)
    expo = torch.randn(1, n_terms, p, generator=g, dtype=torch.float64)
    lx = torch.randn(3, p, generator=g, dtype=torch.float64)
    lb = torch.randn(2, p, generator=g, dtype=torch.float64)

    def value(subset, x, b):  # z with the columns in subset from x, the rest from b
        mix = torch.where(torch.tensor([j in subset for j in range(p)]), x, b)
        return float((coef[0] * torch.exp(expo[0] @ mix)).sum())

    brute = np.zeros((3, p))
    for i in range(3):
        for r in range(2):
            for j in range(p):
                others = [k for k in range(p) if k != j]
                for size in range(p):
                    for s in itertools.combinations(others, size):
                        w = math.factorial(size) * math.factorial(p - size - 1) / math.factorial(p)
                        brute[i, j] += w * (value(set(s) | {j}, lx[i], lb[r])
                                            - value(set(s), lx[i], lb[r])) / 2
    phi = signomial_shapley_torch(coef, expo, lx, lb, torch.arange(p), p)
    np.testing.assert_allclose(phi[:, 0].numpy(), brute, rtol=1e-10, atol=1e-12)


def test_attribution_term_gradient_equals_finite_differences(fitted):
    est, X = fitted
    sig = est.signomial_
    coef, expo = _params(sig)
    log_x = torch.tensor(sig.log_features(X.iloc[:6]))
    log_b = torch.tensor(sig.log_features(X.iloc[100:104]))
    groups = torch.as_tensor(column_index(sig))
    target = torch.randn(6, X.shape[1], generator=torch.Generator().manual_seed(0),
                         dtype=torch.float64)

    def term(c, a):
        return normalized_distance(target, signomial_shapley_torch(c, a, log_x, log_b, groups,
                                                                   X.shape[1])[:, 0])

    inputs = (coef.clone().requires_grad_(), expo.clone().requires_grad_())
    assert torch.autograd.gradcheck(term, inputs, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_teacher_attributions_of_a_linear_teacher_are_exact():
    w = torch.tensor([1.5, -2.0, 0.5], dtype=torch.float64)
    teacher = lambda z: (z @ w)[:, None]  # noqa: E731
    x = torch.rand(5, 3, dtype=torch.float64)
    b = torch.rand(4, 3, dtype=torch.float64)
    got = teacher_attributions(teacher, x, b, [0, 1, 1], 2, batch_size=6)
    per_input = w * (x - b.mean(0))
    expected = torch.stack([per_input[:, 0], per_input[:, 1:].sum(1)], dim=1)
    torch.testing.assert_close(got, expected)


def test_equation_student_end_to_end(single_thread):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0.5, 2.0, (200, 3)), columns=["a", "b", "c"])
    torch.manual_seed(0)
    teacher = torch.nn.Sequential(torch.nn.Linear(3, 16), torch.nn.Tanh(),
                                  torch.nn.Linear(16, 1)).double()
    reg = ECSELRegressor(n_terms=2, n_restarts=1, max_iter=10, random_state=0)
    kw = dict(regressor=reg, n_background=8, ig_steps=8, epochs=15, lr=0.02, random_state=0,
              encoder=lambda f: torch.tensor(f.to_numpy()))
    matched = EquationStudent(teacher, beta=10.0, **kw).fit(X)
    assert len(matched.history_) == 15 and matched.history_[-1]["attribution"] > 0
    assert matched.signomial_ != matched.initial_estimator_.signomial_
    # the tuned equation is a new estimator whose front row is the deployed equation;
    # the initial fit still describes its own selected row
    tuned, initial = matched.estimator_, matched.initial_estimator_
    assert tuned.equations_.loc[tuned.selected_index_, "signomial"] == tuned.signomial_
    assert initial.equations_.loc[initial.selected_index_, "signomial"] == initial.signomial_
    assert tuned.get_params() == initial.get_params()
    # the student's explanation is ecsel's exact Shapley, and adds up to its prediction
    e = matched.explain(X.iloc[:10])
    np.testing.assert_allclose(e.values.sum(-1) + e.base_values, matched.predict(X.iloc[:10]))

    # prefit: starts from the given fit unchanged (the regressor is not refitted)
    prefit = EquationStudent(teacher, beta=10.0, prefit=True,
                             **{**kw, "regressor": matched.initial_estimator_}).fit(X)
    assert prefit.initial_estimator_.signomial_ == matched.initial_estimator_.signomial_
    assert prefit.initial_estimator_ is not matched.initial_estimator_
    np.testing.assert_allclose(prefit.predict(X.iloc[:10]), matched.predict(X.iloc[:10]))
    with pytest.raises(ValueError, match="not fitted"):
        EquationStudent(teacher, prefit=True, **kw).fit(X)
    with pytest.raises(ValueError, match="columns"):
        EquationStudent(teacher, prefit=True, **{**kw, "regressor": matched.initial_estimator_}
                        ).fit(X.rename(columns={"a": "z"}))

    with pytest.raises(ValueError, match="beta"):
        EquationStudent(teacher, beta=-1.0).fit(X)
    with pytest.raises(ValueError, match="groups"):
        EquationStudent(teacher, groups=["a", "zz", "c"], encoder=kw["encoder"]).fit(X)
