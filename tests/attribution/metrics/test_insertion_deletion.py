"""Insertion / deletion: hand-computed AUCs, orderings, substrates, batching, errors."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from _metric_models import LinearScore, small_cnn

from attribution.metrics import CurveResult, Deletion, Insertion, deletion, insertion
from attribution.metrics._curves import gaussian_blur

W = torch.tensor([3.0, 1.0, 2.0, -1.0])
X = torch.ones(1, 4, dtype=torch.float64)


def _trap(values: list[float]) -> float:
    n = len(values) - 1
    return (sum(values) - values[0] / 2 - values[-1] / 2) / n


def test_deletion_linear_raw_by_hand() -> None:
    # order by attribution 3, 2, 1, -1: features 0, 2, 1, 3; scores 5, 2, 0, -1, 0
    res = deletion(LinearScore(W), X, X * W, target=1, softmax=False, return_curves=True)
    assert res.curves.tolist() == [[5.0, 2.0, 0.0, -1.0, 0.0]]
    assert res.fractions.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert res.scores.item() == pytest.approx(0.875, abs=1e-12)


def test_insertion_linear_raw_by_hand() -> None:
    res = insertion(LinearScore(W), X, X * W, target=1, softmax=False, return_curves=True)
    assert res.curves.tolist() == [[0.0, 3.0, 5.0, 6.0, 5.0]]
    assert res.scores.item() == pytest.approx(16.5 / 4, abs=1e-12)


def test_softmax_curve_by_hand() -> None:
    sig = [1 / (1 + math.exp(-z)) for z in (5.0, 2.0, 0.0, -1.0, 0.0)]
    got = deletion(LinearScore(W), X, X * W, target=1)
    assert got.item() == pytest.approx(_trap(sig), abs=1e-12)
    got0 = deletion(LinearScore(W), X, X * W, target=0)
    assert got0.item() == pytest.approx(_trap([1 - s for s in sig]), abs=1e-12)


def test_n_steps_equal_groups_and_baseline() -> None:
    x = torch.tensor([[2.0, 1.0, 3.0, 1.0, 1.0, 4.0]], dtype=torch.float64)
    w = torch.tensor([1.0, -2.0, 0.5, 1.0, 3.0, 0.25])
    attr = torch.tensor([[6.0, 5.0, 4.0, 3.0, 2.0, 1.0]])
    base = torch.full_like(x, 1.0)
    # 3 steps of 2 features; curve at 0, 2, 4, 6 features set to 1
    z = [float((torch.where(torch.arange(6) < c, base, x) * w).sum()) for c in (0, 2, 4, 6)]
    res = deletion(LinearScore(w), x, attr, target=1, baselines=base, n_steps=3, softmax=False,
                   return_curves=True)
    assert res.curves[0].tolist() == pytest.approx(z, abs=1e-12)
    assert res.scores.item() == pytest.approx(_trap(z), abs=1e-12)


def test_uneven_groups_floor_counts() -> None:
    x = torch.ones(1, 5, dtype=torch.float64)
    w = torch.arange(1.0, 6.0)
    res = insertion(LinearScore(w), x, x * w, target=1, n_steps=2, softmax=False,
                    return_curves=True)
    # floor(k*5/2) = 0, 2, 5 features inserted (largest attribution first: 5, 4)
    assert res.curves[0].tolist() == [0.0, 9.0, 15.0]


def test_pixel_vs_channel_ordering() -> None:
    # 2 channels, 1x2 pixels. channel 0 prefers pixel 0, channel 1 prefers pixel 1.
    x = torch.ones(1, 2, 1, 2, dtype=torch.float64)
    w = torch.tensor([1.0, 2.0, 4.0, 8.0])  # (c0p0, c0p1, c1p0, c1p1)
    attr = torch.tensor([[[[5.0, 1.0]], [[0.0, 3.0]]]])
    f = LinearScore(w)
    pix = deletion(f, x, attr, target=1, softmax=False, ordering="pixel", return_curves=True)
    # pixel sums: p0 = 5, p1 = 4 -> delete p0 (w 1+4) then p1
    assert pix.curves[0].tolist() == [15.0, 10.0, 0.0]
    chan = deletion(f, x, attr, target=1, softmax=False, ordering="channel", return_curves=True)
    # step 1: union of the top pixel of each channel = both pixels (MFABA/ISA protocol)
    assert chan.curves[0].tolist() == [15.0, 0.0, 0.0]
    feat = deletion(f, x, attr, target=1, softmax=False, ordering="feature", return_curves=True)
    assert feat.curves[0].tolist() == [15.0, 14.0, 6.0, 4.0, 0.0]


def test_blur_and_mean_substrates() -> None:
    torch.manual_seed(1)
    x = torch.rand(2, 1, 12, 12, dtype=torch.float64)
    w = torch.randn(144)
    attr = torch.randn(2, 1, 12, 12, dtype=torch.float64)
    res = insertion(LinearScore(w), x, attr, target=1, baselines="blur", softmax=False,
                    return_curves=True)
    blur = gaussian_blur(x)
    assert res.curves[:, 0].tolist() == pytest.approx((blur.reshape(2, -1) @ w.double()).tolist())
    t = torch.arange(11.0, dtype=torch.float64) - 5
    g = torch.exp(-(t**2) / 50)
    assert blur[0, 0, 6, 6].item() == pytest.approx(
        float((torch.outer(g, g) / g.sum() ** 2 * x[0, 0, 1:12, 1:12]).sum()), abs=1e-12
    )
    res = deletion(LinearScore(w), x, attr, target=1, baselines="mean", softmax=False,
                   return_curves=True)
    means = x.mean((2, 3)).squeeze(1)
    assert res.curves[:, -1].tolist() == pytest.approx((means * w.sum()).tolist())
    tab = torch.rand(5, 3, dtype=torch.float64)
    res = deletion(LinearScore(torch.ones(3)), tab, tab, target=1, baselines="mean",
                   softmax=False, return_curves=True)
    assert res.curves[:, -1].tolist() == pytest.approx([float(tab.mean(0).sum())] * 5)


def test_batching_and_skipping_do_not_change_results() -> None:
    model = small_cnn()
    x = torch.rand(6, 1, 4, 4)
    x[:, :, :2] = 0.0  # black rows: deletion steps there change nothing
    attr = torch.randn(6, 1, 4, 4)
    ref = deletion(model, x, attr, return_curves=True, skip_unchanged=False)
    for kwargs in ({"batch_size": 7}, {"batch_size": 1}, {}):
        got = deletion(model, x, attr, return_curves=True, **kwargs)
        torch.testing.assert_close(got.curves, ref.curves, rtol=0, atol=1e-6)
    got = insertion(model, x, attr, batch_size=5)
    torch.testing.assert_close(got, insertion(model, x, attr, skip_unchanged=False),
                               rtol=0, atol=1e-6)


def test_per_sample_equals_batch() -> None:
    model = small_cnn(3)
    x, attr = torch.rand(4, 1, 4, 4), torch.randn(4, 1, 4, 4)
    whole = insertion(model, x, attr, target=[0, 1, 2, 3], n_steps=4)
    single = torch.cat([insertion(model, x[i:i + 1], attr[i:i + 1], target=i, n_steps=4)
                        for i in range(4)])
    torch.testing.assert_close(whole, single)


def test_target_none_uses_predicted_class() -> None:
    model = small_cnn(2)
    x, attr = torch.rand(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    pred = model(x).argmax(1)
    torch.testing.assert_close(deletion(model, x, attr), deletion(model, x, attr, target=pred))


def test_numpy_and_dataframe_inputs() -> None:
    w = torch.tensor([1.0, 2.0, -1.0])
    x = np.array([[1.0, 2.0, 3.0], [0.5, 0.0, 1.0]])
    df = pd.DataFrame(x, columns=["a", "b", "c"])
    a = x * w.numpy()
    ref = insertion(LinearScore(w), torch.tensor(x), torch.tensor(a), target=1)  # float64 kept
    torch.testing.assert_close(insertion(LinearScore(w), df, a, target=1), ref)
    torch.testing.assert_close(insertion(LinearScore(w), x, pd.DataFrame(a), target=1), ref)


def test_bad_inputs_raise_clear_errors() -> None:
    f = LinearScore(W)
    with pytest.raises(ValueError, match="same shape"):
        deletion(f, X, torch.ones(1, 3))
    with pytest.raises(ValueError, match="out of range"):
        deletion(f, X, X, target=2)
    with pytest.raises(ValueError, match="out of range"):
        insertion(f, X, X, target=-1)
    with pytest.raises(ValueError, match="entries"):
        insertion(f, X, X, target=[0, 1])
    with pytest.raises(ValueError, match="n_steps"):
        insertion(f, X, X, n_steps=5)
    with pytest.raises(ValueError, match="ordering"):
        insertion(f, X, X, ordering="pixel")
    with pytest.raises(ValueError, match="substrate"):
        insertion(f, X, X, baselines="noise")
    with pytest.raises(ValueError, match="broadcast"):
        insertion(f, X, X, baselines=torch.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        insertion(f, X, X * float("nan"))


def test_class_form_accumulates() -> None:
    f = LinearScore(W)
    metric = Deletion(f, softmax=False)
    assert metric.update(X, X * W, target=1) is None
    assert metric(X, X * W, target=1).shape == (1,)
    assert metric.compute().item() == pytest.approx(0.875)
    assert len(metric.curves) == 2 and metric.curves[0].shape == (1, 5)
    assert Deletion.higher_is_better is False and Insertion.higher_is_better is True
    assert Insertion.get_name() == "insertion"
    out = insertion(f, X, X * W, return_curves=True)
    assert isinstance(out, CurveResult)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_device_follows_inputs() -> None:
    model = small_cnn().cuda()
    x, attr = torch.rand(3, 1, 4, 4), torch.randn(3, 1, 4, 4)
    got = deletion(model, x.cuda(), attr.cuda(), n_steps=4)
    assert got.device.type == "cuda"
    torch.testing.assert_close(got.cpu(), deletion(model.cpu(), x, attr, n_steps=4),
                               rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("ordering", ["pixel", "channel"])
def test_rgb_cnn_against_a_naive_loop(ordering: str) -> None:
    model = small_cnn(4, side=4, channels=3)
    x, attr = torch.rand(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    got = insertion(model, x, attr, target=[1, 2], n_steps=4, ordering=ordering,
                    return_curves=True)
    for i, t in enumerate((1, 2)):
        if ordering == "pixel":
            order = torch.argsort(attr[i].sum(0).flatten(), descending=True, stable=True)
        counts = [0, 4, 8, 12, 16]
        scores = []
        for c in counts:
            if ordering == "pixel":
                keep = torch.zeros(16, dtype=torch.bool)
                keep[order[:c]] = True
            else:  # union over channels of each channel's top-c pixels
                keep = torch.zeros(16, dtype=torch.bool)
                for ch in range(3):
                    top = torch.argsort(attr[i, ch].flatten(), descending=True, stable=True)
                    keep[top[:c]] = True
            xi = torch.where(keep.view(1, 4, 4), x[i], torch.zeros_like(x[i]))
            with torch.no_grad():
                scores.append(torch.softmax(model(xi[None]), 1)[0, t].item())
        assert got.curves[i].tolist() == pytest.approx(scores, abs=1e-6)
        assert got.scores[i].item() == pytest.approx(_trap(scores), abs=1e-6)


def test_normalized_curves() -> None:
    res = deletion(LinearScore(W), X, X * W, target=1, softmax=False, normalize=True,
                   return_curves=True)
    assert res.curves.tolist() == [[1.0, 0.4, 0.0, -0.2, 0.0]]
    ins = insertion(LinearScore(W), X, X * W, target=1, softmax=False, normalize=True)
    assert ins.item() == pytest.approx(16.5 / 4 / 5)
    flat = insertion(LinearScore(torch.zeros(4)), X, X, target=1, normalize=True)
    assert torch.isnan(flat).all()
