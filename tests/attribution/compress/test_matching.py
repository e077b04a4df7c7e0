"""Exact tests of the attribution-matching regulariser (collapsed maps, loss, gradients)."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils import prune

from attribution.compress import AttributionMatchingLoss, collapsed_map, normalized_distance


def conv_net(channels: int = 3, n_classes: int = 4, seed: int = 0, dtype=torch.float32):
    """conv(1 -> channels, 3x3) -> ReLU -> flatten -> linear: feature map (channels, 4, 4)."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(1, channels, 3), nn.ReLU(), nn.Flatten(),
                        nn.Linear(channels * 16, n_classes))
    return net.to(dtype)


def test_collapsed_map_is_grad_cam_times_hw_by_hand():
    net = conv_net(channels=3)
    x = torch.rand(5, 1, 6, 6)
    maps, target = collapsed_map(net, "1", x)
    with torch.no_grad():
        A = net[1](net[0](x)).numpy()  # (5, 3, 4, 4)
        logits = net(x)
    W = net[3].weight.detach().numpy().reshape(4, 3, 4, 4)  # dz_c / dA_kij
    expected = []
    for n in range(5):
        c = int(logits[n].argmax())
        grad_cam_alpha = W[c].mean(axis=(1, 2))  # Grad-CAM: spatial MEAN of the gradient
        grad_cam = np.maximum((grad_cam_alpha[:, None, None] * A[n]).sum(0), 0.0)
        expected.append(16 * grad_cam)  # H x W = 4 x 4
    assert target.tolist() == logits.argmax(1).tolist()
    np.testing.assert_allclose(maps.detach().numpy(), np.stack(expected), rtol=1e-5, atol=1e-6)


def test_collapsed_map_matches_captum_layer_grad_cam():
    from captum.attr import LayerGradCam

    net = conv_net(channels=4, seed=3)
    x = torch.rand(6, 1, 6, 6)
    target = net(x).argmax(1)
    ours, _ = collapsed_map(net, net[1], x, target)
    ref = LayerGradCam(net, net[1]).attribute(x, target=target, relu_attributions=True)
    torch.testing.assert_close(ours.detach(), 16 * ref[:, 0].detach(), rtol=1e-5, atol=1e-6)


def test_equal_weighting_is_mean_squared_activation():
    net = conv_net()
    x = torch.rand(3, 1, 6, 6)
    maps, _ = collapsed_map(net, "1", x, weighting="equal")
    torch.testing.assert_close(maps, net[1](net[0](x)).pow(2).mean(1))


def test_loss_is_zero_for_identical_student_and_scale_invariant():
    teacher = conv_net(seed=0)
    student = conv_net(seed=1)
    x = torch.rand(8, 1, 6, 6)
    crit = AttributionMatchingLoss("1", "1", beta=100.0)
    assert float(crit(teacher, copy.deepcopy(teacher), x).detach()) == pytest.approx(0, abs=1e-10)
    base = float(crit(teacher, student, x).detach())
    assert base > 1e-3
    scaled = copy.deepcopy(student)
    with torch.no_grad():  # logits x 7: same argmax, every student map x 7
        scaled[3].weight.mul_(7.0)
        scaled[3].bias.mul_(7.0)
    assert float(crit(teacher, scaled, x).detach()) == pytest.approx(base, rel=1e-5)
    assert float(crit.distance(teacher, student, x).detach()) == pytest.approx(base / 100, rel=1e-6)
    a, b = torch.rand(4, 3, 3), torch.rand(4, 3, 3)
    assert float(normalized_distance(a, b)) == pytest.approx(float(normalized_distance(3 * a, b)))


def test_loss_by_hand():
    teacher, student = conv_net(seed=0), conv_net(seed=1)
    x = torch.rand(4, 1, 6, 6)
    t_map, target = collapsed_map(teacher, "1", x)
    s_map, _ = collapsed_map(student, "1", x, target)
    t = t_map.flatten(1) / t_map.flatten(1).norm(dim=1, keepdim=True)
    s = s_map.flatten(1) / s_map.flatten(1).norm(dim=1, keepdim=True)
    expected = float(((t - s) ** 2).sum().detach() / t.numel())
    got = float(AttributionMatchingLoss("1", "1", beta=2.5)(teacher, student, x).detach())
    assert got == pytest.approx(2.5 * expected, rel=1e-5)


class FunctionalNet(nn.Module):
    """conv -> softplus (the matched layer) -> linear, with the parameters passed in."""

    def __init__(self, w1, b1, w2, b2):
        super().__init__()
        self.values = (w1, b1, w2, b2)
        self.act = nn.Softplus()  # smooth, so the map is differentiable everywhere

    def forward(self, x):
        w1, b1, w2, b2 = self.values
        a = self.act(nn.functional.conv2d(x, w1, b1))
        return a.flatten(1) @ w2.T + b2


def test_double_backprop_gradient_equals_finite_differences():
    g = torch.Generator().manual_seed(0)
    shapes = [(2, 1, 3, 3), (2,), (3, 32), (3,)]
    teacher = FunctionalNet(*[torch.randn(s, generator=g, dtype=torch.float64) for s in shapes])
    params = tuple(torch.randn(s, generator=g, dtype=torch.float64).requires_grad_()
                   for s in shapes[:3])
    x = torch.rand(3, 1, 6, 6, generator=g, dtype=torch.float64)
    crit = AttributionMatchingLoss("act", "act", beta=1.0)
    b2 = torch.zeros(3, dtype=torch.float64)  # the bias never reaches the map

    def loss(w1, b1, w2):
        return crit(teacher, FunctionalNet(w1, b1, w2, b2), x)

    assert torch.autograd.gradcheck(loss, params, eps=1e-6, atol=1e-7, rtol=1e-5)
    # The last layer reaches the map only through the gradient (the sensitivity
    # weights): its non-zero derivative is the double backprop at work.
    assert float(torch.autograd.grad(loss(*params), params[2])[0].abs().sum()) > 1e-6


def test_channel_drop_is_reproducible_under_a_seed():
    teacher, student = conv_net(channels=8, seed=0), conv_net(channels=8, seed=1)
    x = torch.rand(6, 1, 6, 6)
    a = AttributionMatchingLoss("1", "1", channel_drop=0.5, random_state=7)
    b = AttributionMatchingLoss("1", "1", channel_drop=0.5, random_state=7)
    first = [float(a(teacher, student, x).detach()) for _ in range(3)]
    assert first == [float(b(teacher, student, x).detach()) for _ in range(3)]
    assert len(set(first)) == 3  # the generator advances between calls
    a.reseed(7)
    assert float(a(teacher, student, x).detach()) == first[0]
    other = AttributionMatchingLoss("1", "1", channel_drop=0.5, random_state=8)
    assert float(other(teacher, student, x).detach()) != first[0]
    plain = AttributionMatchingLoss("1", "1")
    assert float(plain(teacher, student, x).detach()) not in first


def test_channel_drop_zeroes_exactly_the_requested_share():
    net = conv_net(channels=10)
    x = torch.rand(5, 1, 6, 6)
    generator = torch.Generator().manual_seed(0)
    maps, _ = collapsed_map(net, "1", x, channel_drop=0.3, generator=generator, weighting="equal")
    full = net[1](net[0](x)).pow(2)  # (5, 10, 4, 4)
    # mean over the kept channels times 10 = sum over kept: exactly 3 of 10 dropped per row
    generator.manual_seed(0)
    keep = torch.ones(5, 10).scatter_(1, torch.rand((5, 10), generator=generator).argsort(1)[:, :3],
                                      0.0)
    torch.testing.assert_close(maps, (full * keep[:, :, None, None]).mean(1))


def test_works_under_prune_reparametrisation_and_after_remove():
    teacher, student = conv_net(seed=0), conv_net(seed=1)
    x = torch.rand(6, 1, 6, 6)
    crit = AttributionMatchingLoss(teacher[1], "1")
    manual = copy.deepcopy(student)
    prune.l1_unstructured(student[0], "weight", amount=0.5)
    prune.l1_unstructured(student[3], "weight", amount=0.5)
    with torch.no_grad():
        manual[0].weight.mul_(student[0].weight_mask)
        manual[3].weight.mul_(student[3].weight_mask)
    pruned_loss = crit(teacher, student, x)
    assert float(pruned_loss.detach()) == pytest.approx(float(crit(teacher, manual, x).detach()),
                                                        rel=1e-6)
    pruned_loss.backward()
    grad = student[0].weight_orig.grad
    assert float(grad[student[0].weight_mask == 0].abs().max()) == 0.0
    assert float(grad[student[0].weight_mask == 1].abs().max()) > 0.0
    prune.remove(student[0], "weight")
    prune.remove(student[3], "weight")
    assert float(crit(teacher, student, x).detach()) == pytest.approx(float(pruned_loss.detach()),
                                                                      rel=1e-6)


def test_bad_arguments_raise_value_errors():
    net = conv_net()
    x = torch.rand(2, 1, 6, 6)
    with pytest.raises(ValueError, match="weighting"):
        AttributionMatchingLoss("1", "1", weighting="mean")
    with pytest.raises(ValueError, match="channel_drop"):
        AttributionMatchingLoss("1", "1", channel_drop=1.0)
    with pytest.raises(ValueError, match="beta"):
        AttributionMatchingLoss("1", "1", beta=-1.0)
    with pytest.raises(ValueError, match="no submodule"):
        AttributionMatchingLoss("features", "1")(net, net, x)
    with pytest.raises(ValueError, match="spatial"):
        AttributionMatchingLoss("3", "3")(net, net, x)
    with pytest.raises(ValueError, match="not a submodule"):
        AttributionMatchingLoss(nn.ReLU(), "1")(net, net, x)
    other = nn.Sequential(nn.Conv2d(1, 3, 5), nn.ReLU(), nn.Flatten(), nn.Linear(12, 4))
    with pytest.raises(ValueError, match="spatial resolution"):
        AttributionMatchingLoss("1", "1")(net, other, x)
