"""Shared engine for perturbation curves (insertion, deletion, pixel flipping, monotonicity).

All curve metrics reduce to the same computation on a flat view of the inputs:

1. rank the *groups* of features (single features, pixels with all channels together,
   per-channel maps as in the MFABA/ISA code, or square patches) by attribution;
2. broadcast each group's rank back to the input's shape as an integer tensor ``R``;
3. at curve point ``k`` the perturbed input moves every element with ``R < counts[k]``;
4. evaluate all ``n_samples * (n_steps + 1)`` perturbed inputs in chunks of
   ``batch_size`` rows (no Python loop over samples or steps).

Steps that change nothing (every moved element already equals the substrate, e.g. black
pixels under a black baseline) reuse the previous score instead of calling the model. The
result is exactly the same, and fewer forward passes are needed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import Tensor

from ._adapter import (
    ArrayLike,
    ForwardAdapter,
    auto_rows,
    broadcast_baselines,
    check_attributions,
    chunks,
    prepare,
)

ORDERINGS = ("auto", "feature", "pixel", "channel", "patch")


class CurveResult(NamedTuple):
    """Per-sample score plus the curves it was computed from.

    Attributes
    ----------
    scores : Tensor, shape (n_samples,)
        The per-sample metric (an area under the curve, AOPC, ...).
    curves : Tensor, shape (n_samples, n_points)
        The explained score at each curve point.
    fractions : Tensor, shape (n_points,)
        Fraction of feature groups perturbed at each point (the x axis).

    Examples
    --------
    >>> import torch
    >>> from attribution.metrics import CurveResult, insertion
    >>> model = torch.nn.Linear(6, 2)
    >>> x = torch.rand(2, 6)
    >>> res = insertion(model, x, torch.rand(2, 6), target=0, n_steps=3, return_curves=True)
    >>> isinstance(res, CurveResult), res.curves.shape
    (True, torch.Size([2, 4]))
    >>> [round(f, 4) for f in res.fractions.tolist()]
    [0.0, 0.3333, 0.6667, 1.0]
    """

    scores: Tensor
    curves: Tensor
    fractions: Tensor


class RankedCurves(NamedTuple):
    """What :func:`ranked_curves` computed, for the metric to reduce.

    Attributes
    ----------
    curves : Tensor, shape (n_samples, n_points)
        The explained score at each curve point.
    changed : Tensor of bool, shape (n_samples, n_points)
        Whether each point differs from the previous one (see :func:`perturbation_curves`).
    counts : Tensor, shape (n_points,)
        Number of groups moved at each point.
    n_groups : int
        Number of feature groups.
    inputs : Tensor
        The inputs as a tensor (their device and dtype).

    Examples
    --------
    >>> import torch
    >>> res = ranked_curves(
    ...     torch.nn.Linear(3, 2), torch.ones(2, 3), torch.rand(2, 3), 0, baselines=0.0,
    ...     ordering="feature", counts_for=lambda g, device: equal_counts(g, None, device),
    ...     softmax=False)
    >>> res.curves.shape, res.counts.tolist(), res.n_groups
    (torch.Size([2, 4]), [0, 1, 2, 3], 3)
    """

    curves: Tensor
    changed: Tensor
    counts: Tensor
    n_groups: int
    inputs: Tensor


def ranked_curves(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    target: object,
    *,
    baselines: ArrayLike | str,
    ordering: str,
    counts_for: Callable[[int, torch.device], Tensor],
    insert: bool = False,
    descending: bool = True,
    abs: bool = False,
    patch_size: int = 8,
    softmax: bool,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
) -> RankedCurves:
    """The front half every curve metric shares: check, rank, step and score.

    Prepares the model and data (:func:`~attribution.metrics._adapter.prepare`), ranks
    the feature groups of ``ordering`` by attribution (:func:`group_ranks`), asks
    ``counts_for(n_groups, device)`` for the groups moved at each point, and runs
    :func:`perturbation_curves` towards (``insert=False``) or from (``insert=True``)
    the substrate that ``baselines`` names (:func:`resolve_substrate`).

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> res = ranked_curves(
    ...     model, torch.ones(1, 2), torch.tensor([[2.0, 1.0]]), None, baselines=0.0,
    ...     ordering="feature", counts_for=lambda g, device: fixed_counts(g, 1, None, device),
    ...     softmax=False)
    >>> bool(torch.allclose(res.curves[0, -1], torch.zeros(())))  # all removed: F(0)
    True
    """
    f, x, t, _ = prepare(forward_func, inputs, target, softmax=softmax, batch_size=batch_size)
    a = check_attributions(attributions, x)
    ranks, n_groups = group_ranks(
        a, resolve_ordering(ordering, x), descending=descending, abs=abs, patch_size=patch_size
    )
    counts = counts_for(n_groups, x.device)
    curves, changed = perturbation_curves(
        f, x, resolve_substrate(baselines, x), t, ranks, counts, insert=insert,
        softmax=softmax, batch_size=batch_size, skip_unchanged=skip_unchanged,
    )
    return RankedCurves(curves, changed, counts, n_groups, x)


def resolve_ordering(ordering: str, inputs: Tensor) -> str:
    """Map ``"auto"`` to ``"pixel"`` for ``(N, C, H, W)`` inputs, else ``"feature"``."""
    if ordering not in ORDERINGS:
        raise ValueError(f"`ordering` must be one of {ORDERINGS}, got {ordering!r}")
    if ordering == "auto":
        return "pixel" if inputs.ndim == 4 else "feature"
    if ordering in ("pixel", "channel") and inputs.ndim < 3:
        raise ValueError(f"ordering={ordering!r} needs inputs shaped (N, C, ...) ")
    if ordering == "patch" and inputs.ndim != 4:
        raise ValueError("ordering='patch' needs image inputs shaped (N, C, H, W)")
    return ordering


def _ranks(scores: Tensor, descending: bool) -> Tensor:
    """Rank of every column of ``scores`` (B, G); ties broken by index (stable sort)."""
    order = torch.argsort(scores, dim=1, descending=descending, stable=True)
    ranks = torch.empty_like(order)
    positions = torch.arange(scores.shape[1], device=scores.device).expand_as(order)
    return ranks.scatter_(1, order, positions)


def group_ranks(
    attributions: Tensor,
    ordering: str,
    *,
    descending: bool = True,
    abs: bool = False,
    patch_size: int = 8,
) -> tuple[Tensor, int]:
    """Rank tensor ``R`` broadcastable to the inputs, and the number of groups ``G``.

    ``"feature"`` ranks every element; ``"pixel"`` ranks pixels by the channel sum;
    ``"channel"`` ranks each channel map separately and moves, for every channel, the union
    of the positions reached by any channel (MFABA/ISA), i.e. ``R`` is the minimum rank over
    channels; ``"patch"`` ranks non-overlapping ``patch_size`` squares by their sum.
    """
    a = attributions.abs() if abs else attributions
    n = a.shape[0]
    if ordering == "feature":
        flat = a.reshape(n, -1)
        return _ranks(flat, descending).reshape(a.shape), flat.shape[1]
    spatial = a.shape[2:]
    if ordering == "pixel":
        flat = a.sum(1).reshape(n, -1)
        return _ranks(flat, descending).reshape(n, 1, *spatial), flat.shape[1]
    if ordering == "channel":
        per = a.reshape(n * a.shape[1], -1)
        r = _ranks(per, descending).reshape(n, a.shape[1], -1).amin(1)
        return r.reshape(n, 1, *spatial), per.shape[1]
    return _patch_ranks(a, descending, patch_size)


def _patch_ranks(a: Tensor, descending: bool, p: int) -> tuple[Tensor, int]:
    if p < 1:
        raise ValueError(f"`patch_size` must be >= 1, got {p}")
    n, _, h, w = a.shape
    pad = (0, (-w) % p, 0, (-h) % p)
    summed = F.avg_pool2d(F.pad(a.sum(1, keepdim=True), pad), p) * (p * p)
    hp, wp = summed.shape[2:]
    r = _ranks(summed.reshape(n, -1), descending).reshape(n, 1, hp, wp)
    r = r.repeat_interleave(p, dim=2).repeat_interleave(p, dim=3)[:, :, :h, :w]
    return r, hp * wp


def equal_counts(n_groups: int, n_steps: int | None, device: torch.device) -> Tensor:
    """Number of groups moved at each of the ``n_steps + 1`` curve points.

    ``n_steps=None`` moves one group per step; otherwise ``floor(k * G / n_steps)`` groups
    are moved at point ``k`` (equal groups up to one element).
    """
    n = n_groups if n_steps is None else int(n_steps)
    if not 1 <= n <= n_groups:
        raise ValueError(f"`n_steps` must lie in [1, {n_groups}] (number of groups), got {n}")
    return torch.arange(n + 1, device=device) * n_groups // n


def fixed_counts(
    n_groups: int, per_step: int, n_points: int | None, device: torch.device
) -> Tensor:
    """Counts for ``per_step`` groups per step (last step may be partial), as in Quantus."""
    if per_step < 1:
        raise ValueError(f"the step size must be >= 1, got {per_step}")
    n = -(-n_groups // per_step) if n_points is None else int(n_points)
    return (torch.arange(n + 1, device=device) * per_step).clamp_max(n_groups)


def resolve_substrate(baselines: ArrayLike | str, inputs: Tensor) -> Tensor:
    """The substrate tensor: a number/tensor, ``"blur"`` (RISE Gaussian) or ``"mean"``.

    ``"blur"``: Gaussian blur, kernel 11, sigma 5, zero padding (RISE), images only.
    ``"mean"``: per-sample, per-channel spatial mean for inputs with ``ndim >= 3``; for
    tabular ``(N, d)`` inputs, the column means over the given batch.
    """
    if isinstance(baselines, str):
        if baselines == "blur":
            return gaussian_blur(inputs)
        if baselines == "mean":
            if inputs.ndim >= 3:
                dims = tuple(range(2, inputs.ndim))
                return inputs.mean(dim=dims, keepdim=True).expand_as(inputs)
            return inputs.mean(0, keepdim=True).expand_as(inputs)
        raise ValueError(
            f"unknown substrate {baselines!r}; use a number, a tensor, 'blur' or 'mean'"
        )
    return broadcast_baselines(baselines, inputs)


def gaussian_blur(inputs: Tensor, kernel_size: int = 11, sigma: float = 5.0) -> Tensor:
    """Depthwise Gaussian blur of ``(N, C, H, W)`` images with zero padding (RISE)."""
    if inputs.ndim != 4:
        raise ValueError("the 'blur' substrate needs image inputs shaped (N, C, H, W)")
    t = torch.arange(kernel_size, device=inputs.device, dtype=inputs.dtype) - kernel_size // 2
    g = torch.exp(-(t**2) / (2 * sigma**2))
    k2 = torch.outer(g, g) / g.sum() ** 2
    c = inputs.shape[1]
    weight = k2.expand(c, 1, kernel_size, kernel_size)
    return F.conv2d(inputs, weight, padding=kernel_size // 2, groups=c)


def perturbation_curves(
    f: ForwardAdapter,
    inputs: Tensor,
    substrate: Tensor,
    target: Tensor,
    ranks: Tensor,
    counts: Tensor,
    *,
    insert: bool,
    softmax: bool,
    batch_size: int | None = None,
    skip_unchanged: bool = True,
) -> tuple[Tensor, Tensor]:
    """Scores along the curve, shape ``(n_samples, len(counts))``, and the changed-step mask.

    Point ``k`` of sample ``b`` evaluates ``inputs[b]`` with every element whose rank is
    below ``counts[k]`` set to the substrate (``insert=False``), or the substrate with those
    elements restored from the input (``insert=True``). ``changed[b, k]`` says whether point
    ``k`` differs from point ``k - 1`` (always true at ``k = 0``).
    """
    n, n_points = inputs.shape[0], counts.numel()
    changed = _changed_steps(inputs, substrate, ranks, counts)
    need = changed if skip_unchanged else torch.ones_like(changed)
    rows = need.reshape(-1).nonzero().squeeze(1)
    values = torch.zeros(n * n_points, dtype=inputs.dtype, device=inputs.device)
    view = (-1,) + (1,) * (ranks.ndim - 1)
    with torch.inference_mode():
        for idx in chunks(rows, auto_rows(batch_size, inputs)):
            b, k = idx // n_points, idx % n_points
            moved = ranks[b] < counts[k].view(view)
            keep, fill = (substrate[b], inputs[b]) if insert else (inputs[b], substrate[b])
            x_pert = torch.where(moved, fill, keep)
            values[idx] = f.scores(x_pert, target[b], softmax=softmax).to(values.dtype)
    last = torch.where(need, torch.arange(n_points, device=need.device), 0).cummax(1).values
    return values.view(n, n_points).gather(1, last), changed


def _changed_steps(inputs: Tensor, substrate: Tensor, ranks: Tensor, counts: Tensor) -> Tensor:
    """``(n, n_points)`` mask: does an element moving at step ``k`` differ from the substrate."""
    n, n_points = inputs.shape[0], counts.numel()
    step = torch.searchsorted(counts, ranks.reshape(n, -1).contiguous(), right=True)
    step = step.reshape(ranks.shape).expand_as(inputs).reshape(n, -1)
    differs = (inputs != substrate).reshape(n, -1).to(torch.int64)
    # column n_points collects elements that never move (rank >= counts[-1])
    hits = torch.zeros(n, n_points + 1, dtype=torch.int64, device=inputs.device)
    hits.scatter_add_(1, step, differs)
    changed = hits[:, :n_points] > 0
    changed[:, 0] = True
    return changed


def trapezoid_auc(curves: Tensor) -> Tensor:
    """Trapezoidal area under curves sampled at ``0, 1/n, ..., 1`` (``n + 1`` points)."""
    n = curves.shape[1] - 1
    if n == 0:
        return curves[:, 0].clone()
    return (curves.sum(1) - 0.5 * (curves[:, 0] + curves[:, -1])) / n
