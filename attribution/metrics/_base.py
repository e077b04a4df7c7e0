"""Class front door shared by all metrics (torchmetrics-style: one implementation, two doors).

Every metric is a plain function. Its class form stores the options, accumulates per-sample
scores over ``update`` calls (which return nothing, as in torchmetrics and
:class:`attribution.ood.OODMetrics`) and reports the mean with ``compute``; calling the
object scores one batch, accumulates it and returns its per-sample scores (torchmetrics'
``forward``). Metadata (``higher_is_better``, ``data_applicability``) lives on the class,
as in Quantus.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import torch
from torch import Tensor

from ._curves import CurveResult

__all__ = ["Metric"]


class Metric:
    """Base class: ``Metric(forward_func, **options)(inputs, attributions, target=...)``.

    Subclasses set ``function`` (the functional implementation), ``higher_is_better``
    and ``data_applicability``.

    Attributes
    ----------
    scores : list of Tensor
        Per-sample scores of every ``update`` call since the last ``reset``.
    curves : list of Tensor
        Curves of every ``update`` call (curve metrics only).

    Examples
    --------
    >>> import torch
    >>> from attribution.metrics import CompletenessError, Metric
    >>> model = torch.nn.Linear(3, 2, bias=False)
    >>> metric = CompletenessError(model)
    >>> isinstance(metric, Metric), metric.get_name(), metric.higher_is_better
    (True, 'completeness_error', False)
    >>> x = torch.rand(4, 3)
    >>> scores = metric(x, x * model.weight[0].detach(), target=0)  # exact for a linear model
    >>> bool(scores.max() < 1e-6), len(metric.scores)
    (True, 1)
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
    def get_name(cls) -> str:
        """The metric's name in snake case, e.g. ``"insertion"``.

        Examples
        --------
        >>> from attribution.metrics import Insertion, RegionPerturbation
        >>> Insertion.get_name(), RegionPerturbation.get_name()
        ('insertion', 'region_perturbation')
        """
        return cls.function.__name__

    def reset(self) -> None:
        """Forget accumulated scores and curves.

        Examples
        --------
        >>> import torch
        >>> from attribution.metrics import Deletion
        >>> metric = Deletion(torch.nn.Linear(4, 2), n_steps=2)
        >>> _ = metric(torch.rand(3, 4), torch.rand(3, 4))
        >>> len(metric.scores), len(metric.curves)
        (1, 1)
        >>> metric.reset()
        >>> metric.compute()
        Traceback (most recent call last):
        ...
        RuntimeError: Deletion.compute() called before update()
        """
        self.scores: list[Tensor] = []
        self.curves: list[Tensor] = []
        self.fractions: Tensor | None = None

    def __call__(self, inputs: Any, *args: Any, **kwargs: Any) -> Tensor:
        """Score one batch, accumulate it (as :meth:`update`) and return its scores.

        Examples
        --------
        >>> import torch
        >>> from attribution.metrics import Insertion
        >>> metric = Insertion(torch.nn.Linear(4, 2), n_steps=4)
        >>> metric(torch.rand(3, 4), torch.rand(3, 4), target=1).shape
        torch.Size([3])
        """
        self.update(inputs, *args, **kwargs)
        return self.scores[-1]

    def update(self, inputs: Any, attributions: Any, *, target: Any = None) -> None:
        """Score one batch and store its per-sample scores (and curves).

        Examples
        --------
        >>> import torch
        >>> from attribution.metrics import Insertion
        >>> metric = Insertion(torch.nn.Linear(4, 2), n_steps=4)
        >>> metric.update(torch.rand(3, 4), torch.rand(3, 4), target=1)
        >>> metric.scores[0].shape, metric.curves[0].shape  # 5 curve points per sample
        (torch.Size([3]), torch.Size([3, 5]))
        >>> metric.fractions.tolist()
        [0.0, 0.25, 0.5, 0.75, 1.0]
        """
        kwargs = dict(self.options)
        if self.returns_curves:
            kwargs["return_curves"] = True
        out = type(self).function(self.forward_func, inputs, attributions, target=target,
                                  **kwargs)
        if isinstance(out, CurveResult):
            self.curves.append(out.curves.detach())
            self.fractions = out.fractions
            out = out.scores
        self.scores.append(out.detach())

    def compute(self) -> Tensor:
        """Mean score over all samples seen since the last ``reset`` (NaNs ignored).

        Examples
        --------
        >>> import torch
        >>> from attribution.metrics import CompletenessError
        >>> model = torch.nn.Linear(3, 2, bias=False)
        >>> metric = CompletenessError(model)
        >>> x1, x2 = torch.rand(2, 3), torch.rand(4, 3)
        >>> s1 = metric(x1, torch.zeros(2, 3), target=0)  # error = |F(x) - F(0)| = |F(x)|
        >>> s2 = metric(x2, torch.zeros(4, 3), target=0)
        >>> bool(torch.isclose(metric.compute(), torch.cat([s1, s2]).mean()))  # over all 6 samples
        True
        """
        if not self.scores:
            raise RuntimeError(f"{type(self).__name__}.compute() called before update()")
        return torch.cat(self.scores).float().nanmean()
