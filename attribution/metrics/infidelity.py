"""Infidelity (Yeh et al., NeurIPS 2019) with the paper's scale normalisation."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor

from .._utils import fill_doc
from ._adapter import (
    ArrayLike,
    auto_rows,
    check_attributions,
    chunks,
    make_generator,
    prepare,
    to_tensor,
)
from ._base import Metric

__all__ = ["Infidelity", "infidelity"]

PerturbFunc = Callable[[Tensor], tuple[Tensor, Tensor]]


def gaussian_perturbation(
    noise_scale: ArrayLike, generator: torch.Generator
) -> PerturbFunc:
    """Perturbation ``I ~ N(0, noise_scale^2)`` per feature, perturbed input ``x - I``.

    ``noise_scale`` may be a number or a tensor broadcastable to one input (e.g. per-feature
    standard deviations for tabular data).
    """

    def perturb(x: Tensor) -> tuple[Tensor, Tensor]:
        scale = to_tensor(noise_scale, device=x.device, dtype=x.dtype, name="noise_scale")
        noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
        pert = noise * scale
        return pert, x - pert

    return perturb


@fill_doc
def infidelity(
    forward_func: object,
    inputs: ArrayLike,
    attributions: ArrayLike,
    *,
    target: object = None,
    perturb_func: PerturbFunc | None = None,
    noise_scale: ArrayLike = 0.1,
    n_perturb_samples: int = 10,
    normalize: bool = True,
    softmax: bool = False,
    random_state: int | torch.Generator | None = None,
    batch_size: int | None = None,
) -> Tensor:
    r"""Infidelity :math:`E_I[(I^\top a - (F(x) - F(x - I)))^2]`. **Lower is better.**

    With ``normalize=True`` (the paper's code, Captum's ``normalize=True``) the attributions
    are first rescaled by the per-sample least-squares factor
    :math:`\beta = E[I^\top a \,\Delta F] / E[(I^\top a)^2]`, which makes the score
    invariant to the scale of the attributions (recommended when comparing methods).
    Applies to images, time series and tabular data (scale the noise per feature).

    Parameters
    ----------
    forward_func, inputs, attributions, target
        As in :func:`~attribution.metrics.deletion`.
    perturb_func : callable, optional
        Captum-compatible ``perturb_func(x) -> (I, x_perturbed)``, called on the inputs
        repeated ``n_perturb_samples`` times each (``repeat_interleave`` order), in chunks
        of ``batch_size`` rows. Default: Gaussian noise with ``noise_scale``
        and ``x_perturbed = x - I``.
    noise_scale : float or Tensor, default 0.1
        Standard deviation of the default Gaussian perturbation (per feature if a tensor).
    n_perturb_samples : int, default 10
        Perturbations per sample.
    normalize : bool, default True
        Apply the optimal scaling :math:`\beta` described above.
    softmax : bool, default False
        Use probabilities instead of raw outputs.
    random_state : int or torch.Generator, optional
        Seed for the default perturbation (the noise is drawn chunk by chunk, so results
        are reproducible for a given seed and ``batch_size``).
    %(batch_size)s

    Returns
    -------
    Tensor of shape (n_samples,)

    References
    ----------
    .. [1] Yeh et al. "On the (In)fidelity and Sensitivity of Explanations." NeurIPS 2019.
       https://arxiv.org/abs/1901.09392

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(5, 2)
    >>> x = torch.rand(3, 5)
    >>> grad = model.weight[0].detach().expand(3, 5)
    >>> bool(infidelity(model, x, grad, target=0, random_state=0).max() < 1e-9)
    True
    """
    if n_perturb_samples < 1:
        raise ValueError(f"`n_perturb_samples` must be >= 1, got {n_perturb_samples}")
    f, x, t, fx = prepare(forward_func, inputs, target, softmax=softmax,
                          batch_size=batch_size)
    a = check_attributions(attributions, x).reshape(len(x), -1)
    if perturb_func is None:
        perturb_func = gaussian_perturbation(noise_scale, make_generator(random_state, x.device))
    rows = torch.arange(len(x) * n_perturb_samples, device=x.device)
    dot = torch.empty(len(rows), dtype=x.dtype, device=x.device)
    drop = torch.empty_like(dot)
    with torch.no_grad():
        for idx in chunks(rows, auto_rows(batch_size, x)):
            b = idx // n_perturb_samples
            pert, x_pert = perturb_func(x[b])
            pert = to_tensor(pert, device=x.device, dtype=x.dtype).reshape(len(idx), -1)
            dot[idx] = (pert * a[b]).sum(1)
            drop[idx] = fx[b] - f.scores(to_tensor(x_pert, device=x.device), t[b],
                                         softmax=softmax).to(x.dtype)
    dot, drop = dot.view(len(x), -1), drop.view(len(x), -1)
    if normalize:
        num, den = (dot * drop).sum(1), dot.pow(2).sum(1)
        beta = torch.where(den > 0, num / den.where(den > 0, 1), 0)
        dot = beta.unsqueeze(1) * dot
    return (dot - drop).pow(2).mean(1)


class Infidelity(Metric):
    """Class form of :func:`infidelity`. Lower is better.

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(6, 2)
    >>> x = torch.rand(4, 6)
    >>> metric = Infidelity(model, n_perturb_samples=5, random_state=0)
    >>> grad = model.weight[0].detach().expand(4, 6)  # I . grad = F(x) - F(x - I) exactly
    >>> bool(metric(x, grad, target=0).max() < 1e-9), metric.higher_is_better
    (True, False)
    """

    function = staticmethod(infidelity)
    higher_is_better = False
