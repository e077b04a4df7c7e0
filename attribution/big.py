"""BIG: Integrated Gradients from the closest adversarial point (boundary-based IG)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor

from ._base import GradientAttribution, TargetType
from ._utils import quadrature
from .integrated_gradients import IntegratedGradients

__all__ = ["BIG", "DEFAULT_EPSILONS"]

#: The reference code's L-infinity radii, in [0, 1] pixel units.
DEFAULT_EPSILONS = tuple(v / 255 for v in (36, 64, 76.5, 127.5, 178.5, 229.5, 280.5))


def clip_to_range(x: Tensor, input_range: tuple[float, float] | None) -> Tensor:
    """Clamp to the valid input range (no-op when ``input_range`` is ``None``)."""
    return x if input_range is None else x.clamp(input_range[0], input_range[1])


class BIG(GradientAttribution):
    r"""Boundary-based Integrated Gradients (Wang, Fredrikson, Datta, ICML 2022).

    BIG is IG whose baseline is a nearby point across the decision boundary.
    For each radius in ``epsilons`` (smallest first), an L-infinity PGD
    attack maximises the cross-entropy of the target class; every example
    keeps the first radius whose attack changes its predicted class (or the
    last attack if none does).  IG then integrates from that point to the
    input.  Attacks only run on the examples that are still unsuccessful,
    and all of them are batched.

    Parameters
    ----------
    forward_func : callable
        Model returning ``(N, C)`` class scores (treated as logits by the
        attack's cross-entropy).

    Notes
    -----
    Deliberate departure from the MFABA/ISA reference code: there, every
    attack takes 50 sign steps of 0.001, so it moves at most 0.05 < 36/255
    and the radius clip **never binds**: the seven attacks are one and the
    same, and the "closest boundary point" is just a fixed-budget PGD point.
    Here the default step is ``step_size = 2.5 * epsilon / n_attack_steps``
    (the usual PGD choice), so each radius is actually explored and the
    smallest successful radius is found.  Pass ``step_size=0.001`` to
    reproduce the reference.  The IG part uses the textbook trapezoid rule
    by default; pass ``method="riemann_trapezoid"`` for Captum's (reference)
    weights, which sum to ``1 - 1/n_steps``.

    Cost: up to ``len(epsilons) * n_attack_steps + n_steps`` gradient
    evaluations per example (400 with the defaults when no attack succeeds).

    References
    ----------
    .. [1] Wang, Fredrikson, Datta, "Robust Models Are More Interpretable
       Because Attributions Look Normal", ICML 2022,
       https://arxiv.org/abs/2103.11257

    Examples
    --------
    >>> import torch
    >>> from attribution import BIG
    >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
    <...>
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 3))
    >>> x = torch.rand(2, 1, 4, 4)
    >>> attr, delta = BIG(model).attribute(x, n_attack_steps=10, return_convergence_delta=True)
    >>> attr.shape, bool(delta.abs().max() < 1e-5)
    (torch.Size([2, 1, 4, 4]), True)
    """

    has_convergence_delta = True

    def attribute(
        self,
        inputs: Tensor,
        *,
        target: TargetType = None,
        internal_batch_size: int | None = None,
        epsilons: Sequence[float] = DEFAULT_EPSILONS,
        n_attack_steps: int = 50,
        step_size: float | None = None,
        n_steps: int = 50,
        method: str = "trapezoid",
        input_range: tuple[float, float] | None = (0.0, 1.0),
        additional_forward_args: Any = None,
        return_convergence_delta: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """BIG attributions.

        Parameters
        ----------
        inputs : Tensor
            ``(N, ...)`` batch of examples, in ``input_range``.
        target : int, sequence of int or Tensor, optional
            Explained (and attacked) class per example; ``None`` means the
            predicted class.
        internal_batch_size : int, optional
            Maximum number of rows per forward/backward pass.
        epsilons : sequence of float
            Attack radii, tried in increasing order.
        n_attack_steps : int, default 50
            PGD steps per radius.
        step_size : float, optional
            PGD step; ``None`` means ``2.5 * epsilon / n_attack_steps``.
        n_steps, method
            IG steps and rule (see :func:`attribution._utils.quadrature`).
        input_range : (float, float) or None, default (0, 1)
            Valid input range that attacks are clipped to.
        %(additional_forward_args)s
        return_convergence_delta : bool, default False
            Also return ``sum(attr) - (F(inputs) - F(boundary point))``.

        %(returns_attributions_and_delta)s

        Examples
        --------
        >>> import torch
        >>> from attribution import BIG
        >>> model = torch.nn.Linear(2, 2, bias=False)
        >>> _ = model.weight.data.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        >>> x = torch.tensor([[0.6, 0.4]])  # class 0; the boundary is x0 = x1
        >>> attr, delta = BIG(model).attribute(
        ...     x, target=0, epsilons=[0.05, 0.5], n_attack_steps=20, return_convergence_delta=True)
        >>> attr.round(decimals=5).tolist(), delta.tolist()  # sum: F(x) - F(boundary) = 0.2 + 0.8
        ([[0.5, 0.5]], [0.0])
        """
        if not epsilons or n_attack_steps < 1:
            raise ValueError("need at least one epsilon and n_attack_steps >= 1")
        inputs, targets, args, outputs = self._prepare(inputs, target, additional_forward_args)
        if outputs.dim() != 2 or outputs.shape[1] < 2:
            raise ValueError("BIG needs a classifier returning (N, C) scores with C >= 2")
        boundary = self.boundary_points(
            inputs,
            targets,
            args,
            sorted(epsilons),
            n_attack_steps,
            step_size,
            input_range,
            internal_batch_size,
        )
        ig = IntegratedGradients(self.forward_func)
        alphas, weights = quadrature(method, n_steps)
        averaged = ig.integrate_gradients(
            inputs, boundary, targets, args, alphas, weights, internal_batch_size
        )
        attributions = averaged * (inputs - boundary)
        if not return_convergence_delta:
            return attributions
        return attributions, self._completeness_gap(attributions, boundary, targets, args, outputs)

    def boundary_points(
        self,
        inputs: Tensor,
        targets: Tensor,
        args: tuple[Any, ...],
        epsilons: Sequence[float],
        n_attack_steps: int,
        step_size: float | None,
        input_range: tuple[float, float] | None,
        internal_batch_size: int | None = None,
    ) -> Tensor:
        """Per example, the PGD point of the smallest radius that flips the prediction.

        Examples
        --------
        >>> import torch
        >>> from attribution import BIG
        >>> model = torch.nn.Linear(2, 2, bias=False)
        >>> _ = model.weight.data.copy_(torch.tensor([[1.0, -1.0], [-1.0, 1.0]]))
        >>> x = torch.tensor([[0.6, 0.4]])
        >>> points = BIG(model).boundary_points(
        ...     x, torch.tensor([0]), (), [0.05, 0.5], 20, None, (0.0, 1.0))
        >>> [round(v, 5) for v in points[0].tolist()], model(points).argmax(1).tolist()  # 0.5 flips
        ([0.1, 0.9], [1])
        """
        boundary = inputs.clone()
        pending = torch.arange(inputs.shape[0], device=inputs.device)
        for epsilon in epsilons:
            step = 2.5 * epsilon / n_attack_steps if step_size is None else step_size
            adversarial, flipped = self._pgd(
                inputs[pending],
                targets[pending],
                pending,
                args,
                inputs.shape[0],
                epsilon,
                step,
                n_attack_steps,
                input_range,
                internal_batch_size,
            )
            boundary[pending] = adversarial
            pending = pending[~flipped]
            if pending.numel() == 0:
                break
        return boundary

    def _pgd(
        self,
        start: Tensor,
        targets: Tensor,
        examples: Tensor,
        args: tuple[Any, ...],
        n_examples: int,
        epsilon: float,
        step: float,
        n_attack_steps: int,
        input_range: tuple[float, float] | None,
        internal_batch_size: int | None,
    ) -> tuple[Tensor, Tensor]:
        """Untargeted L-infinity PGD on the cross-entropy; returns points and success flags."""

        def cross_entropy(outputs: Tensor, _points: Tensor, row_ids: Tensor) -> Tensor:
            return F.cross_entropy(outputs, targets[row_ids], reduction="none")

        x = start.clone()
        for _ in range(n_attack_steps):
            _, (grads,) = self.scores_and_grads(
                x, cross_entropy, examples, args, n_examples, internal_batch_size
            )
            moved = x + step * grads.sign()
            x = clip_to_range(start + (moved - start).clamp(-epsilon, epsilon), input_range)
        predicted = self._evaluate(x, self._expand_args(args, n_examples, examples)).argmax(1)
        return x, predicted != targets
