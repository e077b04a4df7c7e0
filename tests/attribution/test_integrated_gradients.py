"""Integrated Gradients: Captum parity, analytic oracles, completeness, adaptive refinement."""

from __future__ import annotations

import copy

import pytest
import torch
from captum.attr import IntegratedGradients as CaptumIG

from attribution import IntegratedGradients
from attribution._utils import CAPTUM_METHODS, quadrature
from attribution.testing import train_digits_cnn

pytestmark = pytest.mark.usefixtures("single_thread")


def _relative_error(ours: torch.Tensor, reference: torch.Tensor) -> float:
    return float((ours - reference).abs().max() / reference.abs().max())


@pytest.mark.parametrize("method", CAPTUM_METHODS)
@pytest.mark.parametrize("n_steps", [7, 50])
def test_matches_captum_for_every_method(digits_cnn, digits_batch, method, n_steps):
    images, labels = digits_batch
    baselines = torch.rand(images.shape, generator=torch.Generator().manual_seed(1)) * 0.2
    ours, our_delta = IntegratedGradients(digits_cnn).attribute(
        images,
        baselines=baselines,
        target=labels,
        n_steps=n_steps,
        method=method,
        return_convergence_delta=True,
    )
    theirs, their_delta = CaptumIG(digits_cnn).attribute(
        images,
        baselines,
        target=labels,
        n_steps=n_steps,
        method=method,
        return_convergence_delta=True,
    )
    assert _relative_error(ours, theirs) < 1e-5
    torch.testing.assert_close(our_delta, their_delta, rtol=0, atol=1e-4)


def test_matches_captum_with_additional_forward_args_and_chunks(digits_cnn, digits_batch):
    images, labels = digits_batch
    temperature = torch.linspace(0.5, 2.0, len(images))

    def scaled(x, t):
        return digits_cnn(x) / t[:, None]

    same = {  # one set of arguments for both implementations
        "target": labels,
        "additional_forward_args": (temperature,),
        "n_steps": 10,
        "internal_batch_size": 17,
    }
    ours = IntegratedGradients(scaled).attribute(images, **same)
    theirs = CaptumIG(scaled).attribute(images, **same)
    assert _relative_error(ours, theirs) < 1e-5


@pytest.mark.parametrize("chunk", [5, 12, 13, 599])
def test_internal_batch_size_does_not_change_the_result(digits_cnn, digits_batch, chunk):
    # float64, so that batch-size dependent convolution kernels cannot flip ReLU/max-pool ties.
    images, labels = digits_batch
    ig = IntegratedGradients(copy.deepcopy(digits_cnn).double())
    whole = ig.attribute(images.double(), target=labels, n_steps=50)
    chunked = ig.attribute(images.double(), target=labels, n_steps=50, internal_batch_size=chunk)
    torch.testing.assert_close(chunked, whole, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "method", ["riemann_left", "riemann_right", "riemann_middle", "gausslegendre", "trapezoid"]
)
def test_linear_model_is_exact(method):
    torch.manual_seed(0)
    model = torch.nn.Linear(6, 3).double()
    x, b = torch.randn(4, 6, dtype=torch.float64), torch.randn(4, 6, dtype=torch.float64)
    attr, delta = IntegratedGradients(model).attribute(
        x, baselines=b, target=2, n_steps=5, method=method, return_convergence_delta=True
    )
    torch.testing.assert_close(attr, model.weight[2].detach() * (x - b), rtol=1e-12, atol=1e-12)
    assert float(delta.abs().max()) < 1e-12


def test_captum_riemann_trapezoid_weights_undercount_by_one_over_n():
    # Documented Captum quirk, reproduced for parity: the weights sum to 1 - 1/n.
    model = torch.nn.Linear(3, 1, bias=False).double()
    x = torch.rand(2, 3, dtype=torch.float64)
    attr = IntegratedGradients(model).attribute(x, n_steps=10, method="riemann_trapezoid")
    expected = (1 - 1 / 10) * model.weight[0].detach() * x
    torch.testing.assert_close(attr, expected, rtol=1e-12, atol=1e-12)
    assert quadrature("trapezoid", 10)[1].sum() == pytest.approx(1.0, abs=1e-15)


class Monomial(torch.nn.Module):
    """F(x) = c * prod_j x_j ** beta_j: with baseline 0, IG_j = beta_j / sum(beta) * F(x)."""

    def __init__(self, beta: list[float], c: float = 1.5) -> None:
        super().__init__()
        self.beta = torch.tensor(beta, dtype=torch.float64)
        self.c = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.c * (x**self.beta).prod(dim=1)


def test_monomial_integer_exponents_exact_with_gauss_legendre():
    # The integrand is a polynomial of degree sum(beta) - 1 = 5 in alpha: 3 nodes are exact.
    model = Monomial([1.0, 2.0, 3.0])
    x = torch.rand(5, 3, dtype=torch.float64) + 0.5
    attr = IntegratedGradients(model).attribute(x, n_steps=3)
    expected = model(x)[:, None] * model.beta / model.beta.sum()
    torch.testing.assert_close(attr, expected, rtol=1e-12, atol=1e-12)


def test_monomial_fractional_exponents_converge_with_gauss_legendre():
    # sum(beta) = 1.2: the integrand alpha ** 0.2 is not smooth at 0; GL avoids the endpoint.
    model = Monomial([0.5, 0.3, 0.4])
    x = torch.rand(5, 3, dtype=torch.float64) + 0.5
    expected = model(x)[:, None] * model.beta / model.beta.sum()
    coarse = IntegratedGradients(model).attribute(x, n_steps=5)
    fine = IntegratedGradients(model).attribute(x, n_steps=50)
    assert _relative_error(fine, expected) < 2e-4
    assert _relative_error(fine, expected) < _relative_error(coarse, expected) / 10


def _relative_deltas(model, images, labels, **kwargs) -> torch.Tensor:
    _, delta = IntegratedGradients(model).attribute(
        images, target=labels, return_convergence_delta=True, **kwargs
    )
    with torch.no_grad():
        at_input = model(images).gather(1, labels[:, None]).squeeze(1)
        at_baseline = model(torch.zeros_like(images)).gather(1, labels[:, None]).squeeze(1)
    return delta.abs() / (at_input - at_baseline).abs()


def test_completeness_under_one_percent_at_defaults_on_digits_cnn(digits_cnn_and_data):
    model, images, labels = digits_cnn_and_data
    relative = _relative_deltas(model, images[::30], labels[::30])  # 60 digits, all classes
    # A smooth (SiLU) CNN: Gauss-Legendre with 50 nodes is exact to float32 round-off.
    assert float(relative.max()) < 1e-4


def test_completeness_on_relu_maxpool_digits_cnn():
    # Kinks along the path slow convergence: most digits are within 1 % at the defaults,
    # a few need more steps (measured: median 0.24 %, max 1.4 % at 50 nodes).
    model, images, labels = train_digits_cnn(smooth=False)
    batch, target = images[::30], labels[::30]
    at_defaults = _relative_deltas(model, batch, target)
    assert float(at_defaults.median()) < 0.005
    assert float((at_defaults > 0.01).float().mean()) < 0.1
    assert float(_relative_deltas(model, batch, target, n_steps=200).max()) < 0.01


def test_target_none_explains_the_predicted_class(digits_cnn, digits_batch):
    images, _ = digits_batch
    predicted = digits_cnn(images).argmax(1)
    ig = IntegratedGradients(digits_cnn)
    torch.testing.assert_close(ig.attribute(images), ig.attribute(images, target=predicted))


def test_baseline_forms_agree(digits_cnn, digits_batch):
    images, labels = digits_batch
    ig = IntegratedGradients(digits_cnn)
    full = ig.attribute(images, baselines=torch.full_like(images, 0.25), target=labels,
                        n_steps=8)
    for baseline in (
        0.25,
        torch.full(images.shape[1:], 0.25),
        torch.full((1, *images.shape[1:]), 0.25),
    ):
        torch.testing.assert_close(
            ig.attribute(images, baselines=baseline, target=labels, n_steps=8), full)


def test_multiply_by_inputs_false_returns_the_averaged_gradient():
    model = torch.nn.Linear(4, 2).double()
    x = torch.rand(3, 4, dtype=torch.float64)
    attr = IntegratedGradients(model, multiply_by_inputs=False).attribute(x, target=1)
    torch.testing.assert_close(attr, model.weight[1].detach().expand(3, 4))


def _fewest_uniform_steps(ig, images, labels, change, tolerance, method) -> int:
    """Smallest n at which one fixed rule meets the tolerance for every example."""
    for n in range(2, 120):
        _, delta = ig.attribute(
            images, target=labels, n_steps=n, method=method, return_convergence_delta=True
        )
        if bool((delta.abs() <= tolerance * change).all()):
            return n
    return 120


def test_adaptive_needs_fewer_evaluations_than_fixed_rules_on_a_relu_cnn():
    # Kinks make the error of fixed rules erratic in n; bisecting where the exactly known
    # interval errors are largest reaches the same guarantee with far fewer passes.
    model, images, labels = train_digits_cnn(smooth=False)
    images, labels = images[::60], labels[::60]
    ig, tolerance = IntegratedGradients(model), 0.01
    _, delta, n_evals = ig.attribute_adaptive(
        images,
        target=labels,
        tolerance=tolerance,
        return_convergence_delta=True,
        return_n_steps=True,
    )
    with torch.no_grad():
        change = (
            (
                model(images).gather(1, labels[:, None])
                - model(torch.zeros_like(images))[:, labels].T
            )
            .diagonal()
            .abs()
        )
    assert bool((delta.abs() <= tolerance * change + 1e-6).all())
    for method in ("gausslegendre", "riemann_middle", "trapezoid"):
        uniform = _fewest_uniform_steps(ig, images, labels, change, tolerance, method)
        assert float(n_evals.float().mean()) < 0.5 * uniform


def test_adaptive_on_digits_cnn_meets_tolerance_and_warns_when_budget_is_short(
    digits_cnn, digits_batch
):
    images, labels = digits_batch
    ig = IntegratedGradients(digits_cnn)
    attr, delta, n_evals = ig.attribute_adaptive(
        images, target=labels, tolerance=0.005, return_convergence_delta=True, return_n_steps=True
    )
    with torch.no_grad():
        change = digits_cnn(images).gather(1, labels[:, None]).squeeze(1) - digits_cnn(
            torch.zeros_like(images)
        ).gather(1, labels[:, None]).squeeze(1)
    assert bool((delta.abs() <= 0.005 * change.abs() + 1e-6).all())
    assert int(n_evals.min()) >= 3  # the initial grid: baseline, midpoint, input
    with pytest.warns(RuntimeWarning, match="did not reach"):
        ig.attribute_adaptive(images, target=labels, tolerance=1e-9, max_steps=6)
