"""The torch.distributed side of a streaming fit: who am I, and the collectives it needs.

A fit is distributed when a default process group is initialised (``torchrun`` or
:func:`init_from_env`); otherwise every helper is the one-process identity. Every
collective runs under the process group's timeout, and a failure (a rank that died,
a closed connection, a timeout) becomes a :class:`DistributedFitError` that names
the rank, so the survivors stop instead of hanging.
"""

from __future__ import annotations

import datetime
import os

import torch
import torch.distributed as dist

DEFAULT_TIMEOUT_S = 60.0


class DistributedFitError(RuntimeError):
    """A collective of the distributed fit failed (a rank died or timed out).

    Examples
    --------
    >>> from ecsel.stream import DistributedFitError
    >>> issubclass(DistributedFitError, RuntimeError)
    True
    >>> try:
    ...     raise DistributedFitError("rank 1 timed out")
    ... except RuntimeError as error:
    ...     print(error)
    rank 1 timed out
    """


class Comm:
    """Rank, world size and the collectives of one fit (identity when not distributed).

    Examples
    --------
    >>> comm = Comm()
    >>> comm.rank, comm.world, comm.all_gather([1, 2])
    (0, 1, [[1, 2]])
    """

    def __init__(self, device: torch.device | None = None):
        self.active = dist.is_available() and dist.is_initialized()
        self.rank = dist.get_rank() if self.active else 0
        self.world = dist.get_world_size() if self.active else 1
        backend = dist.get_backend() if self.active else None
        # NCCL reduces CUDA tensors only; gloo reduces CPU tensors.
        self.device = device if backend == "nccl" else torch.device("cpu")

    def _fail(self, what: str, exc: BaseException):
        raise DistributedFitError(
            f"Distributed fit failed on rank {self.rank} of {self.world} during {what}: "
            f"another rank died or stopped responding ({' '.join(str(exc).split())[:200]})."
        ) from exc

    def all_reduce_(self, tensor: torch.Tensor, what: str = "a gradient all-reduce"):
        """Sum ``tensor`` over the ranks, in place (returns it)."""
        if not self.active:
            return tensor
        moved = tensor.to(self.device)
        try:
            dist.all_reduce(moved, op=dist.ReduceOp.SUM)
        except Exception as exc:  # gloo raises RuntimeError, NCCL DistBackendError
            self._fail(what, exc)
        tensor.copy_(moved.to(tensor.device))
        return tensor

    def all_gather(self, obj, what: str = "gathering statistics") -> list:
        """``[obj of rank 0, obj of rank 1, ...]`` on every rank."""
        if not self.active:
            return [obj]
        out = [None] * self.world
        try:
            dist.all_gather_object(out, obj)
        except Exception as exc:
            self._fail(what, exc)
        return out

    def broadcast_(self, tensor: torch.Tensor, what: str = "broadcasting parameters"):
        """Overwrite ``tensor`` with rank 0's copy (returns it)."""
        if not self.active:
            return tensor
        moved = tensor.to(self.device)
        try:
            dist.broadcast(moved, src=0)
        except Exception as exc:
            self._fail(what, exc)
        tensor.copy_(moved.to(tensor.device))
        return tensor

    def barrier(self, what: str = "a barrier") -> None:
        if self.active:
            self.all_gather(None, what)


def init_from_env(device: str = "auto", timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Initialise the default process group from ``torchrun``'s environment.

    Does nothing (and returns False) when ``WORLD_SIZE`` is unset or 1 or a group
    already exists. The backend is NCCL when the fit runs on CUDA and gloo on the
    CPU; collectives time out after ``timeout_s`` seconds.

    Examples
    --------
    >>> import os
    >>> "WORLD_SIZE" in os.environ or init_from_env()
    False
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or (dist.is_available() and dist.is_initialized()):
        return False
    use_cuda = device in ("auto", None) and torch.cuda.is_available() or \
        str(device).startswith("cuda")
    backend = "nccl" if use_cuda else "gloo"
    if use_cuda:
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend, timeout=datetime.timedelta(seconds=timeout_s))
    return True
