"""Inputs, targets, positions and forward hooks shared by the neuron tools."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["Batch", "as_batch", "gather_position", "hooks", "logits_of", "resolve_targets"]


@dataclass
class Batch:
    """Model inputs plus what is needed to find the explained position of each row.

    ``kwargs`` holds tensors whose first dimension is the batch (``input_ids``,
    ``attention_mask``, ...) or ``{"__x__": tensor}`` for plain positional inputs.
    """

    kwargs: dict[str, Tensor]
    n: int
    position: int
    single: bool

    def run(self, model: nn.Module) -> Any:
        if "__x__" in self.kwargs:
            return model(self.kwargs["__x__"])
        return model(**self.kwargs)

    def take(self, rows: Tensor) -> Batch:
        """The sub-batch (or repeated batch) of the given row indices."""
        kw = {k: v[rows.to(v.device)] for k, v in self.kwargs.items()}
        return Batch(kw, int(rows.numel()), self.position, False)

    def positions(self, seq_len: int, device: torch.device) -> Tensor:
        """Explained position of every row, shape ``(n,)``.

        With an ``attention_mask`` the position counts valid (mask 1) tokens only, so
        ``-1`` is the last real token whatever the padding side.
        """
        mask = self.kwargs.get("attention_mask")
        p = self.position
        if mask is None:
            q = p if p >= 0 else seq_len + p
            if not 0 <= q < seq_len:
                raise ValueError(f"`position` {p} is out of range for length {seq_len}")
            return torch.full((self.n,), q, dtype=torch.long, device=device)
        mask = mask.to(device).bool()
        lengths = mask.sum(1)
        k = torch.where(torch.as_tensor(p >= 0, device=device), p, lengths + p)
        if bool(((k < 0) | (k >= lengths)).any()):
            raise ValueError(f"`position` {p} is out of range for some rows")
        # index of the (k+1)-th valid token of each row
        rank = mask.long().cumsum(1) - 1
        hit = mask & (rank == k.unsqueeze(1))
        return hit.long().argmax(1)


def as_batch(inputs: Any, tokenizer: Any = None, position: int = -1) -> Batch:
    """Normalise strings, token ids, tokenizer outputs or float tensors to a :class:`Batch`."""
    if not isinstance(position, int):
        raise ValueError(f"`position` must be an int, got {type(position).__name__}")
    single = False
    if isinstance(inputs, str) or (
        isinstance(inputs, Sequence) and inputs and all(isinstance(s, str) for s in inputs)
    ):
        if tokenizer is None:
            raise ValueError("text inputs need a `tokenizer` (NeuronAttribution(tokenizer=...))")
        single = isinstance(inputs, str)
        inputs = tokenize([inputs] if single else list(inputs), tokenizer)
    if isinstance(inputs, Mapping):
        kw = {k: v for k, v in inputs.items() if isinstance(v, Tensor)}
        if "input_ids" not in kw and "inputs_embeds" not in kw:
            raise ValueError("mapping inputs need an 'input_ids' or 'inputs_embeds' tensor")
        key = "input_ids" if "input_ids" in kw else "inputs_embeds"
        if kw[key].ndim == 1:
            kw = {k: v.unsqueeze(0) for k, v in kw.items()}
            single = True
        n = kw[key].shape[0]
        return Batch(kw, n, position, single or n == 1)
    if not isinstance(inputs, Tensor):
        raise ValueError(
            "`inputs` must be a string, a list of strings, a tensor or a mapping with "
            f"'input_ids', got {type(inputs).__name__}"
        )
    if inputs.ndim == 0:
        raise ValueError("`inputs` must have a batch dimension")
    if not inputs.is_floating_point():
        if inputs.ndim == 1:
            inputs = inputs.unsqueeze(0)
        if inputs.ndim != 2:
            raise ValueError(f"token ids must be shaped (n, seq_len), got {tuple(inputs.shape)}")
        return Batch({"__x__": inputs}, inputs.shape[0], position, inputs.shape[0] == 1)
    return Batch({"__x__": inputs}, inputs.shape[0], position, inputs.shape[0] == 1)


def tokenize(prompts: list[str], tokenizer: Any) -> dict[str, Tensor]:
    """Right-padded ``input_ids`` and ``attention_mask`` (no special tokens added twice)."""
    encoded = [list(tokenizer(p)["input_ids"]) for p in prompts]
    if any(len(e) == 0 for e in encoded):
        raise ValueError("a prompt tokenizes to zero tokens")
    pad = tokenizer.pad_token_id
    if pad is None:
        pad = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    width = max(len(e) for e in encoded)
    ids = torch.full((len(encoded), width), int(pad), dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, e in enumerate(encoded):
        ids[i, : len(e)] = torch.tensor(e)
        mask[i, : len(e)] = 1
    return {"input_ids": ids, "attention_mask": mask}


def token_id(target: str, tokenizer: Any) -> int:
    """The single token id of ``target``; ``ValueError`` when it is several tokens."""
    if tokenizer is None:
        raise ValueError("string targets need a `tokenizer`")
    ids = tokenizer(target, add_special_tokens=False)["input_ids"]
    if len(ids) != 1:
        raise ValueError(f"target {target!r} is {len(ids)} tokens {list(ids)}; give one token")
    return int(ids[0])


def resolve_targets(target: Any, n: int, tokenizer: Any, device: torch.device) -> Tensor:
    """Targets as a ``(n,)`` long tensor from an int, a string or a per-row sequence."""
    if isinstance(target, str):
        target = token_id(target, tokenizer)
    if isinstance(target, Tensor):
        t = target.to(device=device, dtype=torch.long).reshape(-1)
    elif isinstance(target, Sequence):
        t = torch.tensor(
            [token_id(x, tokenizer) if isinstance(x, str) else int(x) for x in target],
            dtype=torch.long,
            device=device,
        )
    else:
        try:
            t = torch.tensor([int(target)], dtype=torch.long, device=device)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"`target` must be an int, a string or a sequence, got {target!r}"
            ) from exc
    if t.numel() == 1:
        t = t.expand(n)
    if t.numel() != n:
        raise ValueError(f"got {t.numel()} targets for {n} inputs")
    return t


def logits_of(output: Any) -> Tensor:
    """The logits (or first tensor) of a model output."""
    if isinstance(output, Tensor):
        return output
    logits = getattr(output, "logits", None)
    if isinstance(logits, Tensor):
        return logits
    hidden = getattr(output, "last_hidden_state", None)
    if isinstance(hidden, Tensor):
        return hidden
    if isinstance(output, (tuple, list)) and output and isinstance(output[0], Tensor):
        return output[0]
    raise ValueError(f"cannot find the logits in a model output of type {type(output).__name__}")


def gather_position(x: Tensor, positions: Tensor | None) -> Tensor:
    """``x[b, positions[b]]`` for ``(B, T, ...)`` tensors; ``x`` when ``positions`` is None."""
    if positions is None:
        return x
    return x[torch.arange(x.shape[0], device=x.device), positions.to(x.device)]


@contextmanager
def hooks(
    pre: Sequence[tuple[nn.Module, Callable]] = (),
    post: Sequence[tuple[nn.Module, Callable]] = (),
) -> Iterator[None]:
    """Register forward pre-hooks and forward hooks; always removed on exit (also on error)."""
    handles = []
    try:
        for module, fn in pre:
            handles.append(module.register_forward_pre_hook(fn))
        for module, fn in post:
            handles.append(module.register_forward_hook(fn))
        yield
    finally:
        for handle in handles:
            handle.remove()


def replace_first(args: tuple, value: Tensor) -> tuple:
    """``args`` with its first element replaced (for pre-hooks)."""
    return (value, *args[1:])
