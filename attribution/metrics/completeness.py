"""Completeness error: how far the attributions are from summing to ``F(x) - F(x')``."""

from __future__ import annotations

import torch
from torch import Tensor

from ._adapter import ArrayLike, broadcast_baselines, check_attributions, chunks, prepare
from ._base import Metric

__all__ = ["CompletenessError", "completeness_error"]


def completeness_error(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike = 0.0,
    softmax: bool = False,
    relative: bool = False,
    batch_size: int | None = None,
) -> Tensor:
    r"""Completeness error :math:`|\sum_i a_i - (F(x) - F(x'))|`. **Lower is better.**

    Path methods (IG and its variants) and exact Shapley values of the explained score
    satisfy completeness, so their error should be (near) zero; for other methods it
    measures how far the attributions are from an additive account of the score change.
    Applies to images, time series and tabular data.

    Parameters
    ----------
    forward_func, inputs, attributions, target
        As in :func:`~attribution.metrics.deletion`.
    baselines : float or Tensor, default 0.0
        Reference input :math:`x'` (the one the attributions were computed against).
    softmax : bool, default False
        Explain the probability instead of the raw output (logit).
    relative : bool, default False
        Divide by :math:`|F(x) - F(x')|` (NaN where that is zero).
    batch_size : int, optional
        Most inputs per forward call.

    Returns
    -------
    Tensor of shape (n_samples,)

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 2, bias=False)
    >>> x = torch.rand(4, 3)
    >>> attr = x * model.weight[0].detach()
    >>> bool(completeness_error(model, x, attr, target=0).max() < 1e-6)
    True
    """
    f, x, t, fx = prepare(forward_func, inputs, target, softmax=softmax,
                          batch_size=batch_size)
    a = check_attributions(attributions, x)
    base = broadcast_baselines(baselines, x)
    with torch.no_grad():
        pairs = zip(chunks(base, batch_size), chunks(t, batch_size),
                    strict=True)
        fb = torch.cat([f.scores(b, tb, softmax=softmax) for b, tb in pairs])
    delta = fx - fb
    err = (a.reshape(len(x), -1).sum(1) - delta).abs()
    if relative:
        err = err / delta.abs().where(delta != 0, torch.nan)
    return err


class CompletenessError(Metric):
    """Class form of :func:`completeness_error`. Lower is better.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 2, bias=False)
    >>> x = torch.rand(5, 3)
    >>> metric = CompletenessError(model, baselines=1.0)
    >>> exact = (x - 1.0) * model.weight[1].detach()  # IG of a linear model from baseline 1
    >>> bool(metric(x, exact, target=1).max() < 1e-6)
    True
    """

    function = staticmethod(completeness_error)
    higher_is_better = False
