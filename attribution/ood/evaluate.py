"""Evaluation harness: detectors x OOD sets as a tidy DataFrame, plus score/ROC plots."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from ._base import OODDetector
from .metrics import ood_metrics, roc_curve_ood

__all__ = ["evaluate_ood", "plot_ood_roc", "plot_ood_scores"]

_METRICS = ["fpr95", "auroc", "aupr_in", "aupr_out", "detection_error"]


def _sync(x: Tensor) -> None:
    if x.device.type == "cuda":
        torch.cuda.synchronize(x.device)


def _timed_score(detector: OODDetector, x: Tensor) -> tuple[Tensor, float]:
    _sync(x)
    start = time.perf_counter()
    s = detector.score(x)
    _sync(x)
    return s.detach().double().cpu(), time.perf_counter() - start


def evaluate_ood(
    detectors: Mapping[str, OODDetector],
    x_id: Tensor,
    ood_sets: Mapping[str, Tensor],
    x_fit: Tensor | None = None,
    return_scores: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, dict[str, dict[str, Tensor]]]:
    """Score every detector on ID data and every OOD set; one row per (detector, set).

    Parameters
    ----------
    detectors : mapping of str to OODDetector
        Named detectors.  Those with ``requires_fit`` are fitted on ``x_fit`` first.
    x_id : Tensor
        In-distribution test inputs (disjoint from ``x_fit``).
    ood_sets : mapping of str to Tensor
        Named out-of-distribution inputs.
    x_fit : Tensor, optional
        In-distribution data for the detectors that need statistics.
    return_scores : bool, default False
        Also return ``scores[detector][set]`` (with ``"id"`` for ``x_id``).

    Returns
    -------
    pandas.DataFrame
        Columns ``detector``, ``ood_set``, ``n_id``, ``n_ood``, the metrics of
        :func:`~attribution.ood.ood_metrics` and ``ms_per_image`` (scoring wall time of
        the ID set and this set divided by their size; fitting excluded).

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import MSP, Energy, evaluate_ood
    >>> model = torch.nn.Identity()
    >>> x_id = torch.tensor([[4.0, 0.0], [0.0, 5.0], [6.0, 1.0]])
    >>> df = evaluate_ood({"msp": MSP(model), "energy": Energy(model)}, x_id,
    ...                   {"flat": torch.tensor([[0.1, 0.0], [0.2, 0.3]])})
    >>> df[["detector", "ood_set", "auroc", "fpr95"]].values.tolist()
    [['msp', 'flat', 1.0, 0.0], ['energy', 'flat', 1.0, 0.0]]
    """
    if not isinstance(detectors, Mapping) or not detectors:
        raise ValueError("detectors must be a non-empty mapping of name -> detector")
    if not isinstance(ood_sets, Mapping) or not ood_sets:
        raise ValueError("ood_sets must be a non-empty mapping of name -> tensor")
    for name, detector in detectors.items():
        if not isinstance(detector, OODDetector):
            raise ValueError(f"detector {name!r} is not an OODDetector")
    rows: list[dict[str, Any]] = []
    scores: dict[str, dict[str, Tensor]] = {}
    for name, detector in detectors.items():
        if detector.requires_fit:
            if x_fit is None:
                raise ValueError(f"detector {name!r} needs in-distribution data: pass x_fit")
            detector.fit(x_fit)
        s_id, t_id = _timed_score(detector, x_id)
        scores[name] = {"id": s_id}
        for set_name, x_ood in ood_sets.items():
            s_ood, t_ood = _timed_score(detector, x_ood)
            scores[name][set_name] = s_ood
            rows.append({
                "detector": name, "ood_set": set_name, "n_id": len(s_id), "n_ood": len(s_ood),
                **ood_metrics(s_id, s_ood),
                "ms_per_image": 1e3 * (t_id + t_ood) / (len(s_id) + len(s_ood)),
            })
    df = pd.DataFrame(rows)
    return (df, scores) if return_scores else df


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.5))
    return ax


def plot_ood_scores(
    scores_id: Any, scores_ood: Mapping[str, Any], bins: int = 40, ax: Any = None
) -> Any:
    """Histograms of ID and OOD scores on a shared range (non-finite scores are dropped).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_ood_scores([0.1, 0.2, 0.3], {"noise": [0.8, 0.9]})
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['in-distribution', 'noise']
    """
    ax = _axes(ax)
    groups = {"in-distribution": np.asarray(scores_id, dtype=float)}
    groups.update({k: np.asarray(v, dtype=float) for k, v in scores_ood.items()})
    finite = np.concatenate([g[np.isfinite(g)] for g in groups.values()])
    edges = np.histogram_bin_edges(finite, bins=bins) if finite.size else bins
    for label, values in groups.items():
        ax.hist(values[np.isfinite(values)], bins=edges, density=True, alpha=0.45, label=label)
    ax.set_xlabel("outlier score (higher = more OOD)")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return ax


def plot_ood_roc(scores_id: Any, scores_ood: Mapping[str, Any], ax: Any = None) -> Any:
    """ROC curves (OOD positive) of one detector on several OOD sets, AUROC in the legend.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> ax = plot_ood_roc([0.1, 0.2], {"noise": [0.8, 0.15]})
    >>> ax.get_legend().get_texts()[0].get_text()
    'noise (AUROC 0.750)'
    """
    ax = _axes(ax)
    for label, s_ood in scores_ood.items():
        fpr, tpr, _ = roc_curve_ood(scores_id, s_ood)
        auroc = ood_metrics(scores_id, s_ood)["auroc"]
        ax.plot(fpr, tpr, label=f"{label} (AUROC {auroc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls="--")
    ax.set_xlabel("false positive rate (ID flagged)")
    ax.set_ylabel("true positive rate (OOD flagged)")
    ax.legend(fontsize=8)
    return ax
