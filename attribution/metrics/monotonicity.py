"""Monotonicity (Arya et al., 2019), defined so that it cannot be trivially true."""

from __future__ import annotations

import torch
from torch import Tensor

from .._utils import fill_doc
from ._adapter import ArrayLike
from ._base import Metric
from ._curves import (
    CurveResult,
    equal_counts,
    ranked_curves,
)

__all__ = ["Monotonicity", "monotonicity"]


@fill_doc
def monotonicity(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    n_steps: int | None = None,
    softmax: bool = True,
    abs: bool = True,
    ordering: str = "auto",
    tol: float = 0.0,
    return_curves: bool = False,
    batch_size: int | None = None,
) -> Tensor | CurveResult:
    """Is the score strictly increasing as features are added, least important first?
    **Higher (True) is better.**

    Starting from the substrate, feature groups are restored to their input values in
    *ascending* order of attribution (``abs=True``: of its magnitude, as in Arya et al.
    and Quantus). A sample is monotone when **every step that changes the input raises the
    score by more than** ``tol`` and at least one step changes the input. Steps that
    change nothing (the restored values equal the substrate) are ignored. Hence a constant
    curve, a tie between consecutive changing steps, or an input equal to the baseline is
    *not* monotone. (Quantus' ``Monotonicity`` with its default perturbation writes the
    baseline into the baseline, so its input never changes and it reports trivially
    monotone samples; see spec §8.3.) Applies to images, time series and tabular data.

    Parameters
    ----------
    forward_func, inputs, attributions, target, baselines, n_steps, softmax, ordering
        As in :func:`~attribution.metrics.insertion`.
    abs : bool, default True
        Rank by absolute attribution.
    tol : float, default 0.0
        Minimum increase that counts as an increase.
    return_curves : bool, default False
        Return a :class:`CurveResult` whose ``scores`` is the boolean result.
    %(batch_size)s

    Returns
    -------
    Tensor of bool, shape (n_samples,), or CurveResult
        The mean over samples is the share of monotone explanations.

    References
    ----------
    .. [1] Arya et al. "One Explanation Does Not Fit All: A Toolkit and Taxonomy of AI
       Explainability Techniques." arXiv:1909.03012, 2019.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 1, bias=False)
    >>> with torch.no_grad():
    ...     _ = model.weight.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
    >>> x = torch.ones(1, 3)
    >>> monotonicity(model, x, x * model.weight.detach(), softmax=False).tolist()
    [True]
    """
    res = ranked_curves(
        forward_func, inputs, attributions, target, baselines=baselines, ordering=ordering,
        counts_for=lambda n_groups, device: equal_counts(n_groups, n_steps, device),
        insert=True, descending=False, abs=abs, softmax=softmax, batch_size=batch_size,
    )
    curves, changed, counts = res.curves, res.changed, res.counts
    steps = changed[:, 1:]
    rises = (curves[:, 1:] - curves[:, :-1]) > tol
    ok = (rises | ~steps).all(1) & steps.any(1)
    if return_curves:
        fractions = torch.arange(len(counts), device=res.inputs.device) / (len(counts) - 1)
        return CurveResult(ok, curves, fractions)
    return ok


class Monotonicity(Metric):
    """Class form of :func:`monotonicity`; ``compute`` gives the share of monotone samples.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 1, bias=False)
    >>> _ = model.weight.data.copy_(torch.tensor([[1.0, 2.0, 3.0]]))
    >>> metric = Monotonicity(model, softmax=False)
    >>> x = torch.rand(4, 3) + 0.5
    >>> _ = metric(x, x * model.weight.detach())  # exact attributions: every curve is monotone
    >>> float(metric.compute())
    1.0
    """

    function = staticmethod(monotonicity)
    higher_is_better = True
