"""Shared base class for the gradient attribution methods.

Every method in :mod:`attribution` derives from :class:`GradientAttribution`.
The base class owns the parts that must behave identically everywhere:

* validation of ``inputs``, ``target`` and ``baselines`` (clear ``ValueError``
  messages instead of shape errors deep inside a model); the target, baseline
  and chunking rules are :mod:`attribution._utils`' formatter, shared with the
  metrics,
* expansion of ``additional_forward_args`` to the rows of an expanded batch,
* one batched "scores and input gradients" helper that evaluates any number
  of rows in chunks of at most ``internal_batch_size`` rows.

The helper only ever asks autograd for gradients with respect to the
*inputs* (``torch.autograd.grad(..., inputs=x)``), so the model is never
touched: its train/eval mode, the ``requires_grad`` flags of its parameters
and their ``.grad`` fields stay exactly as they were, and no hooks are
registered.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Union  # Union: aliases must run on Python 3.10

import torch
from torch import Tensor

from ._utils import (
    BaselineType,
    FilledDocstrings,
    TargetType,
    check_inputs,
    format_baselines,
    format_target,
    row_chunks,
)

ScoreFn = Callable[[Tensor, Tensor, Tensor], Union[Tensor, tuple[Tensor, ...]]]  # noqa: UP007

__all__ = ["GradientAttribution", "TargetType", "BaselineType", "select_scores", "per_example_sum"]


def _as_tuple(args: Any) -> tuple[Any, ...]:
    if args is None:
        return ()
    if isinstance(args, tuple):
        return args
    return (args,)


def select_scores(outputs: Tensor, targets: Tensor) -> Tensor:
    """Pick one scalar per row: ``outputs[i, targets[i]]``.

    Outputs of shape ``(N,)`` or ``(N, 1)`` are already one scalar per row, and
    ``targets`` is ignored for them.
    """
    if outputs.dim() == 1:
        return outputs
    if outputs.dim() == 2 and outputs.shape[1] == 1:
        return outputs[:, 0]
    return outputs.gather(1, targets.view(-1, 1)).squeeze(1)


class GradientAttribution(FilledDocstrings):
    """Base class of all gradient-based attribution methods.

    Parameters
    ----------
    forward_func : callable
        The model, or any function ``forward_func(inputs, *additional_forward_args)``
        returning a tensor of shape ``(N, C)`` (class scores) or ``(N,)``
        (one score per example).  The explained scalar is the model output
        at ``target``; wrap the model with a softmax to explain probabilities.

    Notes
    -----
    Subclasses implement :meth:`attribute`.  Their docstrings (the class's and
    its own methods') may hold :func:`attribution._utils.fill_doc` placeholders
    for the parameters every method documents alike; they are filled when the
    subclass is defined.  The class attribute
    ``has_convergence_delta`` says whether ``attribute`` accepts
    ``return_convergence_delta``: the path methods do, and their delta is
    ``sum(attributions) - (F(path start) - F(path end))`` per example, in the
    orientation documented by each method.

    Examples
    --------
    >>> import torch
    >>> from attribution import GradientAttribution, IntegratedGradients, Saliency
    >>> issubclass(Saliency, GradientAttribution), Saliency.has_convergence_delta
    (True, False)
    >>> IntegratedGradients.has_convergence_delta
    True
    >>> GradientAttribution("not a model")
    Traceback (most recent call last):
    ...
    TypeError: forward_func must be callable, got str
    """

    has_convergence_delta: ClassVar[bool] = False

    def __init__(self, forward_func: Callable[..., Tensor]) -> None:
        if not callable(forward_func):
            raise TypeError(f"forward_func must be callable, got {type(forward_func).__name__}")
        self.forward_func = forward_func

    @classmethod
    def get_name(cls) -> str:
        """Human readable name of the method (the class name).

        Examples
        --------
        >>> from attribution import IntegratedGradients
        >>> IntegratedGradients.get_name()
        'IntegratedGradients'
        """
        return cls.__name__

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_inputs(inputs: Tensor) -> Tensor:
        return check_inputs(inputs)  # the one check, shared with the detectors

    @staticmethod
    def _check_baselines(baselines: BaselineType, inputs: Tensor) -> Tensor:
        """Return baselines broadcast to ``inputs.shape`` (zeros when ``None``)."""
        return format_baselines(baselines, inputs)

    def _forward(self, inputs: Tensor, args: tuple[Any, ...]) -> Tensor:
        outputs = self.forward_func(inputs, *args)
        if not isinstance(outputs, Tensor):
            raise ValueError(f"forward_func must return a tensor, got {type(outputs).__name__}")
        if outputs.dim() == 0 or outputs.shape[0] != inputs.shape[0]:
            raise ValueError(
                f"forward_func returned shape {tuple(outputs.shape)} for {inputs.shape[0]} "
                "examples; it must return one row per example"
            )
        if outputs.dim() > 2:
            raise ValueError(
                f"forward_func returned shape {tuple(outputs.shape)}; only (N,) or (N, C) "
                "outputs are supported (flatten or select the explained output first)"
            )
        return outputs

    def _evaluate(self, inputs: Tensor, args: tuple[Any, ...] = ()) -> Tensor:
        """Model outputs without building a graph (used for targets and deltas)."""
        with torch.no_grad():
            return self._forward(inputs, args)

    @staticmethod
    def _check_target(target: TargetType, outputs: Tensor) -> Tensor:
        """Return one class index per example as a ``LongTensor`` of shape ``(N,)``.

        ``None`` means the predicted class (``argmax``) for class-score outputs,
        and "the only output" for one-score-per-example outputs.
        """
        return format_target(target, outputs)

    # --------------------------------------------------------------- gradients
    @staticmethod
    def _expand_args(args: tuple[Any, ...], n_examples: int, rows: Tensor) -> tuple[Any, ...]:
        """Select, for every expanded row, the additional argument of its example.

        Tensors whose first dimension is the number of examples are indexed by
        ``rows`` (the example of each expanded row); anything else is passed on
        unchanged, as in Captum.
        """
        return tuple(
            arg.index_select(0, rows.to(arg.device))
            if isinstance(arg, Tensor) and arg.dim() > 0 and arg.shape[0] == n_examples
            else arg
            for arg in args
        )

    def scores_and_grads(
        self,
        points: Tensor,
        score_fn: ScoreFn,
        rows: Tensor,
        args: tuple[Any, ...] = (),
        n_examples: int | None = None,
        internal_batch_size: int | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Scores and their gradients with respect to ``points``, in chunks.

        Parameters
        ----------
        points : Tensor
            ``(M, *feature_shape)`` evaluation points.
        score_fn : callable
            ``score_fn(outputs, points_chunk, row_ids) -> scores`` returning one
            scalar per row, or a tuple of such tensors (one gradient each).
            ``row_ids`` are the positions of the chunk's rows in ``points``.
        rows : Tensor
            Example index of every row, used to expand ``args``.
        args, n_examples
            Additional forward arguments and the number of examples they hold.
        internal_batch_size : int, optional
            Maximum number of rows per forward/backward pass.

        Returns
        -------
        scores, grads : list of Tensor
            One entry per score returned by ``score_fn``; scores are detached.

        Examples
        --------
        >>> import torch
        >>> from attribution import Saliency
        >>> model = torch.nn.Linear(3, 2)
        >>> first = lambda outputs, points, row_ids: outputs[:, 0]
        >>> (scores,), (grads,) = Saliency(model).scores_and_grads(
        ...     torch.ones(4, 3), first, torch.arange(4), internal_batch_size=3)
        >>> scores.shape, torch.equal(grads, model.weight[0].detach().expand(4, 3))
        (torch.Size([4]), True)
        """
        score_parts: list[list[Tensor]] = []
        grad_parts: list[list[Tensor]] = []
        for chunk in row_chunks(points.shape[0], internal_batch_size):
            row_ids = torch.arange(chunk.start, chunk.stop, device=points.device)
            chunk_args = self._expand_args(args, n_examples or 0, rows[chunk]) if args else ()
            scores, grads = self._chunk_scores_and_grads(
                points[chunk], score_fn, row_ids, chunk_args
            )
            for i, (s, g) in enumerate(zip(scores, grads, strict=True)):
                if len(score_parts) <= i:
                    score_parts.append([])
                    grad_parts.append([])
                score_parts[i].append(s)
                grad_parts[i].append(g)
        return [torch.cat(p) for p in score_parts], [torch.cat(p) for p in grad_parts]

    def _chunk_scores_and_grads(
        self, points: Tensor, score_fn: ScoreFn, row_ids: Tensor, args: tuple[Any, ...]
    ) -> tuple[list[Tensor], list[Tensor]]:
        """One forward pass and one backward pass per score on a chunk of rows."""
        x = points.detach().requires_grad_(True)
        with torch.enable_grad():
            outputs = self._forward(x, args)
            scores = score_fn(outputs, x, row_ids)
            scores = scores if isinstance(scores, tuple) else (scores,)
            last = len(scores) - 1
            grads = [self._input_grad(s, x, keep=i < last) for i, s in enumerate(scores)]
        return [s.detach() for s in scores], grads

    @staticmethod
    def _input_grad(scores: Tensor, x: Tensor, keep: bool) -> Tensor:
        if not scores.requires_grad:
            raise ValueError(
                "forward_func returned an output without a gradient: it is detached from "
                "the inputs (e.g. computed under torch.no_grad, .detach() or numpy)"
            )
        (grad,) = torch.autograd.grad(scores.sum(), x, retain_graph=keep, allow_unused=True)
        if grad is None:
            raise ValueError(
                "forward_func output does not depend on the inputs: autograd returned no "
                "gradient with respect to them"
            )
        return grad.to(x.dtype)

    def attribute(self, inputs: Tensor, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover
        """Compute attributions; implemented by every subclass.

        Examples
        --------
        >>> import torch
        >>> from attribution import GradientAttribution
        >>> GradientAttribution(torch.nn.Linear(2, 1)).attribute(torch.zeros(1, 2))
        Traceback (most recent call last):
        ...
        NotImplementedError
        """
        raise NotImplementedError

    # ------------------------------------------------------------ conveniences
    def _prepare(
        self, inputs: Tensor, target: TargetType, additional_forward_args: Any = None
    ) -> tuple[Tensor, Tensor, tuple[Any, ...], Tensor]:
        """Validate inputs and target; return ``(inputs, targets, args, outputs)``."""
        inputs = self._check_inputs(inputs)
        args = _as_tuple(additional_forward_args)
        outputs = self._evaluate(inputs, args)
        return inputs, self._check_target(target, outputs), args, outputs

    def _prepare_light(
        self, inputs: Tensor, target: TargetType, additional_forward_args: Any = None
    ) -> tuple[Tensor, Tensor, tuple[Any, ...]]:
        """As :meth:`_prepare`, but an explicit target is checked on one example only.

        Saves a full forward pass for methods that do not need the outputs.
        """
        if target is None:
            return self._prepare(inputs, target, additional_forward_args)[:3]
        inputs = self._check_inputs(inputs)
        args = _as_tuple(additional_forward_args)
        first = torch.zeros(1, dtype=torch.long, device=inputs.device)
        sample = self._evaluate(inputs[:1], self._expand_args(args, inputs.shape[0], first))
        n_classes = 1 if sample.dim() == 1 else sample.shape[1]
        shape_only = sample.new_zeros(
            (inputs.shape[0], n_classes) if sample.dim() == 2 else (inputs.shape[0],)
        )
        return inputs, self._check_target(target, shape_only), args

    def _completeness_gap(
        self,
        attributions: Tensor,
        start: Tensor,
        targets: Tensor,
        args: tuple[Any, ...],
        end_outputs: Tensor,
    ) -> Tensor:
        """``sum(attributions) - (F(end) - F(start))`` per example (the path methods' delta).

        ``end_outputs`` are the model outputs at the path's end (the inputs).
        """
        end = select_scores(end_outputs, targets)
        begin = select_scores(self._evaluate(start.contiguous(), args), targets)
        return per_example_sum(attributions) - (end - begin).to(attributions.dtype)

    @staticmethod
    def _target_scores(row_targets: Tensor) -> ScoreFn:
        """Score function: the output at each row's target class."""

        def score(outputs: Tensor, _points: Tensor, row_ids: Tensor) -> Tensor:
            return select_scores(outputs, row_targets[row_ids])

        return score

    def _gradients_at(
        self,
        inputs: Tensor,
        targets: Tensor,
        args: tuple[Any, ...] = (),
        internal_batch_size: int | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Target scores and their input gradients at ``inputs`` (one row per example)."""
        rows = torch.arange(inputs.shape[0], device=inputs.device)
        (scores,), (grads,) = self.scores_and_grads(
            inputs, self._target_scores(targets), rows, args, inputs.shape[0], internal_batch_size
        )
        return scores, grads


def per_example_sum(attributions: Tensor) -> Tensor:
    """Sum of the attributions of each example (the left side of completeness)."""
    return attributions.reshape(attributions.shape[0], -1).sum(dim=1)
