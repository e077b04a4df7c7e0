"""Pixel flipping (Bach et al., 2015) and region perturbation (Samek et al., 2017), MoRF/LeRF.

Both run the shared perturbation-curve engine with Quantus' stepping: a fixed number of
features (or patches) per step, the last step possibly partial.
"""

from __future__ import annotations

from torch import Tensor

from ._adapter import ArrayLike
from ._base import Metric
from ._curves import (
    CurveResult,
    fixed_counts,
    ranked_curves,
    trapezoid_auc,
)

__all__ = ["PixelFlipping", "RegionPerturbation", "pixel_flipping", "region_perturbation"]

_ORDERS = ("morf", "lerf")


def _check_order(order: str) -> bool:
    if order not in _ORDERS:
        raise ValueError(f"`order` must be 'morf' or 'lerf', got {order!r}")
    return order == "morf"


def pixel_flipping(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    order: str = "morf",
    features_in_step: int = 1,
    softmax: bool = True,
    ordering: str = "feature",
    abs: bool = False,
    return_curves: bool = False,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
) -> Tensor | CurveResult:
    """Pixel-flipping AUC. **MoRF: lower is better; LeRF: higher is better.**

    Features are replaced by the substrate ``features_in_step`` at a time, most relevant
    first (``order="morf"``) or least relevant first (``"lerf"``). The curve has
    ``ceil(G / features_in_step) + 1`` points, the first being the clean input; the score is
    its trapezoidal area over ``[0, 1]`` (as :func:`deletion`). The defaults (black
    baseline, softmax, every element ranked by signed attribution) match Quantus'
    ``PixelFlipping``, whose curve is ``curves[:, 1:]`` and whose AUC is
    ``np.trapz(curves[:, 1:], dx=1)``. Applies to images, time series and tabular data.

    Parameters
    ----------
    forward_func, inputs, attributions, target, baselines, softmax, ordering, abs
        As in :func:`~attribution.metrics.deletion` (``ordering`` defaults to ``"feature"``).
    order : {"morf", "lerf"}, default "morf"
        Most or least relevant first.
    features_in_step : int, default 1
        Groups replaced per step.
    return_curves, batch_size, skip_unchanged
        As in :func:`~attribution.metrics.deletion`.

    Returns
    -------
    Tensor of shape (n_samples,) or CurveResult

    References
    ----------
    .. [1] Bach et al. "On Pixel-Wise Explanations for Non-Linear Classifier Decisions by
       Layer-Wise Relevance Propagation." PLoS ONE 10(7), 2015.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(6, 3)
    >>> x = torch.rand(2, 6)
    >>> res = pixel_flipping(model, x, torch.rand(2, 6), features_in_step=4, return_curves=True)
    >>> res.curves.shape
    torch.Size([2, 3])
    """
    res = ranked_curves(
        forward_func, inputs, attributions, target, baselines=baselines, ordering=ordering,
        counts_for=lambda n_groups, device: fixed_counts(n_groups, features_in_step, None, device),
        descending=_check_order(order), abs=abs, softmax=softmax, batch_size=batch_size,
        skip_unchanged=skip_unchanged,
    )
    curves = res.curves
    auc = trapezoid_auc(curves)
    if return_curves:
        return CurveResult(auc, curves, res.counts.to(res.inputs.dtype) / res.n_groups)
    return auc


def region_perturbation(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    order: str = "morf",
    patch_size: int = 8,
    n_regions: int = 100,
    softmax: bool = True,
    abs: bool = False,
    return_curves: bool = False,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
) -> Tensor | CurveResult:
    r"""Region perturbation AOPC. **MoRF: higher is better; LeRF: lower is better.**

    Non-overlapping ``patch_size`` squares are ranked by their summed attribution and
    replaced by the substrate one per step, up to ``n_regions`` steps. The score is the
    area over the perturbation curve

    .. math:: \mathrm{AOPC} = \frac{1}{L + 1}\sum_{k=0}^{L} \big(s_0 - s_k\big).

    Images only (``(N, C, H, W)`` inputs). Unlike Quantus (overlapping candidate patches,
    uniform-noise baseline), the regions here form a fixed grid and the default substrate
    is deterministic.

    Parameters
    ----------
    forward_func, inputs, attributions, target, baselines, softmax, abs
        As in :func:`~attribution.metrics.deletion`.
    order : {"morf", "lerf"}, default "morf"
        Most or least relevant region first.
    patch_size : int, default 8
        Side of the square regions (edge regions are cropped).
    n_regions : int, default 100
        Number of perturbation steps ``L`` (capped at the number of regions).
    return_curves, batch_size, skip_unchanged
        As in :func:`~attribution.metrics.deletion`.

    Returns
    -------
    Tensor of shape (n_samples,) or CurveResult

    References
    ----------
    .. [1] Samek et al. "Evaluating the Visualization of What a Deep Neural Network Has
       Learned." IEEE TNNLS 28(11), 2017.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 2))
    >>> x = torch.rand(2, 1, 8, 8)
    >>> region_perturbation(model, x, x, patch_size=4, n_regions=4).shape
    torch.Size([2])
    """
    res = ranked_curves(
        forward_func, inputs, attributions, target, baselines=baselines, ordering="patch",
        counts_for=lambda n_groups, device: fixed_counts(
            n_groups, 1, min(n_regions, n_groups), device
        ),
        descending=_check_order(order), abs=abs, patch_size=patch_size, softmax=softmax,
        batch_size=batch_size, skip_unchanged=skip_unchanged,
    )
    curves = res.curves
    aopc = (curves[:, :1] - curves).mean(1)
    if return_curves:
        return CurveResult(aopc, curves, res.counts.to(res.inputs.dtype) / res.n_groups)
    return aopc


class PixelFlipping(Metric):
    """Class form of :func:`pixel_flipping` (MoRF: lower is better).

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(6, 2, bias=False)
    >>> metric = PixelFlipping(model, features_in_step=2, softmax=False)
    >>> x = torch.rand(4, 6)
    >>> _ = metric(x, torch.rand(4, 6), target=0)
    >>> curves = metric.curves[0]  # 0, 2, 4 and 6 features flipped to the 0 baseline
    >>> curves.shape, bool(torch.allclose(curves[:, 0], model(x)[:, 0])), curves[:, -1].tolist()
    (torch.Size([4, 4]), True, [0.0, 0.0, 0.0, 0.0])
    """

    function = staticmethod(pixel_flipping)
    higher_is_better = False
    returns_curves = True


class RegionPerturbation(Metric):
    """Class form of :func:`region_perturbation` (MoRF: higher is better). Images only.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 2))
    >>> metric = RegionPerturbation(model, patch_size=2, n_regions=3)
    >>> aopc = metric(torch.rand(2, 1, 4, 4), torch.rand(2, 1, 4, 4), target=0)
    >>> aopc.shape, metric.curves[0].shape, sorted(metric.data_applicability)  # 3 regions + start
    (torch.Size([2]), torch.Size([2, 4]), ['image'])
    """

    function = staticmethod(region_perturbation)
    higher_is_better = True
    data_applicability = frozenset({"image"})
    returns_curves = True
