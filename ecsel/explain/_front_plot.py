"""Plot of the complexity-accuracy front (matplotlib is imported only when plotting)."""

from __future__ import annotations

import pandas as pd


def plot_front(table: pd.DataFrame, selected: int | None = None, *, ax=None,
               score_name: str = "validation score"):
    """Validation score against complexity along the front, the selected row marked.

    Parameters
    ----------
    table : DataFrame
        An ``equations_`` table (columns ``complexity`` and ``score``).
    selected : int, optional
        Row label to mark (the deployed equation).
    ax : matplotlib Axes, optional
        Axes to draw on; a new figure when None.
    score_name : str
        Label of the y axis.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [0, 2, 6], "score": [0.5, 0.9, 0.92]})
    >>> ax = plot_front(t, selected=1)
    >>> [round(float(v), 2) for v in ax.lines[0].get_ydata()]
    [0.5, 0.9, 0.92]
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 4.0))
    x = table["complexity"].to_numpy()
    y = table["score"].to_numpy()
    ax.plot(x, y, marker="o", drawstyle="steps-post", color="0.3", label="front")
    if selected is not None:
        row = table.loc[selected]
        ax.scatter([row["complexity"]], [row["score"]], s=120, facecolors="none",
                   edgecolors="tab:red", linewidths=2, zorder=3,
                   label=f"selected (complexity {int(row['complexity'])})")
    ax.set_xlabel("complexity (factors)")
    ax.set_ylabel(score_name)
    ax.legend(loc="lower right")
    return ax
