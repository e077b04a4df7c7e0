"""Numerical primitives shared by the classifier engine and the symbolic search.

One definition each of: the clamped signomial term ``exp(clamp(log_u @ a))``, the
soft-threshold (proximal L1) step, the masked L-BFGS wrapper, the device choice and
the one-thread budget for small CPU problems.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from ecsel._transform import EXP_CLAMP

SMALL_PROBLEM = 50_000_000


@functools.cache
def _blas_controller() -> ThreadpoolController:
    """The BLAS thread pools of the process, inspected once (a scan costs milliseconds)."""
    return ThreadpoolController()


@contextlib.contextmanager
def thread_budget(n_elements: int, device: torch.device):
    """Run small CPU problems on one thread (torch's and the BLAS libraries').

    For the small matrices of a typical fit, OpenMP's thread start-up and
    busy-waiting cost far more than the work, and on an oversubscribed machine
    (parallel test workers) a 2-thread matmul of a 455 x 30 matrix was measured
    45x slower than a 1-thread one, and an Online Shoppers fit took minutes.

    Examples
    --------
    >>> with thread_budget(1000, torch.device("cpu")):
    ...     torch.get_num_threads()
    1
    """
    if device.type != "cpu" or n_elements >= SMALL_PROBLEM:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with _blas_controller().limit(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(previous)


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``"auto"`` (or None) picks CUDA when it is available, else the CPU.

    Examples
    --------
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available.")
    return resolved


def clamped_exp(power: torch.Tensor) -> torch.Tensor:
    """``exp(clamp(power, -EXP_CLAMP, EXP_CLAMP))``: the value of a signomial term.

    ``power`` is ``log_u @ a``; the clamp keeps extrapolation finite.

    Examples
    --------
    >>> clamped_exp(torch.tensor([0.0, 1e6])).log().tolist()
    [0.0, 60.0]
    """
    return torch.exp(power.clamp(-EXP_CLAMP, EXP_CLAMP))


def soft_threshold_(tensor: torch.Tensor, threshold) -> None:
    """In-place proximal step of the L1 norm (``threshold``: scalar or one per restart).

    Examples
    --------
    >>> t = torch.tensor([[0.5, -0.05], [2.0, -1.0]])
    >>> soft_threshold_(t, torch.tensor([0.1, 1.5]))
    >>> t.tolist()
    [[0.4000000059604645, -0.0], [0.5, -0.0]]
    """
    if isinstance(threshold, torch.Tensor):
        threshold = threshold.view((-1,) + (1,) * (tensor.dim() - 1))
    tensor.copy_(torch.sign(tensor) * torch.clamp(tensor.abs() - threshold, min=0.0))


def lbfgs(
    tensors: Sequence[torch.Tensor],
    loss_fn: Callable[[list[torch.Tensor]], torch.Tensor] | None,
    *,
    value_and_grad: Callable[[list[torch.Tensor]], tuple[float | torch.Tensor,
                                                         list[torch.Tensor]]] | None = None,
    masks: Sequence[torch.Tensor] | None = None,
    bounds: Sequence[tuple[torch.Tensor, torch.Tensor] | None] | None = None,
    max_iter: int = 100,
    tolerance_grad: float = 1e-12,
    tolerance_change: float = 1e-15,
    on_iteration: Callable[[list[torch.Tensor]], bool] | None = None,
) -> list[torch.Tensor] | None:
    """Full-batch L-BFGS-B (SciPy) on copies of ``tensors``.

    ``loss_fn`` maps the working tensors to a scalar loss, differentiated by
    autograd; alternatively ``value_and_grad`` returns the loss and one gradient
    per tensor in closed form (``loss_fn`` is then None). Entries where ``masks``
    (one boolean tensor per input, or None) is False keep their value; ``bounds``
    gives an optional ``(low, high)`` pair of tensors (broadcastable) per input.
    ``on_iteration(tensors)``, when given, sees the iterate after every L-BFGS
    iteration and stops the run by returning True (one run keeps its curvature
    memory, where restarting it in chunks would not). Returns the detached
    optimum, or None when the optimiser failed or left non-finite values, so the
    caller keeps its starting point.

    SciPy's Fortran L-BFGS-B is used rather than ``torch.optim.LBFGS``: it supports
    bounds, and it does not pull in ``torch._dynamo`` (whose import cost several
    seconds on the first fit of a process).

    Examples
    --------
    >>> x = torch.tensor([3.0, -2.0], dtype=torch.float64)
    >>> (out,) = lbfgs([x], lambda t: ((t[0] - 1.0) ** 2).sum(),
    ...                masks=[torch.tensor([True, False])])
    >>> [round(v, 6) for v in out.tolist()]
    [1.0, -2.0]
    >>> (out,) = lbfgs([x], lambda t: ((t[0] - 1.0) ** 2).sum(),
    ...                bounds=[(torch.tensor(1.5), torch.tensor(4.0))])
    >>> [round(v, 6) for v in out.tolist()]
    [1.5, 1.5]
    >>> (out,) = lbfgs([x], None, value_and_grad=lambda t: (
    ...     float(((t[0] - 1.0) ** 2).sum()), [2 * (t[0] - 1.0)]))
    >>> [round(v, 6) for v in out.tolist()]
    [1.0, 1.0]
    """
    if (loss_fn is None) == (value_and_grad is None):
        raise ValueError("Pass exactly one of loss_fn and value_and_grad.")

    base = [t.detach().clone() for t in tensors]
    free = [torch.ones_like(t, dtype=torch.bool) if masks is None else m.expand_as(t).bool()
            for t, m in zip(base, masks if masks is not None else base)]
    sizes = [int(f.sum()) for f in free]
    if sum(sizes) == 0:
        return base
    x0 = np.concatenate([t[f].cpu().numpy().astype(np.float64) for t, f in zip(base, free)])
    box = None
    if bounds is not None:
        low, high = [], []
        for t, f, pair in zip(base, free, bounds):
            if pair is None:
                low.append(np.full(int(f.sum()), -np.inf))
                high.append(np.full(int(f.sum()), np.inf))
            else:
                low.append(pair[0].expand_as(t)[f].cpu().numpy().astype(np.float64))
                high.append(pair[1].expand_as(t)[f].cpu().numpy().astype(np.float64))
        box = list(zip(np.concatenate(low), np.concatenate(high)))
        x0 = np.clip(x0, [b[0] for b in box], [b[1] for b in box])

    track = value_and_grad is None

    def unpack(x: np.ndarray) -> list[torch.Tensor]:
        flat = torch.as_tensor(x, dtype=base[0].dtype, device=base[0].device)
        out, offset = [], 0
        for t, f, n in zip(base, free, sizes):
            piece = flat[offset:offset + n].to(t.dtype).requires_grad_(track)
            offset += n
            full = t.masked_scatter(f, piece) if n else t
            out.append((full, piece))
        return out

    def fun(x: np.ndarray):
        pairs = unpack(x)
        if value_and_grad is not None:
            with torch.no_grad():
                value, full_grads = value_and_grad([full for full, _ in pairs])
            value = float(value)
            grad = np.concatenate([g[f].cpu().numpy().astype(np.float64)
                                   for g, f, n in zip(full_grads, free, sizes) if n])
        else:
            loss = loss_fn([full for full, _ in pairs])
            pieces = [piece for _, piece in pairs if piece.numel()]
            grads = torch.autograd.grad(loss, pieces, allow_unused=True)
            grad = np.concatenate([
                np.zeros(p.numel()) if g is None else g.detach().cpu().numpy().astype(np.float64)
                for p, g in zip(pieces, grads)
            ])
            value = float(loss.detach())
        if not np.isfinite(value):
            return np.inf, np.zeros_like(grad)
        return value, np.nan_to_num(grad)

    callback = None
    if on_iteration is not None:
        def callback(intermediate_result):
            if on_iteration([full.detach() for full, _ in unpack(intermediate_result.x)]):
                raise StopIteration

    try:
        # L-BFGS-B's own vector updates are a few thousand numbers: with the
        # default BLAS threads, each iteration waited ~30 ms for the threads on a
        # loaded 2-core machine (0.05 ms on one thread; scipy 1.17, OpenBLAS).
        with _blas_controller().limit(limits=1, user_api="blas"):
            result = minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=box,
                              callback=callback,
                              options={"maxiter": max_iter, "maxfun": 2 * max_iter + 20,
                                       "maxcor": 20, "gtol": tolerance_grad,
                                       "ftol": tolerance_change})
    except (RuntimeError, ValueError):
        return None
    if not np.all(np.isfinite(result.x)):
        return None
    return [full.detach() for full, _ in unpack(result.x)]


def adam_prox(
    tensors: Sequence[torch.Tensor],
    batch_loss: Callable[[list[torch.Tensor], object], torch.Tensor] | None,
    batches: Callable[[], Iterable[object]],
    validate: Callable[[list[torch.Tensor]], torch.Tensor],
    prox: Callable[[list[torch.Tensor]], None],
    *,
    lr: float | Sequence[float],
    max_iter: int,
    patience: int,
    eval_every: int = 1,
    rel_tol: float = 1e-7,
    clip_norm: float | None = None,
    score_start: bool = True,
    eval_last: bool = True,
    progress=None,
    batch_grad: Callable[[list[torch.Tensor], object], list[torch.Tensor]] | None = None,
) -> tuple[list[torch.Tensor], torch.Tensor, int]:
    """Adam with a proximal step, early-stopped per restart on a validation loss.

    The data source is separate from the step: ``batches()`` yields the batches of
    one epoch (anything ``batch_loss(work, batch)`` understands, so minibatches can
    be streamed), ``batch_loss`` returns one loss per restart (summed for the
    gradient), ``prox(work)`` is applied in place after every Adam step, and
    ``validate(work)`` returns the validation loss per restart (shape (R,)), checked
    every ``eval_every`` epochs. Each restart keeps its best parameters; the loop
    stops when every restart has gone ``patience`` checks without a relative
    improvement of ``rel_tol``. ``score_start`` counts the starting point as a
    candidate; ``eval_last`` also checks after the final step. ``lr`` is one step
    size, or one per tensor. ``batch_grad(work,
    batch)``, when given instead of ``batch_loss`` (then None), returns the gradient
    of the summed batch loss per tensor in closed form, and autograd is not used.

    Returns the best tensors, their validation losses (R,) and the steps taken.

    Examples
    --------
    >>> target = torch.tensor([[1.0], [-2.0]], dtype=torch.float64)
    >>> loss = lambda w, batch: ((w[0] - target) ** 2).sum(-1)
    >>> best, val, steps = adam_prox(
    ...     [torch.zeros(2, 1, dtype=torch.float64)], loss, lambda: [None],
    ...     lambda w: loss(w, None), lambda w: None, lr=0.1, max_iter=500, patience=5)
    >>> [round(v, 1) for v in best[0][:, 0].tolist()]
    [1.0, -2.0]
    """
    if (batch_loss is None) == (batch_grad is None):
        raise ValueError("Pass exactly one of batch_loss and batch_grad.")
    if batch_grad is not None and len({(t.dtype, t.device) for t in tensors}) == 1:
        # One flat buffer with the tensors as views: the Adam update is then a few
        # operations in all rather than a few per tensor (it cost as much as the
        # gradient on small data).
        flat = torch.cat([t.detach().reshape(-1) for t in tensors])
        work = [piece.view_as(t) for piece, t in
                zip(flat.split([t.numel() for t in tensors]), tensors)]
        step = _AdamStep([flat], _flat_lr(lr, tensors), clip_norm)

        def gradients(batch):
            return [torch.cat([g.reshape(-1) for g in batch_grad(work, batch)])]
    else:
        work = [t.detach().clone().requires_grad_(batch_grad is None) for t in tensors]
        step = _AdamStep(work, lr, clip_norm)

        def gradients(batch):
            return batch_grad(work, batch)
    with torch.no_grad():
        start = torch.nan_to_num(validate(work), nan=float("inf"))
    best_val = start if score_start else torch.full_like(start, float("inf"))
    best = [t.detach().clone() for t in work]
    since_best = torch.zeros_like(best_val)
    steps = epoch = 0
    while steps < max_iter:
        for batch in batches():
            if batch_grad is None:
                step(batch_loss(work, batch).sum())
            else:
                with torch.no_grad():
                    step.apply(gradients(batch))
            with torch.no_grad():
                prox(work)
            steps += 1
            if steps >= max_iter:
                break
        epoch += 1
        if epoch % eval_every and not (eval_last and steps >= max_iter):
            continue
        with torch.no_grad():
            current = torch.nan_to_num(validate(work), nan=float("inf"))
            margin = rel_tol * best_val.abs().clamp(min=1e-12)
            margin = torch.nan_to_num(margin, posinf=0.0)
            improved = current < best_val - margin
            for mine, theirs in zip(best, work):
                mine[improved] = theirs.detach()[improved]
            best_val = torch.where(improved, current, best_val)
            since_best = torch.where(improved, torch.zeros_like(since_best), since_best + 1)
        if progress is not None:
            progress.update(1)
        if bool((since_best >= patience).all()):
            break
    return best, best_val, steps


def _flat_lr(lr, tensors: Sequence[torch.Tensor]):
    """``lr`` for the flat buffer of ``tensors``: a scalar, or one entry per element."""
    if np.isscalar(lr) or len(set(lr)) == 1:
        return [float(lr if np.isscalar(lr) else lr[0])]
    return [torch.cat([torch.full((t.numel(),), float(v), dtype=t.dtype, device=t.device)
                       for t, v in zip(tensors, lr)])]


class _AdamStep:
    """Adam (Kingma & Ba, default betas) with optional global gradient-norm clipping.

    Written out rather than ``torch.optim.Adam``: the update is four tensor
    operations, and the first ``torch.optim`` optimiser of a process imports
    ``torch._dynamo``, which cost seconds on every fresh ``ecsel fit``. ``lr`` is
    one step size, or one per parameter (a float or a tensor of its shape).
    """

    def __init__(self, params: list[torch.Tensor], lr, clip_norm: float | None,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.params, self.clip_norm = params, clip_norm
        self.lr = [lr] * len(params) if np.isscalar(lr) else list(lr)
        self.beta1, self.beta2, self.eps = betas[0], betas[1], eps
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]
        self.t = 0

    def __call__(self, loss: torch.Tensor) -> None:
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        self.apply([torch.zeros_like(p) if g is None else g for p, g in zip(self.params, grads)])

    def apply(self, grads: list[torch.Tensor]) -> None:
        """One Adam step from the given gradients (one per parameter)."""
        if self.clip_norm is not None:
            norm = torch.sqrt(sum((g * g).sum() for g in grads))
            factor = torch.clamp(self.clip_norm / (norm + 1e-6), max=1.0)
            grads = [g * factor for g in grads]
        self.t += 1
        correct1 = 1 - self.beta1 ** self.t
        correct2 = 1 - self.beta2 ** self.t
        with torch.no_grad():
            for p, g, m, v, lr in zip(self.params, grads, self.m, self.v, self.lr):
                m.mul_(self.beta1).add_(g, alpha=1 - self.beta1)
                v.mul_(self.beta2).addcmul_(g, g, value=1 - self.beta2)
                denom = (v / correct2).sqrt_().add_(self.eps)
                if isinstance(lr, torch.Tensor):
                    p.addcdiv_(m * lr, denom, value=-1.0 / correct1)
                else:
                    p.addcdiv_(m, denom, value=-float(lr) / correct1)
