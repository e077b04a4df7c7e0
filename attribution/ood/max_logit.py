"""MaxLogit: the negative maximum logit (Hendrycks et al., ICML 2022)."""

from __future__ import annotations

from torch import Tensor

from ._base import OODDetector

__all__ = ["MaxLogit"]


class MaxLogit(OODDetector):
    r"""Negative maximum logit, :math:`-\max_c z_c`.

    Parameters
    ----------
    %(detector_model)s
    %(detector_batch_size)s

    References
    ----------
    .. [1] D. Hendrycks et al., "Scaling Out-of-Distribution Detection for Real-World
       Settings", ICML 2022.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import MaxLogit
    >>> model = torch.nn.Identity()
    >>> MaxLogit(model).score(torch.tensor([[1.0, 3.0], [0.5, -2.0]]))
    tensor([-3.0000, -0.5000])
    """

    def _score_batch(self, x: Tensor) -> Tensor:
        return -self._logits(x).max(dim=1).values
