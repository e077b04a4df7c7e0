"""Neuron sets, ablation (a context manager) and weight edits with a bit-exact undo."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch import Tensor, nn

from ._attribution import NeuronAttribution
from ._inputs import hooks, replace_first, resolve_targets
from ._layout import NeuronLayer, fold_norms, resolve_layout

__all__ = ["EditHandle", "NeuronSet", "ablate", "edit_neurons"]

ABLATION_MODES = ("zero", "mean")


class NeuronSet(list):
    """A ranked list of ``(layer, index)`` pairs that remembers where it came from.

    Attributes
    ----------
    attribution : NeuronAttribution or None
        The attribution that found the neurons (gives ``ablate`` and ``edit_neurons``
        the layers, the readout and the tokenizer).
    scores : Tensor or None
        The aggregated score of each neuron, in list order.
    signs : Tensor or None
        Sign of each neuron's mean activation on the prompts that found it (``edit_neurons``
        moves the output weights so that the activation pushes toward the new target).

    Examples
    --------
    >>> s = NeuronSet([(0, 3), (1, 2)])
    >>> s.mask(2, 4).nonzero().tolist()
    [[0, 3], [1, 2]]
    """

    def __init__(
        self,
        pairs: Iterable[tuple[int, int]] = (),
        *,
        attribution: NeuronAttribution | None = None,
        scores: Tensor | None = None,
        signs: Tensor | None = None,
    ) -> None:
        super().__init__((int(layer), int(index)) for layer, index in pairs)
        self.attribution = attribution
        self.scores = scores
        self.signs = signs

    def mask(self, n_layers: int, n_neurons: int) -> Tensor:
        """Boolean ``(n_layers, n_neurons)`` mask of the set.

        Examples
        --------
        >>> from attribution.neurons import NeuronSet
        >>> NeuronSet([(1, 0), (0, 2)]).mask(2, 3).int().tolist()
        [[0, 0, 1], [1, 0, 0]]
        >>> NeuronSet([(2, 0)]).mask(2, 3)
        Traceback (most recent call last):
        ...
        ValueError: neuron (2, 0) is outside 2 layers x 3 neurons
        """
        m = torch.zeros(n_layers, n_neurons, dtype=torch.bool)
        for layer, index in self:
            if not (0 <= layer < n_layers and 0 <= index < n_neurons):
                raise ValueError(
                    f"neuron ({layer}, {index}) is outside {n_layers} layers x {n_neurons} neurons"
                )
            m[layer, index] = True
        return m


def _resolve_layers(model: Any, neurons: Any, layers: Any) -> tuple[nn.Module, list[NeuronLayer]]:
    if isinstance(model, NeuronAttribution):
        return model.model, model.layout.layers
    if not isinstance(model, nn.Module):
        raise ValueError(f"`model` must be an nn.Module or a NeuronAttribution, got {type(model)}")
    source = getattr(neurons, "attribution", None)
    if layers is None and source is not None:
        return model, source.layout.layers
    return model, resolve_layout(model, "mlp" if layers is None else layers).layers


def _as_mask(neurons: Any, n_layers: int, n_neurons: int) -> Tensor:
    if isinstance(neurons, Tensor) and neurons.dtype == torch.bool:
        if neurons.shape[-2:] != (n_layers, n_neurons):
            raise ValueError(f"mask shape {tuple(neurons.shape)} != ({n_layers}, {n_neurons})")
        return neurons
    pairs = neurons if isinstance(neurons, NeuronSet) else NeuronSet(neurons)
    return pairs.mask(n_layers, n_neurons)


def _broadcast_mask(mask: Tensor, x: Tensor, layer: NeuronLayer) -> Tensor:
    """A ``(N,)`` or per-row ``(rows, N)`` neuron mask shaped to broadcast against ``x``."""
    if layer.kind == "conv":
        m = mask if mask.ndim == 2 else mask.unsqueeze(0)
        return m.reshape(*m.shape, *([1] * (x.ndim - 2)))
    if mask.ndim == 2 and x.ndim == 3:
        return mask.unsqueeze(1)
    return mask


def _fill(x: Tensor, layer: NeuronLayer, mode: str, values: Tensor | None) -> Tensor:
    """What ablated neurons take: zero, given per-neuron values, or the current mean."""
    if mode == "zero":
        return torch.zeros((), dtype=x.dtype, device=x.device)
    if values is not None:
        v = values.to(device=x.device, dtype=x.dtype)
        return v.reshape(v.shape[0], *([1] * (x.ndim - 2))) if layer.kind == "conv" else v
    if layer.kind == "conv":
        return x.mean(tuple(range(2, x.ndim)), keepdim=True)
    if x.ndim >= 3:  # (B, T, N): mean over each row's positions
        return x.mean(tuple(range(1, x.ndim - 1)), keepdim=True)
    return x.mean(0, keepdim=True)


@contextmanager
def ablation_hooks(
    layers: list[NeuronLayer], mask: Tensor, mode: str = "zero", values: Tensor | None = None
) -> Iterator[None]:
    """Ablate ``mask`` (``(L, N)`` or per-row ``(rows, L, N)``) on every forward inside."""
    if mode not in ABLATION_MODES:
        raise ValueError(f"`mode` must be one of {ABLATION_MODES}, got {mode!r}")
    pre = []
    for i, layer in enumerate(layers):
        m = mask[..., i, :]
        if not bool(m.any()):
            continue

        def fn(module, args, m=m, layer=layer, i=i):
            x = args[0]
            mm = _broadcast_mask(m.to(x.device), x, layer)
            fill = _fill(x, layer, mode, None if values is None else values[i])
            return replace_first(args, torch.where(mm, fill, x))

        pre.append((layer.module, fn))
    with hooks(pre=pre):
        yield


@contextmanager
def ablate(
    model: nn.Module | NeuronAttribution,
    neurons: Iterable[tuple[int, int]] | Tensor,
    mode: str = "zero",
    *,
    values: Tensor | None = None,
    layers: Any = None,
) -> Iterator[nn.Module]:
    """Knock out neurons inside a ``with`` block; the model is restored on exit, also on error.

    Parameters
    ----------
    model : nn.Module or NeuronAttribution
        The model (its neuron layers are found as in :class:`NeuronAttribution`), or the
        attribution whose layers the indices refer to.
    neurons : list of (layer, index), NeuronSet or bool Tensor (n_layers, n_neurons)
        The neurons. A :class:`NeuronSet` from :func:`find_concept_neurons` carries its
        layers.
    mode : {"zero", "mean"}, default "zero"
        ``"zero"`` sets the activations to 0. ``"mean"`` sets them to ``values`` (per
        neuron, e.g. :meth:`NeuronAttribution.mean_activations`) or, without ``values``,
        to the mean of the current forward pass over positions (sequences), space (conv)
        or the batch (plain features).
    values : Tensor (n_layers, n_neurons), optional
        Replacement activations for ``mode="mean"``.
    layers : "mlp" or list of nn.Module, optional
        The neuron layers when ``model`` is a plain module and ``neurons`` a plain list.

    Yields
    ------
    nn.Module
        The (hooked) model. No weights change: leaving the block removes the hooks.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> x = torch.rand(2, 3)
    >>> with ablate(net, [(0, 0), (0, 1), (0, 2), (0, 3)], layers=[net[2]]):
    ...     torch.equal(net(x), net[2].bias.expand(2, 2))
    True
    >>> torch.equal(net(x), net[2](net[1](net[0](x))))
    True
    """
    if mode not in ABLATION_MODES:
        raise ValueError(f"`mode` must be one of {ABLATION_MODES}, got {mode!r}")
    module, layer_list = _resolve_layers(model, neurons, layers)
    mask = _as_mask(neurons, len(layer_list), layer_list[0].n_neurons)
    if values is not None and tuple(values.shape) != tuple(mask.shape[-2:]):
        raise ValueError(
            f"`values` must be shaped {tuple(mask.shape[-2:])}, got {tuple(values.shape)}"
        )
    with ablation_hooks(layer_list, mask, mode, values):
        yield module


class EditHandle:
    """Undo handle of :func:`edit_neurons`; also a context manager that undoes on exit.

    Attributes
    ----------
    deltas : list of Tensor
        The change added to each edited neuron's output weights, per layer.

    Examples
    --------
    >>> import torch
    >>> from attribution.neurons import EditHandle, NeuronAttribution, edit_neurons
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> before = net[2].weight.clone()
    >>> na = NeuronAttribution(net, layers=[net[2]])
    >>> with edit_neurons(na, [(0, 1), (0, 3)], old=0, new=1, signs=torch.ones(2)) as handle:
    ...     changed = (net[2].weight != before).any(dim=0).tolist()  # columns of neurons 1, 3
    >>> isinstance(handle, EditHandle), changed, handle.active
    (True, [False, True, False, True], False)
    >>> torch.equal(net[2].weight, before)  # undone on exit
    True
    """

    def __init__(self, saved: list[tuple[NeuronLayer, Tensor, Tensor]]) -> None:
        self._saved = saved
        self.active = True

    def undo(self) -> None:
        """Restore the original weights bit-exactly (a second call does nothing).

        Examples
        --------
        >>> import torch
        >>> from attribution.neurons import NeuronAttribution, edit_neurons
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> before = net[2].weight.clone()
        >>> handle = edit_neurons(NeuronAttribution(net, layers=[net[2]]), [(0, 2)], old=1, new=0,
        ...                       signs=-torch.ones(1))
        >>> handle.undo(); handle.undo()  # the second call does nothing
        >>> torch.equal(net[2].weight, before), handle.active
        (True, False)
        """
        if not self.active:
            return
        with torch.no_grad():
            for layer, index, original in reversed(self._saved):
                _write_columns(layer, index, original)
        self.active = False

    def __enter__(self) -> EditHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.undo()


def _write_columns(layer: NeuronLayer, index: Tensor, columns: Tensor) -> None:
    w = layer.module.weight
    if layer.kind == "conv1d_t":
        w.data[index.to(w.device)] = columns.to(w.dtype)
    else:
        w.data[:, index.to(w.device)] = columns.t().to(w.dtype)


def edit_neurons(
    model: nn.Module | NeuronAttribution,
    neurons: Iterable[tuple[int, int]],
    old: Any,
    new: Any,
    gamma: float = 1.0,
    *,
    signs: Tensor | None = None,
    tokenizer: Any = None,
) -> EditHandle:
    r"""Move the output weights of ``neurons`` so that they write ``new`` instead of ``old``.

    Each neuron's output-weight vector :math:`w_k` gets
    :math:`\gamma\, s_k\, (\tilde u_{new} - \tilde u_{old}) / \lVert\tilde u_{new} -
    \tilde u_{old}\rVert^2`, with :math:`\tilde u` the readout rows with the norm gains
    folded in and :math:`s_k` the sign of the neuron's activation on the concept's prompts.
    Activation ``a_k`` then raises the ``new - old`` logit margin by
    :math:`\gamma |a_k| / \sigma`.

    Parameters
    ----------
    model : nn.Module or NeuronAttribution
    neurons : NeuronSet or list of (layer, index)
        Linear-type neuron layers only (not convolutions).
    old, new : int or str
        Token ids / classes (strings need a tokenizer).
    gamma : float, default 1.0
        Edit strength.
    signs : Tensor (len(neurons),), optional
        Activation signs; default: ``neurons.signs`` of a :class:`NeuronSet`.
    tokenizer : optional
        For string ``old`` / ``new`` when ``neurons`` does not carry one.

    Returns
    -------
    EditHandle
        ``handle.undo()`` restores the weights bit-exactly.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> before = net[2].weight.clone()
    >>> handle = edit_neurons(NeuronAttribution(net, layers=[net[2]]), [(0, 1)], old=0, new=1,
    ...                       signs=torch.ones(1))
    >>> bool((net[2].weight != before).any())
    True
    >>> handle.undo(); torch.equal(net[2].weight, before)
    True
    """
    na = model if isinstance(model, NeuronAttribution) else getattr(neurons, "attribution", None)
    if na is None:
        na = NeuronAttribution(model, tokenizer=tokenizer)
    pairs = neurons if isinstance(neurons, NeuronSet) else NeuronSet(neurons)
    if not pairs:
        raise ValueError("`neurons` is empty")
    if signs is None:
        signs = pairs.signs
    if signs is None:
        raise ValueError("pass `signs=` (activation signs) or neurons from find_concept_neurons")
    signs = torch.as_tensor(signs).reshape(-1)
    if signs.numel() != len(pairs):
        raise ValueError(f"got {signs.numel()} signs for {len(pairs)} neurons")
    tok = tokenizer if tokenizer is not None else na.tokenizer
    device = na.device
    ids = resolve_targets([old, new], 2, tok, device)
    if int(ids[0]) == int(ids[1]):
        raise ValueError("`old` and `new` are the same target")
    layers = na.layout.layers
    pairs.mask(len(layers), na.n_neurons)  # validates the indices
    saved: list[tuple[NeuronLayer, Tensor, Tensor]] = []
    with torch.no_grad():
        for i, layer in enumerate(layers):
            rows = [j for j, (lay, _) in enumerate(pairs) if lay == i]
            if not rows:
                continue
            if layer.kind == "conv":
                raise ValueError("edit_neurons supports linear-type layers, not convolutions")
            w = layer.output_weights()
            u = fold_norms(na.readout_vectors(ids, w.shape[0], w.detach()), layer.norms, None)
            d = u[1] - u[0]
            step = d / d.pow(2).sum()
            index = torch.tensor([pairs[j][1] for j in rows], dtype=torch.long)
            if index.unique().numel() != index.numel():
                raise ValueError(f"layer {i} lists a neuron twice")
            original = layer.output_columns(index.to(w.device))
            s = signs[rows].to(device=w.device, dtype=w.dtype).sign().unsqueeze(1)
            saved.append((layer, index, original))
            _write_columns(layer, index, original + float(gamma) * s * step.to(w.dtype))
    return EditHandle(saved)
