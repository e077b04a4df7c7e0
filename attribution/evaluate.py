"""Evaluation harness: every attribution method scored by every metric, as a tidy DataFrame.

>>> import torch
>>> from attribution.evaluate import evaluate, summarize
>>> model = torch.nn.Linear(6, 3)
>>> x = torch.rand(4, 6)
>>> methods = {"weights": lambda inputs, target: model.weight[target].detach() * inputs,
...            "random": torch.randn(4, 6)}
>>> df = evaluate(model, x, None, methods=methods, metrics=["insertion", "deletion"])
>>> sorted(df.columns)[:4]
['attribution_time_s', 'higher_is_better', 'method', 'metric']
>>> summarize(df).shape
(4, 9)
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor

from .metrics import (
    CompletenessError,
    CurveResult,
    Deletion,
    FaithfulnessCorrelation,
    Infidelity,
    Insertion,
    Monotonicity,
    PixelFlipping,
    RegionPerturbation,
    SensitivityMax,
    sensitivity_max,
)
from .metrics._adapter import as_forward_func, prepare, to_tensor

__all__ = ["METRICS", "evaluate", "plot_curves", "summarize"]

#: The metrics :func:`evaluate` knows, as their classes; each class states its own
#: ``function``, ``higher_is_better`` and ``returns_curves`` (the one place for them).
_METRIC_CLASSES = (
    Insertion,
    Deletion,
    PixelFlipping,
    RegionPerturbation,
    FaithfulnessCorrelation,
    Infidelity,
    SensitivityMax,
    CompletenessError,
    Monotonicity,
)

#: name -> (function, higher_is_better), derived from the classes.
METRICS: dict[str, tuple[Callable[..., Any], bool]] = {
    cls.get_name(): (cls.function, cls.higher_is_better) for cls in _METRIC_CLASSES
}
_CURVE_METRICS = {cls.get_name() for cls in _METRIC_CLASSES if cls.returns_curves}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _explainer(method: Any, module: Any, name: str) -> Callable[..., Any] | None:
    """Callable ``(inputs, target=..., [baselines=...]) -> attributions``; None if precomputed."""
    if isinstance(method, (Tensor, np.ndarray, pd.DataFrame)):
        return None
    if isinstance(method, type):
        if module is None:
            raise ValueError(
                f"method {name!r} needs gradients, but the model has no torch module "
                "(scikit-learn models support precomputed attributions or callables only)"
            )
        method = method(module)
    if hasattr(method, "attribute"):
        return method.attribute
    if callable(method):
        return method
    raise TypeError(f"method {name!r} must be an attribution object, class, callable or array")


def _attribute(
    explain: Callable[..., Any], x: Tensor, target: Tensor, baselines: Any, single_output: bool
) -> Tensor:
    """Run a method. A single-output (binary logit) model has one column: the method explains
    column 0 (``z``) and rows whose target is 0 (``-z``) get negated attributions."""
    kwargs: dict[str, Any] = {"target": torch.zeros_like(target) if single_output else target}
    if baselines is not None and _accepts(explain, "baselines"):
        kwargs["baselines"] = baselines
    out = explain(x, **kwargs)
    out = out[0] if isinstance(out, tuple) else out
    a = to_tensor(out, device=x.device, dtype=x.dtype, name="attributions")
    if single_output and a.shape == x.shape:
        sign = (2 * target - 1).to(a.dtype).view(-1, *([1] * (a.ndim - 1)))
        a = a * sign
    return a


def _run_metric(
    name: str, spec: Any, f: Any, x: Tensor, a: Tensor, target: Tensor, explain: Any,
    kwargs: dict[str, Any],
) -> Tensor | CurveResult:
    fn = METRICS[name][0] if isinstance(spec, str) else spec
    if fn is sensitivity_max:
        if explain is None:
            return torch.full((len(x),), float("nan"))
        single = getattr(f, "single_output", False)  # methods explain column 0 (see _attribute)
        return sensitivity_max(explain, x, target=torch.zeros_like(target) if single else target,
                               **kwargs)
    if name in _CURVE_METRICS and _accepts(fn, "return_curves"):
        kwargs = {"return_curves": True, **kwargs}
    return fn(f, x, a, target=target, **kwargs)


def _metric_specs(metrics: Sequence[str] | Mapping[str, Any]) -> dict[str, Any]:
    specs = dict(metrics) if isinstance(metrics, Mapping) else {m: m for m in metrics}
    for name, spec in specs.items():
        if isinstance(spec, str) and spec not in METRICS:
            raise ValueError(f"unknown metric {spec!r}; choose from {sorted(METRICS)}")
        if not isinstance(spec, str) and not callable(spec):
            raise TypeError(f"metric {name!r} must be a name or a callable")
    return specs


def _metric_kwargs(
    name: str, spec: Any, baselines: Any, metric_kwargs: Mapping[str, Any], random_state: Any
) -> dict[str, Any]:
    fn = METRICS[spec][0] if isinstance(spec, str) else spec
    kwargs: dict[str, Any] = {}
    if baselines is not None and _accepts(fn, "baselines") and fn is not sensitivity_max:
        kwargs["baselines"] = baselines
    if random_state is not None and _accepts(fn, "random_state"):
        kwargs["random_state"] = random_state
    kwargs.update(metric_kwargs.get(name, {}))
    return kwargs


def evaluate(
    forward_func: Any,
    inputs: Any,
    target: Any = None,
    *,
    methods: Mapping[str, Any],
    metrics: Sequence[str] | Mapping[str, Any] = ("insertion", "deletion"),
    baselines: Any = 0.0,
    metric_kwargs: Mapping[str, Mapping[str, Any]] | None = None,
    random_state: int | None = 0,
    aggregate: bool = False,
) -> pd.DataFrame:
    """Score every attribution method with every metric.

    Parameters
    ----------
    forward_func : nn.Module, callable, ECSEL estimator or sklearn classifier
        The model (see :class:`~attribution.metrics._adapter.ForwardAdapter`).
    inputs : Tensor, ndarray or DataFrame, shape (n_samples, ...)
        Inputs to explain.
    target : int, sequence or Tensor, optional
        Explained class; ``None`` uses the class predicted on each input, for every method.
    methods : mapping of str to method
        Each value is an attribution object (``.attribute``), an attribution class (built
        with the model's torch module), a callable ``f(inputs, target=..., [baselines=...])``
        or precomputed attributions (tensor, array or DataFrame, same shape as inputs).
    metrics : sequence of str or mapping of str to callable
        Metric names from :data:`METRICS`, or ``name -> metric(forward_func, inputs,
        attributions, *, target, **kw)``. ``sensitivity_max`` re-runs the method (NaN for
        precomputed attributions).
    baselines : float or Tensor, default 0.0
        Reference input, passed to methods and metrics that take ``baselines`` (the same
        reference for attributions and substrate); ``None`` passes nothing.
    metric_kwargs : mapping, optional
        Per-metric keyword arguments, e.g. ``{"insertion": {"baselines": "blur"}}``.
    random_state : int, optional
        Seed passed to stochastic metrics.
    aggregate : bool, default False
        Return :func:`summarize` of the per-sample table.

    Returns
    -------
    pandas.DataFrame
        One row per (method, metric, sample): ``method``, ``metric``, ``sample``, ``score``,
        ``higher_is_better``, ``attribution_time_s`` (whole batch) and ``metric_time_s``.
        ``df.attrs["curves"][(method, metric)]`` holds ``(fractions, curves)`` numpy arrays
        for curve metrics (see :func:`plot_curves`).

    Examples
    --------
    >>> import torch
    >>> model = torch.nn.Linear(3, 2)
    >>> x = torch.rand(5, 3)
    >>> df = evaluate(model, x, 1, methods={"w": model.weight[1].detach() * x},
    ...               metrics=["deletion", "completeness_error"], aggregate=True)
    >>> list(df["metric"])
    ['completeness_error', 'deletion']
    """
    f = as_forward_func(forward_func)
    _, x, t, _ = prepare(f, inputs, target, softmax=True, batch_size=None)
    specs = _metric_specs(metrics)
    metric_kwargs = metric_kwargs or {}
    rows: list[pd.DataFrame] = []
    curves: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
    for method_name, method in methods.items():
        explain = _explainer(method, f.module, method_name)
        _sync(x.device)
        start = time.perf_counter()
        a = method if explain is None else _attribute(explain, x, t, baselines, f.single_output)
        a = to_tensor(a, device=x.device, dtype=x.dtype, name="attributions")
        _sync(x.device)
        t_attr = float("nan") if explain is None else time.perf_counter() - start
        for metric_name, spec in specs.items():
            kwargs = _metric_kwargs(metric_name, spec, baselines, metric_kwargs, random_state)
            start = time.perf_counter()
            out = _run_metric(metric_name, spec, f, x, a, t, explain, kwargs)
            _sync(x.device)
            t_metric = time.perf_counter() - start
            if isinstance(out, CurveResult):
                curves[(method_name, metric_name)] = (
                    out.fractions.cpu().numpy(), out.curves.cpu().float().numpy()
                )
                out = out.scores
            higher = METRICS[spec][1] if isinstance(spec, str) else getattr(
                spec, "higher_is_better", None)
            rows.append(pd.DataFrame({
                "method": method_name,
                "metric": metric_name,
                "sample": np.arange(len(x)),
                "score": torch.as_tensor(out).detach().cpu().double().numpy(),
                "higher_is_better": higher,
                "attribution_time_s": t_attr,
                "metric_time_s": t_metric,
            }))
    df = pd.concat(rows, ignore_index=True)
    df.attrs["curves"] = curves
    return summarize(df) if aggregate else df


def summarize(results: pd.DataFrame) -> pd.DataFrame:
    """Aggregate :func:`evaluate`'s per-sample table to one row per (method, metric).

    Returns
    -------
    pandas.DataFrame
        Columns ``method``, ``metric``, ``mean``, ``std``, ``sem``, ``n``,
        ``higher_is_better``, ``attribution_time_s``, ``metric_time_s``.

    Examples
    --------
    >>> import torch
    >>> from attribution.evaluate import evaluate
    >>> model = torch.nn.Linear(3, 2)
    >>> x = torch.rand(5, 3)
    >>> per_sample = evaluate(model, x, 1, methods={"w": model.weight[1].detach() * x},
    ...                       metrics=["completeness_error"])
    >>> len(per_sample), summarize(per_sample)[["metric", "n"]].values.tolist()
    (5, [['completeness_error', 5]])
    """
    grouped = results.groupby(["method", "metric"], sort=True)
    out = grouped["score"].agg(["mean", "std", "sem", "count"]).rename(columns={"count": "n"})
    firsts = grouped[["higher_is_better", "attribution_time_s", "metric_time_s"]].first()
    out = out.join(firsts).reset_index()
    out.attrs = dict(results.attrs)
    return out


def plot_curves(
    results: pd.DataFrame | Mapping[str, CurveResult],
    metric: str = "insertion",
    *,
    ax: Any = None,
) -> Any:
    """Plot mean insertion/deletion (or any curve metric) curves per method.

    Parameters
    ----------
    results : DataFrame from :func:`evaluate`, or mapping of method name to CurveResult
        Curves to plot (the DataFrame carries them in ``attrs["curves"]``).
    metric : str, default "insertion"
        Which curve metric to plot when ``results`` is a DataFrame.
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure is created when ``None``.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import torch
    >>> from attribution.metrics import insertion
    >>> model = torch.nn.Linear(4, 2)
    >>> x = torch.rand(3, 4)
    >>> ax = plot_curves({"random": insertion(model, x, torch.rand(3, 4), return_curves=True)})
    >>> ax.get_xlabel()
    'fraction of features'
    """
    try:
        import matplotlib.pyplot as plt
    except ModuleNotFoundError as exc:  # pragma: no cover - optional dependency
        raise ModuleNotFoundError(
            "plot_curves needs matplotlib: pip install 'ecsel[plot]'"
        ) from exc
    if isinstance(results, pd.DataFrame):
        items = {m: fc for (m, name), fc in results.attrs.get("curves", {}).items()
                 if name == metric}
        if not items:
            raise ValueError(f"no {metric!r} curves in these results")
    else:
        items = {m: (r.fractions.cpu().numpy(), r.curves.detach().cpu().float().numpy())
                 for m, r in results.items()}
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.5))
    for name, (fractions, curves) in items.items():
        mean = curves.mean(0)
        auc = float(((mean[1:] + mean[:-1]) / 2 * np.diff(fractions)).sum())
        ax.plot(fractions, mean, label=f"{name} (AUC {auc:.3f})")
    ax.set_xlabel("fraction of features")
    ax.set_ylabel("score")
    ax.set_title(metric)
    ax.legend(fontsize="small")
    return ax
