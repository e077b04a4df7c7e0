"""GradNorm: the norm of the KL-to-uniform gradient at the head (Huang et al., NeurIPS 2021)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

from ._base import OODDetector, last_linear
from ._hooks import capture, resolve_layers
from .energy import check_temperature

__all__ = ["GradNorm"]


class GradNorm(OODDetector):
    r"""Negative GradNorm: :math:`-\lVert \partial L / \partial W \rVert_1` per sample.

    :math:`L = -\frac1C \sum_c \log \mathrm{softmax}(z/T)_c` is the KL divergence from the
    uniform distribution up to a constant, and :math:`W` the weight of the head.

    Parameters
    ----------
    %(detector_model)s
    head : nn.Module or str, optional
        The layer whose weight gradient is measured; default the last ``nn.Linear``.
    temperature : float, default 1.0
    method : {"auto", "closed_form", "autograd"}, default "auto"
        When the logits are the output of a linear head :math:`z = W h + b`,
        :math:`\partial L/\partial W = (p - u) h^\top / T` (with :math:`p` the tempered
        softmax and :math:`u` uniform), so
        :math:`\lVert\partial L/\partial W\rVert_1 = \lVert p - u\rVert_1 \lVert h\rVert_1 / T`
        exactly: one batched forward pass.  ``"autograd"`` runs one backward pass per
        sample to ``head.weight`` (as the reference code, which forces batch size 1).
        ``"auto"`` uses the closed form whenever the model returns the head's output
        unchanged and the head is an ``nn.Linear`` on ``(N, D)`` inputs.
    %(detector_batch_size)s

    References
    ----------
    .. [1] R. Huang, A. Geng, Y. Li, "On the Importance of Gradients for Detecting
       Distributional Shifts in the Wild", NeurIPS 2021.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import GradNorm
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    >>> x = torch.randn(6, 4)
    >>> closed = GradNorm(net, method="closed_form").score(x)
    >>> torch.allclose(closed, GradNorm(net, method="autograd").score(x), atol=1e-6)
    True
    """

    def __init__(
        self,
        model: nn.Module,
        head: nn.Module | str | None = None,
        temperature: float = 1.0,
        method: Literal["auto", "closed_form", "autograd"] = "auto",
        batch_size: int = 256,
    ) -> None:
        super().__init__(model, batch_size)
        if method not in ("auto", "closed_form", "autograd"):
            raise ValueError(f"method must be 'auto', 'closed_form' or 'autograd', got {method!r}")
        self.head = head
        self.temperature = check_temperature(temperature)
        self.method = method
        self.head_ = last_linear(model) if head is None else resolve_layers(model, [head])[0]
        weight = getattr(self.head_, "weight", None)
        if not isinstance(weight, Tensor):
            raise ValueError("the head must have a .weight parameter")
        if method == "closed_form" and not isinstance(self.head_, nn.Linear):
            raise ValueError("method='closed_form' needs an nn.Linear head")

    def _score_batch(self, x: Tensor) -> Tensor:
        if self.method != "autograd":
            with capture([self.head_, self.head_], ["input", "output"]) as cap:
                logits = self._logits(x)
            if len(cap.tensors[0]) != 1:
                raise ValueError("the head must be called exactly once per forward pass")
            h, out = cap.tensors[0][0], cap.tensors[1][0]
            if isinstance(self.head_, nn.Linear) and h.dim() == 2 and out is logits:
                p = (logits / self.temperature).softmax(dim=1)
                gap = (p - 1.0 / p.shape[1]).abs().sum(dim=1)
                return -(gap * h.abs().sum(dim=1) / self.temperature)
            if self.method == "closed_form":
                raise ValueError(
                    "method='closed_form' needs the model to return the head's output "
                    "unchanged and the head to act on (N, D) inputs; use method='autograd'"
                )
        with torch.enable_grad():
            return -self._autograd_norms(self._logits(x))

    def _autograd_norms(self, logits: Tensor) -> Tensor:
        weight = self.head_.weight
        if not weight.requires_grad:
            raise ValueError("method='autograd' needs head.weight.requires_grad=True")
        loss = -torch.log_softmax(logits / self.temperature, dim=1).mean(dim=1)
        norms = []
        for i in range(loss.shape[0]):
            (g,) = torch.autograd.grad(loss[i], weight, retain_graph=i < loss.shape[0] - 1)
            norms.append(g.abs().sum())
        return torch.stack(norms)
