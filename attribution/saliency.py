"""Saliency: the gradient of the explained score with respect to the input."""

from __future__ import annotations

from typing import Any

from torch import Tensor

from ._base import GradientAttribution, TargetType

__all__ = ["Saliency"]


class Saliency(GradientAttribution):
    r"""Vanilla gradient attribution :math:`A = \nabla_x F_y(x)`.

    Parameters
    ----------
    %(forward_func)s

    Notes
    -----
    Captum's ``Saliency`` returns ``|gradient|`` by default (``abs=True``), as
    in Simonyan et al.  The MFABA/ISA code bases use the signed gradient
    ("SM") and call the absolute version "SaliencyMap"; pass ``abs=False`` to
    get the signed gradient.

    References
    ----------
    .. [1] Simonyan, Vedaldi, Zisserman, "Deep Inside Convolutional Networks:
       Visualising Image Classification Models and Saliency Maps", 2014,
       https://arxiv.org/abs/1312.6034

    Examples
    --------
    >>> import torch
    >>> from attribution import Saliency
    >>> model = torch.nn.Linear(3, 2)
    >>> x = torch.rand(4, 3)
    >>> attr = Saliency(model).attribute(x, target=1, abs=False)
    >>> torch.allclose(attr, model.weight[1].expand(4, 3))
    True
    """

    def attribute(
        self,
        inputs: Tensor,
        *,
        target: TargetType = None,
        internal_batch_size: int | None = None,
        abs: bool = True,  # noqa: A002 - Captum's argument name
        additional_forward_args: Any = None,
    ) -> Tensor:
        """Gradient of the target score at ``inputs``.

        Parameters
        ----------
        inputs : Tensor
            ``(N, ...)`` batch of examples.
        %(target)s
        internal_batch_size : int, optional
            Maximum number of examples per forward/backward pass.
        abs : bool, default True
            Return the absolute value of the gradient (Captum's default).
        %(additional_forward_args)s

        %(returns_attributions)s

        Examples
        --------
        >>> import torch
        >>> from attribution import Saliency
        >>> model = torch.nn.Linear(3, 2)
        >>> x = torch.rand(4, 3)
        >>> attr = Saliency(model).attribute(x)  # target None: the predicted class; abs=True
        >>> torch.allclose(attr, model.weight[model(x).argmax(1)].abs())
        True
        """
        inputs, targets, args, _ = self._prepare(inputs, target, additional_forward_args)
        _, grads = self._gradients_at(inputs, targets, args, internal_batch_size)
        return grads.abs() if abs else grads
