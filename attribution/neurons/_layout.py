"""Where the neurons of a model live: module-layout adapters and readout folding.

A *neuron* is one input feature (or input channel) of a module that writes into a
residual stream or a readout linearly: Llama-style ``mlp.down_proj``, GPT-2-style
``mlp.c_proj``, BERT-style ``output.dense``, or any ``nn.Linear`` / convolution the user
names. Neuron ``k`` of such a module adds ``a_k * W_out[:, k]`` to the module's output,
so its direct effect on a readout direction ``u`` is ``a_k * <W_out[:, k], u>``.

Norms between the module's output and the readout are affine at a fixed scale ``sigma``
(RMSNorm: ``g * h / sigma``; LayerNorm: ``g * (h - mean h) / sigma + b``); their transposed
linear parts are folded into ``u``, which makes the direct score exact at fixed sigma.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

__all__ = ["Layout", "NeuronLayer", "resolve_layout"]

# (family, regex on the module name of the neuron-reading projection)
_PATTERNS = (
    ("llama", re.compile(r"(^|\.)mlp\.down_proj$")),
    ("gpt2", re.compile(r"(^|\.)mlp\.c_proj$")),
    ("bert", re.compile(r"(^|\.)layer\.\d+\.output\.dense$")),
)
_FINAL_NORMS = ("model.norm", "norm", "transformer.ln_f", "ln_f", "model.final_layernorm")


@dataclass
class NeuronLayer:
    """One neuron-reading module: its neurons are the module's input features/channels.

    Attributes
    ----------
    module : nn.Module
        ``nn.Linear``, transformers' ``Conv1D`` (GPT-2) or ``nn.Conv1d/2d/3d``.
    name : str
        Qualified name inside the model (``""`` when not found).
    kind : {"linear", "conv1d_t", "conv"}
        Weight layout: ``(out, in)``, ``(in, out)`` (GPT-2 ``Conv1D``), or a convolution.
    norms : tuple of nn.Module
        Norms between this module's output and the readout space, in forward order.

    Examples
    --------
    >>> import torch
    >>> from attribution.neurons import NeuronLayer
    >>> layer = NeuronLayer(torch.nn.Linear(6, 3), "fc", "linear")
    >>> layer.n_neurons, layer.neuron_dim  # neurons are the 6 input features
    (6, -1)
    >>> NeuronLayer(torch.nn.Conv2d(5, 2, 3), "conv", "conv").n_neurons  # input channels
    5
    """

    module: nn.Module
    name: str
    kind: str
    norms: tuple[nn.Module, ...] = field(default_factory=tuple)

    @property
    def n_neurons(self) -> int:
        """Number of neurons (input features or input channels)."""
        w = self.module.weight
        return int(w.shape[0] if self.kind == "conv1d_t" else w.shape[1])

    @property
    def neuron_dim(self) -> int:
        """Dimension of the module's input that indexes neurons (``-1`` or ``1``)."""
        return 1 if self.kind == "conv" else -1

    def output_weights(self) -> Tensor:
        """``W_out`` of shape ``(d_out, n_neurons)`` (a view, linear kinds only).

        Examples
        --------
        >>> import torch
        >>> from attribution.neurons import NeuronLayer
        >>> fc = torch.nn.Linear(6, 3)
        >>> w = NeuronLayer(fc, "fc", "linear").output_weights()
        >>> w.shape, w.data_ptr() == fc.weight.data_ptr()  # (d_out, n_neurons), a view
        (torch.Size([3, 6]), True)
        """
        if self.kind == "conv":
            raise ValueError("convolutions have no single output-weight matrix")
        w = self.module.weight
        return w.t() if self.kind == "conv1d_t" else w

    def output_columns(self, index: Tensor) -> Tensor:
        """A copy of the output-weight vectors of the neurons ``index``: ``(len, d_out)``.

        Examples
        --------
        >>> import torch
        >>> from attribution.neurons import NeuronLayer
        >>> fc = torch.nn.Linear(6, 3)
        >>> cols = NeuronLayer(fc, "fc", "linear").output_columns(torch.tensor([4, 0]))
        >>> cols.shape, torch.equal(cols[0], fc.weight[:, 4])
        (torch.Size([2, 3]), True)
        >>> _ = cols.zero_(); bool(fc.weight[:, 4].abs().sum() > 0)  # a copy: model untouched
        True
        """
        return self.output_weights()[:, index].t().clone()


@dataclass
class Layout:
    """Resolved neuron layers plus how their outputs reach the logits.

    Attributes
    ----------
    layers : list of NeuronLayer
    family : {"llama", "gpt2", "bert", "custom"}
    unembedding : nn.Module or None
        Linear map from the readout space to the logits (``lm_head``), if linear.
    readout_site : (nn.Module, "input" or "output")
        Where the readout-space state ``z`` (the vector a custom readout is applied to) is
        captured.

    Examples
    --------
    >>> import torch
    >>> from attribution.neurons import Layout, resolve_layout
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    >>> layout = resolve_layout(net, [net[2]])
    >>> isinstance(layout, Layout), [layer.name for layer in layout.layers], layout.n_neurons
    (True, ['2'], 6)
    >>> layout.unembedding is None, layout.readout_site == (net[2], "output")
    (True, True)
    """

    layers: list[NeuronLayer]
    family: str
    unembedding: nn.Module | None
    readout_site: tuple[nn.Module, str]

    @property
    def n_neurons(self) -> int:
        return self.layers[0].n_neurons


def _kind(module: nn.Module) -> str:
    if isinstance(module, nn.Linear):
        return "linear"
    if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        return "conv"
    if type(module).__name__ == "Conv1D" and getattr(module, "weight", None) is not None:
        return "conv1d_t"
    raise ValueError(
        f"a neuron layer must be nn.Linear, nn.Conv1d/2d/3d or transformers' Conv1D, "
        f"got {type(module).__name__}"
    )


def norm_kind(module: nn.Module) -> str:
    """``"layer"`` or ``"rms"`` for supported norms; ``ValueError`` otherwise."""
    name = type(module).__name__
    if isinstance(module, nn.LayerNorm) or ("LayerNorm" in name and "RMS" not in name):
        return "layer"
    if isinstance(module, nn.RMSNorm) or "RMSNorm" in name:
        return "rms"
    raise ValueError(f"unsupported norm {name}: use LayerNorm- or RMSNorm-style norms")


def norm_sigma(module: nn.Module, h: Tensor) -> Tensor:
    """The scale ``sigma`` a norm divides ``h`` (``(..., d)``) by, shape ``(..., 1)``."""
    eps = getattr(module, "variance_epsilon", None)
    if eps is None:
        eps = getattr(module, "eps", None)
    if eps is None:
        eps = torch.finfo(h.dtype).eps  # nn.RMSNorm(eps=None)
    h = h.to(torch.promote_types(h.dtype, torch.float32))
    if norm_kind(module) == "layer":
        var = h.var(-1, unbiased=False, keepdim=True)
    else:
        var = h.pow(2).mean(-1, keepdim=True)
    return torch.sqrt(var + float(eps))


def norm_gain(module: nn.Module, d: int, like: Tensor) -> Tensor:
    """The elementwise gain ``g`` of a norm (ones when it has no weight)."""
    w = getattr(module, "weight", None)
    if w is None:
        return torch.ones(d, dtype=like.dtype, device=like.device)
    if type(module).__name__.startswith("Gemma"):  # Gemma RMSNorms scale by (1 + weight)
        return 1.0 + w.detach().to(like.dtype)
    return w.detach().to(like.dtype)


def fold_norms(u: Tensor, norms: tuple[nn.Module, ...], sigmas: list[Tensor] | None) -> Tensor:
    """Pull readout directions ``u`` (``(B, d)``) back through ``norms`` (forward order).

    Each norm's linear part at fixed sigma is ``M = diag(g / sigma) C`` (``C`` centres for
    LayerNorm, is the identity for RMSNorm), so ``u <- M^T u = C (g / sigma * u)``,
    applied from the last norm to the first. ``sigmas=None`` uses ``sigma = 1``.
    """
    for i in range(len(norms) - 1, -1, -1):
        norm = norms[i]
        u = u * norm_gain(norm, u.shape[-1], u)
        if sigmas is not None:
            u = u / sigmas[i].to(u.dtype)
        if norm_kind(norm) == "layer":
            u = u - u.mean(-1, keepdim=True)
    return u


def _named(model: nn.Module) -> dict[nn.Module, str]:
    return {m: n for n, m in model.named_modules()}


def _find_final_norm(modules: dict[str, nn.Module]) -> nn.Module | None:
    for name in _FINAL_NORMS:
        if name in modules:
            return modules[name]
    return None


def _output_embeddings(model: nn.Module) -> nn.Module | None:
    getter = getattr(model, "get_output_embeddings", None)
    if callable(getter):
        head = getter()
        if isinstance(head, nn.Linear):
            return head
    return None


def resolve_layout(
    model: nn.Module,
    layers: str | nn.Module | list[nn.Module] = "mlp",
    *,
    final_norm: nn.Module | None = None,
    unembedding: nn.Module | None = None,
) -> Layout:
    """Find the neuron layers and the readout path of ``model``.

    Parameters
    ----------
    model : nn.Module
    layers : "mlp", nn.Module or list of nn.Module
        ``"mlp"`` finds the MLP output projections of Llama-style (``mlp.down_proj``),
        GPT-2-style (``mlp.c_proj``) and BERT-style (``layer.N.output.dense``) models.
        Otherwise the modules whose inputs are the neurons.
    final_norm : nn.Module, optional
        For custom layers: a norm between the layers' outputs (a residual stream) and the
        readout. Found automatically for the transformers layouts.
    unembedding : nn.Module, optional
        For custom layers: the linear map from the readout space to the logits. Default:
        ``model.get_output_embeddings()`` when the model has one.

    Returns
    -------
    Layout

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    >>> layout = resolve_layout(net, [net[2]])
    >>> layout.family, layout.n_neurons
    ('custom', 6)
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"`model` must be a torch.nn.Module, got {type(model).__name__}")
    modules = dict(model.named_modules())
    if isinstance(layers, str):
        if layers != "mlp":
            raise ValueError(
                f"`layers` must be 'mlp', a module or a list of modules, got {layers!r}"
            )
        return _auto_layout(model, modules, final_norm, unembedding)
    chosen = [layers] if isinstance(layers, nn.Module) else list(layers)
    if not chosen:
        raise ValueError("`layers` is empty")
    names = _named(model)
    out = []
    for module in chosen:
        if not isinstance(module, nn.Module):
            raise ValueError(f"`layers` must hold nn.Module objects, got {type(module).__name__}")
        if module not in names:
            raise ValueError(f"layer {type(module).__name__} is not a submodule of `model`")
        norms = (final_norm,) if final_norm is not None else ()
        out.append(NeuronLayer(module, names[module], _kind(module), norms))
    widths = {layer.n_neurons for layer in out}
    if len(widths) > 1:
        raise ValueError(
            f"all layers must have the same number of neurons, got {sorted(widths)}; "
            "use one NeuronAttribution per width"
        )
    head = unembedding if unembedding is not None else _output_embeddings(model)
    return Layout(out, "custom", head, _site(head, final_norm, out[-1].module))


def _site(head, norm, last) -> tuple[nn.Module, str]:
    if head is not None:
        return head, "input"
    if norm is not None:
        return norm, "output"
    return last, "output"


def _auto_layout(model, modules, final_norm, unembedding) -> Layout:
    family, found = "", []
    for name, pattern in _PATTERNS:
        found = [(n, m) for n, m in modules.items() if pattern.search(n)]
        if found:
            family = name
            break
    if not found:
        raise ValueError(
            "layers='mlp' found no Llama (mlp.down_proj), GPT-2 (mlp.c_proj) or BERT "
            "(layer.N.output.dense) projections; pass the modules as `layers=[...]`"
        )
    if family == "bert":
        return _bert_layout(modules, found)
    norm = final_norm if final_norm is not None else _find_final_norm(modules)
    if norm is None:
        raise ValueError("could not find the final norm; pass it as `final_norm=`")
    layers = []
    for n, m in found:
        # Gemma-2/3, OLMo-2: the MLP output is normed again before it joins the residual
        post = modules.get(n[: -len(".mlp.down_proj")] + ".post_feedforward_layernorm")
        layers.append(NeuronLayer(m, n, _kind(m), (norm,) if post is None else (post, norm)))
    head = unembedding if unembedding is not None else _output_embeddings(model)
    return Layout(layers, family, head, _site(head, norm, layers[-1].module))


def _bert_layout(modules, found) -> Layout:
    """Post-LN encoder: a neuron's output passes through every later block's LayerNorms."""
    prefixes = [n[: -len(".output.dense")] for n, _ in found]
    chain: list[list[nn.Module]] = []
    for prefix in prefixes:
        out_ln = modules.get(prefix + ".output.LayerNorm")
        attn_ln = modules.get(prefix + ".attention.output.LayerNorm")
        if out_ln is None or attn_ln is None:
            raise ValueError(f"BERT-style block {prefix!r} lacks its LayerNorms")
        chain.append([attn_ln, out_ln])
    layers = []
    for i, (name, module) in enumerate(found):
        norms = [chain[i][1]] + [ln for block in chain[i + 1 :] for ln in block]
        layers.append(NeuronLayer(module, name, _kind(module), tuple(norms)))
    return Layout(layers, "bert", None, (chain[-1][1], "output"))
