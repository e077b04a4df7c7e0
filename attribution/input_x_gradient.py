"""Input x Gradient: the gradient scaled elementwise by the input."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ._base import GradientAttribution, TargetType

__all__ = ["InputXGradient"]


class InputXGradient(GradientAttribution):
    r"""Input times gradient, :math:`A = x \odot \nabla_x F_y(x)`.

    For a linear model without bias this equals Integrated Gradients from a
    zero baseline; Fast IG (Hesse et al. 2021) is this map on bias-free,
    nonnegatively homogeneous networks.

    References
    ----------
    .. [1] Shrikumar, Greenside, Kundaje, "Learning Important Features Through
       Propagating Activation Differences", 2017, https://arxiv.org/abs/1704.02685

    Examples
    --------
    >>> import torch
    >>> from attribution import InputXGradient
    >>> model = torch.nn.Linear(3, 1)
    >>> x = torch.rand(4, 3)
    >>> attr = InputXGradient(model).attribute(x)
    >>> torch.allclose(attr, x * model.weight[0])
    True
    """

    def attribute(
        self,
        inputs: Tensor,
        *,
        target: TargetType = None,
        internal_batch_size: int | None = None,
        additional_forward_args: Any = None,
    ) -> Tensor:
        """Input times the gradient of the target score.

        Parameters
        ----------
        inputs : Tensor
            ``(N, ...)`` batch of examples.
        %(target)s
        internal_batch_size : int, optional
            Maximum number of examples per forward/backward pass.
        %(additional_forward_args)s

        %(returns_attributions)s

        Examples
        --------
        >>> import torch
        >>> from attribution import InputXGradient
        >>> model = torch.nn.Linear(3, 2)
        >>> x = torch.rand(4, 3)
        >>> target = torch.tensor([0, 1, 1, 0])
        >>> attr = InputXGradient(model).attribute(x, target=target)
        >>> torch.allclose(attr, x * model.weight[target])
        True
        """
        inputs, targets, args, _ = self._prepare(inputs, target, additional_forward_args)
        _, grads = self._gradients_at(inputs, targets, args, internal_batch_size)
        return inputs * grads
