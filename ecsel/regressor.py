"""ECSELRegressor: symbolic regression with signomial equations."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ecsel._base import ECSELBase, atomic_fit
from ecsel._fit import constraints as cst
from ecsel._fit import sparsify
from ecsel._fit.front import FrontMixin, install_fit
from ecsel._fit.primitives import thread_budget
from ecsel._fit.source import holdout_mask, split_salt
from ecsel._fit.symbolic import SymbolicSearch
from ecsel.explain._mixin import ExplainMixin
from ecsel.signomial import Signomial
from ecsel.uncertainty import UncertaintyMixin, calibration_rows

MAX_AUTO_TERMS = 10
MAX_ABS_TARGET = 1e150


class ECSELRegressor(FrontMixin, ExplainMixin, UncertaintyMixin, ECSELBase, RegressorMixin,
                     BaseEstimator):
    """Signomial regression: ``y = b + sum_k c_k * prod_j x_j ** a_kj``.

    The exponents are searched by variable projection (the intercept and
    coefficients are always the exact least-squares solution for the current
    exponents) with restarts batched on one tensor, Adam with a proximal L1 step,
    then an L-BFGS polish. The result is cleaned up so that the printed equation
    is the deployed model: terms are dropped, and exponents snapped to simple
    rationals (..., -3/2, -1, -1/2, 0, 1/3, 1/2, 2/3, 3/4, 1, ...), only when that
    does not worsen the Bayesian information criterion on the validation split.
    An exponent such as 0.3 therefore survives when it is the truth.

    Parameters
    ----------
    n_terms : int or "auto", default="auto"
        Number of terms. ``"auto"`` grows the model one term at a time (up to 10,
        and fewer on small data: a size must fit fewer numbers than there are
        training rows, see :func:`auto_size_limit`), each size seeded by the
        previous one plus the best simple monomial, and stops as soon as the
        validation BIC does not improve or the fit is exact.
    alpha : float, default=1e-3
        L1 strength on the exponents during the Adam stage.
    n_restarts : int, default=32
        Random restarts, optimised together as one batch. It also bounds the
        lattice stage: at most ``n_restarts`` lattice term sets are polished per
        model size, and the exhaustive subset search solves at most
        ``64 * n_restarts`` (and 2,000) term sets.
    max_iter : int, default=400
        Adam iterations per model size; every L-BFGS polish runs at most
        ``max(30, min(200, max_iter // 2))`` iterations. With the budgets, the
        work of a fit grows with ``n_restarts`` and ``max_iter`` (see
        :class:`~ecsel._fit.symbolic.SearchBudget`).
    validation_fraction : float, default=0.2
        Share of the data held out for early stopping and model selection: the rows
        whose hashed position (salted by ``random_state``) falls below it, the same
        rows :func:`ecsel.stream.fit_stream` holds out of the same table.
    model_selection : {"best", "accuracy"}, default="best"
        Which equation of the front ``equations_`` is deployed: ``"best"`` is the
        simplest whose validation MSE is within 2 % of the lowest, ``"accuracy"``
        the lowest (see :mod:`ecsel._fit.front`).
    max_complexity : int or None, default=None
        Only equations with at most this many factors can be selected.
    monotonic_cst : array-like of int, dict or None, default=None
        scikit-learn's convention (as in ``HistGradientBoostingRegressor``): -1, 0
        or +1 per feature, or ``{feature name: sign}``; +1 makes the prediction
        non-decreasing in that feature everywhere (outside the training range too),
        -1 non-increasing. Every term obeys ``sign * c_k * a_kj >= 0``, in every
        row of ``equations_``, and :meth:`monotonicity` certifies it from the
        closed form. A constrained feature must be numeric; its missingness
        indicator (if it had missing values) is held at exponent 0, so a missing
        value predicts exactly as the fill value does. See
        :mod:`ecsel._fit.constraints`.
    exponent_bounds : (low, high), dict or None, default=None
        A box for the exponents: one pair for every feature, or
        ``{feature name: (low, high)}``. ``low <= 0 <= high`` (0 is the exponent of
        a term that does not use the feature).
    units, target_units : dict or None, default=None
        Physical dimensions: ``units={feature: {base: power}}`` for every feature
        (``{}`` for a dimensionless one) and ``target_units={base: power}``. Every
        term of every row of ``equations_`` then has exactly the target's
        dimension (the numeric coefficients are dimensionless), and an intercept
        is fitted only for a dimensionless target. Missing or inconsistent
        specifications raise ``ValueError``. Cannot be combined with
        ``monotonic_cst`` or ``exponent_bounds``.
    device : str, default="auto"
        Torch device; ``"auto"`` uses CUDA when it is present.
    random_state : int, RandomState or None, default=None
    verbose : bool, default=False
        Show a progress bar over model sizes; when the search stops early (a
        size did not improve the validation BIC) the bar ends at the sizes
        actually fitted.

    Attributes
    ----------
    signomial_ : Signomial
        The fitted equation (the deployed model): the selected row of ``equations_``.
    equations_ : DataFrame
        The complexity-accuracy front: every model size's fit and its sparsity path
        (one factor fewer per step, refitted), Pareto filtered; columns
        ``complexity``, ``n_terms``, ``loss`` (validation MSE), ``score``
        (validation R^2), ``equation``, ``sympy_format``, ``source``, ``signomial``.
    selected_index_ : int
        Row of ``equations_`` held by ``signomial_``.
    n_terms_ : int
    constraints_ : dict
        The constraints the fit obeyed, per column: ``monotonic`` ({column: sign}),
        ``exponent_bounds`` ({column: [low, high]}) and, with units, ``units`` and
        ``target_units``. Stored in the JSON document.
    n_iter_ : int
        Adam steps taken over all model sizes.
    y_scale_ : float
        Root mean square of the training target (the fit runs on ``y / y_scale_``).
    calibration_ : dict
        The validation split's log-features and targets (at most 20,000 rows), the
        calibration rows of :meth:`predict_interval`.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Defined when X is a DataFrame with string column names.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 300), "v": rng.uniform(1, 5, 300)})
    >>> y = 0.5 * X["m"] * X["v"] ** 2
    >>> est = ECSELRegressor(random_state=0).fit(X, y)
    >>> est.sympy(precision=3)
    0.5*m*v**2
    """

    _front_task = "regression"

    def __init__(self, n_terms="auto", *, alpha=1e-3, n_restarts=32, max_iter=400,
                 validation_fraction=0.2, model_selection="best", max_complexity=None,
                 monotonic_cst=None, exponent_bounds=None, units=None, target_units=None,
                 device="auto", random_state=None, verbose=False):
        self.n_terms = n_terms
        self.alpha = alpha
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.validation_fraction = validation_fraction
        self.model_selection = model_selection
        self.max_complexity = max_complexity
        self.monotonic_cst = monotonic_cst
        self.exponent_bounds = exponent_bounds
        self.units = units
        self.target_units = target_units
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    @atomic_fit
    def fit(self, X, y):
        """Fit the equation to ``X`` (array or DataFrame) and target ``y``.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 200), "v": rng.uniform(1, 5, 200)})
        >>> est = ECSELRegressor(random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> est.sympy(precision=6)
        0.5*m*v**2
        """
        device, rng, generator = self._fit_setup()
        salt = split_salt(rng)
        frame, y = self._validate_fit_input(X, y, y_numeric=True)
        transform, log_u = self._fit_transform(frame)
        constraints, space, documented = self._constraints(transform)
        y = np.asarray(y, dtype=np.float64)
        if np.abs(y).max() > MAX_ABS_TARGET:  # its squared errors overflow float64
            raise ValueError(
                f"y has values up to {np.abs(y).max():.3g}, beyond {MAX_ABS_TARGET:g}: "
                "squared errors of such a target overflow. Divide y by a constant and "
                "multiply the predictions back.")
        y_scale = float(np.sqrt(np.mean(y**2)))
        y_scale = y_scale if y_scale > 0 else 1.0
        held = holdout_mask(np.arange(len(y)), self.validation_fraction, salt)
        work_log_u = log_u if space is None else cst.working_log_u(space, log_u)
        train, val = self._split(work_log_u, y / y_scale, held, device)
        return fit_search(self, train, val, transform=transform, y_scale=y_scale,
                          generator=generator, rng=rng, device=device,
                          n_features_in=self.n_features_in_,
                          feature_names_in=getattr(self, "feature_names_in_", None),
                          constraints=(constraints, space, documented))

    def _constraints(self, transform):
        """Search constraints, unit space (or None) and the JSON-ready record."""
        constraints = cst.build(transform, self.monotonic_cst, self.exponent_bounds)
        documented = dict(constraints.columns)
        if self.units is None and self.target_units is None:
            return constraints, None, documented
        if constraints.columns["monotonic"] or constraints.columns["exponent_bounds"]:
            raise ValueError("units cannot be combined with monotonic_cst or exponent_bounds "
                             "in this version.")
        space = cst.unit_space(transform, self.units, self.target_units)
        documented.update(cst.units_document(self.units, self.target_units))
        return cst.working_constraints(space), space, documented

    @staticmethod
    def _split(log_u, y, held, device):
        """Training and validation rows (``held``: the rows of :func:`holdout_mask`);
        both are all rows below 20 rows or when the hash leaves one side empty."""
        as_tensor = lambda a: torch.as_tensor(a, dtype=torch.float64, device=device)  # noqa: E731
        if len(y) < 20 or held.all() or not held.any():
            data = (as_tensor(log_u), as_tensor(y))
            return data, data
        return ((as_tensor(log_u[~held]), as_tensor(y[~held])),
                (as_tensor(log_u[held]), as_tensor(y[held])))

    def _search_sizes(self, search: SymbolicSearch):
        anchor = search.log_linear_start()
        sizes = [self.n_terms] if self.n_terms != "auto" else list(
            range(1, auto_size_limit(*search.train_log_u.shape) + 1))
        progress = self._progress(len(sizes), "ECSEL model sizes")
        best, fits, misses = None, [], 0
        for size in sizes:
            fit = search.run(size, anchor, previous=fits[-1] if fits else None)
            fits.append(fit)
            if progress is not None:
                progress.update(1)
            if best is not None and fit.bic >= best.bic:
                # A perfect fit with fitted exponents may be collinear monomials
                # imitating a longer law with rational ones (x**6 + ... + x on
                # [0.5, 2] is imitated by 3 and 4 terms): look two sizes further.
                misses += 1
                if misses >= (2 if search.is_perfect(best) else 1):
                    break
                continue
            best, misses = fit, 0
            if search.is_exact_law(fit):
                break
        if progress is not None:
            # The search stops once a size no longer helps: the bar ends at the
            # sizes actually fitted (2/2, not 2/10).
            progress.total = len(fits)
            progress.set_postfix_str(f"{len(fits)} of up to {len(sizes)} sizes fitted")
            progress.refresh()
            progress.close()
        return best, fits

    def predict(self, X, index=None):
        """Evaluate the equation at ``X`` (``index``: a row of ``equations_``).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 200), "v": rng.uniform(1, 5, 200)})
        >>> est = ECSELRegressor(random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> est.predict(pd.DataFrame({"m": [2.0], "v": [3.0]})).round(10).tolist()
        [9.0]
        """
        check_is_fitted(self)
        return self._scores(X, index)[:, 0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def auto_size_limit(n_rows: int, n_features: int) -> int:
    """Largest model size ``n_terms="auto"`` tries on ``n_rows`` training rows.

    The polish moves every exponent of every term, so a ``K``-term model fits
    ``K * (n_features + 1) + 1`` numbers; with as many as there are training rows
    it interpolates them (its BIC cannot win, and its polish never converges).
    Sizes stop below that, at ``MAX_AUTO_TERMS``, and never below 1.

    >>> auto_size_limit(19, 10), auto_size_limit(19, 2), auto_size_limit(1600, 9)
    (1, 5, 10)
    """
    fitted_per_term = n_features + 1
    return int(np.clip((n_rows - 2) // fitted_per_term, 1, MAX_AUTO_TERMS))


def fit_search(estimator: ECSELRegressor, train, val, *, transform, y_scale: float,
               generator: torch.Generator, rng: np.random.RandomState,
               device: torch.device, n_features_in: int,
               feature_names_in=None, constraints=None) -> ECSELRegressor:
    """The regressor's symbolic search, sparsity path and install, for every fit.

    ``ECSELRegressor.fit`` and :func:`ecsel.stream.fit_stream` both end here.
    ``train`` and ``val`` are ``(log_u, y / y_scale)`` tensor pairs of the training
    and validation rows (for a streamed fit, row-hash samples of them; with units,
    ``log_u`` in the unit space's working coordinates). ``constraints`` is the
    ``(constraints, unit space, record)`` triple of ``_constraints`` (None: built
    here from the estimator's parameters, without units). The model sizes
    (:class:`~ecsel._fit.symbolic.SymbolicSearch`), the front
    (:func:`~ecsel._fit.sparsify.regressor_candidates`) and the selected row are
    installed on ``estimator`` through its one door; returns it.
    """
    if constraints is None:
        constraints = estimator._constraints(transform)
        if constraints[1] is not None:
            raise ValueError("units need the in-memory fit (ECSELRegressor.fit).")
    constraints, space, documented = constraints

    def to_full(expo):
        if space is None:
            return expo
        full = cst.full_exponents(space, expo.detach().cpu().numpy())
        return torch.as_tensor(full, dtype=expo.dtype, device=expo.device)

    search = SymbolicSearch(train, val, n_restarts=estimator.n_restarts, l1=estimator.alpha,
                            max_iter=estimator.max_iter, generator=generator, rng=rng,
                            constraints=constraints,
                            to_full=None if space is None else to_full)

    def to_signomial(fit):
        n_terms = fit.expo.shape[0]
        coef = fit.coef.cpu().numpy() * y_scale
        expo = to_full(fit.expo).cpu().numpy()
        keep = coef != 0
        if keep.any():
            return Signomial([fit.intercept * y_scale], coef[keep][None], expo[keep][None],
                             transform, ["y"])
        return Signomial([fit.intercept * y_scale], np.zeros((1, n_terms)), expo[None],
                         transform, ["y"])

    with thread_budget(train[0].numel() * estimator.n_restarts, device):
        _, fits = estimator._search_sizes(search)
        candidates = sparsify.regressor_candidates(fits, search, to_signomial, y_scale)
    cst.check_front(candidates, constraints if space is None else None, space)
    return install_fit(estimator, candidates, n_features_in=n_features_in,
                       feature_names_in=feature_names_in, n_val=search.n_val,
                       y_scale_=y_scale, n_iter_=search.n_steps, constraints_=documented,
                       calibration_=calibration_rows(*val, y_scale))
