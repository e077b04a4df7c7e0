"""Faithfulness correlation (Bhatt, Weller and Moura, IJCAI 2020)."""

from __future__ import annotations

import torch
from torch import Tensor

from .._utils import fill_doc
from ._adapter import ArrayLike, auto_rows, check_attributions, chunks, make_generator, prepare
from ._base import Metric
from ._curves import resolve_substrate

__all__ = ["FaithfulnessCorrelation", "faithfulness_correlation"]

_RNG_BLOCK = 32  # most samples per random draw (see _rng_block)


def _pearson(u: Tensor, v: Tensor) -> Tensor:
    """Row-wise Pearson correlation of ``(B, R)`` tensors (NaN for a constant row)."""
    u = u - u.mean(1, keepdim=True)
    v = v - v.mean(1, keepdim=True)
    den = (u.pow(2).sum(1) * v.pow(2).sum(1)).sqrt()
    return (u * v).sum(1) / den.where(den > 0, torch.nan)


@fill_doc
def faithfulness_correlation(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    baselines: ArrayLike | str = 0.0,
    subset_size: int | None = None,
    n_runs: int = 100,
    softmax: bool = False,
    random_state: int | torch.Generator | None = None,
    batch_size: int | None = None,
) -> Tensor:
    r"""Pearson correlation between summed attributions and score drops. **Higher is better.**

    For ``n_runs`` random subsets :math:`S` of ``subset_size`` features (flattened
    elements), correlate :math:`\sum_{i \in S} a_i` with :math:`F(x) - F(x_{S \leftarrow b})`,
    where :math:`x_{S \leftarrow b}` sets the features of :math:`S` to the baseline.
    Defaults match Quantus (black baseline, raw outputs, 100 runs; Quantus' subset size
    224 is our default when the inputs have at least 448 features). Applies to images, time
    series and tabular data.

    Parameters
    ----------
    forward_func, inputs, attributions, target, baselines
        As in :func:`~attribution.metrics.deletion`.
    subset_size : int, optional
        Features per subset, ``1 <= subset_size < n_features``. Default
        ``min(224, max(1, n_features // 2))``.
    n_runs : int, default 100
        Random subsets per sample.
    softmax : bool, default False
        Use probabilities instead of raw outputs.
    random_state : int or torch.Generator, optional
        Seed for the subsets (deterministic when given).
    %(batch_size)s

    Returns
    -------
    Tensor of shape (n_samples,)
        NaN where either quantity is constant over the runs.

    References
    ----------
    .. [1] Bhatt, Weller, Moura. "Evaluating and Aggregating Feature-based Model
       Explanations." IJCAI 2020. https://arxiv.org/abs/2005.00631

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(8, 2)
    >>> x = torch.rand(3, 8)
    >>> attr = x * (model.weight[1]).detach()
    >>> r = faithfulness_correlation(model, x, attr, target=1, n_runs=20, random_state=0)
    >>> bool(torch.allclose(r, torch.ones(3), atol=1e-5))
    True
    """
    f, x, t, fx = prepare(forward_func, inputs, target, softmax=softmax,
                          batch_size=batch_size)
    a = check_attributions(attributions, x).reshape(len(x), -1)
    d = a.shape[1]
    size = min(224, max(1, d // 2)) if subset_size is None else int(subset_size)
    if not 1 <= size < d:
        raise ValueError(f"`subset_size` must lie in [1, {d - 1}] for {d} features, got {size}")
    if n_runs < 2:
        raise ValueError(f"`n_runs` must be >= 2 to compute a correlation, got {n_runs}")
    g = make_generator(random_state, x.device)
    base = resolve_substrate(baselines, x).reshape(len(x), -1)
    x_flat = x.reshape(len(x), -1)
    sums = torch.empty(len(x), n_runs, dtype=x.dtype, device=x.device)
    drops = torch.empty_like(sums)
    step = _rng_block(n_runs, d)
    with torch.no_grad():
        for lo in range(0, len(x), step):  # blocks of samples: bounded mask memory
            hi = min(len(x), lo + step)
            masks = _random_subsets(hi - lo, n_runs, d, size, g)
            sums[lo:hi] = (a[lo:hi].unsqueeze(1) * masks).sum(-1)
            rows = torch.arange(lo * n_runs, hi * n_runs, device=x.device)
            for idx in chunks(rows, auto_rows(batch_size, x)):
                b, m = idx // n_runs, masks.reshape(-1, d)[idx - lo * n_runs]
                x_pert = torch.where(m, base[b], x_flat[b]).reshape(len(idx), *x.shape[1:])
                drop = fx[b] - f.scores(x_pert, t[b], softmax=softmax).to(x.dtype)
                drops.view(-1)[idx] = drop
    return _pearson(sums, drops)


def _rng_block(runs: int, d: int) -> int:
    """Samples per random draw: fixed by the problem's size, never by the batch size, so
    results do not depend on ``batch_size``; about 16M random keys at most."""
    return max(1, min(_RNG_BLOCK, 2**24 // (runs * d)))


def _random_subsets(n: int, runs: int, d: int, size: int, g: torch.Generator) -> Tensor:
    """Boolean ``(n, runs, d)`` masks of uniformly random ``size``-subsets."""
    keys = torch.rand(n, runs, d, generator=g, device=g.device)
    idx = keys.topk(size, dim=-1).indices
    return torch.zeros(n, runs, d, dtype=torch.bool, device=g.device).scatter_(-1, idx, True)


class FaithfulnessCorrelation(Metric):
    """Class form of :func:`faithfulness_correlation`. Higher is better.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(6, 2, bias=False)
    >>> x = torch.rand(4, 6)
    >>> metric = FaithfulnessCorrelation(model, n_runs=20, subset_size=3, random_state=0)
    >>> scores = metric(x, x * model.weight[0].detach(), target=0)  # drops equal the sums
    >>> bool(torch.allclose(scores, torch.ones(4)))
    True
    """

    function = staticmethod(faithfulness_correlation)
    higher_is_better = True
