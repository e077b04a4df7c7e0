"""Infidelity and sensitivity-max against Captum with identical perturbations."""

from __future__ import annotations

import pytest
import torch
from _metric_models import LinearScore, small_cnn

from attribution.metrics import infidelity, sensitivity_max


def _fixed_noise(seed: int, scale: float = 0.1):
    def perturb(x: torch.Tensor):
        g = torch.Generator().manual_seed(seed)
        noise = scale * torch.randn(x.shape, generator=g, dtype=x.dtype)
        return noise, x - noise

    return perturb


def _gradient(model, x, target):
    with torch.enable_grad():  # captum's sensitivity_max runs the explainer under no_grad
        x = x.clone().requires_grad_(True)
        out = model(x)
        out.gather(1, target.view(-1, 1)).sum().backward()
    return x.grad.detach()


@pytest.mark.parametrize("normalize", [True, False])
def test_infidelity_matches_captum(normalize: bool) -> None:
    captum_metrics = pytest.importorskip("captum.metrics")
    model = small_cnn(0)
    x = torch.rand(4, 1, 4, 4)
    target = torch.tensor([0, 1, 2, 3])
    attr = _gradient(model, x, target) * x
    ours = infidelity(model, x, attr, target=target, perturb_func=_fixed_noise(5),
                      n_perturb_samples=7, normalize=normalize)
    theirs = captum_metrics.infidelity(model, _fixed_noise(5), x, attr, target=target,
                                       n_perturb_samples=7, normalize=normalize)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def test_infidelity_is_zero_for_gradients_of_a_linear_model_and_scale_invariant() -> None:
    w = torch.randn(6)
    x = torch.rand(3, 6, dtype=torch.float64)
    f = LinearScore(w)
    grad = w.double().expand(3, 6)
    assert infidelity(f, x, grad, target=1, random_state=0).abs().max().item() < 1e-20
    assert infidelity(f, x, 5 * grad, target=1, random_state=0).abs().max().item() < 1e-20
    raw = infidelity(f, x, 5 * grad, target=1, normalize=False, random_state=0)
    noise = torch.randn(30, 6, generator=torch.Generator().manual_seed(0),
                        dtype=torch.float64) * 0.1
    expected = ((4 * noise @ w.double()) ** 2).view(3, 10).mean(1)
    torch.testing.assert_close(raw, expected)


def test_infidelity_seed_and_chunks() -> None:
    model = small_cnn(1)
    x, a = torch.rand(5, 1, 4, 4), torch.randn(5, 1, 4, 4)
    r1 = infidelity(model, x, a, random_state=1)
    torch.testing.assert_close(r1, infidelity(model, x, a, random_state=1))
    r3 = infidelity(model, x, a, random_state=1, batch_size=4)
    assert r3.shape == (5,) and torch.isfinite(r3).all()
    with pytest.raises(ValueError, match="same shape"):
        infidelity(model, x, a[:, :, :2])


def test_sensitivity_max_matches_captum() -> None:
    captum_metrics = pytest.importorskip("captum.metrics")
    model = small_cnn(2)
    x = torch.rand(3, 1, 4, 4)
    target = torch.tensor([1, 0, 3])

    def explain(inputs, target):
        if isinstance(inputs, tuple):  # captum passes and expects tuples
            return (_gradient(model, inputs[0], target),)
        return _gradient(model, inputs, target)

    def perturb(inputs, perturb_radius=0.02):
        if isinstance(inputs, tuple):  # captum passes and expects tuples
            return (perturb(inputs[0], perturb_radius),)
        g = torch.Generator().manual_seed(11)
        return inputs + (2 * torch.rand(inputs.shape, generator=g) - 1) * perturb_radius

    ours = sensitivity_max(explain, x, perturb_func=perturb, n_perturb_samples=6, target=target)
    theirs = captum_metrics.sensitivity_max(explain, x,
                                            perturb_func=perturb, n_perturb_samples=6,
                                            target=target)
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-7)


def test_sensitivity_max_exact_for_a_linear_explainer() -> None:
    x = torch.ones(2, 3, dtype=torch.float64)

    def explain(inputs):  # gradient of sum(x**2): perturbation maps to 2 * delta
        return 2 * inputs

    got = sensitivity_max(explain, x, perturb_radius=0.1, n_perturb_samples=4, random_state=0)
    g = torch.Generator().manual_seed(0)
    delta = (2 * torch.rand(8, 3, generator=g, dtype=torch.float64) - 1) * 0.1
    expected = (delta.norm(dim=1) / (3**0.5)).view(2, 4).amax(1)
    torch.testing.assert_close(got, expected)
    per_feature = sensitivity_max(explain, x, perturb_radius=torch.tensor([0.0, 0.0, 0.1]),
                                  random_state=0)
    assert (per_feature <= 0.1 / 3**0.5 + 1e-12).all()
