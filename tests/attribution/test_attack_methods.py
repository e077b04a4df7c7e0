"""BIG, AGI, MFABA and ISA: per-image references, fixed reference defects, path completeness."""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from attribution import AGI, BIG, ISA, MFABA
from attribution.isa import ISA_PRESETS

pytestmark = pytest.mark.usefixtures("single_thread")


def _double(model, images):
    return copy.deepcopy(model).double(), images.double()


# ----------------------------------------------------------------------------- MFABA
def _mfaba_one_image(model, x, label, n_steps=50, alpha=0.001, eps=0.3, sharp=False):
    """The released MFABA loop for one image (left sum, early stop, [0, 1] clip)."""
    x0, current, attr = x.clone(), x.clone(), torch.zeros_like(x)
    previous, previous_grad = x.clone(), torch.zeros_like(x)
    for step in range(n_steps + 1):
        point = current.clone().requires_grad_(True)
        out = model(point[None])[0]
        if step > 0:
            attr -= (current - previous) * previous_grad
            if out.argmax() != label or step == n_steps:
                break
        grad = torch.autograd.grad(out[label], point)[0]
        if sharp:
            moved = current - 100 * alpha * grad / grad.norm()
        else:
            moved = x0 + (current - alpha * grad.sign() - x0).clamp(-eps, eps)
        previous, previous_grad, current = current, grad, moved.clamp(0, 1)
    return attr


@pytest.mark.parametrize("variant", ["smooth", "sharp"])
def test_mfaba_batch_equals_one_image_at_a_time(digits_cnn, digits_batch, variant):
    model, images = _double(digits_cnn, digits_batch[0])
    labels = digits_batch[1]
    step = 0.02  # large steps so that several labels flip (early stop) within 30 steps
    ours = MFABA(model).attribute(
        images, target=labels, n_steps=30, step_size=step, variant=variant, internal_batch_size=5
    )
    for i in range(len(images)):
        reference = _mfaba_one_image(
            model, images[i], labels[i], 30, step, sharp=variant == "sharp"
        )
        torch.testing.assert_close(ours[i], reference, rtol=1e-9, atol=1e-12)


def test_mfaba_trapezoid_sums_exactly_to_the_score_drop_on_a_quadratic_model():
    # For a quadratic score the trapezoid rule is exact on every straight segment.
    torch.manual_seed(0)
    a = torch.randn(6, 6, dtype=torch.float64)
    weights = torch.randn(3, 6, dtype=torch.float64)

    def model(x):
        quadratic = ((x @ a) * x).sum(1, keepdim=True)
        return x @ weights.T + torch.cat([quadratic, -quadratic, 0 * quadratic], 1)

    x = torch.rand(5, 6, dtype=torch.float64)
    for variant in ("smooth", "sharp"):
        _, delta = MFABA(model).attribute(
            x, target=0, rule="trapezoid", variant=variant, return_convergence_delta=True
        )
        assert float(delta.abs().max()) < 1e-12


def test_mfaba_sums_to_the_score_drop_along_its_path_on_the_cnn(digits_cnn, digits_batch):
    images, labels = digits_batch
    attr, delta = MFABA(digits_cnn).attribute(
        images, target=labels, rule="trapezoid", return_convergence_delta=True
    )
    drop = attr.reshape(len(images), -1).sum(1) - delta  # F(x_0) - F(x_T)
    assert bool((drop > 0).all())
    assert float((delta.abs() / drop).max()) < 1e-3


# ------------------------------------------------------------------------------- AGI
def _agi_one_image(model, x, label, false_class, eps, max_iter):
    """The original AGI loop for one image and one false class (non-accumulating steps)."""
    current, total = x.clone(), torch.zeros_like(x)
    for _ in range(max_iter):
        point = current.clone().requires_grad_(True)
        out = model(point[None])[0]
        if out.argmax() == false_class:
            break
        toward = torch.autograd.grad(out.log_softmax(0)[false_class], point, retain_graph=True)[0]
        explained = torch.autograd.grad(out[label], point)[0]
        current = (x + eps * toward.sign()).clamp(0, 1)
        total -= explained * (current - x)
    return total


def test_agi_uses_each_examples_own_classes(digits_cnn, digits_batch):
    # The batched reference port mixes the targets of all images in a batch; ours must not.
    model, images = _double(digits_cnn, digits_batch[0])
    labels = digits_batch[1]
    false_classes = torch.stack([(labels + 3) % 10, (labels + 7) % 10], 1)
    ours = AGI(model).attribute(
        images, target=labels, false_classes=false_classes, accumulate=False, max_iter=6
    )
    for i in range(len(images)):
        reference = sum(
            _agi_one_image(model, images[i], labels[i], int(c), 0.05, 6) for c in false_classes[i]
        )
        torch.testing.assert_close(ours[i], reference, rtol=1e-9, atol=1e-12)


def test_agi_accumulating_path_is_complete_on_a_linear_model():
    model = torch.nn.Linear(8, 4).double()
    x = torch.rand(6, 8, dtype=torch.float64)
    attr, delta = AGI(model).attribute(x, target=2, random_state=0, return_convergence_delta=True)
    assert attr.shape == x.shape
    assert float(delta.abs().max()) < 1e-12


def test_agi_random_classes_exclude_the_target():
    classes = AGI._false_classes(torch.arange(10) % 4, 4, 20, None, 0)
    assert classes.shape == (10, 3)
    assert not bool((classes == (torch.arange(10) % 4)[:, None]).any())
    assert bool((classes.sort(1).values != classes.sort(1).values[:, :1] - 1).all())


# ------------------------------------------------------------------------------- BIG
def test_big_picks_the_smallest_successful_radius(digits_cnn, digits_batch):
    images, labels = digits_batch
    epsilons = (0.05, 0.1, 0.2, 0.4)
    big = BIG(digits_cnn)
    boundary = big.boundary_points(images, labels, (), epsilons, 20, None, (0.0, 1.0))
    distance = (boundary - images).flatten(1).abs().max(1).values
    flipped = digits_cnn(boundary).argmax(1) != labels
    assert bool(flipped.any())
    for i in torch.nonzero(flipped).squeeze(1).tolist():
        radius = min(e for e in epsilons if distance[i] <= e + 1e-6)
        smaller = [e for e in epsilons if e < radius]
        if smaller:  # the attack at the next smaller radius must have failed
            alone = big.boundary_points(
                images[i : i + 1], labels[i : i + 1], (), smaller[-1:], 20, None, (0.0, 1.0)
            )
            assert int(digits_cnn(alone).argmax(1)) == int(labels[i])


def test_big_reference_step_never_reaches_the_radius(digits_cnn, digits_batch):
    # The reference's 50 steps of 0.001 move at most 0.05 < 36/255: its radii never bind.
    images, labels = digits_batch
    boundary = BIG(digits_cnn).boundary_points(
        images, labels, (), (36 / 255, 64 / 255), 50, 0.001, (0.0, 1.0)
    )
    assert float((boundary - images).abs().max()) <= 0.05 + 1e-6


def test_big_is_ig_from_its_boundary_point(digits_cnn, digits_batch):
    images, labels = digits_batch
    attr, delta = BIG(digits_cnn).attribute(
        images, target=labels, n_attack_steps=10, return_convergence_delta=True
    )
    assert attr.shape == images.shape
    assert float(delta.abs().max()) < 1e-3  # smooth model: trapezoid with 50 nodes


# ------------------------------------------------------------------------------- ISA
def test_isa_ranks_every_feature_and_survivors_first():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(30, 4))
    x = torch.rand(3, 1, 5, 6)
    step = 7  # 30 features: tiers of 7, 7, 7, 7 and 2 survivors
    # scale 0.5: tier t spans [t, t + 0.5], so floor() recovers the tier.
    scores = ISA(model).attribute(x, step_size=step, scale=0.5, random_state=0).reshape(3, -1)
    tiers = scores.floor().clamp_max(math.ceil(30 / step) - 1)
    for row in tiers:
        counts = torch.bincount(row.long(), minlength=5)
        assert counts.tolist() == [7, 7, 7, 7, 2]
    # The reference leaves the 2 survivors at 0 (ranked last); here they rank first.
    top = scores.topk(2, dim=1).indices
    assert bool((tiers.gather(1, top) == 4).all())


def test_isa_batch_equals_one_image_at_a_time_without_noise(digits_cnn, digits_batch):
    images, labels = _double(digits_cnn, digits_batch[0])[1], digits_batch[1]
    model = _double(digits_cnn, digits_batch[0])[0]
    isa = ISA(model)
    batch = isa.attribute(images[:4], target=labels[:4], step_size=9, noise_std=0.0)
    for i in range(4):
        alone = isa.attribute(
            images[i : i + 1], target=labels[i : i + 1], step_size=9, noise_std=0.0
        )
        torch.testing.assert_close(batch[i : i + 1], alone, rtol=1e-9, atol=1e-9)


def test_isa_default_step_matches_the_reference_fraction_and_presets():
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 10))
    x = torch.rand(2, 1, 28, 28)
    scores = ISA(model).attribute(x, scale=1.0, random_state=0, ascent_steps=1, descent_steps=1)
    assert int(scores.max().ceil()) == 31  # 784 / round(784 * 5000 / 150528) -> 31 tiers
    assert ISA_PRESETS == {"code": (0.004, 1.3), "paper": (0.002, 1.1)}


def test_isa_feature_gains_follow_the_reference_formula():
    # One iteration, one ascent and one descent step, no noise: gains are closed form.
    model = torch.nn.Linear(4, 3).double()
    x = torch.rand(2, 4, dtype=torch.float64)
    y = model(x).argmax(1)
    isa = ISA(model)
    scores = isa.attribute(
        x, step_size=4, ascent_steps=1, descent_steps=1, noise_std=0.0, scale=1.0
    )
    point = x.clone().requires_grad_(True)
    loss = F.cross_entropy(model(point), y, reduction="sum")
    up = torch.autograd.grad(loss - 0.01 * point.norm(dim=1).sum(), point)[0]
    down = torch.autograd.grad(
        F.cross_entropy(model(point), y, reduction="sum") + 0.01 * point.norm(dim=1).sum(), point
    )[0]
    # With a single step, W = l_last - l_first = 0 and the guard +1e-8 applies to both phases.
    gains = 0.004 * up.abs() / 1e-8 + 0.004 * down.abs() / 1e-8
    expected_order = ((gains + gains.min(1, keepdim=True).values) * x).abs().argsort(1)
    assert torch.equal(scores.argsort(1), expected_order)
