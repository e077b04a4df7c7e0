"""AGI: Adversarial Gradient Integration toward several false classes."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ._base import GradientAttribution, TargetType, per_example_sum, select_scores
from ._utils import make_generator
from .big import clip_to_range

__all__ = ["AGI"]


class AGI(GradientAttribution):
    r"""Adversarial Gradient Integration (Pan, Li, Zhu, IJCAI 2021).

    For each of ``n_classes`` false classes :math:`t`, walk from the input
    toward :math:`t` with sign steps
    :math:`x_{s+1} = \mathrm{clip}(x_s + \epsilon\,\mathrm{sign}(\nabla \log p_t(x_s)))`
    until the model predicts :math:`t` or ``max_iter`` steps are taken, and
    integrate :math:`-\nabla F_y(x_s) \odot (x_{s+1} - x_s)` along the way;
    the attribution is the sum over the false classes.  All (example, false
    class) paths run as one batch; paths that reach their class leave it.

    Parameters
    ----------
    forward_func : callable
        Model returning ``(N, C)`` class scores (treated as logits for the
        false-class objective :math:`\log \mathrm{softmax}_t`).

    Notes
    -----
    Deliberate departures from the reference code (LMBTough MFABA/ISA ports):

    * **No batch target mixing.**  The batched port indexes the ``(B, C)``
      probability matrix with the vector of all targets and sums, so each
      example's gradient mixes the classes of every example in the batch.
      Here every path uses only its own example's ``target`` and false class,
      so a batch gives exactly the per-example results.
    * **The path accumulates** (``accumulate=True``, as the AGI paper
      describes).  The original code computes every iterate from the
      *original* image, ``x_new = clip(x_0 + eps * sign(g))``, and adds
      ``x_new - x_0`` each time; ``accumulate=False`` reproduces that.
    * The explained scalar is the model output at ``target`` (the reference
      uses softmax probabilities; wrap the model with a softmax to match).

    Defaults: ``epsilon=0.05``, ``max_iter=20`` (reference code) and
    ``n_classes=20`` random false classes (the ISA setting; MFABA uses 1),
    capped at ``C - 1``.

    References
    ----------
    .. [1] Pan, Li, Zhu, "Explaining Deep Neural Network Models with
       Adversarial Gradient Integration", IJCAI 2021,
       https://www.ijcai.org/proceedings/2021/0396

    Examples
    --------
    >>> import torch
    >>> from attribution import AGI
    >>> model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 4))
    >>> x = torch.rand(2, 1, 4, 4)
    >>> attr = AGI(model).attribute(x, n_classes=3, max_iter=5, random_state=0)
    >>> attr.shape
    torch.Size([2, 1, 4, 4])
    """

    has_convergence_delta = True

    def attribute(
        self,
        inputs: Tensor,
        *,
        target: TargetType = None,
        internal_batch_size: int | None = None,
        epsilon: float = 0.05,
        max_iter: int = 20,
        n_classes: int = 20,
        false_classes: Tensor | None = None,
        random_state: int | torch.Generator | None = None,
        accumulate: bool = True,
        input_range: tuple[float, float] | None = (0.0, 1.0),
        additional_forward_args: Any = None,
        return_convergence_delta: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """AGI attributions.

        Parameters
        ----------
        inputs : Tensor
            ``(N, ...)`` batch of examples, in ``input_range``.
        %(target)s
        internal_batch_size : int, optional
            Maximum number of paths per forward/backward pass.
        epsilon : float, default 0.05
            Sign-step size.
        max_iter : int, default 20
            Maximum steps per path.
        n_classes : int, default 20
            Number of random false classes per example (at most ``C - 1``).
        false_classes : Tensor, optional
            Explicit ``(N, k)`` false classes; overrides ``n_classes``.
        random_state : int or torch.Generator, optional
            Seed for the choice of false classes.
        accumulate : bool, default True
            Accumulate the path (paper); ``False`` reproduces the reference.
        input_range : (float, float) or None, default (0, 1)
            Valid input range the paths are clipped to.
        %(additional_forward_args)s
        return_convergence_delta : bool, default False
            Also return ``sum(attr) - sum_t (F(x) - F(x_end, t))`` per example
            (needs ``accumulate=True``; costs one extra forward pass).

        %(returns_attributions_and_delta)s

        Examples
        --------
        >>> import torch
        >>> from attribution import AGI
        >>> model = torch.nn.Linear(6, 3)
        >>> x = torch.rand(2, 6)
        >>> attr, delta = AGI(model).attribute(
        ...     x, target=0, n_classes=2, max_iter=5, random_state=0, return_convergence_delta=True)
        >>> attr.shape, bool(delta.abs().max() < 1e-5)  # constant gradient: the path sum is exact
        (torch.Size([2, 6]), True)
        """
        if epsilon <= 0 or max_iter < 1:
            raise ValueError("need epsilon > 0 and max_iter >= 1")
        if return_convergence_delta and not accumulate:
            raise ValueError("with accumulate=False the steps do not form a path: no delta")
        inputs, targets, args, outputs = self._prepare(inputs, target, additional_forward_args)
        if outputs.dim() != 2 or outputs.shape[1] < 2:
            raise ValueError("AGI needs a classifier returning (N, C) scores with C >= 2")
        classes = self._false_classes(
            targets, outputs.shape[1], n_classes, false_classes, random_state
        )
        k = classes.shape[1]
        example = torch.arange(inputs.shape[0], device=inputs.device).repeat_interleave(k)
        walk = _Paths(
            self, inputs, example, targets[example], classes.reshape(-1), args, internal_batch_size
        )
        for _ in range(max_iter):
            if walk.advance(epsilon, accumulate, input_range) == 0:
                break
        attributions = torch.zeros_like(inputs).index_add_(0, example, walk.attributions)
        if not return_convergence_delta:
            return attributions
        start = select_scores(outputs, targets)
        change = torch.zeros_like(start).index_add_(0, example, start[example] - walk.end_scores())
        return attributions, per_example_sum(attributions) - change

    @staticmethod
    def _false_classes(
        targets: Tensor,
        n_total: int,
        n_classes: int,
        false_classes: Tensor | None,
        random_state: int | torch.Generator | None,
    ) -> Tensor:
        """``(N, k)`` false classes: explicit, or ``k`` random ones per example."""
        if false_classes is not None:
            classes = torch.as_tensor(false_classes, device=targets.device).long()
            classes = classes.reshape(targets.shape[0], -1)
            if bool(((classes < 0) | (classes >= n_total) | (classes == targets[:, None])).any()):
                raise ValueError("false_classes must be valid class indices different from target")
            return classes
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        k = min(n_classes, n_total - 1)
        generator = make_generator(random_state, targets.device)
        keys = torch.rand((targets.shape[0], n_total), generator=generator, device=targets.device)
        keys.scatter_(1, targets[:, None], 2.0)  # the target class sorts last: never chosen
        return keys.argsort(dim=1)[:, :k]


class _Paths:
    """Batched state of all (example, false class) paths."""

    def __init__(
        self,
        method: AGI,
        inputs: Tensor,
        example: Tensor,
        targets: Tensor,
        false_classes: Tensor,
        args: tuple[Any, ...],
        internal_batch_size: int | None,
    ) -> None:
        self.method, self.inputs, self.example = method, inputs, example
        self.targets, self.false_classes, self.args = targets, false_classes, args
        self.chunk = internal_batch_size
        self.start = inputs[example]
        self.x = self.start.clone()
        self.active = torch.arange(example.shape[0], device=inputs.device)
        self.attributions = torch.zeros_like(self.start)
        self.finished_score = torch.full(
            (example.shape[0],), torch.nan, device=inputs.device, dtype=inputs.dtype
        )

    def advance(self, epsilon: float, accumulate: bool, input_range: Any) -> int:
        """One step of every active path; returns the number still active."""
        active = self.active
        targets, false_classes, predicted = self.targets[active], self.false_classes[active], []

        def scores(outputs: Tensor, _points: Tensor, row_ids: Tensor) -> tuple[Tensor, Tensor]:
            predicted.append(outputs.detach().argmax(1))
            explained = select_scores(outputs, targets[row_ids])
            toward = outputs.log_softmax(1).gather(1, false_classes[row_ids, None]).squeeze(1)
            return explained, toward

        (explained, _), (explained_grad, toward_grad) = self.method.scores_and_grads(
            self.x[active],
            scores,
            self.example[active],
            self.args,
            self.inputs.shape[0],
            self.chunk,
        )
        arrived = torch.cat(predicted) == false_classes
        self.finished_score[active[arrived]] = explained[arrived].to(self.finished_score.dtype)
        moving = ~arrived
        rows, explained_grad, toward_grad = (
            active[moving],
            explained_grad[moving],
            toward_grad[moving],
        )
        origin = self.x[rows] if accumulate else self.start[rows]
        new_x = clip_to_range(origin + epsilon * toward_grad.sign(), input_range)
        self.attributions[rows] -= explained_grad * (new_x - origin)
        self.x[rows] = new_x
        self.active = rows
        return int(rows.numel())

    def end_scores(self) -> Tensor:
        """Explained score at the end of every path (one forward for unfinished paths)."""
        scores = self.finished_score.clone()
        pending = torch.isnan(scores).nonzero().squeeze(1)
        if pending.numel():
            args = self.method._expand_args(self.args, self.inputs.shape[0], self.example[pending])
            outputs = self.method._evaluate(self.x[pending], args)
            scores[pending] = select_scores(outputs, self.targets[pending]).to(scores.dtype)
        return scores
