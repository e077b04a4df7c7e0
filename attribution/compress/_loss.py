"""The attribution-matching regulariser (Park, Yang, Hwang and Yang, NeurIPS 2020)."""

from __future__ import annotations

import numbers

import torch
from torch import Tensor, nn

from ._maps import (
    WEIGHTINGS,
    LayerType,
    collapsed_map,
    layer_activations,
    normalized_distance,
    resolve_layer,
)

__all__ = ["AttributionMatchingLoss"]


class AttributionMatchingLoss:
    r"""Weighted collapsed attribution matching between a teacher and a student layer.

    For the teacher's predicted class ``c`` (the same one-hot for both networks) the
    maps ``M = ReLU(sum_k w_k A_k)`` with sensitivity weights
    ``w_k = sum_ij dz_c/dA_kij`` are L2-normalised per example and compared:

    .. math:: \beta\,\mathrm{mean}_{n,ij}\big(M^T_n/\|M^T_n\|_2 - M^S_n/\|M^S_n\|_2\big)^2

    The teacher map is detached; the student map keeps its graph (``create_graph``,
    double backprop), so the loss trains the student through its gradient-derived
    weights. The regulariser preserves the *matched layer's* map, not input-level
    attributions (input x gradient, integrated gradients).

    Parameters
    ----------
    teacher_layer, student_layer : nn.Module or str
        The matched layers (modules or dotted names); their maps must have the same
        spatial size.
    weighting : {"sensitivity", "equal"}, default "sensitivity"
        ``"equal"`` is the ablation ``M = mean_k A_k ** 2`` (attention transfer).
    channel_drop : float, default 0.0
        Stochastic matching: fraction of the teacher's channels zeroed at random per
        example before collapsing (the authors' README uses 0.3).
    beta : float, default 100.0
        Weight of the term; ``__call__`` returns ``beta`` times the distance.
    random_state : int, optional
        Seed of the channel-dropping generator (reproducible draws).

    References
    ----------
    .. [1] Park, Yang, Hwang, Yang, "Attribution Preservation in Network Compression
       for Reliable Network Interpretation", NeurIPS 2020,
       https://arxiv.org/abs/2010.15054

    Examples
    --------
    >>> import torch
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <torch._C.Generator object at ...>
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
    ...                           torch.nn.Flatten(), torch.nn.Linear(36, 3))
    >>> crit = AttributionMatchingLoss("1", "1")
    >>> float(crit(net, net, torch.rand(5, 1, 5, 5)).detach())
    0.0
    """

    def __init__(
        self,
        teacher_layer: LayerType,
        student_layer: LayerType,
        weighting: str = "sensitivity",
        channel_drop: float = 0.0,
        beta: float = 100.0,
        random_state: int | None = None,
    ) -> None:
        if weighting not in WEIGHTINGS:
            raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
        if not isinstance(channel_drop, numbers.Real) or not 0.0 <= channel_drop < 1.0:
            raise ValueError(f"channel_drop must be a float in [0, 1), got {channel_drop!r}")
        if not isinstance(beta, numbers.Real) or not beta >= 0 or beta == float("inf"):
            raise ValueError(f"beta must be a finite non-negative number, got {beta!r}")
        self.teacher_layer = teacher_layer
        self.student_layer = student_layer
        self.weighting = weighting
        self.channel_drop = float(channel_drop)
        self.beta = float(beta)
        self.random_state = random_state
        self._generator = torch.Generator()
        self.reseed(random_state)

    def reseed(self, random_state: int | None = None) -> None:
        """Restart the channel-dropping generator (``None``: a fresh random seed).

        Examples
        --------
        >>> crit = AttributionMatchingLoss("0", "0", channel_drop=0.3, random_state=1)
        >>> crit.reseed(1)
        """
        if random_state is None:
            self._generator.seed()
        else:
            self._generator.manual_seed(int(random_state))

    def __repr__(self) -> str:
        return (
            f"AttributionMatchingLoss(teacher_layer={self.teacher_layer!r}, "
            f"student_layer={self.student_layer!r}, weighting={self.weighting!r}, "
            f"channel_drop={self.channel_drop}, beta={self.beta})"
        )

    def maps(
        self, teacher: nn.Module, student: nn.Module, x: Tensor
    ) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Teacher map (detached), student map (with graph), target, student outputs.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
        ...                           torch.nn.Linear(18, 3))
        >>> t_map, s_map, target, _ = AttributionMatchingLoss("0", "0").maps(
        ...     net, net, torch.rand(2, 1, 5, 5))
        >>> tuple(t_map.shape), t_map.requires_grad, s_map.requires_grad
        ((2, 3, 3), False, True)
        """
        t_layer = resolve_layer(teacher, self.teacher_layer)
        s_layer = resolve_layer(student, self.student_layer)
        t_map, target = collapsed_map(
            teacher, t_layer, x, weighting=self.weighting, create_graph=False,
            channel_drop=self.channel_drop, generator=self._generator,
        )
        s_map, s_out = _student_map(student, s_layer, x, target, self.weighting)
        return t_map.detach(), s_map, target, s_out

    def distance(self, teacher: nn.Module, student: nn.Module, x: Tensor) -> Tensor:
        """The unweighted distance (no ``beta``) between the normalised maps.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
        ...                           torch.nn.Linear(18, 3))
        >>> float(AttributionMatchingLoss("0", "0").distance(net, net, torch.rand(2, 1, 5, 5)))
        0.0
        """
        t_map, s_map, _, _ = self.maps(teacher, student, x)
        return normalized_distance(t_map, s_map)

    def loss_and_outputs(
        self, teacher: nn.Module, student: nn.Module, x: Tensor
    ) -> tuple[Tensor, Tensor]:
        """``beta * distance`` and the student's outputs of the same forward pass.

        Training loops reuse the outputs for the distillation term instead of running
        the student twice.

        Examples
        --------
        >>> import torch
        >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten(),
        ...                           torch.nn.Linear(18, 3))
        >>> loss, out = AttributionMatchingLoss("0", "0").loss_and_outputs(
        ...     net, net, torch.rand(2, 1, 5, 5))
        >>> tuple(out.shape)
        (2, 3)
        """
        t_map, s_map, _, s_out = self.maps(teacher, student, x)
        return self.beta * normalized_distance(t_map, s_map), s_out

    def __call__(self, teacher: nn.Module, student: nn.Module, x: Tensor) -> Tensor:
        """``beta`` times the distance of the normalised collapsed maps (a scalar)."""
        return self.loss_and_outputs(teacher, student, x)[0]


def _student_map(
    student: nn.Module, layer: nn.Module, x: Tensor, target: Tensor, weighting: str
) -> tuple[Tensor, Tensor]:
    """The student's map for the teacher's targets, differentiable (double backprop)."""
    outputs, activation = layer_activations(student, layer, x)
    if weighting == "equal":
        return activation.pow(2).mean(dim=1), outputs
    target = target.to(outputs.device)
    if int(target.max()) >= outputs.shape[1]:
        raise ValueError(
            f"the student returns {outputs.shape[1]} classes but the teacher predicts class "
            f"{int(target.max())}"
        )
    score = outputs.gather(1, target.view(-1, 1)).sum()
    (grads,) = torch.autograd.grad(score, activation, create_graph=True)
    spatial = tuple(range(2, activation.dim()))
    maps = torch.relu((grads.sum(dim=spatial, keepdim=True) * activation).sum(dim=1))
    return maps, outputs
