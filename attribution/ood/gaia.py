"""GAIA: out-of-distribution detection from gradient-attribution abnormality.

Chen et al., "Delving into Gradient-based Attribution Abnormality for Out-of-distribution
Detection", NeurIPS 2023.  Both variants follow the scoring rules of the authors' code
(``cal_zero`` and ``cal_grad_value``), see ``docs/bench/ood.md``.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from torch import Tensor, nn

from ._base import OODDetector, last_linear
from ._hooks import LayerSpec, capture, channel_view, grads_or_raise, resolve_layers

__all__ = ["GAIA"]


class GAIA(OODDetector):
    r"""GAIA-Z (zero deflation) and GAIA-A (channel-wise average abnormality).

    Training-free: no ``fit`` is needed.  Higher scores are more out-of-distribution.

    Parameters
    ----------
    %(detector_model)s
    variant : {"zero", "average"}, default "zero"
        ``"zero"`` (GAIA-Z): one backward pass of :math:`S=\sum_n \max_c z_{n,c}`; for
        every channel :math:`k` of every hooked layer :math:`l` the fraction of non-zero
        gradients :math:`r_{l,k} = \mathrm{mean}_{ij}\,1[\partial S/\partial A^l_{k,ij}\neq 0]`,
        and the score :math:`Z = \mathrm{mean}_{l,k}\, r_{l,k}^2`, one flat mean over the
        channels of all layers (the paper's channel-then-layer fusion, i.e. a layer
        average weighted by channel count).

        ``"average"`` (GAIA-A): with :math:`F` the output map and :math:`h` its spatial
        mean (the pooled penultimate vector), the per-sample normaliser
        :math:`O = \sqrt{\mathrm{mean}_k |\mathrm{mean}_{ij}\,\partial(\sum_c\log
        \mathrm{softmax}(z)_c)/\partial F_{k,ij}|}`, the channel weights
        :math:`w_{l,k} = \mathrm{mean}_{ij}\,\partial(\sum_k h_k)/\partial A^l_{k,ij}` of every
        hooked (inner) layer, and the score :math:`A = \mathrm{mean}_{l,k} (|w_{l,k}|/O)^2`.
        Two backward passes.  A sample with :math:`O = 0` scores ``+inf``.
    layers : "batchnorm", "conv" or list of modules / dotted names, default "batchnorm"
        Hooked layers.  ``"batchnorm"``: every BatchNorm (and GroupNorm) output, as the
        authors do for ResNets.  ``"conv"``: every convolution output, for nets without
        normalisation layers.  When a convolution feeds a ReLU directly, its output plays
        the role the (pre-ReLU) BN output plays in a BN net: the zeros still come from the
        ReLU masks and the max-pool / stride selection downstream.  What changes is that
        the channels are the convolution's (before any normalisation), and that a conv
        followed by another linear operation (a BN) has fewer exact zeros.
    output_layer : nn.Module or str, optional
        GAIA-A only: the module whose **output** is the map :math:`F`.  ``None`` takes the
        **input** of the last ``nn.Linear`` (the head): for a net with global average
        pooling this is :math:`h` itself, treated as ``C x 1 x 1``, which changes
        :math:`O` by the constant :math:`\sqrt{1/HW}` only and so ranks samples exactly
        as the pre-pooling map does.
    %(detector_batch_size)s

    Notes
    -----
    A 2-D ``(N, C)`` hooked layer counts as ``C`` channels of size ``1 x 1``.  If a module
    after a hooked layer changes its output in place (``nn.ReLU(inplace=True)``), the
    detector notices it (version counter) and reruns with a copy handed downstream, so
    the scores are those of the out-of-place network.  The model's mode, parameters and
    their gradients are left as they were; no hook survives ``score``.

    References
    ----------
    .. [1] J. Chen, J. Li, X. Qu, J. Wang, J. Wan, J. Xiao, "GAIA: Delving into
       Gradient-based Attribution Abnormality for Out-of-distribution Detection",
       NeurIPS 2023, https://arxiv.org/abs/2311.09620

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import GAIA
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4),
    ...                           torch.nn.ReLU(), torch.nn.AdaptiveAvgPool2d(1),
    ...                           torch.nn.Flatten(), torch.nn.Linear(4, 3))
    >>> s = GAIA(net, variant="zero").score(torch.rand(5, 1, 8, 8))
    >>> s.shape, bool(((s >= 0) & (s <= 1)).all())
    (torch.Size([5]), True)
    >>> GAIA(net, variant="average").score(torch.rand(5, 1, 8, 8)).shape
    torch.Size([5])
    """

    needs_grad = True

    def __init__(
        self,
        model: nn.Module,
        variant: Literal["zero", "average"] = "zero",
        layers: LayerSpec = "batchnorm",
        output_layer: nn.Module | str | None = None,
        batch_size: int = 256,
    ) -> None:
        super().__init__(model, batch_size)
        if variant not in ("zero", "average"):
            raise ValueError(f"variant must be 'zero' or 'average', got {variant!r}")
        if output_layer is not None and variant == "zero":
            raise ValueError("output_layer is used by variant='average' only")
        self.variant = variant
        self.layers = layers
        self.output_layer = output_layer
        self.layers_ = resolve_layers(model, layers)
        if variant == "average":
            if output_layer is None:
                self.output_module_, self.output_where_ = last_linear(model), "input"
            else:
                self.output_module_ = resolve_layers(model, [output_layer])[0]
                self.output_where_ = "output"
        self._clone = False

    @classmethod
    def get_name(cls) -> str:
        """``"GAIA"`` for both variants (``variant`` says which one).

        Examples
        --------
        >>> from attribution.ood import GAIA
        >>> GAIA.get_name()
        'GAIA'
        """
        return "GAIA"

    def _forward_capture(self, x: Tensor, modules: list[nn.Module], where: list[Any]):
        for clone in (self._clone, True):
            with capture(modules, where, clone=clone) as cap:
                logits = self._logits(x)
            if not cap.modified_in_place():
                return logits, cap
            self._clone = True
        raise ValueError(
            "a hooked tensor is modified in place by the module that consumes it; hook "
            "another layer or use an out-of-place module (e.g. nn.ReLU(inplace=False))"
        )

    def _score_batch(self, x: Tensor) -> Tensor:
        x = x.detach().requires_grad_(True)
        if self.variant == "zero":
            return self._zero(x)
        return self._average(x)

    def _zero(self, x: Tensor) -> Tensor:
        logits, cap = self._forward_capture(x, self.layers_, ["output"] * len(self.layers_))
        acts = cap.flat()
        grads = grads_or_raise(logits.max(dim=1).values.sum(), acts)
        ratios = torch.cat([(channel_view(g) != 0).float().mean(dim=2) for g in grads], dim=1)
        return ratios.square().mean(dim=1)

    def _average(self, x: Tensor) -> Tensor:
        modules = [*self.layers_, self.output_module_]
        where = ["output"] * len(self.layers_) + [self.output_where_]
        logits, cap = self._forward_capture(x, modules, where)
        if len(cap.tensors[-1]) != 1:
            raise ValueError("output_layer must be called exactly once per forward pass")
        *inner, fmap = cap.flat()
        output_grad = grads_or_raise(
            torch.log_softmax(logits, dim=1).sum(), [fmap], retain_graph=True
        )[0]
        norm = channel_view(output_grad).float().mean(dim=2).abs().mean(dim=1).sqrt()
        grads = grads_or_raise(channel_view(fmap).mean(dim=2).sum(), inner)
        w = torch.cat([channel_view(g).float().mean(dim=2) for g in grads], dim=1).abs()
        safe = norm.clamp_min(torch.finfo(norm.dtype).tiny).unsqueeze(1)
        score = (w / safe).square().mean(dim=1)
        return torch.where(norm > 0, score, torch.inf)

    def __repr__(self) -> str:
        return (
            f"GAIA(variant={self.variant!r}, layers={len(self.layers_)} modules, "
            f"batch_size={self.batch_size})"
        )
