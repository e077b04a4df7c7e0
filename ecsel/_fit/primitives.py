"""Numerical primitives shared by the classifier engine and the symbolic search.

One definition each of: the clamped signomial term ``exp(clamp(log_u @ a))``, the
soft-threshold (proximal L1) step, the masked L-BFGS wrapper, the device choice and
the one-thread budget for small CPU problems.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Sequence

import torch

from ecsel._transform import EXP_CLAMP

SMALL_PROBLEM = 50_000_000


@contextlib.contextmanager
def thread_budget(n_elements: int, device: torch.device):
    """Run small CPU problems on one thread.

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
    loss_fn: Callable[[list[torch.Tensor]], torch.Tensor],
    *,
    masks: Sequence[torch.Tensor] | None = None,
    max_iter: int = 100,
    tolerance_grad: float = 1e-12,
    tolerance_change: float = 1e-15,
) -> list[torch.Tensor] | None:
    """Full-batch L-BFGS (strong Wolfe) on copies of ``tensors``.

    ``loss_fn`` maps the working tensors to a scalar loss. Entries where ``masks``
    (one boolean tensor per input, or None) is False keep their value. Returns the
    detached optimum, or None when the optimiser failed or left non-finite values,
    so the caller keeps its starting point.

    Examples
    --------
    >>> x = torch.tensor([3.0, -2.0], dtype=torch.float64)
    >>> (out,) = lbfgs([x], lambda t: ((t[0] - 1.0) ** 2).sum(),
    ...                masks=[torch.tensor([True, False])])
    >>> [round(v, 6) for v in out.tolist()]
    [1.0, -2.0]
    """
    work = [t.detach().clone().requires_grad_(True) for t in tensors]
    optimizer = torch.optim.LBFGS(
        work, lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
        tolerance_grad=tolerance_grad, tolerance_change=tolerance_change, history_size=20,
    )
    float_masks = None if masks is None else [m.to(t.dtype) for m, t in zip(masks, work)]

    def closure():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(work)
        loss.backward()
        if float_masks is not None:
            for tensor, mask in zip(work, float_masks):
                tensor.grad.mul_(mask)
        return loss

    try:
        optimizer.step(closure)
    except RuntimeError:
        return None
    result = [t.detach() for t in work]
    if not all(bool(torch.isfinite(t).all()) for t in result):
        return None
    return result


def adam_prox(
    tensors: Sequence[torch.Tensor],
    batch_loss: Callable[[list[torch.Tensor], object], torch.Tensor],
    batches: Callable[[], Iterable[object]],
    validate: Callable[[list[torch.Tensor]], torch.Tensor],
    prox: Callable[[list[torch.Tensor]], None],
    *,
    lr: float,
    max_iter: int,
    patience: int,
    eval_every: int = 1,
    rel_tol: float = 1e-7,
    clip_norm: float | None = None,
    score_start: bool = True,
    eval_last: bool = True,
    progress=None,
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
    candidate; ``eval_last`` also checks after the final step.

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
    work = [t.detach().clone().requires_grad_(True) for t in tensors]
    optimizer = torch.optim.Adam(work, lr=lr)
    with torch.no_grad():
        start = torch.nan_to_num(validate(work), nan=float("inf"))
    best_val = start if score_start else torch.full_like(start, float("inf"))
    best = [t.detach().clone() for t in work]
    since_best = torch.zeros_like(best_val)
    steps = epoch = 0
    while steps < max_iter:
        for batch in batches():
            optimizer.zero_grad(set_to_none=True)
            batch_loss(work, batch).sum().backward()
            if clip_norm is not None:
                torch.nn.utils.clip_grad_norm_(work, max_norm=clip_norm)
            optimizer.step()
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
