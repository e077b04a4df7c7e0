"""The :class:`Explanation` container returned by ``est.explain``."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecsel.explain._plots import bar, beeswarm, waterfall


class Explanation:
    """Attributions of a set of samples, in the layout ``shap`` users expect.

    Parameters
    ----------
    values : ndarray of shape (n_samples, n_features) or (n_samples, n_outputs, n_features)
        One attribution per sample (and output) and feature.
    base_values : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        What the attributions start from: ``values.sum(-1) + base_values`` is the
        explained quantity (the decision function for ``method="shapley"``).
    data : ndarray of shape (n_samples, n_data_columns)
        The raw input rows being explained.
    feature_names : list of str
        Names of the attributed units: raw input columns (a categorical column's
        one-hot levels form one feature) or, for ``method="terms"``, the terms.
    output_names : list of str, optional
        Names of the outputs (classes) for multi-output values.
    method : str, default="shapley"
    data_names : list of str, optional
        Column names of ``data`` (defaults to ``feature_names``).
    score_name : str, default="score"
        What the values add up to, for the plots' axes (``"log-odds"`` for a
        classifier's explanation).

    Examples
    --------
    >>> e = Explanation(np.array([[1.0, -0.5]]), np.array([2.0]), np.array([[3.0, 4.0]]),
    ...                 ["a", "b"])
    >>> e.values.sum(-1) + e.base_values
    array([2.5])
    >>> e.to_frame()
         a    b
    0  1.0 -0.5
    """

    def __init__(self, values, base_values, data, feature_names, output_names=None,
                 method: str = "shapley", data_names=None, score_name: str = "score"):
        self.values = np.asarray(values, dtype=np.float64)
        self.base_values = np.asarray(base_values, dtype=np.float64)
        self.data = np.asarray(data)
        self.feature_names = list(feature_names)
        self.output_names = None if output_names is None else list(output_names)
        self.method = method
        self.data_names = list(data_names) if data_names is not None else list(feature_names)
        self.score_name = score_name
        if self.values.shape[-1] != len(self.feature_names):
            raise ValueError("values must have one column per feature name.")
        if self.values.shape[:-1] != self.base_values.shape:
            raise ValueError(
                f"base_values shape {self.base_values.shape} does not match values "
                f"shape {self.values.shape} without its feature axis."
            )

    # ------------------------------------------------------------- container
    @property
    def shape(self) -> tuple[int, ...]:
        return self.values.shape

    def __len__(self) -> int:
        return self.values.shape[0]

    def __getitem__(self, index) -> Explanation:
        """Select samples (``e[0]``, ``e[:10]``, a boolean mask) and keep the layout."""
        rows = np.arange(len(self))[index]
        rows = np.atleast_1d(rows)
        return Explanation(self.values[rows], self.base_values[rows], self.data[rows],
                           self.feature_names, self.output_names, self.method,
                           self.data_names, self.score_name)

    def output(self, name) -> Explanation:
        """The single-output explanation of one output (class) of a multi-output one.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> values = np.array([[[0.0, 0.0], [1.0, -2.0]]])  # 1 sample, 2 classes, 2 features
        >>> e = Explanation(values, np.array([[0.0, 0.5]]), np.array([[3.0, 4.0]]), ["a", "b"],
        ...                 output_names=["no", "yes"])
        >>> one = e.output("yes")
        >>> one.values.tolist(), one.base_values.tolist(), one.output_names
        ([[1.0, -2.0]], [0.5], None)
        """
        if self.values.ndim != 3:
            raise ValueError("This explanation has a single output.")
        labels = [str(n) for n in self.output_names]
        if str(name) not in labels:
            raise ValueError(f"Unknown output {name!r}; choose from {labels}.")
        o = labels.index(str(name))
        return Explanation(self.values[:, o], self.base_values[:, o], self.data,
                           self.feature_names, None, self.method, self.data_names,
                           self.score_name)

    def __repr__(self) -> str:
        return (f"Explanation(method={self.method!r}, values shape={self.values.shape}, "
                f"features={self.feature_names})")

    # ---------------------------------------------------------------- tables
    def to_frame(self, long: bool = False) -> pd.DataFrame:
        """The attributions as a DataFrame.

        Parameters
        ----------
        long : bool, default=False
            ``False``: one row per sample and one column per feature (a column
            MultiIndex ``(output, feature)`` for multi-output values). ``True``: a tidy
            table with columns ``sample, [output,] feature, value, base_value``.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> e = Explanation(np.array([[1.0, -0.5], [0.0, 2.0]]), np.array([2.0, 2.0]),
        ...                 np.array([[3.0, 4.0], [5.0, 6.0]]), ["a", "b"])
        >>> e.to_frame(long=True)
           sample feature  value  base_value
        0       0       a    1.0         2.0
        1       0       b   -0.5         2.0
        2       1       a    0.0         2.0
        3       1       b    2.0         2.0
        """
        n = len(self)
        if not long:
            if self.values.ndim == 2:
                return pd.DataFrame(self.values, columns=self.feature_names)
            columns = pd.MultiIndex.from_product([self.output_names, self.feature_names],
                                                 names=["output", "feature"])
            return pd.DataFrame(self.values.reshape(n, -1), columns=columns)
        if self.values.ndim == 2:
            frame = self.to_frame().rename_axis("sample").reset_index()
            tidy = frame.melt(id_vars="sample", var_name="feature", value_name="value")
            tidy["base_value"] = self.base_values[tidy["sample"].to_numpy()]
            return tidy.sort_values(["sample"], kind="stable").reset_index(drop=True)
        parts = []
        for name in self.output_names:
            part = self.output(name).to_frame(long=True)
            part.insert(1, "output", name)
            parts.append(part)
        tidy = pd.concat(parts, ignore_index=True)
        return tidy.sort_values(["sample"], kind="stable").reset_index(drop=True)

    def mean_abs(self) -> pd.Series:
        """Global importance: mean absolute attribution per feature (summed over outputs).

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> e = Explanation(np.array([[1.0, -3.0], [-1.0, 1.0]]), np.zeros(2), np.zeros((2, 2)),
        ...                 ["a", "b"])
        >>> e.mean_abs().to_dict()
        {'a': 1.0, 'b': 2.0}
        """
        values = np.abs(self.values)
        per_feature = values.mean(axis=0)
        if per_feature.ndim == 2:
            per_feature = per_feature.sum(axis=0)
        return pd.Series(per_feature, index=self.feature_names, name="mean_abs")

    # ----------------------------------------------------------------- plots
    def plot_waterfall(self, sample: int = 0, output=None, max_display: int = 10, ax=None):
        """Waterfall of one sample's attributions from the base value to the score.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> e = Explanation(np.array([[1.0, -3.0]]), np.array([0.5]), np.array([[1.0, 2.0]]),
        ...                 ["a", "b"])
        >>> ax = e.plot_waterfall(sample=0)
        >>> ax.get_title(), [float(p.get_width()) for p in ax.patches]  # 0.5 + 1 - 3 = -1.5
        ('base 0.5 -> f(x) -1.5', [1.0, -3.0])
        """

        return waterfall(self._single(output), sample, max_display=max_display, ax=ax)

    def plot_beeswarm(self, output=None, max_display: int = 15, ax=None):
        """Beeswarm summary: one dot per sample and feature, coloured by feature value.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> e = Explanation(np.array([[1.0, -3.0], [-1.0, 1.0]]), np.zeros(2),
        ...                 np.array([[1.0, 2.0], [3.0, 4.0]]), ["a", "b"])
        >>> ax = e.plot_beeswarm()
        >>> [c.get_offsets()[:, 0].tolist() for c in ax.collections]  # a dot per sample and feature
        [[1.0, -1.0], [-3.0, 1.0]]
        """

        return beeswarm(self._single(output), max_display=max_display, ax=ax)

    def plot_bar(self, max_display: int = 15, ax=None):
        """Bar chart of the mean absolute attribution per feature.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel import Explanation
        >>> e = Explanation(np.array([[1.0, -3.0], [-1.0, 1.0]]), np.zeros(2), np.zeros((2, 2)),
        ...                 ["a", "b"])
        >>> ax = e.plot_bar()
        >>> [float(p.get_width()) for p in ax.patches], ax.get_xlabel()  # the mean |attribution|
        ([1.0, 2.0], 'mean_abs')
        """

        return bar(self.mean_abs(), max_display=max_display, ax=ax)

    def _single(self, output) -> Explanation:
        if self.values.ndim == 2:
            return self
        if output is None:
            output = self.output_names[-1]
        return self.output(output)
