"""Detection metrics: FPR at 95 % TPR, AUROC, AUPR-in/out and detection error.

Convention: scores are outlier scores (higher = more OOD).  In-distribution samples are
the "positives" of FPR95 (a detector must keep 95 % of them), OOD samples the positives
of the ROC curve.  Ties are handled exactly: the ROC curve only has one point per
distinct score, so a tie between an ID and an OOD score counts one half in AUROC, and
average precision steps once per distinct score (scikit-learn's definition).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["OODMetrics", "ood_metrics", "roc_curve_ood"]


def _scores(name: str, s: Any) -> np.ndarray:
    if isinstance(s, Tensor):
        s = s.detach().float().cpu().numpy() if s.dtype == torch.bfloat16 else s.detach().cpu()
    try:
        a = np.asarray(s, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a 1-D array of numbers") from error
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if np.isnan(a).any():
        raise ValueError(f"{name} contains NaN")
    return a


def roc_curve_ood(scores_id: Any, scores_ood: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ROC curve with OOD as the positive class, one point per distinct score.

    Returns
    -------
    fpr, tpr, thresholds : ndarray
        ``fpr[k]`` / ``tpr[k]``: fraction of ID / OOD scores ``>= thresholds[k]``; the
        first point is ``(0, 0)`` at ``thresholds[0] = +inf`` (nothing flagged).

    Examples
    --------
    >>> fpr, tpr, _ = roc_curve_ood([0.0, 1.0], [1.0, 2.0])
    >>> fpr.tolist(), tpr.tolist()
    ([0.0, 0.0, 0.5, 1.0], [0.0, 0.5, 1.0, 1.0])
    """
    s_id, s_ood = _scores("scores_id", scores_id), _scores("scores_ood", scores_ood)
    values = np.concatenate([s_id, s_ood])
    labels = np.concatenate([np.zeros(s_id.size), np.ones(s_ood.size)])
    order = np.argsort(-values, kind="mergesort")
    values, labels = values[order], labels[order]
    last_of_group = np.r_[np.flatnonzero(np.diff(values) != 0), values.size - 1]
    tp = np.cumsum(labels)[last_of_group]
    fp = (last_of_group + 1) - tp
    fpr = np.r_[0.0, fp / s_id.size]
    tpr = np.r_[0.0, tp / s_ood.size]
    return fpr, tpr, np.r_[np.inf, values[last_of_group]]


def _average_precision(pos: np.ndarray, neg: np.ndarray) -> float:
    """scikit-learn's average precision, positives scored by ``pos``, negatives by ``neg``."""
    fpr, recall, _ = roc_curve_ood(neg, pos)
    tp, fp = recall * pos.size, fpr * neg.size
    precision = np.divide(tp, tp + fp, out=np.ones_like(tp), where=(tp + fp) > 0)
    return float(np.sum(np.diff(recall) * precision[1:]))


def _fpr_at_95_tpr(s_id: np.ndarray, s_ood: np.ndarray) -> float:
    threshold = np.percentile(s_id, 95)
    if np.isnan(threshold):  # interpolation between infinities
        threshold = np.percentile(s_id, 95, method="higher")
    return float(np.mean(s_ood <= threshold))


def ood_metrics(scores_id: Any, scores_ood: Any) -> dict[str, float]:
    """OOD detection metrics of outlier scores (higher = more out-of-distribution).

    Parameters
    ----------
    scores_id, scores_ood : array-like or Tensor, shape (n,)
        Scores of in-distribution and out-of-distribution samples.  ``±inf`` is allowed,
        NaN is not.

    Returns
    -------
    dict
        ``fpr95``: fraction of OOD scores ``<=`` the 95th percentile (linear
        interpolation) of the ID scores, i.e. OOD samples accepted when 95 % of the ID
        samples are; ``auroc``: area under the ROC curve with OOD positive (ties count
        one half); ``aupr_in`` / ``aupr_out``: average precision with ID (scored by
        ``-s``) / OOD (scored by ``s``) positive; ``detection_error``:
        ``min_t 0.5 * P_ID(s >= t) + 0.5 * P_OOD(s < t)`` over all thresholds.

    Examples
    --------
    >>> m = ood_metrics([0.0, 0.1, 0.2], [0.3, 0.4])
    >>> m["fpr95"], m["auroc"], m["detection_error"]
    (0.0, 1.0, 0.0)
    >>> ood_metrics([0.0, 1.0], [1.0, 1.0])["auroc"]
    0.75
    """
    s_id, s_ood = _scores("scores_id", scores_id), _scores("scores_ood", scores_ood)
    fpr, tpr, _ = roc_curve_ood(s_id, s_ood)
    return {
        "fpr95": _fpr_at_95_tpr(s_id, s_ood),
        "auroc": float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1])) / 2),
        "aupr_in": _average_precision(-s_id, -s_ood),
        "aupr_out": _average_precision(s_ood, s_id),
        "detection_error": float(0.5 * (1.0 - np.max(tpr - fpr))),
    }


class OODMetrics:
    """Accumulating form of :func:`ood_metrics` (torchmetrics-style ``update``/``compute``).

    ``update(scores, labels)`` takes outlier scores and labels with ``1`` (or ``-1``, the
    pytorch-ood convention) for OOD and ``0`` for in-distribution samples.

    Examples
    --------
    >>> import torch
    >>> metric = OODMetrics()
    >>> metric.update(torch.tensor([0.1, 0.9]), torch.tensor([0, 1]))
    >>> metric.update(torch.tensor([0.2]), torch.tensor([0]))
    >>> metric.compute()["auroc"]
    1.0
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """Forget every score seen so far.

        Examples
        --------
        >>> import torch
        >>> metric = OODMetrics()
        >>> metric.update(torch.tensor([0.3, 0.1]), torch.tensor([1, 0]))
        >>> metric.reset()
        >>> metric.compute()
        Traceback (most recent call last):
        ...
        ValueError: OODMetrics needs at least one ID and one OOD score
        """
        self._id: list[np.ndarray] = []
        self._ood: list[np.ndarray] = []

    def update(self, scores: Any, labels: Any) -> None:
        """Add a batch of outlier ``scores`` with ``labels`` (1 or -1 = OOD, 0 = ID).

        Examples
        --------
        >>> import torch
        >>> metric = OODMetrics()
        >>> metric.update(torch.tensor([0.9, 0.2, 0.4]), torch.tensor([-1, 0, 0]))  # -1: OOD too
        >>> metric.compute()["auroc"]
        1.0
        >>> metric.update(torch.tensor([0.1]), torch.tensor([2]))
        Traceback (most recent call last):
        ...
        ValueError: labels must match scores in shape and hold 0 (ID) or 1/-1 (OOD)
        """
        s = _scores("scores", scores)
        y = np.asarray(labels.detach().cpu() if isinstance(labels, Tensor) else labels)
        if y.shape != s.shape or not np.isin(y, (-1, 0, 1)).all():
            raise ValueError("labels must match scores in shape and hold 0 (ID) or 1/-1 (OOD)")
        self._id.append(s[y == 0])
        self._ood.append(s[y != 0])

    def compute(self) -> dict[str, float]:
        """:func:`ood_metrics` over everything seen since the last :meth:`reset`.

        Examples
        --------
        >>> import torch
        >>> metric = OODMetrics()
        >>> metric.update(torch.tensor([0.2, 0.8]), torch.tensor([0, 1]))
        >>> metric.update(torch.tensor([0.6, 0.4]), torch.tensor([0, 1]))  # one pair out of order
        >>> metric.compute() == ood_metrics([0.2, 0.6], [0.8, 0.4]), metric.compute()["auroc"]
        (True, 0.75)
        """
        s_id = np.concatenate(self._id) if self._id else np.empty(0)
        s_ood = np.concatenate(self._ood) if self._ood else np.empty(0)
        if s_id.size == 0 or s_ood.size == 0:
            raise ValueError("OODMetrics needs at least one ID and one OOD score")
        return ood_metrics(s_id, s_ood)
