"""The one target / baseline / chunk formatter shared by the methods and the metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from attribution import IntegratedGradients
from attribution._utils import format_baselines, format_target, row_chunks, to_tensor
from attribution.metrics import completeness_error, deletion

SCORES = torch.tensor([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5], [0.0, 1.0, 0.0]])


# ------------------------------------------------------------------ targets
def test_none_is_the_predicted_class_or_the_only_output() -> None:
    assert format_target(None, SCORES).tolist() == [1, 0, 2, 1]
    assert format_target(None, torch.randn(3)).tolist() == [0, 0, 0]
    assert format_target(None, torch.randn(3, 1)).tolist() == [0, 0, 0]
    # The metrics expand a binary logit z to [-z, z]: None selects z, whatever its sign.
    z = torch.tensor([-2.0, 3.0])
    expanded = torch.stack([-z, z], dim=1)
    assert format_target(None, expanded, single_output=True).tolist() == [1, 1]
    assert format_target(None, expanded).tolist() == [0, 1]  # argmax


def test_explicit_targets_broadcast_and_convert() -> None:
    for target in (2, [2], torch.tensor(2), torch.tensor([2]), np.int64(2), np.array([2])):
        assert format_target(target, SCORES).tolist() == [2, 2, 2, 2]
    for target in ([0, 1, 2, 0], (0, 1, 2, 0), np.array([0, 1, 2, 0]), torch.tensor([0, 1, 2, 0])):
        out = format_target(target, SCORES)
        assert out.dtype == torch.long and out.tolist() == [0, 1, 2, 0]
    assert format_target(torch.tensor([[0, 1], [2, 0]]), SCORES).tolist() == [0, 1, 2, 0]


def test_result_never_aliases_the_callers_target() -> None:
    target = torch.tensor([0, 1, 2, 0])
    out = format_target(target, SCORES)
    out[0] = 2
    assert target.tolist() == [0, 1, 2, 0]
    assert out.is_contiguous()
    broadcast = format_target(1, SCORES)
    broadcast[0] = 0  # writable: a real tensor, not an expanded view
    assert broadcast.tolist() == [0, 1, 1, 1]


def test_one_rule_for_float_targets() -> None:
    # whole-number floats (a label vector read as floats) are class indices, for
    # tensors, arrays and lists alike; fractions, complex values and bools are not
    for whole in (torch.tensor([2.0, 0.0, 1.0, 1.0]), np.array([2.0, 0.0, 1.0, 1.0]),
                  [2.0, 0.0, 1.0, 1.0]):
        assert format_target(whole, SCORES).tolist() == [2, 0, 1, 1]
    for bad, dtype in ((torch.tensor([0.5]), "torch.float32"), (np.array([0.5]), "torch.float64"),
                       (torch.tensor([1 + 0j]), "torch.complex64"),
                       (torch.tensor([True]), "torch.bool")):
        with pytest.raises(ValueError) as info:
            format_target(bad, SCORES)
        assert str(info.value) == f"target must hold integer class indices, got {dtype}"
    for flag in (True, np.bool_(False)):
        with pytest.raises(ValueError) as info:
            format_target(flag, SCORES)
        assert str(info.value) == (
            "target must be an int, an array-like of ints or a tensor, not bool")


def test_count_and_range_messages() -> None:
    with pytest.raises(ValueError) as info:
        format_target([0, 1], SCORES)
    assert str(info.value) == "target has 2 entries but inputs have 4 examples"
    with pytest.raises(ValueError) as info:
        format_target([0, 1, 3, -1], SCORES)
    assert str(info.value) == (
        "target out of range: got class indices in [-1, 3] but the model returns "
        "3 output(s) per example"
    )


def test_the_style_flag_is_gone() -> None:
    with pytest.raises(TypeError):
        format_target(0, SCORES, style="metric")  # type: ignore[call-arg]


# ---------------------------------------------------------------- baselines
def test_baselines_broadcast_to_the_inputs() -> None:
    x = torch.arange(24.0, dtype=torch.float64).reshape(2, 3, 4)
    assert torch.equal(format_baselines(None, x), torch.zeros_like(x))
    assert torch.equal(format_baselines(2, x), torch.full_like(x, 2.0))
    one = torch.arange(12.0).reshape(3, 4)
    for b in (one, one[None], one.expand(2, 3, 4).clone(), torch.tensor(1.5),
              torch.ones(2, 1, 1), one.numpy(), one.tolist()):
        out = format_baselines(b, x)
        assert out.shape == x.shape and out.dtype == torch.float64
        assert torch.equal(out, torch.broadcast_to(torch.as_tensor(b).double(), x.shape))
    for shape in [(3, 1, 4, 1), (4, 1), (2, 3, 5)]:
        with pytest.raises(ValueError) as info:
            format_baselines(torch.zeros(shape), x)
        assert str(info.value) == (
            f"baselines of shape {shape} cannot broadcast to inputs of shape (2, 3, 4): use a "
            "number, a tensor of that shape, or one example of shape (3, 4)"
        )
    with pytest.raises(ValueError, match="baselines must be numeric array-like"):
        format_baselines("zero", x)


# ------------------------------------------------------------------- chunks
def test_row_chunks_partition_rows_like_torch_split() -> None:
    for n_rows in range(13):
        for size in range(1, 15):
            slices = row_chunks(n_rows, size)
            rows = [i for s in slices for i in range(n_rows)[s]]
            assert rows == list(range(n_rows))
            expected = [len(p) for p in torch.split(torch.arange(n_rows), size)]
            assert [s.stop - s.start for s in slices] == expected
        assert row_chunks(n_rows, None) == [slice(0, n_rows)]


def test_row_chunks_messages() -> None:
    with pytest.raises(ValueError) as info:
        row_chunks(5, 0)
    assert str(info.value) == "batch_size must be a positive int, got 0"
    with pytest.raises(ValueError) as info:
        row_chunks(5, -2, name="internal_batch_size")
    assert str(info.value) == "internal_batch_size must be a positive int, got -2"


def test_to_tensor_dtypes() -> None:
    assert to_tensor(np.ones(2, dtype=np.float32)).dtype == torch.float32
    assert to_tensor(np.array([1, 2])).dtype == torch.float64
    assert to_tensor([True, False]).tolist() == [1.0, 0.0]
    # Not real numbers: an error, never a silent NaN (np.asarray(None) casts to nan).
    for bad in (None, ["1.5"], np.array([1 + 1j]), [object()]):
        with pytest.raises(ValueError, match="must be numeric array-like"):
            to_tensor(bad)


def test_metric_none_baselines_are_zeros_never_nan() -> None:
    model = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    a = torch.randn(4, 3)
    for metric in (completeness_error, deletion):
        torch.testing.assert_close(metric(model, x, a, target=0, baselines=None),
                                   metric(model, x, a, target=0, baselines=0.0))


# --------------------------------------------- both doors use the one formatter
def test_methods_and_metrics_raise_the_same_messages() -> None:
    model = torch.nn.Linear(3, 2)
    x = torch.randn(4, 3)
    for call in (lambda: IntegratedGradients(model).attribute(x, target=[0, 1]),
                 lambda: completeness_error(model, x, torch.zeros(4, 3), target=[0, 1])):
        with pytest.raises(ValueError) as info:
            call()
        assert str(info.value) == "target has 2 entries but inputs have 4 examples"
    for call in (lambda: IntegratedGradients(model).attribute(x, target=0.5),
                 lambda: completeness_error(model, x, torch.zeros(4, 3), target=0.5)):
        with pytest.raises(ValueError, match="target must hold integer class indices"):
            call()
    with pytest.raises(ValueError) as info:
        IntegratedGradients(model).attribute(x, target=0, baselines=torch.zeros(4, 2))
    assert str(info.value).startswith("baselines of shape (4, 2) cannot broadcast")
    with pytest.raises(ValueError) as info:
        deletion(model, x, torch.zeros(4, 3), target=0, batch_size=0)
    assert str(info.value) == "batch_size must be a positive int, got 0"
