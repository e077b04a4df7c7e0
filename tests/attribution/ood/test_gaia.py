"""GAIA-Z and GAIA-A against analytic values and hand computations; hook safety."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from _ood_models import Boom, all_hooks, bn_cnn
from torch import nn

from attribution.ood import GAIA, GradNorm, ReAct


def test_gaia_zero_equals_analytic_value_on_relu_net():
    # h = relu(x @ I + b): hidden unit j is active iff x_j + b_j > 0 (known pattern);
    # head row k has zeros in a known place, so dS/dh_j != 0 iff unit j active and W[k*, j] != 0.
    hidden = nn.Linear(4, 4)
    head = nn.Linear(4, 3, bias=False)
    with torch.no_grad():
        hidden.weight.copy_(torch.eye(4))
        hidden.bias.copy_(torch.tensor([0.0, -1.0, 0.5, 0.0]))
        head.weight.copy_(torch.tensor([[5.0, 1.0, 1.0, 0.0],
                                        [0.0, 1.0, 1.0, 1.0],
                                        [1.0, 1.0, 1.0, 1.0]]))
    net = nn.Sequential(hidden, nn.ReLU(), head)
    x = torch.tensor([[1.0, 0.0, 0.0, -1.0],   # active {0, 2}; predicted class 0 (5 + 0.5)
                      [-1.0, 3.0, 1.0, 2.0],   # active {1, 2, 3}; class 1 (2 + 1.5 + 2)
                      [-1.0, 0.0, -1.0, 0.0]])  # none active; logits all 0 -> class 0
    # layer = the pre-ReLU hidden output, a 2-D (N, C) layer: each r_k is 0 or 1.
    expected = torch.tensor([2 / 4, 3 / 4, 0.0])  # mean of r_k^2 over the 4 channels
    # row 0: units 0, 2 active, W[0] nonzero on both -> 2/4; row 1: W[1] nonzero on 1,2,3.
    got = GAIA(net, "zero", layers=[hidden]).score(x)
    assert torch.equal(got, expected)


def test_gaia_zero_counts_spatial_fractions():
    # conv (identity 1x1) -> ReLU -> max-pool 2x2 -> GAP -> linear: per channel, the
    # gradient is non-zero exactly at the arg-max of each pooling window if it is positive.
    conv = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(1.0)
    net = nn.Sequential(conv, nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4, 2))
    torch.manual_seed(1)
    x = torch.randn(6, 1, 4, 4)
    score = GAIA(net, "zero", layers=[conv]).score(x)
    windows = F.unfold(x, 2, stride=2)  # (N, 4, 4): window pixels x windows
    w_max = net[4].weight[net(x).argmax(1)]  # (N, 4), weight of each pooled cell
    active = (windows.max(dim=1).values > 0) & (w_max != 0)
    assert torch.equal(score, (active.float().sum(1) / 16) ** 2)


def _hand_gaia_average(x, conv1, conv2, fc):
    """GAIA-A with inner = conv1 output, output = relu(conv2(...)), from closed forms."""
    a1 = conv1(x)
    r1 = a1.relu()
    a2 = conv2(r1)
    fmap = a2.relu()
    hw = fmap.shape[2] * fmap.shape[3]
    z = fc(fmap.mean(dim=(2, 3)))
    p = z.softmax(dim=1)
    # d(sum_c log softmax_c)/dz_j = 1 - C p_j ; dz/dF_kij = W_jk / HW.
    g_out = (1 - z.shape[1] * p) @ fc.weight / hw  # (N, K): spatial mean of the gradient
    norm = g_out.abs().mean(dim=1).sqrt()
    # d(sum_k h_k)/dF = 1/HW; through relu(a2), conv2 (transposed) and relu(a1).
    d_a2 = (a2 > 0).to(x.dtype) / hw
    d_r1 = F.conv_transpose2d(d_a2, conv2.weight, padding=conv2.padding)
    d_a1 = d_r1 * (a1 > 0)
    w = d_a1.mean(dim=(2, 3)).abs()
    return ((w / norm[:, None]) ** 2).mean(dim=1)


def test_gaia_average_equals_hand_computation_on_two_conv_model():
    torch.manual_seed(3)
    conv1, conv2 = nn.Conv2d(1, 3, 3, padding=1), nn.Conv2d(3, 4, 3, padding=1)
    relu2 = nn.ReLU()
    fc = nn.Linear(4, 5)
    net = nn.Sequential(conv1, nn.ReLU(), conv2, relu2, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        fc).double()
    x = torch.randn(7, 1, 6, 6, dtype=torch.float64)
    got = GAIA(net, "average", layers=[conv1], output_layer=relu2).score(x)
    with torch.no_grad():
        expected = _hand_gaia_average(x, conv1, conv2, fc)
    torch.testing.assert_close(got.double(), expected, rtol=1e-5, atol=0)
    # The default output map (the head's input h, a 2-D layer) divides A by H*W exactly.
    default = GAIA(net, "average", layers=[conv1]).score(x)
    torch.testing.assert_close(default.double(), expected / 36, rtol=1e-5, atol=0)


@pytest.mark.parametrize("variant", ["zero", "average"])
def test_inplace_relu_after_hooked_bn_gives_out_of_place_scores(variant):
    x = torch.rand(9, 1, 8, 8)
    ref = GAIA(bn_cnn(inplace=False), variant).score(x)
    got = GAIA(bn_cnn(inplace=True), variant).score(x)
    torch.testing.assert_close(got, ref, rtol=1e-6, atol=0)
    assert not torch.equal(ref, torch.zeros_like(ref))


def test_batch_size_invariance_and_state_left_alone():
    net = bn_cnn()
    net.train()  # the detector must score in eval mode and restore train mode
    running = [m.running_mean.clone() for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    net[0].weight.requires_grad_(False)
    x = torch.rand(11, 1, 8, 8)
    for variant in ("zero", "average"):
        one = GAIA(net, variant, batch_size=1).score(x)
        full = GAIA(net, variant, batch_size=256).score(x)
        torch.testing.assert_close(one, full, rtol=1e-6, atol=0)
    z = GAIA(net, "zero", batch_size=4).score(x)
    assert torch.equal(z, GAIA(net, "zero", batch_size=256).score(x))
    assert all(m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
    assert not net[0].weight.requires_grad and net[4].weight.requires_grad
    after = [m.running_mean for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(torch.equal(a, b) for a, b in zip(running, after))
    assert all_hooks(net) == 0


@pytest.mark.parametrize("make", [
    lambda net: GAIA(net, "zero"),
    lambda net: GAIA(net, "average"),
    lambda net: GradNorm(net, method="autograd"),
    lambda net: ReAct(net).fit(torch.rand(4, 1, 8, 8)),
])
def test_hooks_never_leak_after_an_exception(make):
    boom = Boom()
    net = nn.Sequential(*bn_cnn(), boom)
    detector = make(net)
    boom.armed = True
    net.train()
    with pytest.raises(RuntimeError, match="boom"):
        detector.score(torch.rand(3, 1, 8, 8))
    assert all_hooks(net) == 0
    assert all(m.training for m in net.modules())


def test_conv_layers_for_nets_without_batchnorm_and_errors():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 36, 3))
    with pytest.raises(ValueError, match="layers='conv'"):
        GAIA(net)
    assert GAIA(net, layers="conv").score(torch.rand(2, 1, 8, 8)).shape == (2,)
    with pytest.raises(ValueError, match="variant"):
        GAIA(net, "mean", layers="conv")
    with pytest.raises(ValueError, match="not a submodule"):
        GAIA(net, layers=[nn.Conv2d(1, 1, 1)])
    with pytest.raises(ValueError, match="NaN"):
        GAIA(net, layers="conv").score(torch.full((2, 1, 8, 8), float("nan")))
    with pytest.raises(ValueError, match="output_layer"):
        GAIA(net, "zero", layers="conv", output_layer=net[0])
    # A layer after the output map of GAIA-A does not influence h: a clear error.
    with pytest.raises(ValueError, match="does not influence"):
        GAIA(net, "average", layers=[net[3]], output_layer=net[1]).score(torch.rand(2, 1, 8, 8))
    with pytest.raises(ValueError, match="logits of shape"):
        GAIA(nn.Sequential(nn.Conv2d(1, 2, 3)), layers="conv").score(torch.rand(2, 1, 8, 8))
