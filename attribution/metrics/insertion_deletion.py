"""Insertion and deletion (RISE; Petsiuk et al., 2018) as run by MFABA and ISA.

Deletion starts from the input and sets feature groups to the substrate in order of
decreasing attribution; insertion starts from the substrate and restores them in that
order. The curve is the explained score at fractions ``0, 1/n, ..., 1`` and the per-sample
score is its trapezoidal area over ``[0, 1]``.

Both apply to images, time series and tabular data.
"""

from __future__ import annotations

from torch import Tensor

from .._utils import fill_doc
from ._adapter import ArrayLike
from ._base import Metric
from ._curves import (
    CurveResult,
    equal_counts,
    ranked_curves,
    trapezoid_auc,
)

__all__ = ["Deletion", "Insertion", "deletion", "insertion"]


def _insertion_deletion(
    insert: bool,
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    target: object,
    *,
    baselines: ArrayLike | str,
    n_steps: int | None,
    softmax: bool,
    ordering: str,
    abs: bool,
    patch_size: int,
    return_curves: bool,
    batch_size: int | None,
    skip_unchanged: bool,
    normalize: bool,
) -> Tensor | CurveResult:
    res = ranked_curves(
        forward_func, inputs, attributions, target, baselines=baselines, ordering=ordering,
        counts_for=lambda n_groups, device: equal_counts(n_groups, n_steps, device),
        insert=insert, abs=abs, patch_size=patch_size, softmax=softmax,
        batch_size=batch_size, skip_unchanged=skip_unchanged,
    )
    curves, counts = res.curves, res.counts
    if normalize:
        curves = _normalize(curves, insert)
    auc = trapezoid_auc(curves)
    if return_curves:
        fractions = counts.new_tensor(range(len(counts))).to(res.inputs.dtype) / (len(counts) - 1)
        return CurveResult(auc, curves, fractions)
    return auc


def _normalize(curves: Tensor, insert: bool) -> Tensor:
    """``(s - F(x')) / (F(x) - F(x'))``; NaN where the two ends (nearly) coincide."""
    clean, base = (curves[:, -1:], curves[:, :1]) if insert else (curves[:, :1], curves[:, -1:])
    span = clean - base
    tiny = span.abs() <= 1e-12 * curves.abs().amax(1, keepdim=True).clamp_min(1.0)
    return (curves - base) / span.masked_fill(tiny, float("nan"))


@fill_doc
def deletion(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    n_steps: int | None = None,
    softmax: bool = True,
    ordering: str = "auto",
    abs: bool = False,
    patch_size: int = 8,
    return_curves: bool = False,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
    normalize: bool = False,
) -> Tensor | CurveResult:
    r"""Deletion AUC: remove the most important features first. **Lower is better.**

    Starting from the input, feature groups are set to the substrate (``baselines``) in
    order of decreasing attribution. The curve is the target's score at fractions
    :math:`0, 1/n, \dots, 1` of the groups removed; the score is the trapezoidal area

    .. math:: \mathrm{AUC} = \frac{1}{n}\Big(\sum_{k=0}^{n} s_k - \frac{s_0 + s_n}{2}\Big).

    Applies to images, time series and tabular data.

    Parameters
    ----------
    forward_func : nn.Module, callable, ECSEL estimator or sklearn classifier
        The model (see :class:`~attribution.metrics._adapter.ForwardAdapter`).
    inputs : Tensor, ndarray or DataFrame, shape (n_samples, ...)
        Inputs. The device of a tensor decides where the model runs.
    attributions : Tensor, ndarray or DataFrame
        Attributions, same shape as ``inputs``.
    target : int, sequence or Tensor, optional
        Explained output per sample. ``None``: the class predicted on the clean input
        (MFABA/ISA protocol); the output itself for single-output (binary logit) models.
    baselines : float, Tensor, "blur" or "mean", default 0.0
        Substrate that removed features take: a number or a tensor broadcastable to the
        inputs (per feature or per sample), the RISE blur (kernel 11, sigma 5) or the
        per-channel mean (column means for tabular inputs).
    n_steps : int, optional
        ``None`` removes one group per step; otherwise ``floor(k * G / n_steps)`` groups are
        removed at point ``k`` (``n_steps`` equal groups).
    softmax : bool, default True
        Score is the softmax probability (sigmoid for a single logit); else the raw output.
        Models with ``predict_proba`` already return probabilities.
    ordering : {"auto", "feature", "pixel", "channel", "patch"}, default "auto"
        Feature groups: every element (``"feature"``), pixels with all channels together
        ranked by the channel sum (``"pixel"``, the ``"auto"`` choice for 4-D inputs),
        per-channel orderings whose union moves at each step (``"channel"``, MFABA/ISA
        code), or ``patch_size`` squares (``"patch"``).
    abs : bool, default False
        Rank by absolute attribution.
    patch_size : int, default 8
        Side of the squares for ``ordering="patch"``.
    return_curves : bool, default False
        Return a :class:`CurveResult` ``(scores, curves, fractions)`` for plotting.
    %(batch_size)s
    skip_unchanged : bool, default True
        Reuse the previous score for steps that change no element (same result, fewer
        forward passes).
    normalize : bool, default False
        Rescale each curve to :math:`(s - F(x')) / (F(x) - F(x'))` so that it runs from 1
        to 0 (deletion) or 0 to 1 (insertion): useful for unbounded scores (logits,
        regression). NaN for samples whose input and substrate score the same.

    Returns
    -------
    Tensor of shape (n_samples,) or CurveResult
        Per-sample AUC in the score's units.

    See Also
    --------
    insertion, pixel_flipping

    References
    ----------
    .. [1] Petsiuk, Das, Saenko. "RISE: Randomized Input Sampling for Explanation of
       Black-box Models." BMVC 2018. https://arxiv.org/abs/1806.07421

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(4, 2)
    >>> x = torch.rand(3, 4)
    >>> attr = x * (model.weight[1] - model.weight[0]).detach()
    >>> deletion(model, x, attr, target=1, softmax=False).shape
    torch.Size([3])
    """
    return _insertion_deletion(
        False, forward_func, inputs, attributions, target, baselines=baselines,
        n_steps=n_steps, softmax=softmax, ordering=ordering, abs=abs, patch_size=patch_size,
        return_curves=return_curves, batch_size=batch_size,
        skip_unchanged=skip_unchanged, normalize=normalize,
    )


def insertion(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    n_steps: int | None = None,
    softmax: bool = True,
    ordering: str = "auto",
    abs: bool = False,
    patch_size: int = 8,
    return_curves: bool = False,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
    normalize: bool = False,
) -> Tensor | CurveResult:
    r"""Insertion AUC: restore the most important features first. **Higher is better.**

    Starting from the substrate (``baselines``), feature groups are restored to their input
    values in order of decreasing attribution; the curve and its trapezoidal area over
    :math:`[0, 1]` are defined as in :func:`deletion`, whose parameters this shares.
    RISE inserts into a blurred image (``baselines="blur"``); the MFABA/ISA code inserts
    into black (``baselines=0.0``). Applies to images, time series and tabular data.

    Returns
    -------
    Tensor of shape (n_samples,) or CurveResult
        Per-sample AUC in the score's units.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(4, 2)
    >>> x = torch.rand(3, 4)
    >>> res = insertion(model, x, torch.rand(3, 4), n_steps=2, return_curves=True)
    >>> res.curves.shape, res.fractions.tolist()
    (torch.Size([3, 3]), [0.0, 0.5, 1.0])
    """
    return _insertion_deletion(
        True, forward_func, inputs, attributions, target, baselines=baselines,
        n_steps=n_steps, softmax=softmax, ordering=ordering, abs=abs, patch_size=patch_size,
        return_curves=return_curves, batch_size=batch_size,
        skip_unchanged=skip_unchanged, normalize=normalize,
    )


class Deletion(Metric):
    """Class form of :func:`deletion` (accumulates scores and curves). Lower is better.

    Examples
    --------
    >>> import torch
    >>> metric = Deletion(torch.nn.Linear(4, 2), n_steps=2)
    >>> _ = metric(torch.rand(3, 4), torch.rand(3, 4))
    >>> metric.compute().shape
    torch.Size([])
    """

    function = staticmethod(deletion)
    higher_is_better = False
    returns_curves = True


class Insertion(Metric):
    """Class form of :func:`insertion` (accumulates scores and curves). Higher is better.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(4, 2)
    >>> metric = Insertion(model, n_steps=2, softmax=False)
    >>> x = torch.rand(3, 4)
    >>> _ = metric(x, torch.rand(3, 4), target=0)
    >>> bool(torch.allclose(metric.curves[0][:, -1], model(x)[:, 0]))  # all inserted: F(x)
    True
    """

    function = staticmethod(insertion)
    higher_is_better = True
    returns_curves = True


