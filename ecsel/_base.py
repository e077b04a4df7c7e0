"""What the ECSEL classifier and regressor share: input handling, exports, fitted state.

The fit preamble (:meth:`ECSELBase._fit_setup`: parameters checked against
``_parameter_constraints``, device, seeds), the input checks, the explicit "remember
the training data" step of :meth:`ECSELBase._fit_transform` (a background sample and
the training ranges, used by the explanations) and the exports.
"""

from __future__ import annotations

import functools
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from tqdm.auto import tqdm

from ecsel._fit.primitives import resolve_device
from ecsel._transform import PositivityTransform, _is_categorical
from ecsel.export.json import estimator_to_json

MAX_BACKGROUND = 100
BACKGROUND_SEED = 0


class _Count(Interval):
    """An integer interval that, unlike scikit-learn's, rejects booleans."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def _frame_from_dataframe(X: pd.DataFrame) -> pd.DataFrame:
    frame = X.reset_index(drop=True)
    if not all(isinstance(c, str) for c in frame.columns):
        frame.columns = [f"x{j}" for j in range(frame.shape[1])]
    return frame


def atomic_fit(fit):
    """Make ``fit`` all-or-nothing: on any error the estimator is left as it was.

    ``validate_data`` sets ``n_features_in_`` before the data are fully checked;
    without this, a failed fit would leave an estimator that looks fitted.
    """

    @functools.wraps(fit)
    def wrapper(self, *args, **kwargs):
        snapshot = dict(self.__dict__)
        try:
            return fit(self, *args, **kwargs)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(snapshot)
            raise

    return wrapper


def sample_rows(frame: pd.DataFrame, n: int = MAX_BACKGROUND) -> pd.DataFrame:
    """A fixed-seed sample of at most ``n`` rows.

    Examples
    --------
    >>> import pandas as pd
    >>> len(sample_rows(pd.DataFrame({"a": range(500)})))
    100
    """
    if len(frame) <= n:
        return frame.reset_index(drop=True)
    return frame.sample(n=n, random_state=BACKGROUND_SEED).reset_index(drop=True)


def column_ranges(frame: pd.DataFrame) -> dict:
    """``{column: (min, max)}`` for numeric columns and ``{column: levels}`` otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> column_ranges(pd.DataFrame({"x": [3.0, 1.0, None], "c": ["b", "a", "b"]}))
    {'x': (1.0, 3.0), 'c': ('a', 'b')}
    """
    ranges = {}
    for name in frame.columns:
        series = frame[name]
        # Missing entries are no level and no value: never part of a range.
        if _is_categorical(series):
            ranges[name] = tuple(sorted({str(v) for v in series.dropna()}))
        else:
            values = series.to_numpy(dtype=np.float64, na_value=np.nan)
            values = values[~np.isnan(values)]
            ranges[name] = (float(np.min(values)), float(np.max(values))) if values.size \
                else (np.nan, np.nan)
    return ranges


def remember_training_data(est, frame: pd.DataFrame) -> None:
    """Store ``background_`` (<= 100 rows, seed 0) and ``feature_range_`` on ``est``.

    The explicit fit-time step behind the explanations' defaults (``explain`` without
    a background, counterfactual bounds).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> remember_training_data(est, X.iloc[:3])
    >>> len(est.background_), sorted(est.feature_range_)
    (3, ['m', 'v'])
    """
    est.background_ = sample_rows(frame)
    est.feature_range_ = column_ranges(frame)


def check_predict_input(est, X) -> pd.DataFrame:
    """``X`` checked against a fitted estimator, as a frame with the fit's column names.

    The one input check of ``predict`` and of the explanations (array or DataFrame;
    the number and names of the columns, finite numbers, at least one row).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, X = example_estimator()
    >>> list(check_predict_input(est, X.iloc[:2]).columns)
    ['m', 'v']
    """
    check_is_fitted(est)
    columns = est.signomial_.input_features
    if isinstance(X, pd.DataFrame):
        validate_data(est, X, reset=False, skip_check_array=True)
        if X.shape[0] == 0:
            raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
        frame = X.reset_index(drop=True)
        frame.columns = columns
        return frame
    dtype = None if est.signomial_.transform.categorical_inputs else np.float64
    X = validate_data(est, X, reset=False, dtype=dtype, ensure_all_finite="allow-nan")
    return pd.DataFrame(X, columns=columns)


class ECSELBase:
    """Mixin with the shared machinery of the ECSEL estimators (not an estimator).

    ``_parameter_constraints`` is the one list of parameter checks, in scikit-learn's
    format (``BaseEstimator._validate_params`` applies it at the start of ``fit``); a
    new parameter gets its entry here. Parameters an estimator does not have are
    skipped.
    """

    _parameter_constraints: dict = {
        "n_terms": [StrOptions({"auto"}), _Count(Integral, 1, 16, closed="both")],
        "alpha": [Interval(Real, 0, np.inf, closed="left")],
        "n_restarts": [_Count(Integral, 1, None, closed="left")],
        "max_iter": [_Count(Integral, 1, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="neither")],
        "device": [str, torch.device, None],
        "model_selection": [StrOptions({"best", "accuracy"})],
        "max_complexity": [_Count(Integral, 0, None, closed="left"), None],
        "monotonic_cst": ["array-like", dict, None],
        "exponent_bounds": [tuple, list, dict, None],
        "units": [dict, None],
        "target_units": [dict, None],
    }

    def _validate_fit_input(self, X, y, *, y_numeric: bool):
        """Validated raw frame and 1-D y; sets n_features_in_ / feature_names_in_."""
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
            if X.shape[1] == 0:
                raise ValueError("Found array with 0 feature(s) while a minimum of 1 is required.")
            if y is None:
                raise ValueError(
                    f"{type(self).__name__} requires y to be passed, but the target y is None."
                )
            y = self._validate_y(y, len(X), y_numeric)
            return _frame_from_dataframe(X), y
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=y_numeric,
                             ensure_all_finite="allow-nan")
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]), y

    @staticmethod
    def _validate_y(y, n_samples: int, y_numeric: bool):
        y = check_array(y, ensure_2d=False, dtype="numeric" if y_numeric else None,
                        ensure_all_finite=True)
        y = column_or_1d(y, warn=True)
        if y.shape[0] != n_samples:
            raise ValueError(
                f"Found input variables with inconsistent numbers of samples: "
                f"[{n_samples}, {y.shape[0]}]"
            )
        return y

    def _validate_predict_input(self, X) -> pd.DataFrame:
        return check_predict_input(self, X)

    # -------------------------------------------------------------- fitting
    def _fit_setup(self):
        self._validate_params()  # scikit-learn's, from _parameter_constraints
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        return device, rng, generator

    def _fit_transform(self, frame: pd.DataFrame):
        """Fit the input map, then remember the training data (background, ranges)."""
        transform = PositivityTransform.fit(frame)  # validates before anything is stored
        log_u = transform.log_features(transform.encode(frame))
        remember_training_data(self, frame)
        return transform, log_u

    def _progress(self, total: int, desc: str):
        if not self.verbose:
            return None
        return tqdm(total=total, desc=desc, leave=False)

    def _set_fitted(self, signomial, *, n_features_in, feature_names_in=None, classes=None,
                    threshold=0.5):
        """Install a fitted signomial (used by ``fit`` and by JSON loading)."""
        self.signomial_ = signomial
        self.n_features_in_ = int(n_features_in)
        if feature_names_in is not None:
            self.feature_names_in_ = np.asarray(feature_names_in, dtype=object)
        if classes is not None:
            self.classes_ = np.asarray(classes)
            self.threshold_ = float(threshold)
        self.n_terms_ = signomial.n_terms
        return self

    # -------------------------------------------------------------- exports
    def sympy(self, precision: int | None = None):
        """The learned equation as SymPy, in the original units of the inputs.

        The symbols are the DataFrame's column names (``x0, x1, ...`` for arrays);
        one-hot levels of categorical columns appear as indicator factors
        ``exp(g * col[level])``. A multiclass classifier returns one expression per
        class (the reference class ``classes_[0]`` has score 0).
        """
        check_is_fitted(self)
        return self.signomial_.to_sympy(precision=precision)

    def latex(self, precision: int | None = 4) -> str:
        """The learned equation as LaTeX."""
        check_is_fitted(self)
        return self.signomial_.to_latex(precision=precision)

    def to_json(self) -> str:
        """The fitted estimator as a JSON document (see :func:`ecsel.load_json`)."""
        return estimator_to_json(self)

    def _scores(self, X) -> np.ndarray:
        frame = self._validate_predict_input(X)
        return self.signomial_.evaluate(frame)
