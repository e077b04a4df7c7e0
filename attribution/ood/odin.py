"""ODIN: temperature scaling and input perturbation (Liang et al., ICLR 2018)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ._base import OODDetector
from .energy import check_temperature

__all__ = ["ODIN"]


class ODIN(OODDetector):
    r"""Negative maximum softmax of temperature-scaled logits at a perturbed input.

    :math:`\tilde x = x - \varepsilon\,\mathrm{sign}(-\nabla_x \log S_{\hat y}(x; T))`,
    where :math:`S(x;T) = \mathrm{softmax}(z(x)/T)` and :math:`\hat y` is the predicted
    class; the score is :math:`-\max_c S_c(\tilde x; T)`.

    Parameters
    ----------
    %(detector_model)s
    temperature : float, default 1000.0
    epsilon : float, default 0.0014
        Step size in the model's **input** space (the reference code divides the step by
        the normalisation std; for a model that normalises inside, as
        :func:`attribution.testing.load_mnist_cnn`, the step is in pixel units).
    %(detector_batch_size)s

    References
    ----------
    .. [1] S. Liang, Y. Li, R. Srikant, "Enhancing The Reliability of Out-of-distribution
       Image Detection in Neural Networks", ICLR 2018.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import ODIN
    >>> model = torch.nn.Linear(3, 2)
    >>> s = ODIN(model, temperature=1.0, epsilon=0.0).score(torch.rand(4, 3))
    >>> bool(((s >= -1) & (s <= -0.5)).all())
    True
    """

    needs_grad = True

    def __init__(
        self,
        model: nn.Module,
        temperature: float = 1000.0,
        epsilon: float = 0.0014,
        batch_size: int = 256,
    ) -> None:
        super().__init__(model, batch_size)
        self.temperature = check_temperature(temperature)
        if isinstance(epsilon, bool) or not float(epsilon) >= 0:
            raise ValueError(f"epsilon must be a number >= 0, got {epsilon!r}")
        self.epsilon = float(epsilon)

    def _score_batch(self, x: Tensor) -> Tensor:
        if self.epsilon > 0:
            x = x.detach().requires_grad_(True)
            log_p = torch.log_softmax(self._logits(x) / self.temperature, dim=1)
            (grad,) = torch.autograd.grad(log_p.max(dim=1).values.sum(), x)
            x = (x + self.epsilon * grad.sign()).detach()
        with torch.no_grad():
            return -(self._logits(x) / self.temperature).softmax(dim=1).max(dim=1).values
