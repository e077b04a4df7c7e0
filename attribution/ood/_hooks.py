"""Capture of intermediate activations with forward hooks that never leak.

:class:`capture` registers one forward hook (or forward pre-hook, for a module's input)
per requested module and removes all of them in ``finally``.  Gradients are then taken
with ``torch.autograd.grad`` with respect to the captured tensors, which is what the GAIA
code obtains with tensor hooks, without leaving any hook on a tensor or module.

In-place operations after a hooked module (``nn.ReLU(inplace=True)`` right after a
BatchNorm) would overwrite the captured tensor and silently turn its gradient into the
gradient of the in-place result.  Each capture records the tensor's version counter;
:meth:`capture.modified_in_place` reports a change, and callers then rerun the forward
pass with ``clone=True``, where the hook hands a copy downstream and keeps the original.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

__all__ = ["LayerSpec", "capture", "channel_view", "grads_or_raise", "resolve_layers"]

LayerSpec = Any  # "batchnorm" | "conv" | sequence of modules or dotted names

_KINDS: dict[str, tuple[type[nn.Module], ...]] = {
    "batchnorm": (nn.modules.batchnorm._BatchNorm, nn.GroupNorm),
    "conv": (nn.modules.conv._ConvNd,),
}


def resolve_layers(model: nn.Module, layers: LayerSpec) -> list[nn.Module]:
    """Modules named by ``layers``: a kind (``"batchnorm"``, ``"conv"``) or a list.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    >>> [type(m).__name__ for m in resolve_layers(net, "batchnorm")]
    ['BatchNorm2d']
    >>> resolve_layers(net, ["0"])[0] is net[0]
    True
    """
    if isinstance(layers, str):
        if layers not in _KINDS:
            raise ValueError(
                f"layers must be one of {sorted(_KINDS)} or a list of modules, got {layers!r}"
            )
        found = [m for m in model.modules() if isinstance(m, _KINDS[layers])]
        if not found:
            hint = " (for nets without BatchNorm use layers='conv')" if layers != "conv" else ""
            raise ValueError(f"the model has no {layers} layers to hook{hint}")
        return found
    if isinstance(layers, nn.Module):
        layers = [layers]
    if not isinstance(layers, Sequence) or len(layers) == 0:
        raise ValueError("layers must be 'batchnorm', 'conv' or a non-empty list of modules")
    members = {id(m) for m in model.modules()}
    out = []
    for layer in layers:
        if isinstance(layer, str):
            try:
                layer = model.get_submodule(layer)
            except AttributeError as error:
                raise ValueError(f"the model has no submodule named {layer!r}") from error
        if not isinstance(layer, nn.Module) or id(layer) not in members:
            raise ValueError(f"{layer!r} is not a submodule of the model")
        out.append(layer)
    return out


def channel_view(t: Tensor) -> Tensor:
    """``(N, C, *spatial)`` -> ``(N, C, prod(spatial))``; a 2-D ``(N, C)`` layer is ``C x 1``."""
    if t.dim() < 2:
        raise ValueError(
            f"a hooked layer must output (N, C, ...) tensors, got shape {tuple(t.shape)}"
        )
    return t.reshape(t.shape[0], t.shape[1], -1)


class capture:
    """Context manager: record the output (or input) of modules during forward passes.

    Parameters
    ----------
    modules : sequence of nn.Module
    where : sequence of {"output", "input"}, optional
        What to record per module (default: outputs).
    clone : bool, default False
        Pass a copy of each recorded output downstream (safe against in-place ops).

    Attributes
    ----------
    tensors : list of list of Tensor
        ``tensors[i]`` holds one tensor per call of ``modules[i]``.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.ReLU())
    >>> with capture([net[0]]) as cap:
    ...     _ = net(torch.ones(4, 3))
    >>> cap.tensors[0][0].shape, len(net[0]._forward_hooks)
    (torch.Size([4, 2]), 0)
    """

    def __init__(
        self,
        modules: Sequence[nn.Module],
        where: Sequence[Literal["output", "input"]] | None = None,
        clone: bool = False,
    ) -> None:
        self.modules = list(modules)
        self.where = list(where) if where is not None else ["output"] * len(self.modules)
        self.clone = clone
        self.tensors: list[list[Tensor]] = [[] for _ in self.modules]
        self._versions: list[list[int]] = [[] for _ in self.modules]
        self._handles: list[Any] = []

    def _record(self, i: int, t: Any) -> None:
        if not isinstance(t, Tensor):
            raise ValueError(
                f"hooked module {type(self.modules[i]).__name__} must produce a tensor, "
                f"got {type(t).__name__}"
            )
        self.tensors[i].append(t)
        self._versions[i].append(t._version)

    def __enter__(self) -> capture:
        try:
            for i, (module, where) in enumerate(zip(self.modules, self.where)):
                if where == "input":
                    def pre_hook(_m: nn.Module, args: tuple[Any, ...], i: int = i) -> None:
                        self._record(i, args[0] if args else None)

                    self._handles.append(module.register_forward_pre_hook(pre_hook))
                elif where == "output":
                    def hook(_m: nn.Module, _a: Any, out: Any, i: int = i) -> Any:
                        self._record(i, out)
                        return out.clone() if self.clone else None

                    self._handles.append(module.register_forward_hook(hook))
                else:
                    raise ValueError(f"where must be 'output' or 'input', got {where!r}")
        except BaseException:
            self.remove()
            raise
        return self

    def remove(self) -> None:
        """Remove every hook (idempotent)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def __exit__(self, *exc: Any) -> None:
        self.remove()

    def modified_in_place(self) -> bool:
        """Whether a recorded tensor was changed in place after it was recorded."""
        return any(
            t._version != v
            for ts, vs in zip(self.tensors, self._versions)
            for t, v in zip(ts, vs)
        )

    def flat(self) -> list[Tensor]:
        """All recorded tensors, module by module, call by call."""
        out = [t for ts in self.tensors for t in ts]
        missing = [type(m).__name__ for m, ts in zip(self.modules, self.tensors) if not ts]
        if missing:
            raise ValueError(f"hooked modules were not called by the forward pass: {missing}")
        return out


def grads_or_raise(
    output: Tensor, tensors: Sequence[Tensor], retain_graph: bool = False
) -> list[Tensor]:
    """``torch.autograd.grad(output, tensors)``; a clear error for layers off the path."""
    if not output.requires_grad or not all(t.requires_grad for t in tensors):
        raise ValueError(
            "the logits or a hooked activation carry no gradient: the model must be "
            "differentiable from its input (no torch.no_grad or .detach() inside forward)"
        )
    grads = torch.autograd.grad(output, list(tensors), retain_graph=retain_graph, allow_unused=True)
    if any(g is None for g in grads):
        raise ValueError(
            "a hooked layer does not influence the score (it is not on the path from the "
            "input to the logits, or its output is detached)"
        )
    return list(grads)
