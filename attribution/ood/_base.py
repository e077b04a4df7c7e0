"""Small base shared by every detector: input checks, batching, model-state safety.

A detector follows pytorch-ood's convention: ``fit`` (only where in-distribution
statistics are needed) and ``score``, which returns one outlier score per example,
**higher = more out-of-distribution**.

While a detector scores, the model is put in ``eval()`` mode (BatchNorm uses its running
statistics, so a score never depends on the other rows of a batch); the train/eval flag
of every submodule is restored afterwards, also after an exception.  Gradients are taken
with ``torch.autograd.grad`` with respect to inputs or activations only, so the
parameters' ``.grad`` fields and ``requires_grad`` flags are left as they were.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from .._utils import FilledDocstrings, check_inputs, fill_doc, row_chunks

__all__ = ["OODDetector", "last_linear", "model_device_dtype"]


@contextlib.contextmanager
def eval_mode(model: nn.Module) -> Iterator[None]:
    """Put ``model`` in eval mode; restore every submodule's ``training`` flag on exit."""
    flags = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, flag in flags:
            module.training = flag


def model_device_dtype(model: nn.Module) -> tuple[torch.device | None, torch.dtype | None]:
    """Device and floating dtype of the model's first parameter (``None`` when it has none)."""
    for p in model.parameters():
        return p.device, (p.dtype if p.is_floating_point() else None)
    return None, None


def last_linear(model: nn.Module) -> nn.Linear:
    """The last ``nn.Linear`` registered in ``model`` (the classification head by default).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    >>> last_linear(net) is net[2]
    True
    """
    heads = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not heads:
        raise ValueError(
            "the model has no nn.Linear layer; pass the classification head explicitly (head=...)"
        )
    return heads[-1]


@fill_doc
class OODDetector(FilledDocstrings):
    """Base class of the out-of-distribution detectors.

    Parameters
    ----------
    model : nn.Module
        Classifier returning logits of shape ``(N, C)``, ``C >= 2``.
    %(detector_batch_size)s

    Notes
    -----
    Subclasses implement ``_score_batch(x) -> Tensor (n,)``; those that need
    in-distribution statistics set ``requires_fit = True`` and implement ``_fit``.
    Their docstrings may hold :func:`attribution._utils.fill_doc` placeholders,
    filled when the subclass is defined.

    Examples
    --------
    >>> import torch
    >>> from attribution.ood import OODDetector
    >>> class NegativeMaxLogit(OODDetector):  # the one hook a detector implements
    ...     def _score_batch(self, x):
    ...         return -self._logits(x).max(dim=1).values
    >>> detector = NegativeMaxLogit(torch.nn.Identity(), batch_size=1)  # logits = inputs
    >>> detector.score(torch.tensor([[2.0, 0.0], [0.0, 0.5]])).tolist()  # higher = more OOD
    [-2.0, -0.5]
    """

    requires_fit: ClassVar[bool] = False
    #: Whether ``_score_batch`` needs autograd (it then runs under ``enable_grad``).
    needs_grad: ClassVar[bool] = False

    def __init__(self, model: nn.Module, batch_size: int = 256) -> None:
        if not isinstance(model, nn.Module):
            raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
        if isinstance(batch_size, bool) or int(batch_size) != batch_size or batch_size < 1:
            raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
        self.model = model
        self.batch_size = int(batch_size)
        self.fitted_ = not self.requires_fit

    @classmethod
    def get_name(cls) -> str:
        """Name of the detector (the class name).

        Examples
        --------
        >>> from attribution.ood import MSP, GradNorm
        >>> MSP.get_name(), GradNorm.get_name()
        ('MSP', 'GradNorm')
        """
        return cls.__name__

    # ----------------------------------------------------------------- inputs
    def _check_x(self, x: Any) -> Tensor:
        if not isinstance(x, Tensor):
            raise ValueError(
                f"x must be a torch.Tensor with a leading batch dimension, got {type(x).__name__}"
            )
        x = check_inputs(x)
        if not torch.isfinite(x).all():
            raise ValueError("x contains NaN or infinite values")
        return x

    def _chunks(self, x: Tensor) -> Iterator[Tensor]:
        device, dtype = model_device_dtype(self.model)
        for rows in row_chunks(x.shape[0], self.batch_size, name="batch_size"):
            chunk = x[rows]
            if device is not None:
                chunk = chunk.to(device=device, dtype=dtype or chunk.dtype)
            yield chunk

    def _logits(self, x: Tensor) -> Tensor:
        out = self.model(x)
        if not isinstance(out, Tensor) or out.dim() != 2 or out.shape[0] != x.shape[0]:
            shape = tuple(out.shape) if isinstance(out, Tensor) else type(out).__name__
            raise ValueError(
                f"the model must return logits of shape (N, C); got {shape} for {x.shape[0]} rows"
            )
        if out.shape[1] < 2:
            raise ValueError(f"the model must return at least 2 logits per row, got {out.shape[1]}")
        return out

    # ------------------------------------------------------------------- API
    def fit(self, x: Tensor, y: Any = None) -> OODDetector:
        """Collect in-distribution statistics (a no-op for training-free detectors).

        Parameters
        ----------
        x : Tensor
            In-distribution inputs, ``(N, ...)``.
        y : ignored
            Present for API compatibility.

        Returns
        -------
        self

        Examples
        --------
        >>> import torch
        >>> from attribution.ood import MSP, ReAct
        >>> msp = MSP(torch.nn.Identity())
        >>> msp.fit(torch.rand(4, 3)) is msp, msp.fitted_  # training-free: a no-op
        (True, True)
        >>> net = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
        >>> ReAct(net).score(torch.rand(2, 3))
        Traceback (most recent call last):
        ...
        ValueError: this ReAct needs in-distribution statistics: call fit(x_id) first
        >>> ReAct(net).fit(torch.rand(20, 3)).score(torch.rand(2, 3)).shape
        torch.Size([2])
        """
        x = self._check_x(x)
        with eval_mode(self.model):
            self._fit(x)
        self.fitted_ = True
        return self

    def _fit(self, x: Tensor) -> None:
        """Subclass hook: compute statistics from in-distribution ``x``."""

    def score(self, x: Tensor) -> Tensor:
        """Outlier score of every row: higher = more out-of-distribution.

        Parameters
        ----------
        x : Tensor
            Inputs, ``(N, ...)``, on any device (moved to the model's, chunk by chunk).

        Returns
        -------
        Tensor, shape (N,)
            Detached scores on the device of ``x``.

        Examples
        --------
        >>> import torch
        >>> from attribution.ood import Energy
        >>> scores = Energy(torch.nn.Identity(), batch_size=2).score(torch.zeros(3, 2))
        >>> [round(s, 4) for s in scores.tolist()]  # -logsumexp(0, 0) = -log 2
        [-0.6931, -0.6931, -0.6931]
        """
        if not self.fitted_:
            raise ValueError(
                f"this {self.get_name()} needs in-distribution statistics: call fit(x_id) first"
            )
        x = self._check_x(x)
        parts = []
        with eval_mode(self.model), torch.set_grad_enabled(self.needs_grad):
            for chunk in self._chunks(x):
                s = self._score_batch(chunk)
                parts.append(s.detach().to(device=x.device))
        scores = torch.cat(parts)
        if torch.isnan(scores).any():
            raise ValueError(f"{self.get_name()} produced NaN scores (check the model's outputs)")
        return scores

    __call__ = score

    def _score_batch(self, x: Tensor) -> Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{self.get_name()}(model={type(self.model).__name__}, batch_size={self.batch_size})"
