"""The closed-form gradient of the refit objective against autograd of its definition."""

import pytest
import torch
import torch.nn.functional as F

from ecsel._fit import engine
from ecsel._fit.objective import penalised_grad
from ecsel._transform import EXP_CLAMP


def _reference(tensors, data, task, score_l2, ridge, l1, mask):
    """The objective built from autograd-able pieces (the wall as a Huber loss)."""
    scores = engine.batched_scores(data.log_u, *tensors)
    value = engine.data_loss(scores, data.y, data.weights, task)
    excess = torch.relu(scores.abs() - 10.0)
    wall = F.huber_loss(excess, torch.zeros_like(excess), reduction="none", delta=100.0)
    value = value + score_l2 * ((2 * wall).mean(dim=-1) * data.weights).sum(-1) / data.weights.sum()
    centred = scores - tensors[0][:, None, :]
    return value.sum() + ridge * (centred**2).mean() + l1 * (tensors[2] * mask).abs().sum()


def _problem(task, seed):
    gen = torch.Generator().manual_seed(seed)
    n, m, n_restarts, n_terms = 40, 3, 2, 3
    n_out = 2 if task == "multiclass" else 1
    log_u = torch.randn(n, m, generator=gen, dtype=torch.float64)
    if task == "regression":
        y = torch.randn(n, generator=gen, dtype=torch.float64) * 20
    else:
        y = torch.randint(0, n_out + 1, (n,), generator=gen).to(torch.float64)
    weights = torch.rand(n, generator=gen, dtype=torch.float64) + 0.5
    intercept = torch.randn(n_restarts, n_out, generator=gen, dtype=torch.float64)
    # Large coefficients push scores past the soft limit (10) and past the linear
    # part of the wall (110); one large exponent drives some powers into the clamp.
    coef = torch.randn(n_restarts, n_out, n_terms, generator=gen, dtype=torch.float64) * 30
    expo = torch.randn(n_restarts, n_out, n_terms, m, generator=gen, dtype=torch.float64)
    # The clamped term gets a tiny coefficient: otherwise its 1e26-sized value swamps
    # float64 and autograd itself loses the other terms' gradients to rounding.
    expo[0, 0, 0, 0] = 2 * EXP_CLAMP
    coef[0, 0, 0] = 1e-25
    mask = (torch.rand(expo.shape, generator=gen) > 0.3).to(torch.float64)
    return [intercept, coef, expo], engine.Data(log_u, y, weights), mask


@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
@pytest.mark.parametrize("penalties", [(0.0, 0.0, 0.0), (0.3, 0.0, 0.01), (0.0, 0.2, 0.05)])
def test_penalised_grad_matches_autograd(task, penalties):
    score_l2, ridge, l1 = penalties
    tensors, data, mask = _problem(task, seed=len(task))
    scores = engine.batched_scores(data.log_u, *tensors)
    assert float(scores.abs().max()) > 110  # every branch of the wall is exercised
    power = data.log_u @ tensors[2][0, 0, 0]
    assert bool((power > EXP_CLAMP).any()) and bool((power < EXP_CLAMP).any())
    leaves = [t.clone().requires_grad_(True) for t in tensors]
    expected = _reference(leaves, data, task, score_l2, ridge, l1, mask)
    expected_grads = torch.autograd.grad(expected, leaves)
    value, grads = penalised_grad(tensors, data.log_u, data.y, data.weights, task,
                                  score_l2=score_l2, ridge=ridge, l1=l1, expo_mask=mask.bool(),
                                  with_value=True)
    assert float(value) == pytest.approx(float(expected.detach()), rel=1e-12)
    for got, want in zip(grads, expected_grads):
        assert got.shape == want.shape
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-10)
