"""Concept neurons: the neurons that most consistently push a target across prompts."""

from __future__ import annotations

from typing import Any

import torch

from ._attribution import NeuronAttribution
from ._intervene import NeuronSet

__all__ = ["AGGREGATES", "find_concept_neurons"]

AGGREGATES = ("sum", "mean", "max", "min")


def find_concept_neurons(
    na: NeuronAttribution,
    prompts: Any,
    *,
    target: Any,
    k: int = 50,
    aggregate: str = "sum",
    position: int = -1,
) -> NeuronSet:
    """The ``k`` neurons with the highest aggregated score for ``target`` over ``prompts``.

    Parameters
    ----------
    na : NeuronAttribution
        Scores each prompt (its ``method`` decides the ranking).
    prompts : list of str, Tensor or mapping
        A batch of prompts (text needs ``na.tokenizer``).
    target : int, str or sequence
        The concept's token / class (one for all prompts, or one per prompt).
    k : int, default 50
        Number of neurons returned.
    aggregate : {"sum", "mean", "max", "min"}, default "sum"
        How per-prompt scores combine (``"min"``: neurons that score high on every prompt).
    position : int, default -1
        Explained position in each prompt.

    Returns
    -------
    NeuronSet
        ``[(layer, index), ...]`` in decreasing score, carrying ``scores``, ``signs`` and
        ``attribution`` for :func:`ablate` and :func:`edit_neurons`.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 5), torch.nn.ReLU(), torch.nn.Linear(5, 2))
    >>> na = NeuronAttribution(net, layers=[net[2]])
    >>> top = find_concept_neurons(na, torch.rand(4, 3), target=1, k=2)
    >>> len(top), top[0][0]
    (2, 0)
    """
    if aggregate not in AGGREGATES:
        raise ValueError(f"`aggregate` must be one of {AGGREGATES}, got {aggregate!r}")
    total = na.n_layers * na.n_neurons
    if not isinstance(k, int) or not 1 <= k <= total:
        raise ValueError(f"`k` must be an int in [1, {total}], got {k!r}")
    scores = na.attribute(prompts, target=target, position=position, keep_batch=True)
    agg = {
        "sum": scores.sum,
        "mean": scores.mean,
        "max": lambda d: scores.amax(d),
        "min": lambda d: scores.amin(d),
    }[aggregate](0)
    flat = agg.reshape(-1)
    if not bool(torch.isfinite(flat).all()):
        raise ValueError("neuron scores contain NaN or inf")
    values, order = torch.topk(flat, k)
    layers, index = order // na.n_neurons, order % na.n_neurons
    acts = na.activations(prompts, position=position).mean(0).reshape(-1)[order]
    return NeuronSet(
        zip(layers.tolist(), index.tolist()),
        attribution=na,
        scores=values.detach(),
        signs=torch.sign(acts).detach(),
    )
