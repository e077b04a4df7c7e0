"""The API conventions of docs/architecture.md ("Conventions"), checked on the signatures.

One row per kind of public object: attribution methods, metrics (function and class),
OOD detectors and neuron tools. A new public object of one of these kinds is picked up
from the package's ``__all__`` and must follow its row.
"""

from __future__ import annotations

import inspect

import pytest
import torch

import attribution
import attribution.compress
import attribution.metrics as metrics
import attribution.neurons
import attribution.ood as ood
from attribution import MFABA, GradientAttribution, IntegratedGradients
from attribution.metrics import Metric
from attribution.neurons import (
    NeuronAttribution,
    find_concept_neurons,
    neuron_deletion,
    neuron_insertion,
)
from attribution.ood import OODDetector, OODMetrics

KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY
#: The one batch knob of an ``attribute`` method (Captum's name) and of everything else.
METHOD_BATCH_KNOB = "internal_batch_size"
BATCH_KNOB = "batch_size"
#: Other names a batch knob had; none may come back.
OLD_BATCH_KNOBS = {"max_examples_per_batch", "batch_rows", "nt_samples_batch_size"}
#: The methods whose path starts at a baseline: the only ones taking ``baselines``.
USES_BASELINES = {"IntegratedGradients", "GuidedIG", "ISA"}

METHODS = sorted(
    (getattr(attribution, name) for name in attribution.__all__
     if isinstance(getattr(attribution, name), type)
     and issubclass(getattr(attribution, name), GradientAttribution)
     and getattr(attribution, name) is not GradientAttribution),
    key=lambda cls: cls.__name__,
)
METRIC_CLASSES = sorted(
    (getattr(metrics, name) for name in metrics.__all__
     if isinstance(getattr(metrics, name), type) and issubclass(getattr(metrics, name), Metric)
     and getattr(metrics, name) is not Metric),
    key=lambda cls: cls.__name__,
)
METRIC_FUNCTIONS = [cls.function for cls in METRIC_CLASSES]
DETECTORS = sorted(
    (getattr(ood, name) for name in ood.__all__
     if isinstance(getattr(ood, name), type) and issubclass(getattr(ood, name), OODDetector)
     and getattr(ood, name) is not OODDetector),
    key=lambda cls: cls.__name__,
)


def _params(fn) -> dict[str, inspect.Parameter]:
    return dict(inspect.signature(fn).parameters)


def _after(fn, first: str) -> list[inspect.Parameter]:
    names = list(_params(fn))
    return list(_params(fn).values())[names.index(first) + 1:]


def _batch_knobs(fn) -> set[str]:
    return {n for n in _params(fn) if "batch" in n}


def test_the_tables_are_not_empty():
    assert len(METHODS) >= 9 and len(METRIC_CLASSES) >= 9 and len(DETECTORS) >= 6


# ------------------------------------------------------------------- methods
@pytest.mark.parametrize("method", METHODS, ids=lambda c: c.__name__)
def test_method_row(method):
    assert list(_params(method.__init__))[1] == "forward_func"
    assert method.get_name() == method.__name__
    for fn in (method.attribute, getattr(method, "attribute_adaptive", None)):
        if fn is None:
            continue
        params = _params(fn)
        assert list(params)[:2] == ["self", "inputs"]
        # every argument after inputs is keyword-only: IG(m).attribute(x, y) cannot read
        # y as a baseline in one class and as a target in another
        assert all(p.kind is KEYWORD_ONLY for p in _after(fn, "inputs")), fn.__qualname__
        assert params["target"].default is None
        assert _batch_knobs(fn) == {METHOD_BATCH_KNOB}
        assert ("baselines" in params) == (method.__name__ in USES_BASELINES)


def test_positional_target_or_baseline_is_refused_everywhere(digits_cnn, digits_batch):
    images, labels = digits_batch
    for method in (IntegratedGradients, MFABA):
        with pytest.raises(TypeError, match="positional"):
            method(digits_cnn).attribute(images, labels)


@pytest.mark.parametrize("method", sorted(set(m.__name__ for m in METHODS) - USES_BASELINES))
def test_a_method_without_a_baseline_refuses_one(method):
    model = torch.nn.Linear(3, 2)
    with pytest.raises(TypeError, match="baselines"):
        getattr(attribution, method)(model).attribute(torch.rand(2, 3), target=0, baselines=0.0)


# ------------------------------------------------------------------- metrics
@pytest.mark.parametrize("function", METRIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_metric_function_row(function):
    params = _params(function)
    if function is metrics.sensitivity_max:  # re-runs an explainer: no model, no attributions
        assert list(params)[:2] == ["explanation_func", "inputs"]
        assert all(p.kind is KEYWORD_ONLY or p.kind is p.VAR_KEYWORD
                   for p in _after(function, "inputs"))
    else:
        assert list(params)[:3] == ["forward_func", "inputs", "attributions"]
        assert all(p.kind is KEYWORD_ONLY for p in _after(function, "attributions"))
        assert params["target"].default is None
    assert _batch_knobs(function) == {BATCH_KNOB}


@pytest.mark.parametrize("cls", METRIC_CLASSES, ids=lambda c: c.__name__)
def test_metric_class_row(cls):
    assert list(_params(cls.__init__))[1] == "forward_func"
    assert cls.get_name() == cls.function.__name__
    assert not hasattr(cls, "name")
    update = _params(cls.update)
    assert list(update)[:2] == ["self", "inputs"] and update["target"].kind is KEYWORD_ONLY
    assert inspect.signature(cls.update).return_annotation in (None, "None")
    assert isinstance(cls.higher_is_better, bool)


def test_update_returns_nothing_and_calling_returns_the_batch_scores():
    model = torch.nn.Linear(3, 2)
    x = torch.rand(4, 3)
    metric = metrics.CompletenessError(model)
    assert metric.update(x, x, target=0) is None
    scores = metric(x, x, target=0)
    assert scores.shape == (4,) and len(metric.scores) == 2
    ood_metric = OODMetrics()
    assert ood_metric.update(torch.tensor([0.1, 0.9]), torch.tensor([0, 1])) is None


# ----------------------------------------------------------------- detectors
@pytest.mark.parametrize("cls", DETECTORS, ids=lambda c: c.__name__)
def test_detector_row(cls):
    params = _params(cls.__init__)
    if cls is ood.RankFusion:  # a detector of detectors: they hold the model and batches
        assert list(params)[1] == "detectors" and not _batch_knobs(cls.__init__)
    else:
        assert list(params)[1] == "model"  # an nn.Module: detectors read or hook its layers
        assert _batch_knobs(cls.__init__) == {BATCH_KNOB}
    assert cls.get_name() and not hasattr(cls, "name")
    assert list(_params(cls.fit))[:3] == ["self", "x", "y"]
    assert list(_params(cls.score))[:2] == ["self", "x"]


# -------------------------------------------------------------- neuron tools
def test_neuron_tools_row():
    assert list(_params(NeuronAttribution.__init__))[1] == "model"
    assert _batch_knobs(NeuronAttribution.__init__) == {METHOD_BATCH_KNOB}
    after = _after(NeuronAttribution.attribute, "inputs")
    assert all(p.kind is KEYWORD_ONLY for p in after)
    assert _params(NeuronAttribution.attribute)["target"].default is None
    # the neuron curves take their arguments in the order of the input-level curves
    for curve in (neuron_deletion, neuron_insertion):
        assert list(_params(curve))[:3] == ["na", "inputs", "attributions"]
        assert _params(curve)["target"].kind is KEYWORD_ONLY
    assert list(_params(metrics.deletion))[1:3] == ["inputs", "attributions"]
    assert _params(find_concept_neurons)["target"].kind is KEYWORD_ONLY


# ---------------------------------------------------------------- everywhere
@pytest.mark.parametrize("module", [attribution, metrics, ood, attribution.neurons,
                                    attribution.compress], ids=lambda m: m.__name__)
def test_no_retired_batch_knob_or_name_method(module):
    for name in module.__all__:
        obj = getattr(module, name)
        members = [obj] + [getattr(obj, m) for m in dir(obj) if not m.startswith("_")
                           and callable(getattr(obj, m, None))] if isinstance(obj, type) \
            else [obj]
        for member in members:
            try:
                params = set(inspect.signature(member).parameters)
            except (TypeError, ValueError):
                continue
            assert not params & OLD_BATCH_KNOBS, f"{name}: {params & OLD_BATCH_KNOBS}"
