"""Faithfulness correlation: exact values on linear models, Quantus agreement, seeds."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from _metric_models import LinearScore, small_cnn

from attribution.metrics import faithfulness_correlation


def test_linear_model_gives_plus_and_minus_one() -> None:
    w = torch.randn(20)
    x = torch.rand(4, 20, dtype=torch.float64)
    f = LinearScore(w)
    r = faithfulness_correlation(f, x, x * w, target=1, n_runs=30, random_state=0)
    torch.testing.assert_close(r, torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-12)
    r = faithfulness_correlation(f, x, -x * w, target=1, n_runs=30, random_state=0)
    torch.testing.assert_close(r, -torch.ones(4, dtype=torch.float64), rtol=0, atol=1e-12)


def test_matches_a_loop_reference_with_the_same_subsets() -> None:
    model = small_cnn(2)
    x, a = torch.rand(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    got = faithfulness_correlation(model, x, a, target=[0, 1, 2], subset_size=5, n_runs=12,
                                   random_state=7, batch_size=5)
    g = torch.Generator().manual_seed(7)
    idx = torch.rand(3, 12, 16, generator=g).topk(5, dim=-1).indices
    for i in range(3):
        sums, drops = [], []
        for r in range(12):
            xp = x[i].flatten().clone()
            xp[idx[i, r]] = 0.0
            with torch.no_grad():
                drop = model(x[i:i + 1])[0, i] - model(xp.view(1, 1, 4, 4))[0, i]
            sums.append(float(a[i].flatten()[idx[i, r]].sum()))
            drops.append(float(drop))
        assert got[i].item() == pytest.approx(np.corrcoef(sums, drops)[0, 1], abs=1e-5)


def test_agrees_with_quantus_on_a_linear_model() -> None:
    quantus = pytest.importorskip("quantus")
    w = torch.randn(16)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2)).eval()
    with torch.no_grad():
        model[1].weight.copy_(torch.stack([torch.zeros(16), w]))
    x = torch.rand(4, 1, 4, 4)
    black = x.amin((1, 2, 3), keepdim=True)  # Quantus' "black" is the per-sample minimum
    a = (x - black) * w.view(1, 1, 4, 4)
    metric = quantus.FaithfulnessCorrelation(nr_runs=20, subset_size=4, normalise=False,
                                             abs=False, return_aggregate=False,
                                             disable_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = metric(model=model, x_batch=x.numpy(), y_batch=np.ones(4, dtype=int),
                        a_batch=a.numpy(), channel_first=True, device="cpu")
    ours = faithfulness_correlation(model, x, a, target=1, baselines=black, subset_size=4,
                                    n_runs=20, random_state=0)
    np.testing.assert_allclose(theirs, 1.0, atol=1e-5)
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-5)


def test_seed_determinism_and_validation() -> None:
    model = small_cnn(3)
    x, a = torch.rand(40, 1, 4, 4), torch.randn(40, 1, 4, 4)
    r1 = faithfulness_correlation(model, x, a, n_runs=10, random_state=3)
    r2 = faithfulness_correlation(model, x, a, n_runs=10, random_state=3,
                                  batch_size=33)
    torch.testing.assert_close(r1, r2, rtol=0, atol=1e-6)
    assert not torch.equal(r1, faithfulness_correlation(model, x, a, n_runs=10, random_state=4))
    with pytest.raises(ValueError, match="subset_size"):
        faithfulness_correlation(model, x, a, subset_size=16)
    with pytest.raises(ValueError, match="n_runs"):
        faithfulness_correlation(model, x, a, n_runs=1)


def test_constant_model_gives_nan() -> None:
    x = torch.rand(2, 5)
    r = faithfulness_correlation(LinearScore(torch.zeros(5)), x, x, target=1, n_runs=5,
                                 random_state=0)
    assert torch.isnan(r).all()
