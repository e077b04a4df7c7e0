"""Saliency, Input x Gradient, SmoothGrad and Guided IG: oracles and per-image references."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from captum.attr import InputXGradient as CaptumInputXGradient
from captum.attr import Saliency as CaptumSaliency

from attribution import GuidedIG, InputXGradient, Saliency, SmoothGrad

pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.mark.parametrize("absolute", [True, False])
def test_saliency_matches_captum(digits_cnn, digits_batch, absolute):
    images, labels = digits_batch
    ours = Saliency(digits_cnn).attribute(images, target=labels, abs=absolute)
    theirs = CaptumSaliency(digits_cnn).attribute(images, target=labels, abs=absolute)
    torch.testing.assert_close(ours, theirs, rtol=1e-6, atol=1e-7)


def test_input_x_gradient_matches_captum_and_chunks(digits_cnn, digits_batch):
    images, labels = digits_batch
    ours = InputXGradient(digits_cnn).attribute(images, target=labels, internal_batch_size=5)
    theirs = CaptumInputXGradient(digits_cnn).attribute(images, target=labels)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-6)


def test_smoothgrad_of_a_linear_model_is_its_weight():
    model = torch.nn.Linear(5, 3).double()
    x = torch.rand(4, 5, dtype=torch.float64)
    attr = SmoothGrad(model).attribute(x, target=2, n_samples=7, stdevs=0.5, random_state=0)
    torch.testing.assert_close(attr, model.weight[2].detach().expand(4, 5), rtol=1e-12, atol=1e-12)


def test_smoothgrad_without_noise_is_the_gradient(digits_cnn, digits_batch):
    images, labels = digits_batch
    smooth = SmoothGrad(digits_cnn).attribute(
        images, target=labels, n_samples=3, stdevs=0.0, internal_batch_size=7
    )
    gradient = Saliency(digits_cnn).attribute(images, target=labels, abs=False)
    torch.testing.assert_close(smooth, gradient, rtol=1e-5, atol=1e-6)


class Quadratic(torch.nn.Module):
    """F(x) = sum_i c_i x_i^2: the gradient 2 c (x + noise) is linear in the noise."""

    def __init__(self, c: torch.Tensor) -> None:
        super().__init__()
        self.c = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (self.c * x**2).sum(dim=1)


def test_smoothgrad_variants_on_a_quadratic_model():
    c = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    model, x, sigma, n = (
        Quadratic(c),
        torch.tensor([[0.3, -0.2, 0.9]], dtype=torch.float64),
        0.2,
        4000,
    )
    smooth = SmoothGrad(model)
    mean = smooth.attribute(x, n_samples=n, stdevs=sigma, random_state=1)
    square = smooth.attribute(x, n_samples=n, stdevs=sigma, nt_type="smoothgrad_sq", random_state=1)
    variance = smooth.attribute(x, n_samples=n, stdevs=sigma, nt_type="vargrad", random_state=1)
    # Means of n samples: standard errors 2|c| sigma / sqrt(n) ~ 0.013 at most; allow 4 of them.
    torch.testing.assert_close(mean, 2 * c * x, rtol=0, atol=0.05)
    torch.testing.assert_close(variance, (2 * c * sigma) ** 2 + 0 * x, rtol=0.1, atol=0)
    torch.testing.assert_close(square, variance + mean**2, rtol=1e-9, atol=1e-12)


def _pair_guided_ig_reference(grad_fn, x, baseline, steps, fraction=0.25, max_dist=0.02):
    """One image at a time in float64, written from the PAIR-code algorithm description."""
    x, baseline = x.astype(np.float64), baseline.astype(np.float64)
    current, attr = baseline.copy(), np.zeros_like(x)
    total_l1 = np.abs(x - baseline).sum()
    diff = x - baseline
    for step in range(steps):
        grad_actual = grad_fn(current)
        grad = grad_actual.copy()
        alpha = (step + 1.0) / steps
        a_min, a_max = max(alpha - max_dist, 0.0), min(alpha + max_dist, 1.0)
        x_min, x_max = baseline + diff * a_min, baseline + diff * a_max
        target_l1 = total_l1 * (1 - alpha)
        gamma = np.inf
        while gamma > 1.0:
            old = current.copy()
            with np.errstate(divide="ignore", invalid="ignore"):
                x_alpha = np.where(diff != 0, (current - baseline) / diff, np.nan)
            x_alpha[np.isnan(x_alpha)] = a_max
            current[x_alpha < a_min] = x_min[x_alpha < a_min]
            l1 = np.abs(current - x).sum()
            if np.isclose(target_l1, l1, rtol=1e-9, atol=1e-9):
                attr += (current - old) * grad_actual
                break
            grad[current == x_max] = np.inf
            threshold = np.quantile(np.abs(grad), fraction, method="lower")
            chosen = np.logical_and(np.abs(grad) <= threshold, grad != np.inf)
            l1_chosen = (np.abs(current - x_max) * chosen).sum()
            gamma = (l1 - target_l1) / l1_chosen if l1_chosen > 0 else np.inf
            if gamma > 1.0:
                current[chosen] = x_max[chosen]
            else:
                current[chosen] = (current + gamma * (x_max - current))[chosen]
            attr += (current - old) * grad_actual
    return attr


def test_guided_ig_batch_equals_one_image_at_a_time_reference(digits_cnn, digits_batch):
    model = copy.deepcopy(digits_cnn).double()
    images, labels = digits_batch[0].double(), digits_batch[1]
    baselines = torch.rand(images.shape, generator=torch.Generator().manual_seed(0)).double() * 0.1
    ours = GuidedIG(model).attribute(images, target=labels, baselines=baselines, n_steps=6)
    for i in range(len(images)):

        def grad_fn(point, i=i):
            point_t = torch.tensor(point).unsqueeze(0).requires_grad_(True)
            score = model(point_t)[0, labels[i]]
            return torch.autograd.grad(score, point_t)[0][0].numpy()

        reference = _pair_guided_ig_reference(grad_fn, images[i].numpy(), baselines[i].numpy(), 6)
        np.testing.assert_allclose(ours[i].numpy(), reference, rtol=1e-9, atol=1e-10)


def test_guided_ig_is_exact_on_a_linear_model_and_reports_its_delta(digits_cnn, digits_batch):
    model = torch.nn.Linear(6, 3).double()
    x, b = torch.rand(5, 6, dtype=torch.float64), torch.rand(5, 6, dtype=torch.float64)
    attr, delta = GuidedIG(model).attribute(x, target=1, baselines=b, return_convergence_delta=True)
    torch.testing.assert_close(attr, model.weight[1].detach() * (x - b), rtol=1e-10, atol=1e-12)
    assert float(delta.abs().max()) < 1e-12
    images, labels = digits_batch
    attr, delta = GuidedIG(digits_cnn).attribute(
        images, target=labels, return_convergence_delta=True
    )
    with torch.no_grad():
        change = digits_cnn(images) - digits_cnn(torch.zeros_like(images))
    expected = attr.reshape(len(images), -1).sum(1) - change.gather(1, labels[:, None]).squeeze(1)
    torch.testing.assert_close(delta, expected, rtol=1e-5, atol=1e-5)
