"""MSP, MaxLogit, Energy, ODIN, GradNorm and ReAct against closed forms and hand computations.

pytorch-ood (the natural cross-check) cannot be imported here: it needs torchvision, which
does not work with the CPU torch build.  The checks below use closed forms instead; the
last test cross-checks against pytorch-ood in a subprocess with torchvision stubbed out.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from attribution.ood import MSP, ODIN, Energy, GradNorm, MaxLogit, ReAct

LOGITS = torch.tensor([[2.0, -1.0, 0.5], [0.0, 0.0, 0.0], [-3.0, 4.0, 1.0]], dtype=torch.float64)


def test_logit_scores_equal_closed_forms():
    model = nn.Identity()
    z = LOGITS.numpy()
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    np.testing.assert_allclose(MSP(model).score(LOGITS).numpy(), -p.max(1), rtol=1e-12)
    np.testing.assert_allclose(MaxLogit(model).score(LOGITS).numpy(), -z.max(1), rtol=1e-12)
    for t in (1.0, 3.0):
        expected = -t * np.log(np.exp(z / t).sum(1))
        np.testing.assert_allclose(Energy(model, temperature=t).score(LOGITS).numpy(), expected,
                                   rtol=1e-12)
    with pytest.raises(ValueError, match="temperature"):
        Energy(model, temperature=0.0)


def test_odin_equals_hand_computation_on_a_linear_model():
    torch.manual_seed(0)
    model = nn.Linear(4, 3).double()
    x = torch.randn(5, 4, dtype=torch.float64)
    t, eps = 10.0, 0.05
    w, b = model.weight.detach(), model.bias.detach()
    with torch.no_grad():
        z = x @ w.T + b
        p = (z / t).softmax(1)
        k = z.argmax(1)
        # d log softmax_k(z/T) / dx = (W_k - sum_j p_j W_j) / T
        grad = (w[k] - p @ w) / t
        x_tilde = x + eps * grad.sign()
        expected = -((x_tilde @ w.T + b) / t).softmax(1).max(1).values
    got = ODIN(model, temperature=t, epsilon=eps).score(x)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)
    # epsilon = 0 is temperature-scaled MSP
    torch.testing.assert_close(ODIN(model, temperature=t, epsilon=0.0).score(x),
                               -(z / t).softmax(1).max(1).values)


def _mlp() -> nn.Sequential:
    torch.manual_seed(1)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 4)).double()


def _per_sample_gradnorm(model, head, x, t):
    norms = []
    for row in x:
        model.zero_grad()
        z = model(row[None])
        loss = -torch.log_softmax(z / t, dim=1).mean()
        loss.backward()
        norms.append(head.weight.grad.abs().sum().item())
    model.zero_grad(set_to_none=True)
    return -torch.tensor(norms, dtype=torch.float64)


@pytest.mark.parametrize("t", [1.0, 2.0])
def test_gradnorm_closed_form_equals_per_sample_autograd(t):
    model = _mlp()
    x = torch.randn(9, 5, dtype=torch.float64)
    reference = _per_sample_gradnorm(model, model[2], x, t)
    closed = GradNorm(model, temperature=t, method="closed_form").score(x)
    auto = GradNorm(model, temperature=t).score(x)
    grads = GradNorm(model, temperature=t, method="autograd").score(x)
    assert torch.max(torch.abs(closed - reference)) < 1e-10
    assert torch.equal(auto, closed)
    assert torch.max(torch.abs(grads - reference)) < 1e-10
    assert all(p.grad is None for p in model.parameters())


def test_gradnorm_falls_back_to_autograd_when_the_head_output_is_transformed():
    inner = _mlp()

    class Scaled(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return 3.0 * self.inner(x)

    model = Scaled()
    x = torch.randn(4, 5, dtype=torch.float64)
    reference = _per_sample_gradnorm(model, inner[2], x, 1.0)
    assert torch.max(torch.abs(GradNorm(model).score(x) - reference)) < 1e-10
    with pytest.raises(ValueError, match="closed_form"):
        GradNorm(model, method="closed_form").score(x)


def test_react_threshold_and_score_equal_hand_computation():
    model = _mlp()
    x_fit = torch.randn(20, 5, dtype=torch.float64)
    x = torch.randn(6, 5, dtype=torch.float64)
    detector = ReAct(model, percentile=80).fit(x_fit)
    with torch.no_grad():
        h_fit = model[1](model[0](x_fit))
        c = np.percentile(h_fit.numpy().ravel(), 80)
        h = model[1](model[0](x)).clamp(max=c)
        expected = -torch.logsumexp(model[2](h), dim=1)
    assert detector.threshold_ == pytest.approx(c, rel=1e-12)
    torch.testing.assert_close(detector.score(x), expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="fit"):
        ReAct(model).score(x)
    with pytest.raises(ValueError, match="percentile"):
        ReAct(model, percentile=0)
    assert sum(len(m._forward_pre_hooks) for m in model.modules()) == 0


def test_bad_inputs_give_clear_errors():
    with pytest.raises(ValueError, match="nn.Module"):
        MSP(lambda x: x)
    with pytest.raises(ValueError, match="batch_size"):
        MSP(nn.Identity(), batch_size=0)
    with pytest.raises(ValueError, match="torch.Tensor"):
        MSP(nn.Identity()).score(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="at least 2 logits"):
        MSP(nn.Identity()).score(torch.zeros(2, 1))
    with pytest.raises(ValueError, match="nn.Linear"):
        GradNorm(nn.Identity())


def test_batch_size_invariance_of_the_baselines():
    model = _mlp()
    x = torch.randn(10, 5, dtype=torch.float64)
    for make in (MSP, MaxLogit, Energy, ODIN, GradNorm):
        torch.testing.assert_close(make(model, batch_size=1).score(x),
                                   make(model, batch_size=256).score(x), rtol=1e-12, atol=0)
    react = ReAct(model).fit(x)
    one = ReAct(model, batch_size=1).fit(x)
    assert one.threshold_ == pytest.approx(react.threshold_, rel=1e-12)  # BLAS: ulp-level
    torch.testing.assert_close(one.score(x), react.score(x), rtol=1e-12, atol=0)


def test_cross_check_against_pytorch_ood_in_a_stubbed_subprocess():
    # pytorch-ood needs torchvision only for its model zoo; a subprocess stubs torchvision
    # (never this test process) and compares detector by detector.
    if importlib.util.find_spec("pytorch_ood") is None:
        pytest.skip("pytorch-ood is not installed")
    script = Path(__file__).with_name("_pytorch_ood_check.py")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[3])
    assert done.returncode == 0, done.stderr[-2000:]
    diffs = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(diffs) == {"MSP", "Energy", "MaxLogit", "ODIN", "ReAct"}
    assert max(diffs.values()) < 1e-6, diffs
