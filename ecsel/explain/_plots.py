"""Matplotlib plots of explanations (matplotlib is imported only when plotting).

Every function takes ``ax=None`` (a new figure) and returns the axes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _axes(ax, size=(6.0, 4.0)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=size)
    return ax


def _order(importance: np.ndarray, max_display: int) -> np.ndarray:
    return np.argsort(-importance, kind="stable")[:max_display][::-1]


def waterfall(expl, sample: int = 0, max_display: int = 10, ax=None):
    """Waterfall from ``base_value`` to the explained score for one sample.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> ax = est.explain(X.iloc[:3]).plot_waterfall(0)
    >>> ax.get_xlabel()
    'score'
    """
    ax = _axes(ax, (7.0, 4.0))
    values = expl.values[sample]
    base = float(expl.base_values[sample])
    order = _order(np.abs(values), max_display)
    rest = np.setdiff1d(np.arange(len(values)), order)
    labels = [f"{expl.feature_names[j]} = {_fmt(expl.data[sample], expl, j)}" for j in order]
    steps = list(values[order])
    if rest.size:
        labels.insert(0, f"{rest.size} other features")
        steps.insert(0, float(values[rest].sum()))
    start = base
    ends = [base]
    for y, step in enumerate(steps):
        color = "#d62728" if step >= 0 else "#1f77b4"
        ax.barh(y, step, left=start, color=color)
        ax.text(max(start, start + step), y, f" {step:+.3g}", va="center", fontsize=8)
        start += step
        ends.append(start)
    # room on the right for the value labels (they were cut off at the edge)
    low, high = min(ends), max(ends)
    span = (high - low) or 1.0
    ax.set_xlim(low - 0.05 * span, high + 0.25 * span)
    ax.set_yticks(range(len(labels)), labels)
    ax.axvline(base, color="grey", lw=0.8, ls="--")
    ax.axvline(start, color="black", lw=0.8)
    ax.set_xlabel(getattr(expl, "score_name", "score"))
    ax.set_title(f"base {base:.3g} -> f(x) {start:.3g}")
    return ax


def _fmt(row, expl, j) -> str:
    name = expl.feature_names[j]
    if name in expl.data_names:
        value = row[expl.data_names.index(name)]
        return f"{value:.3g}" if isinstance(value, (float, np.floating)) else str(value)
    return ""


def beeswarm(expl, max_display: int = 15, ax=None):
    """Summary plot: one dot per sample and feature, x = attribution, colour = value.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> ax = est.explain(X).plot_beeswarm()
    >>> len(ax.get_yticks())
    2
    """
    ax = _axes(ax, (6.0, 0.4 * min(max_display, len(expl.feature_names)) + 1.5))
    values = expl.values
    order = _order(np.abs(values).mean(axis=0), max_display)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(expl.data, columns=expl.data_names)
    scatter = None
    for y, j in enumerate(order):
        colour = _colour_values(frame, expl.feature_names[j], len(values))
        jitter = _jitter(values[:, j], rng)
        if colour is None:  # unordered categories have no low or high: grey
            ax.scatter(values[:, j], y + jitter, color="#888888", s=8)
            continue
        scatter = ax.scatter(values[:, j], y + jitter, c=colour, cmap="coolwarm", s=8,
                             vmin=0.0, vmax=1.0)
    ax.set_yticks(range(len(order)), [expl.feature_names[j] for j in order])
    ax.axvline(0.0, color="grey", lw=0.8)
    ax.set_xlabel(f"attribution ({getattr(expl, 'score_name', 'score')})")
    if scatter is not None:
        ax.figure.colorbar(scatter, ax=ax,
                           label="numeric feature value (rank); grey: category")
    return ax


def _colour_values(frame: pd.DataFrame, name: str, n: int) -> np.ndarray | None:
    """Numeric feature values mapped to [0, 1] by rank; ``None`` for a categorical
    column (its levels have no order to colour by)."""
    if name not in frame.columns:
        return np.full(n, 0.5)
    column = frame[name]
    try:
        numeric = column.to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        return None
    ranks = pd.Series(numeric).rank(pct=True).to_numpy()
    return np.nan_to_num(ranks, nan=0.5)


def _jitter(values: np.ndarray, rng) -> np.ndarray:
    """Vertical spread proportional to the local density of the attributions."""
    if len(values) < 2 or np.ptp(values) == 0:
        return rng.uniform(-0.3, 0.3, len(values))
    bins = np.digitize(values, np.linspace(values.min(), values.max(), 40))
    counts = np.bincount(bins)[bins]
    return rng.uniform(-0.4, 0.4, len(values)) * counts / counts.max()


def bar(importance: pd.Series, max_display: int = 15, ax=None):
    """Horizontal bars of a per-feature importance Series."""
    ax = _axes(ax)
    top = importance.sort_values(ascending=True).iloc[-max_display:]
    ax.barh(range(len(top)), top.to_numpy(), color="#1f77b4")
    ax.set_yticks(range(len(top)), list(top.index))
    ax.set_xlabel(importance.name or "importance")
    return ax


def terms(expl, ax=None):
    """Term contributions: one sample's, or the mean absolute value over samples."""
    ax = _axes(ax)
    values = expl.values
    if values.ndim == 3:
        values = values[:, 1:] if values.shape[1] > 1 else values
        values = values.reshape(len(values), -1)
        names = [f"{o}: {t}" for o in (expl.output_names[1:] if len(expl.output_names) > 1
                                       else expl.output_names) for t in expl.feature_names]
    else:
        names = list(expl.feature_names)
    if len(values) == 1:
        heights, label = values[0], "contribution (t_k(x) - mean t_k(b))"
    else:
        heights, label = np.abs(values).mean(axis=0), "mean |term contribution|"
    colors = ["#d62728" if h >= 0 else "#1f77b4" for h in heights]
    ax.barh(range(len(heights)), heights, color=colors)
    # a long printed term is cut (its full text is the explanation's feature name)
    ax.set_yticks(range(len(heights)),
                  [n if len(n) <= 48 else n[:46] + "..." for n in names])
    ax.set_xlabel(label)
    return ax


def partial_dependence(frame: pd.DataFrame, ax=None):
    """Line (numeric) or bar (categorical) plot of a partial-dependence table."""
    ax = _axes(ax)
    feature = frame.columns[0]
    x = frame[feature]
    numeric = pd.api.types.is_numeric_dtype(x)
    for output in frame.columns[1:]:
        if numeric:
            ax.plot(x, frame[output], label=str(output))
        else:
            ax.plot(range(len(x)), frame[output], "o-", label=str(output))
    if not numeric:
        ax.set_xticks(range(len(x)), [str(v) for v in x], rotation=45)
    ax.set_xlabel(feature)
    ax.set_ylabel("partial dependence of the score")
    if len(frame.columns) > 2:
        ax.legend()
    return ax
