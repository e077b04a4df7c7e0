"""Torch fitting engine: batched signomial scores, staged Adam + proximal L1, L-BFGS polish.

Every restart is a slice of a leading batch dimension R, so ``R`` restarts cost one
matmul ``log_u @ B.T`` with ``B`` of shape (R * O * K, m): dozens of restarts cost
little more than one. Parameters per restart: ``intercept`` (O,), ``coef`` (O, K),
``expo`` (O, K, m).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ecsel._transform import EXP_CLAMP

SMALL_PROBLEM = 50_000_000


@contextlib.contextmanager
def thread_budget(n_elements: int, device: torch.device):
    """Run small CPU problems on one thread.

    For the small matrices of a typical fit, OpenMP's thread start-up and
    busy-waiting cost far more than the work, and on an oversubscribed machine
    (parallel test workers) a 2-thread matmul of a 455 x 30 matrix was measured
    45x slower than a 1-thread one, and an Online Shoppers fit took minutes.
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
    """``"auto"`` (or None) picks CUDA when it is available, else the CPU."""
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"Invalid device {device!r}.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device='cuda' was requested but CUDA is not available.")
    return resolved


def batched_scores(log_u, intercept, coef, expo):
    """Scores of shape (R, n, O) for R parameter sets at once."""
    n_restarts, n_out, n_terms, m = expo.shape
    power = log_u @ expo.reshape(n_restarts * n_out * n_terms, m).T
    power = power.clamp(-EXP_CLAMP, EXP_CLAMP).view(-1, n_restarts, n_out, n_terms)
    scores = (torch.exp(power) * coef).sum(dim=-1)
    return scores.permute(1, 0, 2) + intercept[:, None, :]


def data_loss(scores, y, weights, task: str):
    """Weighted mean loss per restart, shape (R,).

    ``task`` is ``"binary"`` (y in {0, 1}, one logit), ``"multiclass"`` (y class
    index, reference class 0 has logit 0) or ``"regression"`` (squared error).
    """
    if task == "regression":
        per_sample = (scores[..., 0] - y) ** 2
    elif task == "binary":
        target = y.expand(scores.shape[0], -1)
        per_sample = F.binary_cross_entropy_with_logits(scores[..., 0], target, reduction="none")
    else:
        zeros = scores.new_zeros(scores.shape[:-1] + (1,))
        logits = torch.cat([zeros, scores], dim=-1)
        log_p = torch.log_softmax(logits, dim=-1)
        per_sample = -log_p.gather(-1, y.long().expand(scores.shape[0], -1)[..., None])[..., 0]
    return (per_sample * weights).sum(dim=-1) / weights.sum()


@dataclass
class Params:
    """A batch of signomial parameters (leading dimension R)."""

    intercept: torch.Tensor
    coef: torch.Tensor
    expo: torch.Tensor

    def tensors(self):
        return [self.intercept, self.coef, self.expo]

    def detach(self) -> Params:
        return Params(*(t.detach().clone() for t in self.tensors()))

    def select(self, index) -> Params:
        return Params(*(t[index].detach().clone() for t in self.tensors()))

    def to(self, dtype: torch.dtype) -> Params:
        return Params(*(t.detach().to(dtype) for t in self.tensors()))

    def numpy(self, r: int = 0):
        return tuple(t[r].detach().cpu().numpy().astype(np.float64) for t in self.tensors())


@dataclass
class Data:
    log_u: torch.Tensor
    y: torch.Tensor
    weights: torch.Tensor

    def __len__(self) -> int:
        return self.log_u.shape[0]

    def to(self, dtype: torch.dtype) -> Data:
        return Data(self.log_u.to(dtype), self.y.to(dtype), self.weights.to(dtype))

    def loss(self, params: Params, task: str):
        return data_loss(
            batched_scores(self.log_u, params.intercept, params.coef, params.expo),
            self.y, self.weights, task,
        )


def soft_threshold_(tensor: torch.Tensor, threshold) -> None:
    """In-place proximal step of the L1 norm (``threshold``: scalar or one per restart)."""
    if isinstance(threshold, torch.Tensor):
        threshold = threshold.view((-1,) + (1,) * (tensor.dim() - 1))
    tensor.copy_(torch.sign(tensor) * torch.clamp(tensor.abs() - threshold, min=0.0))


def _minibatches(n: int, batch_size: int, generator, device) -> list[torch.Tensor | None]:
    if n <= batch_size:
        return [None]
    # The generator lives on the CPU (same draws on every device); indices move over.
    order = torch.randperm(n, generator=generator).to(device)
    return list(order.split(batch_size))


def adam_prox(
    params: Params,
    train: Data,
    val: Data,
    task: str,
    *,
    l1,
    lr: float,
    max_iter: int,
    batch_size: int,
    patience: int,
    generator: torch.Generator,
    progress=None,
) -> tuple[Params, torch.Tensor, int]:
    """Adam on the data loss, then a soft-threshold step on the exponents.

    ``l1`` is a float or a tensor with one strength per restart, so a whole
    regularisation path is fitted in the same batch.

    Early stopping watches the validation loss of every restart separately and keeps
    each restart's best parameters. Returns those, their validation losses (R,) and
    the number of Adam steps taken.
    """
    work = Params(*(t.detach().clone().requires_grad_(True) for t in params.tensors()))
    optimizer = torch.optim.Adam(work.tensors(), lr=lr)
    with torch.no_grad():
        best_val = val.loss(work, task)
    best = work.detach()
    since_best = torch.zeros_like(best_val)
    full_batch = len(train) <= batch_size
    eval_every = 10 if full_batch else 1
    steps = epoch = 0
    while steps < max_iter:
        for idx in _minibatches(len(train), batch_size, generator, train.log_u.device):
            batch = train if idx is None else Data(
                train.log_u[idx], train.y[idx], train.weights[idx]
            )
            optimizer.zero_grad(set_to_none=True)
            batch.loss(work, task).sum().backward()
            torch.nn.utils.clip_grad_norm_(work.tensors(), max_norm=10.0)
            optimizer.step()
            with torch.no_grad():
                soft_threshold_(work.expo, lr * l1)
            steps += 1
            if steps >= max_iter:
                break
        epoch += 1
        if epoch % eval_every and steps < max_iter:
            continue
        with torch.no_grad():
            current = val.loss(work, task)
            improved = current < best_val - 1e-7 * best_val.abs().clamp(min=1e-12)
            for mine, theirs in zip(best.tensors(), work.tensors()):
                mine[improved] = theirs.detach()[improved]
            best_val = torch.where(improved, current, best_val)
            since_best = torch.where(improved, torch.zeros_like(since_best), since_best + 1)
        if progress is not None:
            progress.update(1)
        if bool((since_best >= patience).all()):
            break
    return best, best_val, steps


def lbfgs_polish(
    params: Params,
    data: Data,
    task: str,
    *,
    masks: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    l1: float = 0.0,
    max_iter: int = 100,
) -> Params:
    """Full-batch L-BFGS on one restart; entries where ``masks`` is False stay fixed.

    The active exponents keep a smooth L1 penalty (their signs do not change near
    the optimum), which stops separable classification data from driving the
    exponents to infinity.
    """
    work = Params(*(t.detach().clone().requires_grad_(True) for t in params.tensors()))
    optimizer = torch.optim.LBFGS(
        work.tensors(), lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe",
        tolerance_grad=1e-12, tolerance_change=1e-15, history_size=20,
    )
    float_masks = [m.to(work.expo.dtype) for m in masks]

    def closure():
        optimizer.zero_grad(set_to_none=True)
        loss = data.loss(work, task).sum() + l1 * (work.expo * float_masks[2]).abs().sum()
        loss.backward()
        for tensor, mask in zip(work.tensors(), float_masks):
            tensor.grad.mul_(mask)
        return loss

    try:
        optimizer.step(closure)
    except RuntimeError:
        return params.detach()
    polished = work.detach()
    if not all(torch.isfinite(t).all() for t in polished.tensors()):
        return params.detach()
    return polished


def active_masks(params: Params, expo_tol: float, coef_tol: float):
    """Masks of the parameters that survive pruning (single restart, no batch dim)."""
    expo_mask = params.expo.abs() > expo_tol
    coef_mask = params.coef.abs() > coef_tol
    expo_mask = expo_mask & coef_mask[..., None]
    intercept_mask = torch.ones_like(params.intercept, dtype=torch.bool)
    return intercept_mask, coef_mask, expo_mask


def apply_masks(params: Params, masks) -> Params:
    return Params(*(t * m.to(t.dtype) for t, m in zip(params.detach().tensors(), masks)))
