"""ReAct: rectified penultimate activations, then the energy score (Sun et al., NeurIPS 2021)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from ._base import OODDetector, last_linear
from ._hooks import capture, resolve_layers
from .energy import check_temperature, energy_score

__all__ = ["ReAct"]


class ReAct(OODDetector):
    r"""Energy score of the network with the head's input clipped at :math:`c`.

    ``fit(x_id)`` sets :math:`c` to the ``percentile``-th percentile of all the head's input
    activations on in-distribution data; ``score`` then computes
    :math:`-T\log\sum_c \exp(z_c/T)` with the head applied to :math:`\min(h, c)`.

    Parameters
    ----------
    %(detector_model)s
    head : nn.Module or str, optional
        The layer whose input is rectified; default the last ``nn.Linear``.
    percentile : float, default 90.0
    temperature : float, default 1.0
    %(detector_batch_size)s

    Attributes
    ----------
    threshold_ : float
        The clipping value :math:`c`.

    References
    ----------
    .. [1] Y. Sun, C. Guo, Y. Li, "ReAct: Out-of-distribution Detection With Rectified
       Activations", NeurIPS 2021.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import ReAct
    >>> net = torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2))
    >>> x = torch.arange(8.0).reshape(2, 4)
    >>> det = ReAct(net, percentile=50).fit(x)
    >>> det.threshold_
    3.5
    >>> det.score(x).shape
    torch.Size([2])
    """

    requires_fit = True

    def __init__(
        self,
        model: nn.Module,
        head: nn.Module | str | None = None,
        percentile: float = 90.0,
        temperature: float = 1.0,
        batch_size: int = 256,
    ) -> None:
        super().__init__(model, batch_size)
        if isinstance(percentile, bool) or not 0 < float(percentile) <= 100:
            raise ValueError(f"percentile must be in (0, 100], got {percentile!r}")
        self.head = head
        self.percentile = float(percentile)
        self.temperature = check_temperature(temperature)
        self.head_ = last_linear(model) if head is None else resolve_layers(model, [head])[0]

    def _fit(self, x: Tensor) -> None:
        values = []
        with torch.no_grad():
            for chunk in self._chunks(x):
                with capture([self.head_], ["input"]) as cap:
                    self._logits(chunk)
                values.extend(t.detach().double().reshape(-1).cpu().numpy() for t in cap.flat())
        self.threshold_ = float(np.percentile(np.concatenate(values), self.percentile))

    def _score_batch(self, x: Tensor) -> Tensor:
        threshold = self.threshold_

        def clip(_m: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
            return (args[0].clamp(max=threshold), *args[1:])

        handle = self.head_.register_forward_pre_hook(clip)
        try:
            logits = self._logits(x)
        finally:
            handle.remove()
        return energy_score(logits, self.temperature)
