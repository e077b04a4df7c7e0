"""Pixel flipping against Quantus, and region perturbation by hand."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from _metric_models import LinearScore, small_cnn

from attribution.metrics import deletion, pixel_flipping, region_perturbation


def _quantus_pixel_flipping(model, x, a, y, step):
    quantus = pytest.importorskip("quantus")
    metric = quantus.PixelFlipping(features_in_step=step, normalise=False, abs=False,
                                   disable_warnings=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = metric(model=model, x_batch=x.numpy(), y_batch=y, a_batch=a.numpy(),
                     channel_first=True, softmax=True, device="cpu")
    return np.asarray(out)


@pytest.mark.parametrize("step", [1, 4])
def test_pixel_flipping_matches_quantus(step: int) -> None:
    model = small_cnn(0)
    x, a = torch.rand(5, 1, 4, 4), torch.randn(5, 1, 4, 4)
    y = np.array([0, 1, 2, 3, 0])
    # Quantus' "black" baseline is the per-sample minimum of the input
    black = x.amin((1, 2, 3), keepdim=True)
    ours = pixel_flipping(model, x, a, target=y, baselines=black, features_in_step=step,
                          return_curves=True)
    theirs = _quantus_pixel_flipping(model, x, a, y, step)
    np.testing.assert_allclose(ours.curves[:, 1:].numpy(), theirs, rtol=0, atol=1e-6)
    # AUC relation stated in the docstring
    n = ours.curves.shape[1] - 1
    np.testing.assert_allclose(ours.scores.numpy(), torch.trapezoid(ours.curves, dx=1 / n).numpy(),
                               atol=1e-6)


def test_pixel_flipping_equals_deletion_when_steps_divide() -> None:
    model = small_cnn(1)
    x, a = torch.rand(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    torch.testing.assert_close(pixel_flipping(model, x, a, features_in_step=4),
                               deletion(model, x, a, n_steps=4))


def test_pixel_flipping_lerf_and_partial_last_step() -> None:
    x = torch.ones(1, 5, dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    res = pixel_flipping(LinearScore(w), x, x * w, target=1, order="lerf", features_in_step=2,
                         softmax=False, return_curves=True)
    # least relevant first: remove {1, 2}, then {3, 4}, then {5}
    assert res.curves[0].tolist() == [15.0, 12.0, 5.0, 0.0]
    assert res.fractions.tolist() == pytest.approx([0.0, 0.4, 0.8, 1.0])
    with pytest.raises(ValueError, match="order"):
        pixel_flipping(LinearScore(w), x, x, order="random")


def test_region_perturbation_by_hand() -> None:
    x = torch.ones(1, 1, 4, 4, dtype=torch.float64)
    w = torch.arange(16.0)
    attr = x * w.view(1, 1, 4, 4)
    res = region_perturbation(LinearScore(w), x, attr, target=1, patch_size=2, n_regions=3,
                              softmax=False, return_curves=True)
    # 2x2 patch sums of w: [[10, 18], [42, 50]] -> remove 50, 42, 18
    assert res.curves[0].tolist() == [120.0, 70.0, 28.0, 10.0]
    assert res.scores.item() == pytest.approx((0 + 50 + 92 + 110) / 4)
    lerf = region_perturbation(LinearScore(w), x, attr, target=1, patch_size=3, order="lerf",
                               softmax=False, return_curves=True)
    # 3x3 grid on 4x4 with cropped edges: patches {0..2}x{0..2}, cropped right/bottom/corner
    assert lerf.curves.shape == (1, 5)
    assert lerf.curves[0, -1].item() == 0.0
