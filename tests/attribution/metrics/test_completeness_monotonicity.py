"""Completeness error and monotonicity (not trivially true), incl. the Quantus contrast."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from _metric_models import LinearScore

from attribution.metrics import completeness_error, monotonicity


class Product(torch.nn.Module):
    """Single output f(x) = x0 * x1: exact IG with a zero baseline is (x0 x1 / 2, x0 x1 / 2)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, 0] * x[:, 1]


def test_completeness_exact_for_ig_of_a_product() -> None:
    x = torch.tensor([[2.0, 3.0], [1.0, -4.0]], dtype=torch.float64)
    ig = (x[:, :1] * x[:, 1:] / 2).expand(2, 2)
    assert completeness_error(Product(), x, ig).abs().max().item() < 1e-12
    err = completeness_error(Product(), x, x)  # sum(x) vs x0 x1
    torch.testing.assert_close(err, torch.tensor([1.0, 1.0], dtype=torch.float64))
    rel = completeness_error(Product(), x, x, relative=True)
    torch.testing.assert_close(rel, torch.tensor([1 / 6, 1 / 4], dtype=torch.float64))


def test_completeness_with_baseline_and_softmax() -> None:
    w = torch.tensor([1.0, 2.0])
    x = torch.tensor([[1.0, 1.0]], dtype=torch.float64)
    base = torch.tensor([0.5, 0.5], dtype=torch.float64)
    attr = (x - base) * w
    assert completeness_error(LinearScore(w), x, attr, target=1, baselines=base).item() < 1e-12
    p = torch.sigmoid(torch.tensor(3.0, dtype=torch.float64)) - torch.sigmoid(
        torch.tensor(1.5, dtype=torch.float64))
    got = completeness_error(LinearScore(w), x, attr, target=1, baselines=base,
                             softmax=True)
    assert got.item() == pytest.approx(abs(1.5 - p.item()), abs=1e-12)


def test_monotonicity_true_false_and_not_trivial() -> None:
    w = torch.tensor([1.0, 2.0, 3.0])
    f = LinearScore(w)
    x = torch.ones(3, 3, dtype=torch.float64)
    x[1, 1] = -1.0  # feature 1 now lowers the score: not monotone
    attr = x * w
    assert monotonicity(f, x, attr, target=1, softmax=False).tolist() == [True, False, True]
    # a constant model is never monotone, nor an input equal to the baseline
    flat = LinearScore(torch.zeros(3))
    assert not monotonicity(flat, x, attr, target=1).any()
    assert not monotonicity(f, torch.zeros(1, 3), torch.ones(1, 3), target=1).any()
    # zero inputs (equal to the substrate) are skipped, not counted as ties
    x2 = torch.tensor([[0.0, 1.0, 1.0]], dtype=torch.float64)
    assert monotonicity(f, x2, x2 * w, target=1, softmax=False).tolist() == [True]
    # a tie between two changing steps is not an increase
    tie = LinearScore(torch.tensor([1.0, 0.0, 3.0]))
    assert monotonicity(tie, torch.ones(1, 3), torch.tensor([[1.0, 0.5, 3.0]]),
                        target=1).tolist() == [False]


def test_quantus_monotonicity_is_trivially_true_where_ours_is_not() -> None:
    quantus = pytest.importorskip("quantus")
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 2)).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.tensor([[0.0] * 4, [1.0, -1.0, 1.0, -1.0]]))
        model[1].bias.zero_()
    x = torch.rand(3, 1, 2, 2) + 0.5
    a = torch.rand(3, 1, 2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = quantus.Monotonicity(disable_warnings=True)(
            model=model, x_batch=x.numpy(), y_batch=np.ones(3, dtype=int), a_batch=a.numpy(),
            channel_first=True, device="cpu")
    assert all(theirs)  # the input never changes under Quantus' default perturbation
    assert not monotonicity(model, x, a, target=1).any()
