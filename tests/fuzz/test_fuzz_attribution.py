"""Property-based contract of the attribution methods, the faithfulness metrics and the
OOD detectors on generated models and inputs: finite outputs of the documented shape,
or a ValueError; no other exception, no RuntimeWarning (see fuzz_support)."""

from __future__ import annotations

import pytest
import torch
from fuzz_support import Recorded, budget, check_value_error, count
from hypothesis import given
from hypothesis import strategies as st

from attribution import (
    AGI,
    BIG,
    ISA,
    MFABA,
    GuidedIG,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from attribution import metrics as M
from attribution.ood import GAIA, MSP, ODIN, Energy, GradNorm, MaxLogit, ReAct

pytestmark = pytest.mark.usefixtures("fuzz_threads")

METHODS = {
    Saliency: {},
    InputXGradient: {},
    IntegratedGradients: {"n_steps": 4},
    SmoothGrad: {"n_samples": 3, "random_state": 0},
    GuidedIG: {"n_steps": 3},
    BIG: {"n_attack_steps": 2, "n_steps": 3, "epsilons": (0.1, 0.3)},
    AGI: {"max_iter": 2, "n_classes": 2, "random_state": 0},
    MFABA: {"n_steps": 3},
    ISA: {"step_size": 2, "ascent_steps": 1, "descent_steps": 1, "random_state": 0},
}


@st.composite
def problems(draw):
    """(model, inputs, target): a small seeded MLP and a batch of hostile inputs."""
    n = draw(st.integers(1, 6))
    d = draw(st.integers(1, 6))
    k = draw(st.integers(2, 4))
    seed = draw(st.integers(0, 2**31 - 1))
    magnitude = draw(st.sampled_from([0.0, 1e-6, 1.0, 1e3]))
    activation = draw(st.sampled_from([torch.nn.ReLU, torch.nn.Tanh, torch.nn.Softplus]))
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(d, 8), torch.nn.BatchNorm1d(8),
                                activation(), torch.nn.Linear(8, k)).double().eval()
    inputs = torch.randn(n, d, generator=gen, dtype=torch.float64) * magnitude
    if draw(st.booleans()):
        inputs[0] = 0.0  # a row equal to the zero baseline
    target = torch.randint(k, (n,), generator=gen)
    return model, inputs, target, {"n": n, "d": d, "k": k, "seed": seed, "mag": magnitude}


#: Metrics documented to return NaN where they are undefined (a Pearson correlation
#: over runs where the attributions or the output changes are constant).
MAY_BE_NAN = ("faithfulness_correlation",)


def _finite_or_value_error(call, what, shape=None):
    with Recorded() as rec:
        try:
            out = call()
        except ValueError as exc:
            check_value_error(exc, what)
            return None
        except Exception as exc:  # noqa: BLE001 - the property: no other type
            raise AssertionError(f"{what}: {type(exc).__name__}: {exc}") from exc
    rec.check(what)
    values = out.values if hasattr(out, "values") and not callable(out.values) else out
    values = torch.as_tensor(values)
    if shape is not None:
        assert tuple(values.shape) == tuple(shape), f"{what}: shape {tuple(values.shape)}"
    ok = ~torch.isinf(values) if what.startswith(MAY_BE_NAN) else torch.isfinite(values)
    assert bool(ok.all()), f"{what}: non-finite {values}"
    return out


@given(problem=problems(), method=st.sampled_from(list(METHODS)))
@budget(25, long=1000)
def test_methods_give_finite_attributions_of_the_input_shape(problem, method):
    model, inputs, target, recipe = problem
    what = f"{method.__name__} on {recipe}"
    count("attribution", "method")
    _finite_or_value_error(lambda: method(model).attribute(inputs, target=target,
                                                           **METHODS[method]),
                           what, shape=inputs.shape)


METRICS = {
    "completeness_error": lambda f, x, a, t: M.completeness_error(f, x, a, target=t),
    "faithfulness_correlation": lambda f, x, a, t: M.faithfulness_correlation(
        f, x, a, target=t, n_runs=5, random_state=0),
    "infidelity": lambda f, x, a, t: M.infidelity(f, x, a, target=t, n_perturb_samples=4,
                                                  random_state=0),
    "deletion": lambda f, x, a, t: M.deletion(f, x, a, target=t),
    "insertion": lambda f, x, a, t: M.insertion(f, x, a, target=t),
    "monotonicity": lambda f, x, a, t: M.monotonicity(f, x, a, target=t),
    "pixel_flipping": lambda f, x, a, t: M.pixel_flipping(f, x, a, target=t),
    "sensitivity_max": lambda f, x, a, t: M.sensitivity_max(
        lambda inp, target=None: Saliency(f).attribute(inp, target=target), x, target=t,
        n_perturb_samples=3, random_state=0),
}


@given(problem=problems(), metric=st.sampled_from(sorted(METRICS)),
       kind=st.sampled_from(["saliency", "random", "zeros", "constant"]))
@budget(25, long=1000)
def test_metrics_are_finite_or_a_value_error(problem, metric, kind):
    model, inputs, target, recipe = problem
    if kind == "saliency":
        attributions = Saliency(model).attribute(inputs, target=target)
    elif kind == "random":
        attributions = torch.randn(inputs.shape, dtype=inputs.dtype,
                                   generator=torch.Generator().manual_seed(recipe["seed"]))
    elif kind == "zeros":
        attributions = torch.zeros_like(inputs)
    else:
        attributions = torch.ones_like(inputs)
    what = f"{metric} with {kind} attributions on {recipe}"
    count("attribution", "metric")
    _finite_or_value_error(lambda: METRICS[metric](model, inputs, attributions, target), what)


DETECTORS = ["MSP", "Energy", "MaxLogit", "ODIN", "GradNorm", "ReAct", "GAIA"]


@given(problem=problems(), detector=st.sampled_from(DETECTORS))
@budget(20, long=700)
def test_detectors_give_one_finite_score_per_row(problem, detector):
    model, inputs, target, recipe = problem
    what = f"{detector} on {recipe}"
    count("attribution", "detector")

    def run():
        if detector == "ReAct":
            return ReAct(model, head=model[3]).fit(inputs).score(inputs)
        if detector == "GradNorm":
            return GradNorm(model, head=model[3]).score(inputs)
        if detector == "GAIA":
            return GAIA(model).score(inputs)
        cls = {"MSP": MSP, "Energy": Energy, "MaxLogit": MaxLogit, "ODIN": ODIN}[detector]
        return cls(model).score(inputs)

    _finite_or_value_error(run, what, shape=(len(inputs),))
