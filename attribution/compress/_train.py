"""Distillation and pruning with fine-tuning, both with the attribution-matching term."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Union

import torch
from torch import Tensor, nn
from torch.nn.utils import prune

from ._loss import AttributionMatchingLoss
from ._maps import LayerType, resolve_layer

__all__ = ["distill", "kd_loss", "prune_and_finetune", "sparsity"]

DataType = Union[Tensor, tuple, Iterable]  # noqa: UP007
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def kd_loss(
    student_logits: Tensor,
    teacher_logits: Tensor,
    labels: Tensor,
    alpha: float = 0.9,
    temperature: float = 4.0,
) -> Tensor:
    r"""Hinton's distillation objective ``(1 - a) CE(z_S, y) + a T^2 KL(p_T^T || p_S^T)``.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    >>> round(float(kd_loss(z, z, torch.tensor([0, 1]), alpha=1.0)), 5)
    0.0
    """
    log_p = torch.log_softmax(student_logits / temperature, dim=1)
    q = torch.softmax(teacher_logits.detach() / temperature, dim=1)
    kl = nn.functional.kl_div(log_p, q, reduction="batchmean")
    ce = nn.functional.cross_entropy(student_logits, labels)
    return (1.0 - alpha) * ce + alpha * temperature**2 * kl


# ----------------------------------------------------------------------- data
def _device_of(model: nn.Module) -> torch.device:
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def _check_data(data: DataType) -> tuple[Tensor, Tensor | None] | Iterable:
    if isinstance(data, Tensor):
        data = (data,)
    if isinstance(data, tuple):
        if not 1 <= len(data) <= 2 or not all(isinstance(d, Tensor) for d in data):
            raise ValueError("data must be X, (X,), (X, y) tensors or an iterable of batches")
        x = data[0]
        y = data[1] if len(data) == 2 else None
        if x.dim() < 2 or x.shape[0] == 0 or not x.is_floating_point():
            raise ValueError(
                f"X must be a non-empty floating tensor (N, ...), got {tuple(x.shape)}")
        if y is not None and (y.shape[:1] != x.shape[:1] or y.is_floating_point()):
            raise ValueError("y must hold one integer class label per row of X")
        return x, y
    if isinstance(data, Iterable):
        return data
    raise ValueError(f"data must be a tensor, a tuple of tensors or an iterable, got {type(data)}")


def _batches(
    data: tuple[Tensor, Tensor | None] | Iterable,
    batch_size: int,
    generator: torch.Generator,
    device: torch.device,
) -> Iterator[tuple[Tensor, Tensor | None]]:
    if isinstance(data, tuple):
        x, y = data
        order = torch.randperm(x.shape[0], generator=generator)
        for start in range(0, x.shape[0], batch_size):
            idx = order[start:start + batch_size]
            yield x[idx].to(device), (None if y is None else y[idx].to(device))
        return
    for batch in data:
        if isinstance(batch, Tensor):
            yield batch.to(device), None
        elif isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], Tensor):
            label = batch[1] if len(batch) > 1 and isinstance(batch[1], Tensor) else None
            yield batch[0].to(device), (None if label is None else label.to(device))
        else:
            raise ValueError("every batch must be a tensor or a tuple (x, y) of tensors")


def _n_batches(data: tuple[Tensor, Tensor | None] | Iterable, batch_size: int) -> int | None:
    if isinstance(data, tuple):
        return math.ceil(data[0].shape[0] / batch_size)
    try:
        return len(data)  # type: ignore[arg-type]
    except TypeError:
        return None


def _check_options(alpha: float, temperature: float, epochs: int, lr: float, batch_size: int,
                   attribution: AttributionMatchingLoss | None) -> None:
    if not isinstance(alpha, numbers.Real) or not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if not isinstance(temperature, numbers.Real) or not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    if not isinstance(epochs, numbers.Integral) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"epochs must be a non-negative int, got {epochs!r}")
    if not isinstance(lr, numbers.Real) or not lr > 0:
        raise ValueError(f"lr must be positive, got {lr!r}")
    if not isinstance(batch_size, numbers.Integral) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    if attribution is not None and not isinstance(attribution, AttributionMatchingLoss):
        raise ValueError(
            f"attribution must be an AttributionMatchingLoss or None, got {type(attribution)}"
        )


# ----------------------------------------------------------------- training
def _train(
    teacher: nn.Module,
    student: nn.Module,
    data: tuple[Tensor, Tensor | None] | Iterable,
    *,
    alpha: float,
    temperature: float,
    attribution: AttributionMatchingLoss | None,
    epochs: int,
    lr: float,
    batch_size: int,
    generator: torch.Generator,
    verbose: bool,
    desc: str,
) -> list[dict[str, float]]:
    """Adam on the KD objective plus ``attribution``; returns per-epoch mean losses."""
    device = _device_of(student)
    teacher_mode, student_mode = teacher.training, student.training
    teacher.eval()
    student.train()
    params = [p for p in student.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=lr)
    use_attr = attribution is not None and attribution.beta > 0
    history: list[dict[str, float]] = []
    progress = None
    if verbose:
        from tqdm.auto import tqdm

        total = _n_batches(data, batch_size)
        progress = tqdm(total=None if total is None else total * epochs, desc=desc, leave=False)
    try:
        for epoch in range(epochs):
            sums = {"kd": 0.0, "attribution": 0.0}
            n_seen = 0
            for x, y in _batches(data, batch_size, generator, device):
                with torch.no_grad():
                    t_out = teacher(x)
                labels = t_out.argmax(dim=1) if y is None else y
                if use_attr:
                    attr, s_out = attribution.loss_and_outputs(teacher, student, x)
                else:
                    attr, s_out = torch.zeros((), device=device), student(x)
                kd = kd_loss(s_out, t_out, labels, alpha, temperature)
                loss = kd + attr
                if not torch.isfinite(loss):
                    raise FloatingPointError(f"non-finite training loss at epoch {epoch}")
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                sums["kd"] += float(kd.detach()) * x.shape[0]
                sums["attribution"] += float(attr.detach()) * x.shape[0]
                n_seen += x.shape[0]
                if progress is not None:
                    progress.update(1)
            if n_seen == 0:
                raise ValueError("data yielded no batches")
            history.append({key: value / n_seen for key, value in sums.items()})
    finally:
        if progress is not None:
            progress.close()
        teacher.train(teacher_mode)
        student.train(student_mode)
    for p in params:
        p.grad = None
    return history


def distill(
    teacher: nn.Module,
    student: nn.Module,
    data: DataType,
    alpha: float = 0.9,
    temperature: float = 4.0,
    attribution: AttributionMatchingLoss | None = None,
    epochs: int = 10,
    *,
    lr: float = 1e-3,
    batch_size: int = 64,
    random_state: int | None = None,
    verbose: bool = False,
    return_history: bool = False,
) -> nn.Module | tuple[nn.Module, list[dict[str, float]]]:
    r"""Train ``student`` (in place) to imitate ``teacher``, optionally matching attributions.

    The objective per batch is

    .. math:: (1-\alpha)\,\mathrm{CE}(z_S, y) + \alpha T^2\,
              \mathrm{KL}(\mathrm{softmax}(z_T/T) \,\|\, \mathrm{softmax}(z_S/T))
              + \beta L_{attr}

    with ``beta * L_attr`` given by ``attribution`` (skipped when ``None`` or
    ``beta = 0``). Adam, fixed learning rate.

    Parameters
    ----------
    teacher, student : nn.Module
        Both return class scores ``(N, C)``; the teacher is not updated.
    data : Tensor, (X,) or (X, y) tensors, or an iterable of batches
        Tensors are shuffled each epoch (seeded by ``random_state``); an iterable
        (a ``DataLoader``) yields ``x`` or ``(x, y)`` batches. Without labels the
        teacher's argmax takes their place in the cross-entropy.
    alpha : float, default 0.9
    temperature : float, default 4.0
    attribution : AttributionMatchingLoss, optional
    epochs : int, default 10
    lr : float, default 1e-3
    batch_size : int, default 64
        Batch size for tensor data.
    random_state : int, optional
        Seed of the shuffling.
    verbose : bool, default False
        Show a progress bar over batches.
    return_history : bool, default False
        Also return the per-epoch mean of the KD and attribution terms.

    Returns
    -------
    nn.Module or (nn.Module, list of dict)
        The student, trained in place, in its original mode and on its device.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> teacher = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
    ...                               torch.nn.Flatten(), torch.nn.Linear(36, 3))
    >>> student = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(),
    ...                               torch.nn.Flatten(), torch.nn.Linear(18, 3))
    >>> crit = AttributionMatchingLoss("1", "1", beta=10.0)
    >>> x = torch.rand(32, 1, 5, 5)
    >>> _, hist = distill(teacher, student, x, attribution=crit, epochs=2,
    ...                   random_state=0, return_history=True)
    >>> len(hist), sorted(hist[0])
    (2, ['attribution', 'kd'])
    """
    _check_options(alpha, temperature, epochs, lr, batch_size, attribution)
    for name, model in (("teacher", teacher), ("student", student)):
        if not isinstance(model, nn.Module):
            raise ValueError(f"{name} must be a torch.nn.Module, got {type(model).__name__}")
    checked = _check_data(data)
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))
    history = _train(
        teacher, student, checked, alpha=alpha, temperature=temperature,
        attribution=attribution, epochs=epochs, lr=lr, batch_size=batch_size,
        generator=generator, verbose=verbose, desc="distill",
    )
    return (student, history) if return_history else student


# ------------------------------------------------------------------ pruning
def _prunable(model: nn.Module, layers: Sequence[LayerType] | None,
              structured: bool) -> list[tuple[str, nn.Module]]:
    names = {id(m): name for name, m in model.named_modules()}
    if layers is None:
        kinds = _CONV if structured else (*_CONV, nn.Linear)
        found = [(name, m) for name, m in model.named_modules() if isinstance(m, kinds)]
    else:
        found = []
        for layer in layers:
            module = resolve_layer(model, layer)
            found.append((names[id(module)], module))
    if not found:
        what = "convolution" if structured else "convolution or linear"
        raise ValueError(f"the model has no {what} layer to prune")
    for name, module in found:
        if not isinstance(getattr(module, "weight", None), Tensor):
            raise ValueError(f"layer {name!r} has no weight tensor to prune")
    return found


def _per_layer_amounts(amount: float | Mapping[LayerType, float], model: nn.Module,
                       found: list[tuple[str, nn.Module]], structured: bool) -> list[float]:
    def check(value: object, what: str) -> float:
        if not isinstance(value, numbers.Real) or isinstance(value, bool) or \
                not 0.0 <= value < 1.0:
            raise ValueError(f"{what} must be a fraction in [0, 1), got {value!r}")
        return float(value)

    if isinstance(amount, Mapping):
        if not structured:
            raise ValueError("global unstructured pruning takes one amount, not a mapping")
        by_id = {id(resolve_layer(model, key)): check(value, f"amount[{key!r}]")
                 for key, value in amount.items()}
        return [by_id.get(id(module), 0.0) for _, module in found]
    return [check(amount, "amount")] * len(found)


def _schedule(n_units: int, fraction: float, rounds: int) -> list[int]:
    """Units to prune per round: geometric in what remains, exact final count."""
    final_left = n_units - int(round(fraction * n_units))
    left = [n_units] + [
        max(final_left, int(round(n_units * (final_left / n_units) ** (r / rounds))))
        for r in range(1, rounds)
    ] + [final_left]
    return [left[r] - left[r + 1] for r in range(rounds)]


def _prune_round(found: list[tuple[str, nn.Module]], counts: list[int], structured: bool,
                 n_global: int) -> None:
    if structured:
        for (_, module), count in zip(found, counts):
            if count == 0:
                continue
            prune.ln_structured(module, "weight", amount=count, n=1, dim=0)
            if isinstance(getattr(module, "bias", None), Tensor):
                keep = module.weight_mask.flatten(1).any(dim=1).to(module.bias.dtype)
                prune.custom_from_mask(module, "bias", mask=keep)
        return
    if n_global:
        prune.global_unstructured([(m, "weight") for _, m in found],
                                  pruning_method=prune.L1Unstructured, amount=n_global)


def sparsity(model: nn.Module, layers: Sequence[LayerType] | None = None) -> float:
    """Fraction of exactly-zero weights in the convolution and linear layers (or ``layers``).

    Examples
    --------
    >>> import torch
    >>> layer = torch.nn.Linear(4, 2)
    >>> with torch.no_grad():
    ...     layer.weight[0] = 0.0
    >>> sparsity(torch.nn.Sequential(layer))
    0.5
    """
    found = _prunable(model, layers, structured=False)
    zeros = sum(int((m.weight == 0).sum()) for _, m in found)
    return zeros / sum(m.weight.numel() for _, m in found)


def prune_and_finetune(
    model: nn.Module,
    data: DataType | None = None,
    amount: float | Mapping[LayerType, float] = 0.5,
    structured: bool = False,
    rounds: int = 1,
    teacher: nn.Module | None = None,
    attribution: AttributionMatchingLoss | None = None,
    *,
    layers: Sequence[LayerType] | None = None,
    epochs: int = 2,
    final_epochs: int = 0,
    alpha: float = 0.9,
    temperature: float = 4.0,
    lr: float = 1e-3,
    batch_size: int = 64,
    remove: bool = True,
    random_state: int | None = None,
    verbose: bool = False,
    return_history: bool = False,
) -> nn.Module | tuple[nn.Module, list[dict[str, Any]]]:
    """Magnitude-prune ``model`` in place (``torch.nn.utils.prune``), fine-tuning each round.

    * ``structured=False``: global unstructured L1 pruning over the weights of all
      ``layers`` (default: every convolution and linear layer) to a final sparsity of
      ``amount``.
    * ``structured=True``: L1 filter pruning (``ln_structured``, ``n=1``, ``dim=0``)
      of each layer (default: every convolution) by ``amount``, a fraction or a
      mapping ``{layer: fraction}``; the pruned filters' biases are masked too, so a
      pruned filter outputs exactly zero. Masking only: tensors keep their shapes.

    With ``rounds > 1`` the pruning is iterative: each round removes the same share of
    what is left (the final count is exact), then fine-tunes for ``epochs`` epochs on
    the distillation objective of :func:`distill` from ``teacher`` (default: a frozen
    copy of ``model`` before pruning) plus ``attribution``.

    Parameters
    ----------
    model : nn.Module
    data : see :func:`distill`; optional when ``epochs == 0``
    amount : float or mapping, default 0.5
    structured : bool, default False
    rounds : int, default 1
    teacher : nn.Module, optional
    attribution : AttributionMatchingLoss, optional
        Its ``teacher_layer`` may name a layer (or be a module) of ``model`` when the
        teacher is the default copy.
    layers : sequence of modules or names, optional
    epochs : int, default 2
        Fine-tuning epochs per round.
    final_epochs : int, default 0
        Further fine-tuning epochs at the final sparsity, after the last round (same
        objective, the masks kept); reported as one more ``history`` entry.
    alpha, temperature, lr, batch_size : see :func:`distill`
    remove : bool, default True
        Make the pruning permanent (``prune.remove``) at the end; ``False`` keeps the
        ``weight_orig`` / ``weight_mask`` reparametrisation.
    random_state : int, optional
    verbose : bool, default False
    return_history : bool, default False
        Also return, per round, the sparsity and the fine-tuning history.

    Returns
    -------
    nn.Module or (nn.Module, list of dict)
        ``model``, pruned in place, in its original mode and on its device.

    Examples
    --------
    >>> import torch
    >>> _ = torch.manual_seed(0)
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(),
    ...                           torch.nn.Flatten(), torch.nn.Linear(36, 3))
    >>> x = torch.rand(16, 1, 5, 5)
    >>> net = prune_and_finetune(net, x, amount=0.9, rounds=2, epochs=1, random_state=0)
    >>> round(sparsity(net), 2)
    0.9
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(rounds, numbers.Integral) or isinstance(rounds, bool) or rounds < 1:
        raise ValueError(f"rounds must be a positive int, got {rounds!r}")
    _check_options(alpha, temperature, epochs, lr, batch_size, attribution)
    if not isinstance(final_epochs, numbers.Integral) or isinstance(final_epochs, bool) \
            or final_epochs < 0:
        raise ValueError(f"final_epochs must be a non-negative int, got {final_epochs!r}")
    found = _prunable(model, layers, structured)
    fractions = _per_layer_amounts(amount, model, found, structured)
    checked = None
    if epochs > 0 or final_epochs > 0:
        if data is None:
            raise ValueError("fine-tuning (epochs > 0 or final_epochs > 0) needs data")
        checked = _check_data(data)
    if teacher is None:
        teacher = copy.deepcopy(model).eval()
        for p in teacher.parameters():
            p.requires_grad_(False)
        if attribution is not None and isinstance(attribution.teacher_layer, nn.Module):
            names = {id(m): name for name, m in model.named_modules()}
            if id(attribution.teacher_layer) in names:
                attribution = copy.copy(attribution)
                attribution.teacher_layer = names[id(attribution.teacher_layer)]
    if structured:
        schedules = [_schedule(m.weight.shape[0], f, rounds) for (_, m), f in
                     zip(found, fractions)]
        global_schedule = [0] * rounds
    else:
        total = sum(m.weight.numel() for _, m in found)
        global_schedule = _schedule(total, fractions[0], rounds)
        schedules = [[0] * rounds for _ in found]
    generator = torch.Generator()
    if random_state is None:
        generator.seed()
    else:
        generator.manual_seed(int(random_state))
    history: list[dict[str, Any]] = []
    for r in range(rounds):
        _prune_round(found, [s[r] for s in schedules], structured, global_schedule[r])
        epochs_hist: list[dict[str, float]] = []
        if epochs > 0:
            epochs_hist = _train(
                teacher, model, checked, alpha=alpha, temperature=temperature,
                attribution=attribution, epochs=epochs, lr=lr, batch_size=batch_size,
                generator=generator, verbose=verbose, desc=f"prune round {r + 1}/{rounds}",
            )
        history.append({"round": r + 1, "sparsity": sparsity(model, [m for _, m in found]),
                        "epochs": epochs_hist})
    if final_epochs > 0:
        epochs_hist = _train(
            teacher, model, checked, alpha=alpha, temperature=temperature,
            attribution=attribution, epochs=final_epochs, lr=lr, batch_size=batch_size,
            generator=generator, verbose=verbose, desc="final fine-tuning",
        )
        history.append({"round": "final", "sparsity": sparsity(model, [m for _, m in found]),
                        "epochs": epochs_hist})
    if remove:
        for _, module in found:
            for name in ("weight", "bias"):
                if prune.is_pruned(module) and hasattr(module, f"{name}_mask"):
                    prune.remove(module, name)
    return (model, history) if return_history else model
