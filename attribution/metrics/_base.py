"""Class front door shared by all metrics (torchmetrics-style: one implementation, two doors).

Every metric is a plain function. Its class form stores the options, accumulates per-sample
scores over ``update`` calls and reports the mean with ``compute``. Metadata
(``higher_is_better``, ``data_applicability``) lives on the class, as in Quantus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._curves import CurveResult

__all__ = ["Metric"]


class Metric:
    """Base class: ``Metric(forward_func, **options)(inputs, attributions, target)``.

    Subclasses set ``function`` (the functional implementation), ``higher_is_better``
    and ``data_applicability``.

    Attributes
    ----------
    scores : list of Tensor
        Per-sample scores of every ``update`` call since the last ``reset``.
    curves : list of Tensor
        Curves of every ``update`` call (curve metrics only).
    """

    function: ClassVar[Callable[..., Any]]
    higher_is_better: ClassVar[bool | None] = None
    data_applicability: ClassVar[frozenset[str]] = frozenset({"image", "tabular", "timeseries"})
    returns_curves: ClassVar[bool] = False

    def __init__(self, forward_func: object, **options: Any) -> None:
        self.forward_func = forward_func
        self.options = options
        self.reset()

    @classmethod
    def name(cls) -> str:
        """The metric's name in snake case, e.g. ``"insertion"``."""
        return cls.function.__name__

    def reset(self) -> None:
        """Forget accumulated scores and curves."""
        self.scores: list[Tensor] = []
        self.curves: list[Tensor] = []
        self.fractions: Tensor | None = None

    def __call__(self, inputs: Any, attributions: Any, target: Any = None) -> Tensor:
        """Per-sample scores for one batch (also accumulated, like ``update``)."""
        return self.update(inputs, attributions, target)

    def update(self, inputs: Any, attributions: Any, target: Any = None) -> Tensor:
        """Score one batch, store the per-sample scores (and curves) and return the scores."""
        kwargs = dict(self.options)
        if self.returns_curves:
            kwargs["return_curves"] = True
        out = type(self).function(self.forward_func, inputs, attributions, target, **kwargs)
        if isinstance(out, CurveResult):
            self.curves.append(out.curves.detach())
            self.fractions = out.fractions
            out = out.scores
        self.scores.append(out.detach())
        return out

    def compute(self) -> Tensor:
        """Mean score over all samples seen since the last ``reset`` (NaNs ignored)."""
        if not self.scores:
            raise RuntimeError(f"{type(self).__name__}.compute() called before update()")
        return torch.cat(self.scores).float().nanmean()
