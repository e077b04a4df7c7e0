"""Deletion and insertion curves over neurons, with the pixel curves' AUC conventions.

Deletion ablates the ranked neurons in decreasing score and records the target's score;
insertion starts with all ranked neurons ablated and restores them in that order. Points
sit at ``floor(k * n_ranked / n_steps)`` neurons, ``k = 0..n_steps``, and the per-input
score is the trapezoidal area over ``[0, 1]`` (``attribution.metrics`` conventions).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ..metrics import CurveResult
from ..metrics._curves import equal_counts, trapezoid_auc
from ._attribution import NeuronAttribution
from ._inputs import as_batch, gather_position, hooks, logits_of, resolve_targets
from ._intervene import ABLATION_MODES, ablation_hooks

__all__ = ["SCORES", "neuron_deletion", "neuron_insertion"]

SCORES = ("log_prob", "prob", "logit")


def _row_scores(na: NeuronAttribution, batch, targets: Tensor, score: str) -> Tensor:
    site: list[Tensor] = []
    site_pre, site_post = na.readout_hooks(site)
    with torch.no_grad(), hooks(pre=site_pre, post=site_post):
        out = batch.run(na.model)
        if score == "logit":
            return na.explained_scores(batch, out, site, targets)
        y = logits_of(out)
        if y.ndim == 3:
            y = gather_position(y, batch.positions(y.shape[1], y.device))
        lp = torch.log_softmax(y.float(), -1).gather(-1, targets.view(-1, 1)).squeeze(-1)
        return lp if score == "log_prob" else lp.exp()


def neuron_curve(
    na: NeuronAttribution,
    inputs: Any,
    target: Any = None,
    attributions: Tensor | None = None,
    *,
    insert: bool = False,
    n_steps: int = 20,
    n_ranked: int | None = None,
    score: str = "log_prob",
    mode: str = "zero",
    values: Tensor | None = None,
    position: int = -1,
    batch_size: int = 32,
    return_curves: bool = False,
) -> Tensor | CurveResult:
    """Shared implementation of :func:`neuron_deletion` and :func:`neuron_insertion`."""
    if score not in SCORES:
        raise ValueError(f"`score` must be one of {SCORES}, got {score!r}")
    if mode not in ABLATION_MODES:
        raise ValueError(f"`mode` must be one of {ABLATION_MODES}, got {mode!r}")
    if batch_size < 1:
        raise ValueError(f"`batch_size` must be >= 1, got {batch_size}")
    batch = as_batch(inputs, na.tokenizer, position)
    device = na.device
    if target is None:
        target = na.predict(batch)
    targets = resolve_targets(target, batch.n, na.tokenizer, device)
    L, N = na.n_layers, na.n_neurons
    if attributions is None:
        attributions = na.attribute(batch_inputs(batch), target=targets, position=position,
                                    keep_batch=True)
    a = torch.as_tensor(attributions, device=device)
    if a.shape == (L, N):
        a = a.expand(batch.n, L, N)
    if tuple(a.shape) != (batch.n, L, N):
        raise ValueError(
            f"`attributions` must be ({L}, {N}) or ({batch.n}, {L}, {N}), got {tuple(a.shape)}"
        )
    if not bool(torch.isfinite(a).all()):
        raise ValueError("`attributions` contain NaN or inf")
    total = L * N
    n_ranked = total if n_ranked is None else int(n_ranked)
    if not 1 <= n_ranked <= total:
        raise ValueError(f"`n_ranked` must lie in [1, {total}], got {n_ranked}")
    counts = equal_counts(n_ranked, n_steps, device)
    if mode == "mean" and values is None:
        values = na.mean_activations(batch_inputs(batch))
    order = torch.argsort(a.reshape(batch.n, -1), dim=1, descending=True, stable=True)
    ranks = torch.empty_like(order).scatter_(
        1, order, torch.arange(total, device=device).expand_as(order)
    )
    n_points = counts.numel()
    rows = torch.arange(batch.n * n_points, device=device)
    curves = torch.empty(batch.n * n_points, device=device)
    for start in range(0, rows.numel(), batch_size):
        idx = rows[start : start + batch_size]
        b, k = idx // n_points, idx % n_points
        r, c = ranks[b], counts[k].unsqueeze(1)
        mask = (r >= c) & (r < n_ranked) if insert else r < c
        with ablation_hooks(na.layout.layers, mask.view(-1, L, N), mode, values):
            curves[idx] = _row_scores(na, batch.take(b.cpu()), targets[b], score).float()
    curves = curves.view(batch.n, n_points)
    auc = trapezoid_auc(curves)
    if return_curves:
        return CurveResult(auc, curves, counts.to(curves.dtype) / n_ranked)
    return auc


def batch_inputs(batch) -> Any:
    """The original inputs of a :class:`Batch` (a mapping or a float tensor)."""
    return batch.kwargs["__x__"] if "__x__" in batch.kwargs else dict(batch.kwargs)


def neuron_deletion(
    na: NeuronAttribution,
    inputs: Any,
    attributions: Tensor | None = None,
    *,
    target: Any = None,
    **kwargs: Any,
) -> Tensor | CurveResult:
    """Neuron deletion AUC: ablate neurons in decreasing attribution. **Lower is better.**

    Parameters
    ----------
    na : NeuronAttribution
        Gives the model, its neuron layers and (when ``attributions`` is None) the ranking.
    inputs : str, list of str, Tensor or mapping
        One input or a batch.
    attributions : Tensor (n_layers, n_neurons) or (n, n_layers, n_neurons), optional
        The ranking (shared or per input). Default: ``na.attribute(inputs, target=target)``.
    target : int, str or sequence, optional
        Explained output; ``None``: the model's top prediction.
    n_steps : int, default 20
        Curve points ``0..n_steps`` at ``floor(k * n_ranked / n_steps)`` neurons.
    n_ranked : int, optional
        Only the top ``n_ranked`` neurons are moved; the x axis is their fraction.
        Default: all neurons.
    score : {"log_prob", "prob", "logit"}, default "log_prob"
        Score of the target at ``position``. ``"logit"`` is the explained scalar of ``na``.
    mode : {"zero", "mean"}, default "zero"
        Ablation (see :func:`ablate`); ``"mean"`` defaults ``values`` to the mean
        activations over ``inputs``.
    values : Tensor (n_layers, n_neurons), optional
    position : int, default -1
    batch_size : int, default 32
        Curve points evaluated per forward pass.
    return_curves : bool, default False
        Return a :class:`~attribution.metrics.CurveResult` ``(scores, curves, fractions)``.

    Returns
    -------
    Tensor (n,) or CurveResult
        Trapezoidal AUC over ``[0, 1]`` per input.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> na = NeuronAttribution(net, layers=[net[2]])
    >>> res = neuron_deletion(na, torch.rand(2, 3), target=0, n_steps=4, return_curves=True)
    >>> res.curves.shape, res.fractions.tolist()
    (torch.Size([2, 5]), [0.0, 0.25, 0.5, 0.75, 1.0])
    """
    return neuron_curve(na, inputs, target, attributions, insert=False, **kwargs)


def neuron_insertion(
    na: NeuronAttribution,
    inputs: Any,
    attributions: Tensor | None = None,
    *,
    target: Any = None,
    **kwargs: Any,
) -> Tensor | CurveResult:
    """Neuron insertion AUC: start with the ranked neurons ablated, restore the most important
    first. **Higher is better.** Same parameters as :func:`neuron_deletion`.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> na = NeuronAttribution(net, layers=[net[2]])
    >>> neuron_insertion(na, torch.rand(2, 3), target=0, n_steps=4).shape
    torch.Size([2])
    """
    return neuron_curve(na, inputs, target, attributions, insert=True, **kwargs)
