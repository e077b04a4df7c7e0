"""NeuronAttribution: how much each hidden neuron contributes to one output.

This is *neuron-to-output* importance, the question Captum's ``Layer*`` family answers
(``LayerActivation``, ``LayerGradientXActivation``, ``LayerIntegratedGradients`` with
``attribute_to_layer_input=True``), not a neuron's attribution to the input features
(Captum's ``Neuron*`` family).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .._utils import quadrature
from ._inputs import (
    Batch,
    as_batch,
    gather_position,
    hooks,
    logits_of,
    replace_first,
    resolve_targets,
)
from ._layout import Layout, NeuronLayer, fold_norms, norm_sigma, resolve_layout

__all__ = ["NEURON_METHODS", "NeuronAttribution"]

NEURON_METHODS = ("direct", "activation", "gradient", "grad_x_act", "integrated_gradients")


def _check_targets(targets: Tensor, width: int) -> None:
    if bool(((targets < 0) | (targets >= width)).any()):
        raise ValueError(f"targets must lie in [0, {width}), got {targets.tolist()}")


class NeuronAttribution:
    r"""Score every hidden neuron of a model for one output (neuron-to-output importance).

    Neurons are the input features of the modules in ``layers`` (for transformers the
    MLP's output projection, so a neuron is one MLP hidden unit); neuron ``k`` adds
    ``a_k W_out[:, k]`` to the module's output. Methods:

    * ``"direct"`` (NAM; Pan et al. 2024): :math:`s_k = a_k \langle W_{out}[:, k],
      \tilde u\rangle`, with :math:`\tilde u` the readout direction pulled back through the
      norms on the way (gain, centring, and the per-position :math:`1/\sigma` when
      ``fold_sigma``). One forward pass, no gradients. It is the neuron's exact *direct*
      effect on the explained logit at fixed sigma.
    * ``"activation"`` (AcT): :math:`a_k`.
    * ``"gradient"`` (GraD): :math:`\partial y / \partial a_k`.
    * ``"grad_x_act"`` (GraT): :math:`a_k\, \partial y / \partial a_k` (Captum's
      ``LayerGradientXActivation``).
    * ``"integrated_gradients"`` (GraI): Captum's ``LayerIntegratedGradients`` on the
      module input from a zero activation, each layer scaled on its own.

    ``y`` is the explained scalar: the model's logit of ``target`` at ``position`` with
    ``readout="unembedding"``, else :math:`\langle R_t, z\rangle` with ``z`` the state the
    readout acts on (the final norm's output, the unembedding's input, or the last layer's
    output for plain modules). Convolution channels are summed over space.

    Parameters
    ----------
    model : nn.Module
        The model, in eval mode. Transformers causal LMs (Llama, GPT-2 layouts), BERT-style
        encoders, or any module.
    layers : "mlp", nn.Module or list of nn.Module, default "mlp"
        ``"mlp"`` finds ``mlp.down_proj`` (Llama), ``mlp.c_proj`` (GPT-2) or
        ``layer.N.output.dense`` (BERT); else the ``nn.Linear`` / conv modules whose inputs
        are the neurons (all the same width).
    readout : "unembedding", Tensor or callable, default "unembedding"
        ``"unembedding"``: the unembedding row of the target (for plain modules without an
        unembedding, the layer output is the logits and the readout is the target's unit
        vector). A tensor ``(d,)`` (one direction) or ``(n_targets, d)`` (a row per
        target), or ``callable(targets) -> (n, d)``: a direction ``R`` in the space the head
        reads (a probe, a class vector, NAM's image-importance vector).
    method : str, default "direct"
        One of :data:`NEURON_METHODS`.
    tokenizer : optional
        A transformers tokenizer, to pass text prompts and string targets.
    final_norm, unembedding : nn.Module, optional
        For custom ``layers`` that write into a residual stream: the norm and the linear head
        after it (found automatically for transformers).
    fold_sigma : bool, default True
        Divide the direct score by the norms' per-position sigma (exact logit units).
    n_steps : int, default 50
        Integrated-gradients steps.
    ig_method : str, default "gausslegendre"
        Integrated-gradients rule (Captum's names).
    internal_batch_size : int, optional
        Most rows per forward pass for integrated gradients (``None``: all steps at once).

    Examples
    --------
    >>> import torch
    >>> from attribution.neurons import NeuronAttribution
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.ReLU(), torch.nn.Linear(6, 3))
    >>> na = NeuronAttribution(net, layers=[net[2]])
    >>> scores = na.attribute(torch.rand(1, 4), target=1)
    >>> scores.shape
    torch.Size([1, 6])
    """

    def __init__(
        self,
        model: nn.Module,
        layers: str | nn.Module | list[nn.Module] = "mlp",
        readout: str | Tensor | Callable[[Tensor], Tensor] = "unembedding",
        method: str = "direct",
        *,
        tokenizer: Any = None,
        final_norm: nn.Module | None = None,
        unembedding: nn.Module | None = None,
        fold_sigma: bool = True,
        n_steps: int = 50,
        ig_method: str = "gausslegendre",
        internal_batch_size: int | None = None,
    ) -> None:
        if method not in NEURON_METHODS:
            raise ValueError(f"`method` must be one of {NEURON_METHODS}, got {method!r}")
        if isinstance(readout, str) and readout != "unembedding":
            raise ValueError(
                f"`readout` must be 'unembedding', a tensor or a callable, got {readout!r}"
            )
        if not isinstance(readout, (str, Tensor)) and not callable(readout):
            raise ValueError(
                f"`readout` must be 'unembedding', a tensor or a callable, got {readout!r}"
            )
        quadrature(ig_method, n_steps)  # validates
        if internal_batch_size is not None and internal_batch_size < 1:
            raise ValueError(f"`internal_batch_size` must be >= 1, got {internal_batch_size}")
        self.model = model
        self.layers = layers
        self.readout = readout
        self.method = method
        self.tokenizer = tokenizer
        self.fold_sigma = fold_sigma
        self.n_steps = n_steps
        self.ig_method = ig_method
        self.internal_batch_size = internal_batch_size
        self.layout: Layout = resolve_layout(
            model, layers, final_norm=final_norm, unembedding=unembedding
        )
        if readout == "unembedding" and self.layout.family == "bert":
            raise ValueError(
                "readout='unembedding' needs a linear head after the last norm; BERT-style "
                "encoders have none: pass readout=<direction on the last hidden state>"
            )

    # ------------------------------------------------------------------ public API
    @property
    def n_layers(self) -> int:
        """Number of neuron layers."""
        return len(self.layout.layers)

    @property
    def n_neurons(self) -> int:
        """Neurons per layer."""
        return self.layout.n_neurons

    @property
    def modules(self) -> list[nn.Module]:
        """The neuron-reading modules, in layer order."""
        return [layer.module for layer in self.layout.layers]

    def attribute(
        self,
        inputs: Any,
        *,
        target: Any = None,
        position: int = -1,
        keep_batch: bool = False,
    ) -> Tensor:
        """Scores of every neuron for ``target`` at ``position``.

        Parameters
        ----------
        inputs : str, list of str, Tensor or mapping
            One prompt or a batch: text (needs ``tokenizer``), token ids ``(T,)`` or
            ``(n, T)``, a tokenizer output with ``input_ids`` / ``attention_mask``, or float
            inputs ``(n, ...)`` for non-text models.
        target : int, str or sequence, optional
            Token id / class (one for all rows or one per row). ``None``: the model's top
            prediction at ``position``.
        position : int, default -1
            Sequence position explained (counted over valid tokens when an
            ``attention_mask`` is given). Ignored for non-sequence activations.
        keep_batch : bool, default False
            Keep the batch dimension for a single input.

        Returns
        -------
        Tensor
            ``(n_layers, n_neurons)`` for one input, ``(n, n_layers, n_neurons)`` for a
            batch, on the model's device.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> na = NeuronAttribution(net, layers=[net[2]], method="grad_x_act")
        >>> na.attribute(torch.rand(5, 3), target=0).shape
        torch.Size([5, 1, 4])
        """
        batch = as_batch(inputs, self.tokenizer, position)
        if target is None:
            target = self.predict(batch)
        targets = resolve_targets(target, batch.n, self.tokenizer, self.device)
        fn = {
            "direct": self._direct,
            "activation": self._activation,
            "gradient": self._gradient,
            "grad_x_act": self._gradient,
            "integrated_gradients": self._integrated_gradients,
        }[self.method]
        scores = fn(batch, targets)
        if batch.single and not keep_batch:
            return scores[0]
        return scores

    def predict(self, inputs: Any, position: int = -1) -> Tensor:
        """The model's top prediction (greedy next token / class) at ``position``, ``(n,)``.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Linear(3, 2)
        >>> NeuronAttribution(net, layers=[net]).predict(torch.ones(2, 3)).shape
        torch.Size([2])
        """
        batch = inputs if isinstance(inputs, Batch) else as_batch(inputs, self.tokenizer, position)
        with torch.no_grad():
            logits = logits_of(batch.run(self.model))
        if logits.ndim == 3:
            logits = gather_position(logits, batch.positions(logits.shape[1], logits.device))
        return logits.argmax(-1)

    def activations(self, inputs: Any, position: int | None = -1) -> Tensor:
        """Neuron activations ``(n, n_layers, n_neurons)``.

        ``position=None`` averages over valid positions instead of taking one; conv
        channels are summed over space.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> NeuronAttribution(net, layers=[net[2]]).activations(torch.rand(2, 3)).shape
        torch.Size([2, 1, 4])
        """
        batch = as_batch(inputs, self.tokenizer, -1 if position is None else position)
        acts, _, _ = self._capture(batch, mean=position is None)
        return torch.stack(
            [self._reduce(layer, a) for layer, a in zip(self.layout.layers, acts)], 1
        )

    def mean_activations(self, inputs: Any) -> Tensor:
        """Mean activation of each neuron over the inputs and their valid positions.

        The reference values for ``ablate(..., mode="mean", values=...)``.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> NeuronAttribution(net, layers=[net[2]]).mean_activations(torch.rand(8, 3)).shape
        torch.Size([1, 4])
        """
        batch = as_batch(inputs, self.tokenizer, -1)
        acts, _, _ = self._capture(batch, mean=True)
        return torch.stack(
            [self._reduce(layer, a, spatial="mean") for layer, a in zip(self.layout.layers, acts)],
            1,
        ).mean(0)

    # ------------------------------------------------------------------ internals
    @property
    def device(self) -> torch.device:
        """The device of the model's parameters (CPU for a model without any)."""
        for p in self.model.parameters():
            return p.device
        return torch.device("cpu")

    def _reduce(self, layer: NeuronLayer, x: Tensor, spatial: str = "sum") -> Tensor:
        """Conv ``(B, C, *S)`` -> ``(B, C)`` (sum or mean over space); others unchanged."""
        if layer.kind == "conv" and x.ndim > 2:
            dims = tuple(range(2, x.ndim))
            return x.sum(dims) if spatial == "sum" else x.mean(dims)
        return x

    def _capture(
        self, batch: Batch, *, mean: bool = False
    ) -> tuple[list[Tensor], dict[nn.Module, Tensor], Tensor]:
        """One no-grad forward: layer inputs at the position (or averaged), norm inputs at
        the position, and the logits."""
        layers = self.layout.layers
        acts: list[Tensor | None] = [None] * len(layers)
        norm_in: dict[nn.Module, Tensor] = {}
        pos_cache: dict[str, Tensor] = {}

        def positions(x: Tensor) -> Tensor:
            if "p" not in pos_cache:
                pos_cache["p"] = batch.positions(x.shape[1], x.device)
            return pos_cache["p"]

        def layer_hook(i: int, layer: NeuronLayer):
            def fn(module, args):
                x = args[0].detach()
                if layer.kind != "conv" and x.ndim == 3:
                    if mean:
                        m = batch.kwargs.get("attention_mask")
                        w = (
                            m.to(x.device, x.dtype)
                            if m is not None
                            else torch.ones(x.shape[:2], dtype=x.dtype, device=x.device)
                        )
                        x = (x * w.unsqueeze(-1)).sum(1) / w.sum(1, keepdim=True)
                    else:
                        x = gather_position(x, positions(x))
                acts[i] = x

            return fn

        def norm_hook(norm: nn.Module):
            def fn(module, args):
                x = args[0].detach()
                norm_in[norm] = gather_position(x, positions(x)) if x.ndim == 3 else x

            return fn

        norms = {n for layer in layers for n in layer.norms}
        pre = [(layer.module, layer_hook(i, layer)) for i, layer in enumerate(layers)]
        pre += [(n, norm_hook(n)) for n in norms]
        with torch.no_grad(), hooks(pre=pre):
            logits = logits_of(batch.run(self.model))
        if logits.ndim == 3:
            logits = gather_position(logits, batch.positions(logits.shape[1], logits.device))
        return acts, norm_in, logits  # type: ignore[return-value]

    def readout_vectors(self, targets: Tensor, d: int, like: Tensor) -> Tensor:
        """Readout directions ``(n, d)`` in the readout space, one per row.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
        ...                           torch.nn.Linear(4, 2))
        >>> na = NeuronAttribution(net, layers=[net[2]])  # its output is the logits
        >>> na.readout_vectors(torch.tensor([1, 0]), 2, torch.zeros(1)).tolist()
        [[0.0, 1.0], [1.0, 0.0]]
        """
        r = self.readout
        if isinstance(r, str):
            head = self.layout.unembedding
            if head is None:  # the layer output is the logits
                _check_targets(targets, d)
                return F.one_hot(targets, d).to(like.dtype)
            _check_targets(targets, head.weight.shape[0])
            return head.weight.detach()[targets].to(like.dtype)
        is_fn = callable(r) and not isinstance(r, Tensor)
        u = torch.as_tensor(r(targets) if is_fn else r, device=like.device, dtype=like.dtype)
        if u.ndim == 1:
            u = u.unsqueeze(0).expand(targets.numel(), -1)
        elif u.ndim == 2 and not is_fn:
            if int(targets.max()) >= u.shape[0]:
                raise ValueError(f"target {int(targets.max())} has no row in the readout")
            u = u[targets]
        if u.ndim != 2 or u.shape[0] != targets.numel():
            raise ValueError(
                "the readout must be (d,), (n_targets, d) or a callable returning (n, d); "
                f"got shape {tuple(u.shape)} for {targets.numel()} rows"
            )
        if u.shape[-1] != d:
            raise ValueError(f"readout width {u.shape[-1]} != width {d} of the space it reads")
        return u

    def _direct(self, batch: Batch, targets: Tensor) -> Tensor:
        acts, norm_in, logits = self._capture(batch)
        out = []
        for layer, a in zip(self.layout.layers, acts):
            if layer.kind == "conv":
                out.append(self._direct_conv(layer, a, targets))
                continue
            w = layer.output_weights().detach()  # (d, N)
            u = self.readout_vectors(targets, w.shape[0], a)
            if self.readout == "unembedding" and self.layout.unembedding is None:
                if logits.shape[-1] != w.shape[0]:
                    raise ValueError(
                        "readout='unembedding' for plain modules needs the layer output to be "
                        f"the logits (width {w.shape[0]} != {logits.shape[-1]}); pass a readout"
                    )
            sig = [norm_sigma(n, norm_in[n]) for n in layer.norms] if self.fold_sigma else None
            u = fold_norms(u, layer.norms, sig)
            out.append(a * (u.to(w.dtype) @ w).to(a.dtype))
        return torch.stack(out, 1)

    def _direct_conv(self, layer: NeuronLayer, a: Tensor, targets: Tensor) -> Tensor:
        """``sum_space a * d<R, conv(a)>/da`` (exact: the bias-free conv is linear)."""
        if isinstance(self.readout, str):
            raise ValueError(
                "method='direct' on a convolution needs a readout tensor over its output"
            )
        module = layer.module
        with torch.enable_grad():
            x = a.detach().requires_grad_(True)
            y = module._conv_forward(x, module.weight.detach(), None)
            u = self.readout_vectors(targets, y.shape[1], y)
            if u.ndim == 2:
                u = u.reshape(*u.shape, *([1] * (y.ndim - 2)))
            (g,) = torch.autograd.grad((y * u).sum(), x)
        return self._reduce(layer, a * g)

    def _activation(self, batch: Batch, targets: Tensor) -> Tensor:
        acts, _, _ = self._capture(batch)
        return torch.stack(
            [self._reduce(layer, a) for layer, a in zip(self.layout.layers, acts)], 1
        )

    def explained_scores(
        self, batch: Batch, out: Any, site: list[Tensor], targets: Tensor
    ) -> Tensor:
        """The explained scalar per row, differentiable.

        ``out`` is the model's output on ``batch`` and ``site`` what
        :meth:`readout_hooks` stored during that pass.

        Examples
        --------
        >>> import torch
        >>> from attribution.neurons._inputs import as_batch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
        ...                           torch.nn.Linear(4, 2))
        >>> na = NeuronAttribution(net, layers=[net[2]])
        >>> x = torch.rand(2, 3)
        >>> batch = as_batch(x)
        >>> z = na.explained_scores(batch, batch.run(net), [], torch.tensor([0, 1]))
        >>> bool(torch.allclose(z, net(x)[[0, 1], [0, 1]]))  # the target logits
        True
        """
        if isinstance(self.readout, str):
            y = logits_of(out)
            if y.ndim == 3:
                y = gather_position(y, batch.positions(y.shape[1], y.device))
            _check_targets(targets, y.shape[-1])
            return y.gather(-1, targets.to(y.device).view(-1, 1)).squeeze(-1)
        z = site[0]
        if z.ndim == 3 and self.layout.layers[-1].kind != "conv":
            z = gather_position(z, batch.positions(z.shape[1], z.device))
        u = self.readout_vectors(targets, z.shape[-1] if z.ndim == 2 else z.shape[1], z)
        if z.ndim > 2:
            u = u.reshape(*u.shape, *([1] * (z.ndim - 2)))
        return (z * u).flatten(1).sum(1)

    def readout_hooks(self, store: list[Tensor]):
        """Hooks that store the readout site's tensor in ``store`` (``(pre, post)`` lists).

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(),
        ...                           torch.nn.Linear(4, 2))
        >>> pre, post = NeuronAttribution(net, layers=[net[2]]).readout_hooks([])
        >>> len(pre), len(post)  # the logits are read after the last layer
        (0, 1)
        """
        module, where = self.layout.readout_site

        def pre_fn(m, args):
            store[:] = [args[0]]

        def post_fn(m, args, output):
            store[:] = [logits_of(output)]

        return ([(module, pre_fn)], []) if where == "input" else ([], [(module, post_fn)])

    def _gradient(self, batch: Batch, targets: Tensor) -> Tensor:
        layers = self.layout.layers
        probes: list[Tensor | None] = [None] * len(layers)
        inputs: list[Tensor | None] = [None] * len(layers)

        def probe_hook(i: int):
            def fn(module, args):
                x = args[0]
                probe = torch.zeros_like(x, requires_grad=True)
                probes[i], inputs[i] = probe, x.detach()
                return replace_first(args, x + probe)

            return fn

        site: list[Tensor] = []
        site_pre, site_post = self.readout_hooks(site)
        pre = [(layer.module, probe_hook(i)) for i, layer in enumerate(layers)] + site_pre
        with torch.enable_grad(), hooks(pre=pre, post=site_post):
            out = batch.run(self.model)
            y = self.explained_scores(batch, out, site, targets)
            grads = torch.autograd.grad(y.sum(), probes)
        result = []
        for layer, g, x in zip(layers, grads, inputs):
            if layer.kind != "conv" and x.ndim == 3:
                p = batch.positions(x.shape[1], x.device)
                g, x = gather_position(g, p), gather_position(x, p)
            s = g * x if self.method == "grad_x_act" else g
            result.append(self._reduce(layer, s.detach()))
        return torch.stack(result, 1)

    def _integrated_gradients(self, batch: Batch, targets: Tensor) -> Tensor:
        alphas, weights = quadrature(self.ig_method, self.n_steps)
        layers = self.layout.layers
        full: list[Tensor | None] = [None] * len(layers)

        def grab(i: int):
            def fn(module, args):
                full[i] = args[0].detach()

            return fn

        with torch.no_grad(), hooks(pre=[(lay.module, grab(i)) for i, lay in enumerate(layers)]):
            batch.run(self.model)
        n, s = batch.n, len(alphas)
        device = full[0].device
        rows_b = torch.arange(n, device=device).repeat_interleave(s)
        rows_a = torch.as_tensor(alphas, device=device).repeat(n)
        rows_w = torch.as_tensor(weights, device=device).repeat(n)
        chunk = self.internal_batch_size or n * s
        result = []
        for i, layer in enumerate(layers):
            clean = full[i]
            total = torch.zeros_like(clean)
            for start in range(0, n * s, chunk):
                b = rows_b[start : start + chunk]
                alpha = rows_a[start : start + chunk].to(clean.dtype)
                shape = (-1,) + (1,) * (clean.ndim - 1)
                leaf = (alpha.view(shape) * clean[b]).requires_grad_(True)

                def patch(module, args, leaf=leaf):
                    return replace_first(args, leaf)

                site: list[Tensor] = []
                site_pre, site_post = self.readout_hooks(site)
                sub = batch.take(b.cpu())
                with (
                    torch.enable_grad(),
                    hooks(pre=[(layer.module, patch), *site_pre], post=site_post),
                ):
                    y = self.explained_scores(sub, sub.run(self.model), site, targets[b])
                    (g,) = torch.autograd.grad(y.sum(), leaf)
                w = rows_w[start : start + chunk].to(g.dtype).view(shape)
                total.index_add_(0, b, (g * w).detach())
            attr = clean * total
            if layer.kind != "conv" and attr.ndim == 3:
                attr = gather_position(attr, batch.positions(attr.shape[1], attr.device))
            result.append(self._reduce(layer, attr))
        return torch.stack(result, 1)
