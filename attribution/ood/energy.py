"""Energy score (Liu et al., NeurIPS 2020)."""

from __future__ import annotations

from torch import Tensor, nn

from ._base import OODDetector

__all__ = ["Energy", "energy_score"]


def energy_score(logits: Tensor, temperature: float = 1.0) -> Tensor:
    r"""Free energy :math:`E = -T \log\sum_c \exp(z_c / T)` of each row (higher = more OOD).

    Examples
    --------
    >>> import math, torch
    >>> abs(float(energy_score(torch.zeros(1, 4))[0]) + math.log(4)) < 1e-6
    True
    """
    return -temperature * (logits / temperature).logsumexp(dim=1)


def check_temperature(temperature: float) -> float:
    if isinstance(temperature, bool) or not float(temperature) > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    return float(temperature)


class Energy(OODDetector):
    r"""Energy score :math:`E(x) = -T \log \sum_c \exp(z_c(x)/T)`.

    Parameters
    ----------
    %(detector_model)s
    temperature : float, default 1.0
    %(detector_batch_size)s

    References
    ----------
    .. [1] W. Liu, X. Wang, J. Owens, Y. Li, "Energy-based Out-of-distribution
       Detection", NeurIPS 2020.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import Energy
    >>> Energy(torch.nn.Identity()).score(torch.tensor([[0.0, 0.0]]))
    tensor([-0.6931])
    """

    def __init__(self, model: nn.Module, temperature: float = 1.0, batch_size: int = 256) -> None:
        super().__init__(model, batch_size)
        self.temperature = check_temperature(temperature)

    def _score_batch(self, x: Tensor) -> Tensor:
        return energy_score(self._logits(x), self.temperature)
