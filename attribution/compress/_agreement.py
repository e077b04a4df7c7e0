"""How far a compressed network's explanations agree with its teacher's."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import rankdata
from torch import Tensor, nn

from ..input_x_gradient import InputXGradient
from ..integrated_gradients import IntegratedGradients
from ..metrics import deletion, insertion
from ._loss import AttributionMatchingLoss
from ._maps import LayerType, collapsed_map

__all__ = [
    "attribution_agreement",
    "cosine_similarity",
    "pointing_game",
    "spearman",
    "top_k_iou",
]

_ALIASES = {
    "gradcam": "gradcam", "grad_cam": "gradcam",
    "input_x_gradient": "input_x_gradient", "ixg": "input_x_gradient",
    "integrated_gradients": "integrated_gradients", "ig": "integrated_gradients",
}


def cosine_similarity(a: Tensor, b: Tensor) -> Tensor:
    """Per-example cosine of the flattened maps.

    Two all-zero maps agree (1.0); an all-zero map against a non-zero one scores 0.

    Examples
    --------
    >>> import torch
    >>> cosine_similarity(torch.tensor([[1.0, 0.0]]), torch.tensor([[2.0, 0.0]])).tolist()
    [1.0]
    """
    a, b = a.flatten(1).double(), b.flatten(1).double()
    cos = torch.nn.functional.cosine_similarity(a, b, dim=1, eps=1e-30)
    both_zero = (a == 0).all(dim=1) & (b == 0).all(dim=1)
    return torch.where(both_zero, torch.ones_like(cos), cos)


def spearman(a: Tensor | np.ndarray, b: Tensor | np.ndarray) -> np.ndarray:
    """Per-example Spearman correlation of the flattened maps (ties get average ranks).

    A constant map has no ranking: its correlation is NaN.

    Examples
    --------
    >>> import numpy as np
    >>> spearman(np.array([[1.0, 2.0, 3.0]]), np.array([[10.0, 30.0, 20.0]])).round(2).tolist()
    [0.5]
    """
    a = np.asarray(a.detach().cpu() if isinstance(a, Tensor) else a, dtype=np.float64)
    b = np.asarray(b.detach().cpu() if isinstance(b, Tensor) else b, dtype=np.float64)
    ra = rankdata(a.reshape(len(a), -1), axis=1)
    rb = rankdata(b.reshape(len(b), -1), axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    denom = np.sqrt((ra**2).sum(1) * (rb**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (ra * rb).sum(1) / np.where(denom > 0, denom, 1.0), np.nan)


def top_k_iou(a: Tensor, b: Tensor, k: int) -> Tensor:
    """Per-example intersection over union of the ``k`` largest entries of each map.

    Examples
    --------
    >>> import torch
    >>> top_k_iou(torch.tensor([[3.0, 2.0, 1.0, 0.0]]), torch.tensor([[3.0, 0.0, 2.0, 1.0]]), 2)
    tensor([0.3333])
    """
    a, b = a.flatten(1), b.flatten(1)
    if not 1 <= k <= a.shape[1]:
        raise ValueError(f"k must be in [1, {a.shape[1]}], got {k}")
    in_a = torch.zeros_like(a, dtype=torch.bool).scatter_(1, a.topk(k, dim=1).indices, True)
    in_b = torch.zeros_like(b, dtype=torch.bool).scatter_(1, b.topk(k, dim=1).indices, True)
    inter = (in_a & in_b).sum(1).float()
    return inter / (2 * k - inter)


def pointing_game(maps: Tensor, masks: Tensor) -> Tensor:
    """1.0 where the map's maximum falls inside the mask, else 0.0 (per example).

    Maps of another resolution than the masks are upsampled bilinearly first (as for
    Grad-CAM). Maps may have a channel axis, which is summed.

    Examples
    --------
    >>> import torch
    >>> maps = torch.tensor([[[0.0, 1.0], [0.0, 0.0]]])
    >>> pointing_game(maps, torch.tensor([[[False, True], [False, False]]])).tolist()
    [1.0]
    """
    masks = _as_masks(masks, maps.shape[0])
    maps = _to_resolution(maps, masks.shape[-2:])
    flat = maps.flatten(1).argmax(dim=1)
    return masks.flatten(1).to(maps.device).gather(1, flat.view(-1, 1)).squeeze(1).float()


def _as_masks(masks: Tensor, n: int) -> Tensor:
    masks = torch.as_tensor(masks)
    if masks.dim() == 4 and masks.shape[1] == 1:
        masks = masks[:, 0]
    if masks.dim() != 3 or masks.shape[0] != n:
        raise ValueError(f"masks must have shape (N, H, W) for {n} examples, got "
                         f"{tuple(masks.shape)}")
    return masks.bool()


def _to_resolution(maps: Tensor, size: Sequence[int]) -> Tensor:
    """Spatial maps (N, h, w) or (N, C, h, w) as (N, H, W) (channels summed)."""
    if maps.dim() == 4:
        maps = maps.sum(dim=1)
    if maps.dim() != 3:
        raise ValueError(f"spatial maps must be (N, H, W) or (N, C, H, W), got {tuple(maps.shape)}")
    if tuple(maps.shape[-2:]) != tuple(size):
        maps = nn.functional.interpolate(maps[:, None], size=tuple(size), mode="bilinear",
                                         align_corners=False)[:, 0]
    return maps


def _input_shaped(maps: Tensor, x: Tensor) -> Tensor:
    """A map broadcast to the input's shape, for the insertion/deletion metrics."""
    if maps.shape == x.shape:
        return maps
    if x.dim() != 4:
        raise ValueError("a layer map can be scored by insertion/deletion on image inputs only")
    up = _to_resolution(maps, x.shape[-2:])
    return up[:, None].expand_as(x).contiguous()


def _maps(method: str, model: nn.Module, layer: LayerType | None, x: Tensor, target: Tensor,
          ig_steps: int, baselines: float | Tensor, batch: int) -> Tensor:
    if method == "gradcam":
        if layer is None:
            raise ValueError("gradcam needs teacher_layer and student_layer (or attribution=)")
        return torch.cat([collapsed_map(model, layer, x[i:i + batch], target[i:i + batch])[0]
                          .detach() for i in range(0, len(x), batch)])
    if method == "input_x_gradient":
        return InputXGradient(model).attribute(x, target=target,
                                               internal_batch_size=batch).detach()
    return IntegratedGradients(model).attribute(
        x, baselines=baselines, target=target, n_steps=ig_steps,
        internal_batch_size=batch).detach()


def attribution_agreement(
    teacher: nn.Module,
    student: nn.Module,
    x: Tensor,
    methods: Sequence[str] = ("gradcam", "input_x_gradient", "integrated_gradients"),
    masks: Tensor | None = None,
    *,
    teacher_layer: LayerType | None = None,
    student_layer: LayerType | None = None,
    attribution: AttributionMatchingLoss | None = None,
    top_k: float = 0.1,
    ig_steps: int = 32,
    baselines: float | Tensor = 0.0,
    faithfulness: bool = True,
    faithfulness_steps: int = 16,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Agreement of the student's attribution maps with the teacher's, per method.

    Both maps explain the teacher's predicted class. Per method (rows):

    * ``cosine``, ``spearman`` and ``top_k_iou``: teacher-student similarity of the
      flattened maps, averaged over examples (Spearman skips constant maps);
    * ``pointing_teacher`` / ``pointing_student``: pointing game against ``masks``;
    * ``insertion_*`` / ``deletion_*``: the shared faithfulness metrics
      (:func:`attribution.metrics.insertion` and ``deletion``, black substrate,
      softmax score) of each network's own map on that network.

    ``"gradcam"`` is the collapsed map of the matched layers (sensitivity weights,
    i.e. Grad-CAM times H x W; every score here is scale-invariant), upsampled to the
    input for the pointing game and the faithfulness curves; ``"input_x_gradient"``
    and ``"integrated_gradients"`` are :class:`attribution.InputXGradient` and
    :class:`attribution.IntegratedGradients` (channels summed for the pointing game).

    Parameters
    ----------
    teacher, student : nn.Module
        Return class scores ``(N, C)``; used in their current mode.
    x : Tensor
        ``(N, ...)`` inputs on the models' device.
    methods : sequence of str
        Any of ``"gradcam"``, ``"input_x_gradient"`` (``"ixg"``),
        ``"integrated_gradients"`` (``"ig"``).
    masks : Tensor, optional
        ``(N, H, W)`` boolean object masks for the pointing game.
    teacher_layer, student_layer : nn.Module or str, optional
        The layers of ``"gradcam"``; default: those of ``attribution``.
    attribution : AttributionMatchingLoss, optional
        Source of the layers when they are not given.
    top_k : float, default 0.1
        Share of map entries in the top-k sets.
    ig_steps : int, default 32
    baselines : float or Tensor, default 0.0
        IG baseline and faithfulness substrate.
    faithfulness : bool, default True
        Compute the insertion/deletion columns.
    faithfulness_steps : int, default 16
        Points on the insertion/deletion curves.
    batch_size : int, default 256
        Most rows per forward/backward pass (bounds memory).

    Returns
    -------
    pandas.DataFrame
        One row per method.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.ReLU(),
    ...                           torch.nn.Flatten(), torch.nn.Linear(100, 3))
    >>> report = attribution_agreement(net, net, torch.rand(6, 1, 5, 5), teacher_layer="1",
    ...                                student_layer="1", faithfulness=False)
    >>> report["cosine"].round(6).tolist()
    [1.0, 1.0, 1.0]
    """
    if not isinstance(x, Tensor) or x.dim() < 2 or x.shape[0] == 0 or not x.is_floating_point():
        raise ValueError("x must be a non-empty floating tensor of shape (N, ...)")
    if not isinstance(top_k, numbers.Real) or not 0.0 < top_k <= 1.0:
        raise ValueError(f"top_k must be a fraction in (0, 1], got {top_k!r}")
    unknown = [m for m in methods if m not in _ALIASES]
    if unknown or not methods:
        raise ValueError(f"unknown methods {unknown}; choose from {sorted(set(_ALIASES))}")
    if attribution is not None:
        teacher_layer = attribution.teacher_layer if teacher_layer is None else teacher_layer
        student_layer = attribution.student_layer if student_layer is None else student_layer
    x = x.detach()
    with torch.no_grad():
        target = teacher(x).argmax(dim=1)
    rows = {}
    for name in methods:
        method = _ALIASES[name]
        t_map = _maps(method, teacher, teacher_layer, x, target, ig_steps, baselines, batch_size)
        s_map = _maps(method, student, student_layer, x, target, ig_steps, baselines, batch_size)
        if t_map.shape != s_map.shape:
            raise ValueError(f"{name}: teacher maps {tuple(t_map.shape)} and student maps "
                             f"{tuple(s_map.shape)} differ in shape")
        k = max(1, math.ceil(top_k * t_map[0].numel()))
        row = {
            "cosine": float(cosine_similarity(t_map, s_map).mean()),
            "spearman": float(np.nanmean(spearman(t_map, s_map))),
            "top_k_iou": float(top_k_iou(t_map, s_map, k).mean()),
        }
        if masks is not None:
            row["pointing_teacher"] = float(pointing_game(t_map, masks).mean())
            row["pointing_student"] = float(pointing_game(s_map, masks).mean())
        if faithfulness:
            for model, tag, maps in ((teacher, "teacher", t_map), (student, "student", s_map)):
                a = _input_shaped(maps, x)
                kw = {"baselines": baselines, "n_steps": faithfulness_steps,
                      "batch_size": batch_size}
                row[f"insertion_{tag}"] = float(insertion(model, x, a, target=target, **kw).mean())
                row[f"deletion_{tag}"] = float(deletion(model, x, a, target=target, **kw).mean())
        rows[name] = row
    return pd.DataFrame.from_dict(rows, orient="index")
