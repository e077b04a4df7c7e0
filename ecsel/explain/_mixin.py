"""Explanation methods shared by the ECSEL estimators.

Every method works on the fitted closed form ``signomial_``: Shapley values, log-score
decompositions, elasticities, monotonicity, partial dependence, decision boundaries
and counterfactuals are exact (or exact up to a bracketed root / a small constrained
optimisation where stated) and need no sampling.
"""

from __future__ import annotations

import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ecsel.explain import (
    _boundary,
    _common,
    _counterfactual,
    _elasticity,
    _front_plot,
    _local,
    _plots,
)
from ecsel.export.torch import SignomialModule


class ExplainMixin:
    """Exact, closed-form explanations of a fitted ECSEL estimator.

    The examples use a fitted regressor of ``y = 0.5 m v^2`` on ``m, v`` in [1, 5].

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> est.sympy(precision=3)
    0.5*m*v**2
    """

    # ------------------------------------------------------------- local
    def explain(self, X, background=None, method: str = "shapley"):
        """Exact attributions of the decision function (or score) for the rows ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        background : array-like or DataFrame, optional
            Reference rows of the interventional game. ``None`` uses ``background_``,
            a fixed-seed sample of at most 100 training rows stored by ``fit`` (or, for
            an estimator without one, a fixed-seed sample of at most 100 rows of ``X``).
        method : {"shapley", "log-linear", "terms"}, default="shapley"
            ``"shapley"``: exact interventional Shapley values of the score, one per
            raw input column (a categorical column's one-hot levels are one player),
            in closed form for any number of terms. ``"log-linear"``: the exact
            additive decomposition of ``log|z - intercept|`` of one-term outputs,
            ``a_j (log u_j(x) - mean_b log u_j(b))``. ``"terms"``: the contribution
            of every term, ``t_k(x) - mean_b t_k(b)``.

        Returns
        -------
        Explanation
            ``values`` has shape (n_samples, n_features) for a regressor or binary
            classifier and (n_samples, n_classes, n_features) for a multiclass one
            (the reference class ``classes_[0]`` gets zeros), and
            ``values.sum(-1) + base_values`` equals ``decision_function(X)``
            (``predict`` for a regressor) up to rounding.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> e = est.explain(X.iloc[:5])
        >>> bool(np.allclose(e.values.sum(-1) + e.base_values, est.predict(X.iloc[:5])))
        True
        >>> e.feature_names
        ['m', 'v']
        """
        return _local.explain(self, X, background=background, method=method)

    # ------------------------------------------------------------ global
    def elasticities(self, X, semi: bool = False):
        """Point elasticities ``d log z / d log x_j`` of the score at the rows ``X``.

        For a power feature this is ``sum_k a_kj t_k(x) / z(x) * x_j / (x_j + shift_j)``;
        for a one-term model without intercept it is the exponent itself. Linear
        (signed) features give the same point elasticity ``x_j dz/dx_j / z``;
        ``semi=True`` returns ``d log z / d x_j`` instead.

        Parameters
        ----------
        X : DataFrame or array-like of shape (n_samples, n_features)
        semi : bool, default=False
            Semi-elasticities ``d log z / d x_j`` (per unit of ``x_j``).

        Returns
        -------
        DataFrame
            One row per row of ``X`` (its index kept) and one column per numeric
            input column: categorical and 0/1 columns have no derivative and are left
            out. A multiclass model has a column level per non-reference class
            (``(class, feature)``). A row where the column is missing gets NaN.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()  # y = 0.5 m v^2
        >>> est.elasticities(X.iloc[:2]).round(3)
        feature    m    v
        0        1.0  2.0
        1        1.0  2.0
        """
        return _elasticity.elasticities(self, X, semi=semi)

    def monotonicity(self, X=None):
        """Direction of the score in each feature over the training box.

        ``"increasing (proved)"`` / ``"decreasing (proved)"`` when ``coef * exponent``
        has one sign over all terms using the feature (every input map is
        non-decreasing, so the score is then monotone everywhere); otherwise the
        score is scanned over the feature's training range at background rows and
        labelled ``"increasing (numerical)"``, ``"decreasing (numerical)"`` or
        ``"non-monotone"``. ``X`` replaces the stored background and ranges.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> est.monotonicity()["monotonicity"].tolist()
        ['increasing (proved)', 'increasing (proved)']
        """
        return _elasticity.monotonicity(self, X)

    def feature_importance(self, X=None, background=None):
        """Global importance table: mean |Shapley|, share, elasticity, monotonicity.

        Attributions are computed for ``X`` (default: the stored background rows).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> list(est.feature_importance().index)
        ['v', 'm']
        """
        return _elasticity.importance(self, X, background=background)

    def partial_dependence(self, X=None, features=None, *, values=None, background=None):
        """Closed-form partial dependence of the score(s) on one feature.

        ``PD(t) = b0 + sum_k c_k f_kj(t) mean_b prod_{i != j} f_ki(b)``: a signomial in
        ``t``, averaged exactly over the rows.

        Parameters
        ----------
        X : DataFrame or array-like, optional
            The rows to average over (scikit-learn's ``partial_dependence(est, X,
            features)`` order); default: ``background_``, the stored sample of training
            rows. ``est.partial_dependence("age")`` (the feature first) also works.
        features : str or int
            The column (name or index).
        values : array-like, optional
            Where to evaluate; default: 64 points over the column's range (its levels
            for a categorical column).
        background : DataFrame, optional
            The old name of ``X``.

        Returns
        -------
        DataFrame
            The feature's values in the first column, then one column per output
            (the score, or the log-odds of each non-reference class).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> pdp = est.partial_dependence(X, "m", values=[1.0, 2.0])
        >>> bool(np.isclose(pdp["y"][1] / pdp["y"][0], 2.0))
        True
        >>> est.partial_dependence("m", values=[1.0, 2.0]).columns.tolist()
        ['m', 'y']
        """
        feature, rows = _common.feature_and_rows(X, features)
        if isinstance(values, pd.DataFrame) and rows is None:  # the old (feature, values) call
            values, rows = None, values
        rows = background if rows is None else rows
        if feature is None:
            raise ValueError("Pass features=: the column whose partial dependence to compute.")
        return _elasticity.partial_dependence(self, feature, values=values, background=rows)

    # ---------------------------------------------------------- boundary
    def decision_boundary(self, classes=None, level=None, solve_for=None, precision=None):
        """The decision boundary as a SymPy equation, optionally solved for a feature.

        Binary classifier: ``z(x) = logit(threshold_)``. Multiclass: ``z_a = z_b`` for
        ``classes=(a, b)`` (default: the first two classes). Regressor: ``z = level``.
        ``solve_for`` returns ``sympy.solve(equation, symbol)``.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> est.decision_boundary(level=2.0, precision=3)
        Eq(0.5*m*v**2, 2.0)
        """
        check_is_fitted(self)
        return _boundary.decision_boundary(self, classes=classes, level=level,
                                           solve_for=solve_for, precision=precision)

    def decision_boundary_at(self, X, feature, bounds=None, level=None):
        """For each row, the value of ``feature`` at which the prediction changes.

        Closed form for a one-term binary classifier or regressor; otherwise the
        feature's range (training range, or ``bounds=(low, high)``) is scanned and
        every sign change of the class margin is refined with ``scipy.optimize.brentq``.
        Categorical features list the levels that change the prediction. A row with no
        change gets NaN and the note ``"no change inside the feature's range"``.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> table = est.decision_boundary_at(pd.DataFrame({"m": [1.0], "v": [1.0]}), "m",
        ...                                  level=2.0)
        >>> round(float(table["boundary"][0]), 9)
        4.0
        """
        return _boundary.decision_boundary_at(self, X, feature, bounds=bounds, level=level)

    def counterfactual(self, x, target_class=None, target_proba=None, target_score=None,
                       features=None, bounds=None, relative=True, immutable=None):
        """The smallest change to allowed features that reaches a target decision.

        Parameters
        ----------
        x : one row (DataFrame, Series or 1-D array)
        target_class : label, optional
            Class to reach (binary default: the other class).
        target_proba : float, optional
            Reach at least this probability of ``target_class``.
        target_score : float, optional
            For a regressor: the score to reach.
        features : list, optional
            Features allowed to change (default: all numeric features). Categorical
            columns change only when listed here: every combination of their levels is
            tried, each switched category adding 1 to the squared distance.
        bounds : dict, optional
            ``{feature: (low, high)}``; the default is the training range.
        relative : bool, default=True
            Measure changes relative to the original values (``|dx| / |x0|``)
            rather than in absolute units.
        immutable : list, optional
            Features that must not change.

        Returns
        -------
        DataFrame
            Rows ``original`` and ``counterfactual`` with the inputs, the prediction
            (and class probabilities), the distance and a status.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> cf = est.counterfactual(pd.DataFrame({"m": [1.0], "v": [2.0]}),
        ...                         target_score=4.0, features=["m"])
        >>> round(float(cf.loc["counterfactual", "m"]), 6)
        2.0
        """
        return _counterfactual.counterfactual(
            self, x, target_class=target_class, target_proba=target_proba,
            target_score=target_score, features=features, bounds=bounds, relative=relative,
            immutable=immutable)

    # ------------------------------------------------------------- plots
    def plot_terms(self, X=None, background=None, ax=None):
        """Bar chart of the term contributions (one sample, or mean |.| over rows).

        Parameters
        ----------
        X : DataFrame or array-like, optional
            One row (its contributions) or several (mean absolute contribution);
            default: ``background_``, the stored sample of training rows.
        background : DataFrame, optional
            Reference rows (see :meth:`explain`).
        ax : matplotlib Axes, optional

        Returns
        -------
        matplotlib Axes
            One bar per term, labelled with the term as printed in
            ``str(est.signomial_)``.

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> ax = est.plot_terms(X.iloc[:3])
        >>> terms = est.explain(X.iloc[:3], method="terms").values
        >>> bool(np.isclose(ax.patches[0].get_width(), np.abs(terms).mean()))  # mean |contribution|
        True
        >>> est.plot_terms().get_xlabel()  # the stored training sample
        'mean |term contribution|'
        """
        if X is None:
            X = getattr(self, "background_", None)
            if X is None:
                raise ValueError("Pass X: the rows whose term contributions to plot.")
        return _plots.terms(self.explain(X, background=background, method="terms"), ax=ax)

    def plot_partial_dependence(self, X=None, features=None, *, values=None, background=None,
                                ax=None):
        """Line plot of the closed-form partial dependence (see :meth:`partial_dependence`).

        Arguments in scikit-learn's order (``PartialDependenceDisplay.from_estimator(
        est, X, features)``): ``est.plot_partial_dependence(X, "age")``; the feature
        alone (``est.plot_partial_dependence("age")``) averages over ``background_``.

        Returns
        -------
        matplotlib Axes

        Examples
        --------
        >>> import numpy as np
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()  # y = 0.5 m v^2
        >>> ax = est.plot_partial_dependence(X, "v", values=[1.0, 2.0, 3.0])
        >>> y = ax.lines[0].get_ydata()
        >>> bool(np.allclose(y / y[0], [1.0, 4.0, 9.0]))  # proportional to v^2
        True
        """
        return _plots.partial_dependence(
            self.partial_dependence(X, features, values=values, background=background), ax=ax)

    # ------------------------------------------------------------- torch
    def plot_front(self, ax=None):
        """Validation score against complexity, the selected equation marked.

        Examples
        --------
        >>> import matplotlib
        >>> matplotlib.use("Agg")
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 100), "v": rng.uniform(1, 5, 100)})
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> est.plot_front().get_xlabel()
        'complexity (factors)'
        """
        return _front_plot.plot_front(self._front(), self.selected_index_, ax=ax,
                                     score_name="validation R^2" if self._front_task == "regression"
                                     else "validation ROC AUC")

    def to_torch(self):
        """A differentiable ``torch.nn.Module`` mapping encoded raw features to scores.

        The module's input is ``est.signomial_.encode(X)`` (the raw matrix itself
        for all-numeric data). A binary classifier or regressor returns one column
        (the decision function); a multiclass classifier returns one logit per class
        (the reference class's logit is 0), matching ``decision_function``.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> import torch
        >>> module = est.to_torch()
        >>> x = torch.tensor(X.iloc[:3].to_numpy())
        >>> bool(np.allclose(module(x)[:, 0].detach().numpy(), est.predict(X.iloc[:3])))
        True
        """
        check_is_fitted(self)
        return SignomialModule(self.signomial_, reference_class=_common.is_multiclass(self)
                               ).double()
