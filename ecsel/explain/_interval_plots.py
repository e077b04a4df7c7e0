"""Plots of intervals: error bars on parameters, bands on partial dependence.

Used by :class:`ecsel.uncertainty.UncertaintyMixin`; every function takes ``ax=None``
(a new figure) and returns the axes. Matplotlib is imported only when plotting.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def parameter_errorbars(table: pd.DataFrame, ax=None):
    """One row per parameter: the estimate and its interval (EBM-style error bars).

    Examples
    --------
    >>> t = pd.DataFrame({"parameter": ["coef[0]", "exponent[0, x]"],
    ...                   "estimate": [0.5, 1.5], "lower": [0.4, 1.3], "upper": [0.6, 1.8]})
    >>> parameter_errorbars(t).get_yticklabels()[0].get_text()
    'coef[0]'
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 0.4 * len(table) + 1.2))
    pos = np.arange(len(table))[::-1]
    est = table["estimate"].to_numpy(dtype=np.float64)
    err = np.vstack([np.maximum(est - table["lower"].to_numpy(dtype=np.float64), 0),
                     np.maximum(table["upper"].to_numpy(dtype=np.float64) - est, 0)])
    ax.errorbar(est, pos, xerr=err, fmt="o", capsize=3)
    ax.set_yticks(pos)
    ax.set_yticklabels(table["parameter"])
    ax.axvline(0.0, color="grey", lw=0.5)
    level = table.attrs.get("level")
    ax.set_xlabel("value" + (f" ({level:.0%} interval)" if level else ""))
    ax.set_ylabel("parameter")
    return ax


def band(deployed: pd.DataFrame, lower: np.ndarray, upper: np.ndarray, level: float, ax=None):
    """A partial-dependence table (feature column, one column per output) with bands.

    Examples
    --------
    >>> pdp = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [1.0, 4.0, 9.0]})
    >>> ax = band(pdp, np.array([[0.8], [3.5], [8.0]]), np.array([[1.2], [4.5], [10.0]]), 0.9)
    >>> len(ax.collections), ax.get_xlabel()
    (1, 'x')
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    grid = deployed.iloc[:, 0].to_numpy()
    numeric = np.issubdtype(np.asarray(grid).dtype, np.number)
    x = grid if numeric else np.arange(len(grid))
    for o, name in enumerate(deployed.columns[1:]):
        line, = ax.plot(x, deployed[name], label=str(name))
        ax.fill_between(x, lower[:, o], upper[:, o], color=line.get_color(), alpha=0.25)
    if not numeric:
        ax.set_xticks(x)
        ax.set_xticklabels([str(v) for v in grid])
    ax.set_xlabel(str(deployed.columns[0]))
    ax.set_ylabel(f"partial dependence ({level:.0%} band)")
    return ax
