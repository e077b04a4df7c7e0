"""MSP: the maximum softmax probability baseline (Hendrycks & Gimpel, ICLR 2017)."""

from __future__ import annotations

from torch import Tensor

from ._base import OODDetector

__all__ = ["MSP"]


class MSP(OODDetector):
    r"""Negative maximum softmax probability, :math:`-\max_c \mathrm{softmax}(z)_c`.

    Parameters
    ----------
    %(detector_model)s
    %(detector_batch_size)s

    References
    ----------
    .. [1] D. Hendrycks, K. Gimpel, "A Baseline for Detecting Misclassified and
       Out-of-Distribution Examples in Neural Networks", ICLR 2017.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import MSP
    >>> model = torch.nn.Linear(2, 2, bias=False)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.eye(2))
    >>> MSP(model).score(torch.tensor([[0.0, 0.0], [9.0, 0.0]]))
    tensor([-0.5000, -0.9999])
    """

    def _score_batch(self, x: Tensor) -> Tensor:
        return -self._logits(x).softmax(dim=1).max(dim=1).values
