"""ood_metrics against scikit-learn and exact hand-made cases (ties included)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import average_precision_score, roc_auc_score

from attribution.ood import OODMetrics, ood_metrics, roc_curve_ood


def _brute_detection_error(s_id, s_ood):
    thresholds = np.r_[np.unique(np.r_[s_id, s_ood]), np.inf]
    return min(0.5 * np.mean(s_id >= t) + 0.5 * np.mean(s_ood < t) for t in thresholds)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("rounded", [False, True])
def test_metrics_equal_sklearn_on_random_scores(seed, rounded):
    rng = np.random.default_rng(seed)
    s_id, s_ood = rng.normal(0, 1, 300), rng.normal(0.7, 1.3, 170)
    if rounded:  # many ties between and within the two groups
        s_id, s_ood = np.round(s_id, 1), np.round(s_ood, 1)
    m = ood_metrics(s_id, s_ood)
    y = np.r_[np.zeros(300), np.ones(170)]
    s = np.r_[s_id, s_ood]
    assert m["auroc"] == pytest.approx(roc_auc_score(y, s), abs=1e-12)
    assert m["aupr_out"] == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert m["aupr_in"] == pytest.approx(average_precision_score(1 - y, -s), abs=1e-12)
    assert m["fpr95"] == np.mean(s_ood <= np.percentile(s_id, 95))
    assert m["detection_error"] == pytest.approx(_brute_detection_error(s_id, s_ood), abs=1e-12)


def test_separated_scores_are_perfect():
    m = ood_metrics(torch.arange(20.0), torch.arange(20.0) + 100)
    assert m == {"fpr95": 0.0, "auroc": 1.0, "aupr_in": 1.0, "aupr_out": 1.0,
                 "detection_error": 0.0}
    reversed_ = ood_metrics(torch.arange(20.0) + 100, torch.arange(20.0))
    assert reversed_["auroc"] == 0.0 and reversed_["fpr95"] == 1.0
    assert reversed_["detection_error"] == 0.5


def test_exact_tied_cases():
    # A constant detector: every OOD sample is accepted, AUROC one half.
    m = ood_metrics(np.zeros(10), np.zeros(4))
    assert (m["fpr95"], m["auroc"], m["detection_error"]) == (1.0, 0.5, 0.5)
    assert m["aupr_out"] == pytest.approx(4 / 14) and m["aupr_in"] == pytest.approx(10 / 14)
    # ID = 0..19; threshold = 95th percentile = 18.05.  OOD = {18, 18.05, 19, 25}:
    # 18 and 18.05 are accepted (<= threshold), so FPR95 = 2/4.
    s_id = np.arange(20.0)
    s_ood = np.array([18.0, 18.05, 19.0, 25.0])
    m = ood_metrics(s_id, s_ood)
    assert m["fpr95"] == 0.5
    # AUROC by hand: OOD 18 beats 18 IDs, ties 1 -> 18.5/20; 18.05 beats 19 -> 19/20;
    # 19 beats 19, ties 1 -> 19.5/20; 25 beats all -> 1.
    assert m["auroc"] == pytest.approx((18.5 + 19 + 19.5 + 20) / 80, abs=1e-15)


def test_roc_curve_has_one_point_per_distinct_score():
    fpr, tpr, thresholds = roc_curve_ood([0, 1, 1, 2], [1, 3])
    assert thresholds.tolist() == [np.inf, 3, 2, 1, 0]
    assert fpr.tolist() == [0, 0, 0.25, 0.75, 1.0]
    assert tpr.tolist() == [0, 0.5, 0.5, 1.0, 1.0]


def test_infinite_scores_allowed_nan_refused():
    m = ood_metrics([0.0, 1.0, 2.0], [np.inf, 1.5])
    assert m["auroc"] == pytest.approx(5 / 6)
    with pytest.raises(ValueError, match="NaN"):
        ood_metrics([0.0, np.nan], [1.0])
    with pytest.raises(ValueError, match="non-empty 1-D"):
        ood_metrics([], [1.0])
    with pytest.raises(ValueError, match="1-D"):
        ood_metrics(np.zeros((2, 2)), [1.0])


def test_accumulating_metric_equals_function():
    rng = np.random.default_rng(5)
    s, y = rng.normal(size=50), rng.integers(0, 2, 50)
    metric = OODMetrics()
    metric.update(torch.tensor(s[:20]), torch.tensor(-y[:20]))  # pytorch-ood labels: -1 = OOD
    metric.update(s[20:], y[20:])
    assert metric.compute() == ood_metrics(s[y == 0], s[y == 1])
    metric.reset()
    with pytest.raises(ValueError, match="at least one"):
        metric.compute()
    with pytest.raises(ValueError, match="labels"):
        metric.update([0.1, 0.2], [0, 2])
