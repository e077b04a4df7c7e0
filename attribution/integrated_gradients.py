"""Integrated Gradients with Captum's API, plus a completeness-adaptive variant."""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import Tensor

from ._base import BaselineType, GradientAttribution, TargetType, per_example_sum
from ._utils import batch_view, quadrature, row_chunks

__all__ = ["IntegratedGradients"]


class IntegratedGradients(GradientAttribution):
    r"""Integrated Gradients along the straight line from a baseline to the input.

    .. math::
        IG_i(x) = (x_i - x'_i) \int_0^1
        \frac{\partial F(x' + \alpha (x - x'))}{\partial x_i} \, d\alpha

    The integral is approximated with one of Captum's rules.  All
    ``n_steps x N`` path points are evaluated in batched passes of at most
    ``internal_batch_size`` rows, and the weighted gradients are accumulated
    chunk by chunk, so peak memory is bounded by one chunk.

    Parameters
    ----------
    %(forward_func)s
    multiply_by_inputs : bool, default True
        Multiply the path-averaged gradient by ``inputs - baselines`` ("global"
        attribution, as in Captum).  With ``False`` the result is the averaged
        gradient only and no convergence delta is defined.

    Notes
    -----
    ``inputs`` is a single tensor; Captum's tuple-of-tensors form (several
    inputs explained at once) is not supported.
    ``method="riemann_trapezoid"`` reproduces Captum's weights exactly, which
    sum to ``1 - 1/n_steps``; ``method="trapezoid"`` is the textbook rule (see
    :func:`attribution._utils.quadrature`).  :meth:`attribute_adaptive` refines
    the path until the completeness gap is below a requested tolerance.

    References
    ----------
    .. [1] Sundararajan, Taly, Yan, "Axiomatic Attribution for Deep Networks",
       ICML 2017, https://arxiv.org/abs/1703.01365

    Examples
    --------
    >>> import torch
    >>> from attribution import IntegratedGradients
    >>> model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    >>> x = torch.rand(5, 4)
    >>> attr, delta = IntegratedGradients(model).attribute(
    ...     x, target=0, return_convergence_delta=True)
    >>> attr.shape, bool(delta.abs().max() < 1e-4)
    (torch.Size([5, 4]), True)
    """

    has_convergence_delta = True

    def __init__(self, forward_func: Any, multiply_by_inputs: bool = True) -> None:
        super().__init__(forward_func)
        self.multiplies_by_inputs = multiply_by_inputs

    def attribute(
        self,
        inputs: Tensor,
        *,
        baselines: BaselineType = None,
        target: TargetType = None,
        additional_forward_args: Any = None,
        n_steps: int = 50,
        method: str = "gausslegendre",
        internal_batch_size: int | None = None,
        return_convergence_delta: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """Integrated Gradients of the target score (Captum's signature and meaning).

        Parameters
        ----------
        inputs : Tensor
            ``(N, ...)`` batch of examples.
        baselines : None, number or Tensor, optional
            Path start: zeros when ``None``, a constant, a tensor shaped like
            ``inputs`` or one example shaped like ``inputs[0]``.
        target : int, sequence of int or Tensor, optional
            Explained class per example; ``None`` means the predicted class
            (or the single output of a one-score model).
        additional_forward_args : optional
            Extra positional arguments for ``forward_func``; tensors with a
            leading batch dimension are expanded along with the path.
        n_steps : int, default 50
            Number of quadrature nodes.
        method : str, default "gausslegendre"
            ``riemann_left``, ``riemann_right``, ``riemann_middle``,
            ``riemann_trapezoid``, ``gausslegendre`` or ``trapezoid``.
        internal_batch_size : int, optional
            Maximum number of path points per forward/backward pass.
        return_convergence_delta : bool, default False
            Also return ``sum(attr) - (F(inputs) - F(baselines))`` per example.

        Returns
        -------
        attributions : Tensor
            Shaped like ``inputs``.
        delta : Tensor, optional
            ``(N,)`` completeness gap, when ``return_convergence_delta``.

        Examples
        --------
        >>> import torch
        >>> from attribution import IntegratedGradients
        >>> model = torch.nn.Linear(3, 2)
        >>> x, baseline = torch.rand(4, 3), torch.rand(3)  # one baseline for every example
        >>> attr = IntegratedGradients(model).attribute(x, baselines=baseline, target=1, n_steps=4)
        >>> torch.allclose(attr, model.weight[1] * (x - baseline), atol=1e-6)
        True
        """
        if return_convergence_delta:
            inputs, targets, args, outputs = self._prepare(inputs, target, additional_forward_args)
        else:
            inputs, targets, args = self._prepare_light(inputs, target, additional_forward_args)
        baselines_t = self._check_baselines(baselines, inputs)
        alphas, weights = quadrature(method, n_steps)
        averaged = self.integrate_gradients(
            inputs, baselines_t, targets, args, alphas, weights, internal_batch_size
        )
        attributions = averaged * (inputs - baselines_t) if self.multiplies_by_inputs else averaged
        if not return_convergence_delta:
            return attributions
        return attributions, self._delta(attributions, inputs, baselines_t, targets, args, outputs)

    # ------------------------------------------------------------ path engine
    def integrate_gradients(
        self,
        inputs: Tensor,
        baselines: Tensor,
        targets: Tensor,
        args: tuple[Any, ...],
        alphas: Any,
        weights: Any,
        internal_batch_size: int | None = None,
    ) -> Tensor:
        """``sum_k weights[k] * grad F(baselines + alphas[k] * (inputs - baselines))``.

        Rows are ordered step-major (row ``k * N + i`` is step ``k`` of example
        ``i``, as in Captum) and streamed in chunks, so only one chunk of path
        points and gradients exists at a time.

        Examples
        --------
        >>> import torch
        >>> from attribution import IntegratedGradients
        >>> from attribution._utils import quadrature
        >>> model = torch.nn.Linear(3, 2)
        >>> x = torch.rand(2, 3)
        >>> alphas, weights = quadrature("riemann_middle", 4)
        >>> total = IntegratedGradients(model).integrate_gradients(
        ...     x, torch.zeros_like(x), torch.tensor([1, 1]), (), alphas, weights)
        >>> torch.allclose(total, model.weight[1].expand(2, 3))  # weights sum to 1
        True
        """
        n_examples = inputs.shape[0]
        alphas_t = torch.as_tensor(alphas, dtype=inputs.dtype, device=inputs.device)
        weights_t = torch.as_tensor(weights, dtype=inputs.dtype, device=inputs.device)
        n_rows = alphas_t.shape[0] * n_examples
        size = None if internal_batch_size is None else int(internal_batch_size)
        chunks = row_chunks(n_rows, size)
        difference = inputs - baselines
        total = torch.zeros_like(inputs)
        score_fn = self._target_scores(targets.repeat(alphas_t.shape[0]))
        for rows in chunks:
            start = rows.start
            row_ids = torch.arange(rows.start, rows.stop, device=inputs.device)
            steps, examples = row_ids // n_examples, row_ids % n_examples
            step_alphas = batch_view(alphas_t[steps], inputs.dim())
            points = baselines[examples] + step_alphas * difference[examples]
            chunk_args = self._expand_args(args, n_examples, examples) if args else ()
            _, (grads,) = self._chunk_scores_and_grads(points, score_fn, row_ids, chunk_args)
            weighted = grads * batch_view(weights_t[steps], inputs.dim())
            if row_ids.shape[0] % n_examples == 0 and start % n_examples == 0:
                # Whole steps only: a reshape-and-sum is cheaper than index_add.
                total += weighted.reshape(-1, *inputs.shape).sum(dim=0)
            else:
                total.index_add_(0, examples, weighted)
        return total

    def _delta(
        self,
        attributions: Tensor,
        inputs: Tensor,
        baselines: Tensor,
        targets: Tensor,
        args: tuple[Any, ...],
        input_outputs: Tensor,
    ) -> Tensor:
        if not self.multiplies_by_inputs:
            raise ValueError("the convergence delta needs multiply_by_inputs=True")
        return self._completeness_gap(attributions, baselines, targets, args, input_outputs)

    # ---------------------------------------------------------------- adaptive
    def attribute_adaptive(
        self,
        inputs: Tensor,
        *,
        baselines: BaselineType = None,
        target: TargetType = None,
        additional_forward_args: Any = None,
        tolerance: float = 0.01,
        initial_steps: int = 2,
        max_steps: int = 512,
        internal_batch_size: int | None = None,
        return_convergence_delta: bool = False,
        return_n_steps: bool = False,
        atol: float = 1e-6,
    ) -> Tensor | tuple[Tensor, ...]:
        r"""Integrated Gradients refined until completeness holds to ``tolerance``.

        Along the straight path, the integrand of the completeness sum is the
        directional derivative :math:`\varphi(\alpha) = \nabla F \cdot (x - x')`
        whose integral over any sub-interval :math:`[a, b]` is known exactly:
        :math:`F(\gamma(b)) - F(\gamma(a))`.  Each path node yields both
        :math:`F` and :math:`\nabla F` from one forward/backward pass, so the
        trapezoid error of *every* interval is computed exactly, at no extra
        cost.  Each round bisects, per example, only the intervals carrying at
        least half of that example's largest interval error, and stops an
        example as soon as the sum of its absolute interval errors (an upper
        bound of the completeness gap) is at most
        ``tolerance * |F(x) - F(x')| + atol``.  Nodes are nested, so no
        evaluation is ever discarded.

        Parameters
        ----------
        inputs, baselines, target, additional_forward_args, internal_batch_size
            As in :meth:`attribute`.
        tolerance : float, default 0.01
            Relative completeness tolerance.
        initial_steps : int, default 2
            Initial number of equal intervals (``initial_steps + 1`` nodes).
        max_steps : int, default 512
            Maximum number of gradient evaluations per example; a
            ``RuntimeWarning`` names the examples that did not converge.
        return_convergence_delta : bool, default False
            Also return the completeness gap per example.
        return_n_steps : bool, default False
            Also return the number of gradient evaluations used per example.
        atol : float, default 1e-6
            Absolute slack, so that examples with ``F(x) = F(x')`` terminate.

        %(returns_attributions_and_delta)s
        n_steps : Tensor, optional
            ``(N,)`` gradient evaluations per example, when ``return_n_steps``.

        Examples
        --------
        >>> import torch
        >>> from attribution import IntegratedGradients
        >>> model = torch.nn.Sequential(
        ...     torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))
        >>> x = torch.rand(3, 4)
        >>> attr, delta, n_evals = IntegratedGradients(model).attribute_adaptive(
        ...     x, tolerance=1e-3, return_convergence_delta=True, return_n_steps=True)
        >>> change = (model(x) - model(torch.zeros(1, 4))).squeeze(1)
        >>> bool((delta.abs() <= 1e-3 * change.abs() + 1e-5).all())
        True
        """
        if not self.multiplies_by_inputs:
            raise ValueError("attribute_adaptive needs multiply_by_inputs=True")
        if tolerance <= 0 or initial_steps < 1 or max_steps < initial_steps + 1:
            raise ValueError("need tolerance > 0, initial_steps >= 1 and max_steps > initial_steps")
        inputs, targets, args, _ = self._prepare(inputs, target, additional_forward_args)
        baselines_t = self._check_baselines(baselines, inputs)
        path = _AdaptivePath(self, inputs, baselines_t, targets, args, internal_batch_size)
        path.refine(tolerance, initial_steps, max_steps, atol)
        attributions = path.attributions()
        extras: list[Tensor] = []
        if return_convergence_delta:
            extras.append(per_example_sum(attributions) - path.score_difference())
        if return_n_steps:
            extras.append(path.evaluations_per_example())
        return (attributions, *extras) if extras else attributions


class _AdaptivePath:
    """Bookkeeping of nested trapezoid nodes for :meth:`attribute_adaptive`.

    Nodes of all examples live in flat tensors (example id, alpha, score,
    directional derivative, gradient); intervals refer to node ids.
    """

    def __init__(
        self,
        method: IntegratedGradients,
        inputs: Tensor,
        baselines: Tensor,
        targets: Tensor,
        args: tuple[Any, ...],
        internal_batch_size: int | None,
    ) -> None:
        self.method, self.inputs, self.baselines = method, inputs, baselines
        self.targets, self.args, self.chunk = targets, args, internal_batch_size
        self.difference = inputs - baselines
        device = inputs.device
        self.example = torch.empty(0, dtype=torch.long, device=device)
        self.alpha = torch.empty(0, dtype=torch.float64, device=device)
        self.score = torch.empty(0, dtype=torch.float64, device=device)
        self.slope = torch.empty(0, dtype=torch.float64, device=device)
        self.grads = inputs.new_empty((0, *inputs.shape[1:]))
        self.left = torch.empty(0, dtype=torch.long, device=device)
        self.right = torch.empty(0, dtype=torch.long, device=device)

    def _add_nodes(self, example: Tensor, alpha: Tensor) -> Tensor:
        """Evaluate new nodes; return their ids."""
        points = (
            self.baselines[example]
            + batch_view(alpha.to(self.inputs.dtype), self.inputs.dim())
            * (self.difference[example])
        )
        (scores,), (grads,) = self.method.scores_and_grads(
            points,
            self.method._target_scores(self.targets[example]),
            example,
            self.args,
            self.inputs.shape[0],
            self.chunk,
        )
        slope = (grads * self.difference[example]).reshape(len(example), -1).sum(1)
        ids = torch.arange(
            len(self.example), len(self.example) + len(example), device=example.device
        )
        self.example = torch.cat([self.example, example])
        self.alpha = torch.cat([self.alpha, alpha])
        self.score = torch.cat([self.score, scores.double()])
        self.slope = torch.cat([self.slope, slope.double()])
        self.grads = torch.cat([self.grads, grads])
        return ids

    def _interval_errors(self) -> Tensor:
        width = self.alpha[self.right] - self.alpha[self.left]
        quad = 0.5 * width * (self.slope[self.left] + self.slope[self.right])
        return quad - (self.score[self.right] - self.score[self.left])

    def refine(self, tolerance: float, initial_steps: int, max_steps: int, atol: float) -> None:
        n, device = self.inputs.shape[0], self.inputs.device
        grid = torch.linspace(0, 1, initial_steps + 1, dtype=torch.float64, device=device)
        ids = self._add_nodes(
            torch.arange(n, device=device).repeat_interleave(len(grid)), grid.repeat(n)
        )
        ids = ids.view(n, -1)
        self.left, self.right = ids[:, :-1].reshape(-1), ids[:, 1:].reshape(-1)
        budget = torch.full((n,), max_steps, device=device) - len(grid)
        threshold = tolerance * self.score_difference().double().abs() + atol
        while True:
            signed = self._interval_errors()
            errors, owner = signed.abs(), self.example[self.left]
            # The completeness gap is exactly the sum of the signed interval errors.
            gap = torch.zeros(n, dtype=torch.float64, device=device).index_add_(0, owner, signed)
            total = gap.abs()
            active = (total > threshold) & (budget > 0)
            if not bool(active.any()):
                break
            worst = torch.zeros(n, dtype=torch.float64, device=device).scatter_reduce_(
                0, owner, errors, reduce="amax"
            )
            split = active[owner] & (errors >= 0.5 * worst[owner])
            split = self._within_budget(split, errors, owner, budget)
            self._bisect(split.nonzero().squeeze(1), owner)
            budget -= torch.zeros_like(budget).index_add_(0, owner, split.long())
        unconverged = (total > threshold).nonzero().squeeze(1).tolist()
        if unconverged:
            warnings.warn(
                f"attribute_adaptive: examples {unconverged} did not reach the tolerance within "
                "max_steps gradient evaluations",
                RuntimeWarning,
                stacklevel=3,
            )

    @staticmethod
    def _within_budget(split: Tensor, errors: Tensor, owner: Tensor, budget: Tensor) -> Tensor:
        """Keep, per example ``e``, the ``budget[e]`` selected intervals with the largest errors."""
        key = torch.where(split, errors, torch.full_like(errors, -1.0))
        by_error = torch.argsort(key, descending=True, stable=True)
        order = by_error[torch.argsort(owner[by_error], stable=True)]
        counts = torch.bincount(owner, minlength=budget.shape[0])
        group_start = torch.cumsum(counts, 0) - counts
        position = torch.empty_like(owner)
        position[order] = torch.arange(len(owner), device=owner.device) - group_start[owner[order]]
        return split & (position < budget[owner])

    def _bisect(self, intervals: Tensor, owner: Tensor) -> None:
        left, right = self.left[intervals], self.right[intervals]
        middle = self._add_nodes(owner[intervals], 0.5 * (self.alpha[left] + self.alpha[right]))
        self.right[intervals] = middle
        self.left = torch.cat([self.left, middle])
        self.right = torch.cat([self.right, right])

    def score_difference(self) -> Tensor:
        """``F(x) - F(x')`` per example, from the end nodes of the path."""
        n = self.inputs.shape[0]
        end = torch.zeros(n, dtype=torch.float64, device=self.inputs.device)
        start = torch.zeros_like(end)
        end.index_put_((self.example[self.alpha == 1],), self.score[self.alpha == 1])
        start.index_put_((self.example[self.alpha == 0],), self.score[self.alpha == 0])
        return (end - start).to(self.inputs.dtype)

    def attributions(self) -> Tensor:
        """Trapezoid sum over the final intervals, times ``inputs - baselines``."""
        width = (self.alpha[self.right] - self.alpha[self.left]).to(self.inputs.dtype)
        node_weight = torch.zeros(
            len(self.alpha), dtype=self.inputs.dtype, device=self.inputs.device
        )
        node_weight.index_add_(0, self.left, 0.5 * width).index_add_(0, self.right, 0.5 * width)
        weighted = self.grads * batch_view(node_weight, self.inputs.dim())
        averaged = torch.zeros_like(self.inputs).index_add_(0, self.example, weighted)
        return averaged * self.difference

    def evaluations_per_example(self) -> Tensor:
        return torch.bincount(self.example, minlength=self.inputs.shape[0])
