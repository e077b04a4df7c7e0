"""The evaluation harness: tidy output, method kinds, timing, curves, plotting."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from _metric_models import LinearScore

from attribution.evaluate import METRICS, evaluate, plot_curves, summarize
from attribution.metrics import deletion, insertion


class GradTimesInput:
    """Minimal attribution class with the package's ``Method(f).attribute`` shape."""

    def __init__(self, forward_func):
        self.forward_func = forward_func

    def attribute(self, inputs, target=None, baselines=None):
        base = 0.0 if baselines is None else baselines
        with torch.enable_grad():
            x = inputs.clone().requires_grad_(True)
            self.forward_func(x).gather(1, target.view(-1, 1)).sum().backward()
        return x.grad * (inputs - base)


def test_tidy_frame_matches_direct_calls() -> None:
    w = torch.tensor([2.0, -1.0, 0.5, 1.0])
    f = LinearScore(w)
    x = torch.rand(5, 4, dtype=torch.float64)
    precomputed = torch.rand(5, 4, dtype=torch.float64)
    df = evaluate(f, x, 1, methods={"gxi": GradTimesInput, "obj": GradTimesInput(f),
                                    "fn": lambda inputs, target: inputs * w,
                                    "pre": precomputed},
                  metrics=["insertion", "deletion", "completeness_error"])
    assert list(df.columns) == ["method", "metric", "sample", "score", "higher_is_better",
                                "attribution_time_s", "metric_time_s"]
    assert len(df) == 4 * 3 * 5
    ins = df[(df.method == "pre") & (df.metric == "insertion")]["score"].to_numpy()
    np.testing.assert_allclose(ins, insertion(f, x, precomputed, target=1).numpy())
    for name in ("gxi", "obj", "fn"):
        sub = df[(df.method == name) & (df.metric == "completeness_error")]["score"]
        assert sub.max() < 1e-12  # grad x input is exact for a linear model, zero baseline
        dele = df[(df.method == name) & (df.metric == "deletion")]["score"].to_numpy()
        np.testing.assert_allclose(dele, deletion(f, x, x * w, target=1).numpy())
    assert df[df.method == "pre"]["attribution_time_s"].isna().all()
    times = df[df.method == "gxi"]["attribution_time_s"]
    assert times.notna().all() and (times > 0).all() and times.nunique() == 1  # one call
    assert set(df.attrs["curves"]) >= {("gxi", "insertion"), ("pre", "deletion")}


def test_summary_and_plot() -> None:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    f = LinearScore(torch.tensor([1.0, 2.0, 3.0]))
    x = torch.rand(4, 3)
    df = evaluate(f, x, 1, methods={"a": x * 2, "b": torch.rand(4, 3)},
                  metrics=["insertion", "deletion", "faithfulness_correlation"],
                  metric_kwargs={"faithfulness_correlation": {"n_runs": 10}})
    summary = summarize(df)
    assert isinstance(summary, pd.DataFrame) and len(summary) == 6
    assert summary.loc[summary.metric == "insertion", "higher_is_better"].all()
    assert summary["n"].eq(4).all()
    ax = plot_curves(df, "deletion")
    assert len(ax.lines) == 2 and ax.get_title() == "deletion"
    with pytest.raises(ValueError, match="no 'pixel_flipping' curves"):
        plot_curves(df, "pixel_flipping")


def test_errors() -> None:
    f = LinearScore(torch.ones(3))
    x = torch.rand(2, 3)
    with pytest.raises(ValueError, match="unknown metric"):
        evaluate(f, x, 1, methods={"a": x}, metrics=["nope"])
    with pytest.raises(ValueError, match="same shape"):
        evaluate(f, x, 1, methods={"a": torch.rand(2, 2)})
    with pytest.raises(ValueError, match="out of range"):
        evaluate(f, x, 5, methods={"a": x})
    assert "insertion" in METRICS and METRICS["deletion"][1] is False


def test_single_logit_model_targets_and_signs() -> None:
    w = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)

    class Logit(torch.nn.Module):
        def forward(self, x):
            return (x @ w).unsqueeze(1)  # one column: a binary logit

    x = torch.rand(4, 3, dtype=torch.float64)
    df = evaluate(Logit(), x, [1, 0, 1, 0], methods={"gxi": GradTimesInput},
                  metrics=["completeness_error", "sensitivity_max"],
                  metric_kwargs={"completeness_error": {"softmax": False}})
    err = df[df.metric == "completeness_error"]["score"]
    assert err.max() < 1e-12  # target 0 explains -z, and the attributions were negated
    # a(x) = +-w * x, so a(x + d) - a(x) = +-w * d with |d_i| <= r (default 0.02):
    # 0 < sensitivity <= r ||w|| / ||w * x||, an independent bound per sample.
    sens = df[df.metric == "sensitivity_max"]["score"].to_numpy()
    bound = (0.02 * w.norm() / (w * x).norm(dim=1)).numpy()
    assert np.all(sens > 0) and np.all(sens <= bound * (1 + 1e-9))
