"""Sensitivity-max (Yeh et al., NeurIPS 2019): a robustness companion to faithfulness."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ._adapter import ArrayLike, chunks, make_generator, to_tensor
from ._base import Metric

__all__ = ["SensitivityMax", "sensitivity_max"]


def _explainer(explanation_func: Any) -> Callable[..., Any]:
    if hasattr(explanation_func, "attribute"):
        return explanation_func.attribute
    if callable(explanation_func):
        return explanation_func
    raise TypeError("`explanation_func` must be callable or have an `attribute` method")


def _expand_kwargs(kwargs: dict[str, Any], n: int, idx: Tensor) -> dict[str, Any]:
    """Select rows ``idx`` of per-sample keyword arguments (tensors with ``n`` rows)."""
    out = {}
    for key, val in kwargs.items():
        if isinstance(val, (list, tuple)) and len(val) == n and key == "target":
            val = torch.as_tensor(val)
        if isinstance(val, Tensor) and val.ndim > 0 and val.shape[0] == n:
            val = val[idx.to(val.device)]
        out[key] = val
    return out


def sensitivity_max(
    explanation_func: Any,
    inputs: ArrayLike,
    *,
    perturb_func: Callable[[Tensor], Tensor] | None = None,
    perturb_radius: ArrayLike = 0.02,
    n_perturb_samples: int = 10,
    norm_ord: str | float = "fro",
    random_state: int | torch.Generator | None = None,
    batch_size: int | None = None,
    **kwargs: Any,
) -> Tensor:
    r"""Max relative change of the explanation under small input noise. **Lower is better.**

    .. math:: \max_{\|\delta\|_\infty \le r} \frac{\|a(x + \delta) - a(x)\|}{\|a(x)\|}

    estimated with ``n_perturb_samples`` draws of :math:`\delta` uniform in the
    :math:`L_\infty` ball (Captum's ``sensitivity_max``; a zero norm of :math:`a(x)` is
    replaced by 1). It re-runs the explainer, so it costs ``n_perturb_samples`` times the
    explanation. For tabular data pass a per-feature ``perturb_radius`` (e.g. ``0.02 *
    X.std(0)``). Applies to images, time series and tabular data.

    Parameters
    ----------
    explanation_func : callable or attribution object
        ``explanation_func(inputs, **kwargs) -> attributions``, or an object with an
        ``attribute`` method (e.g. ``attribution.IntegratedGradients(model)``).
    inputs : Tensor, ndarray or DataFrame
        Inputs, shape (n_samples, ...).
    perturb_func : callable, optional
        ``perturb_func(x) -> x_perturbed`` on the repeated inputs (``repeat_interleave``
        order). Default: uniform noise in the ball of radius ``perturb_radius``.
    perturb_radius : float or Tensor, default 0.02
        Radius, per feature if a tensor.
    n_perturb_samples : int, default 10
        Perturbations per sample.
    norm_ord : str or float, default "fro"
        Norm of the flattened difference, as in :func:`torch.norm`.
    random_state : int or torch.Generator, optional
        Seed for the default perturbation (the noise is drawn chunk by chunk, so results
        are reproducible for a given seed and ``batch_size``).
    batch_size : int, optional
        Most perturbed inputs per explainer call.
    **kwargs
        Passed to the explainer (``target``, ``baselines``, ...). Tensors whose first
        dimension equals ``n_samples`` are repeated along with the inputs.

    Returns
    -------
    Tensor of shape (n_samples,)

    References
    ----------
    .. [1] Yeh et al. "On the (In)fidelity and Sensitivity of Explanations." NeurIPS 2019.

    Examples
    --------
    >>> import torch
    >>> def explain(x, **_):
    ...     return 2 * x  # gradient of sum(x**2)
    >>> x = torch.ones(2, 3)
    >>> bool((sensitivity_max(explain, x, random_state=0) <= 0.02 + 1e-6).all())
    True
    """
    if n_perturb_samples < 1:
        raise ValueError(f"`n_perturb_samples` must be >= 1, got {n_perturb_samples}")
    explain = _explainer(explanation_func)
    x = to_tensor(inputs)
    n = len(x)
    target = kwargs.get("target")
    if target is not None and not isinstance(target, int):
        kwargs["target"] = torch.as_tensor(target, device=x.device)
    expl = to_tensor(explain(x, **kwargs), device=x.device, dtype=x.dtype).reshape(n, -1)
    norm = torch.norm  # accepts "fro" and numeric orders, like Captum
    base_norm = norm(expl, p=norm_ord, dim=1)
    base_norm = torch.where(base_norm == 0, torch.ones_like(base_norm), base_norm)
    if perturb_func is None:
        g = make_generator(random_state, x.device)
        radius = to_tensor(perturb_radius, device=x.device, dtype=x.dtype, name="perturb_radius")

        def perturb_func(xr: Tensor) -> Tensor:
            u = torch.rand(xr.shape, generator=g, device=xr.device, dtype=xr.dtype)
            return xr + (2 * u - 1) * radius

    rows = torch.arange(n * n_perturb_samples, device=x.device)
    sens = torch.empty(len(rows), dtype=x.dtype, device=x.device)
    for idx in chunks(rows, batch_size):
        b = idx // n_perturb_samples
        x_pert = to_tensor(perturb_func(x[b]), device=x.device, dtype=x.dtype)
        e = to_tensor(explain(x_pert, **_expand_kwargs(kwargs, n, b)), device=x.device,
                      dtype=x.dtype).reshape(len(idx), -1)
        sens[idx] = norm(e - expl[b], p=norm_ord, dim=1) / base_norm[b]
    return sens.view(n, n_perturb_samples).amax(1)


class SensitivityMax(Metric):
    """Class form of :func:`sensitivity_max`: ``SensitivityMax(explainer)(inputs, **kw)``.

    Examples
    --------
    >>> import torch
    >>> metric = SensitivityMax(lambda x, **_: torch.ones_like(x), random_state=0)
    >>> metric(torch.rand(3, 2)).tolist()  # a constant explanation never changes
    [0.0, 0.0, 0.0]
    """

    function = staticmethod(sensitivity_max)
    higher_is_better = False

    def update(self, inputs: Any, attributions: Any = None, *, target: Any = None) -> None:
        """Score one batch; ``attributions`` is unused (the explainer is re-run).

        Examples
        --------
        >>> import torch
        >>> metric = SensitivityMax(lambda x, **_: 2 * x, perturb_radius=0.01, random_state=0)
        >>> scores = metric(torch.ones(2, 3))  # |2 dx| / |2 x| <= 0.01 * sqrt(3) / sqrt(3)
        >>> bool((scores <= 0.01 + 1e-6).all()), len(metric.scores)
        (True, 1)
        """
        kwargs = dict(self.options)
        if target is not None:
            kwargs["target"] = target
        self.scores.append(sensitivity_max(self.forward_func, inputs, **kwargs).detach())
