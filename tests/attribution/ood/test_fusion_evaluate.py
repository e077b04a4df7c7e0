"""RankFusion by hand, the evaluate_ood harness and its plots."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from attribution.ood import (  # noqa: E402
    MSP,
    Energy,
    MaxLogit,
    RankFusion,
    ReAct,
    evaluate_ood,
    ood_metrics,
    plot_ood_roc,
    plot_ood_scores,
)

MODEL = nn.Identity()  # inputs are the logits
X_ID = torch.tensor([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])  # -max logit: -1..-4


def test_fusion_is_max_of_mid_rank_cdfs():
    fusion = RankFusion([MaxLogit(MODEL)]).fit(X_ID)
    # -max logit of the queries: -2.5 (2 ID below... ), -2 (tie), -10, 0
    x = torch.tensor([[2.5, 0.0], [2.0, 0.0], [10.0, 0.0], [0.0, -1.0]])
    # ID scores sorted: -4, -3, -2, -1.  F(-2.5) = 2/4; F(-2) = (2 + 3) / 8; F(-10) = 0; F(0) = 1
    assert fusion.score(x).tolist() == [0.5, 0.625, 0.0, 1.0]
    two = RankFusion([MaxLogit(MODEL)], two_sided=True).fit(X_ID)
    assert two.score(x).tolist() == [0.0, 0.25, 1.0, 1.0]
    both = RankFusion([MaxLogit(MODEL), MaxLogit(MODEL)], two_sided=[False, True],
                      combine="mean").fit(X_ID)
    assert both.score(x).tolist() == [0.25, 0.4375, 0.5, 1.0]
    mixed = RankFusion([MaxLogit(MODEL), MaxLogit(MODEL)], two_sided=[False, True]).fit(X_ID)
    assert mixed.score(x).tolist() == [0.5, 0.625, 1.0, 1.0]


def test_fusion_fits_its_components_and_checks_arguments():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    react = ReAct(model)
    fusion = RankFusion([react, Energy(model)])
    with pytest.raises(ValueError, match="fit"):
        fusion.score(X_ID)
    fusion.fit(X_ID)
    assert react.fitted_ and fusion.score(X_ID).shape == (4,)
    with pytest.raises(ValueError, match="non-empty"):
        RankFusion([])
    with pytest.raises(ValueError, match="two_sided"):
        RankFusion([MSP(MODEL)], two_sided=[True, False])
    with pytest.raises(ValueError, match="combine"):
        RankFusion([MSP(MODEL)], combine="min")


def test_evaluate_ood_table_equals_ood_metrics():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 4))
    x_id, x_fit = torch.randn(40, 3), torch.randn(30, 3)
    sets = {"far": 4 * torch.randn(25, 3), "near": torch.randn(15, 3) + 0.5}
    dets = {"msp": MSP(model), "react": ReAct(model)}
    df, scores = evaluate_ood(dets, x_id, sets, x_fit=x_fit, return_scores=True)
    assert isinstance(df, pd.DataFrame) and len(df) == 4
    assert list(df.columns) == ["detector", "ood_set", "n_id", "n_ood", "fpr95", "auroc",
                                "aupr_in", "aupr_out", "detection_error", "ms_per_image"]
    row = df[(df.detector == "msp") & (df.ood_set == "far")].iloc[0]
    expected = ood_metrics(MSP(model).score(x_id), MSP(model).score(sets["far"]))
    assert {k: row[k] for k in expected} == pytest.approx(expected, abs=1e-12)
    assert torch.equal(scores["react"]["near"], dets["react"].score(sets["near"]).double())
    assert (df.ms_per_image > 0).all() and df.n_ood.tolist() == [25, 15, 25, 15]
    with pytest.raises(ValueError, match="x_fit"):
        evaluate_ood({"react": ReAct(model)}, x_id, sets)
    with pytest.raises(ValueError, match="OODDetector"):
        evaluate_ood({"bad": model}, x_id, sets)


def test_plots_draw_on_given_axes():
    fig, (a, b) = plt.subplots(1, 2)
    s_id, s_ood = torch.rand(30), {"noise": torch.rand(20) + 0.5, "inf": torch.tensor([1e9])}
    assert plot_ood_scores(s_id, s_ood, ax=a) is a
    assert len(a.patches) > 0
    assert plot_ood_roc(s_id, s_ood, ax=b) is b
    auroc = ood_metrics(s_id, s_ood["noise"])["auroc"]
    assert b.get_legend().get_texts()[0].get_text() == f"noise (AUROC {auroc:.3f})"
    plt.close(fig)


def test_animal_mnist_is_read_without_its_loader():
    pytest.importorskip("animal_mnist.data")
    import sys

    from attribution.ood.datasets import load_animal_mnist

    x, y = load_animal_mnist()
    assert x.shape == (10000, 1, 28, 28) and x.dtype == torch.float32
    assert float(x.min()) == 0.0 and float(x.max()) == 1.0
    assert torch.bincount(y).tolist() == [1000] * 10
    assert "tensorflow" not in sys.modules
