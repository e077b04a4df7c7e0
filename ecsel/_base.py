"""What the ECSEL classifier and regressor share: input handling, exports, fitted state."""

from __future__ import annotations

import functools
import numbers

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from ecsel._engine import resolve_device
from ecsel._transform import PositivityTransform


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


class ECSELBase:
    """Mixin with the shared machinery of the ECSEL estimators (not an estimator)."""

    # ----------------------------------------------------------- validation
    def _validate_params(self) -> None:
        if not (self.n_terms == "auto" or (
            isinstance(self.n_terms, numbers.Integral) and not isinstance(self.n_terms, bool)
            and 1 <= self.n_terms <= 16
        )):
            raise ValueError(f"n_terms must be 'auto' or an int in [1, 16], got {self.n_terms!r}.")
        for name in ("n_restarts", "max_iter"):
            value = getattr(self, name)
            if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        if not isinstance(self.alpha, numbers.Real) or not np.isfinite(self.alpha) or \
                self.alpha < 0:
            raise ValueError(f"alpha must be a non-negative float, got {self.alpha!r}.")
        if not (0.0 < self.validation_fraction < 0.5):
            raise ValueError(
                f"validation_fraction must be in (0, 0.5), got {self.validation_fraction!r}."
            )
        resolve_device(self.device)

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
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=y_numeric)
        return pd.DataFrame(X, columns=[f"x{j}" for j in range(X.shape[1])]), y

    @staticmethod
    def _validate_y(y, n_samples: int, y_numeric: bool):
        from sklearn.utils import check_array
        from sklearn.utils.validation import column_or_1d

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
        check_is_fitted(self)
        columns = self.signomial_.input_features
        if isinstance(X, pd.DataFrame):
            validate_data(self, X, reset=False, skip_check_array=True)
            if X.shape[0] == 0:
                raise ValueError("Found array with 0 sample(s) while a minimum of 1 is required.")
            frame = X.reset_index(drop=True)
            frame.columns = columns
            return frame
        dtype = None if self.signomial_.transform.categorical_inputs else np.float64
        X = validate_data(self, X, reset=False, dtype=dtype)
        return pd.DataFrame(X, columns=columns)

    # -------------------------------------------------------------- fitting
    def _fit_setup(self):
        self._validate_params()
        device = resolve_device(self.device)
        rng = check_random_state(self.random_state)
        seed = int(rng.randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        return device, rng, generator

    @staticmethod
    def _fit_transform(frame: pd.DataFrame):
        transform = PositivityTransform.fit(frame)
        log_u = transform.log_features(transform.encode(frame))
        return transform, log_u

    def _progress(self, total: int, desc: str):
        if not self.verbose:
            return None
        from tqdm.auto import tqdm

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
        from ecsel.export.json import estimator_to_json

        return estimator_to_json(self)

    def _scores(self, X) -> np.ndarray:
        frame = self._validate_predict_input(X)
        return self.signomial_.evaluate(frame)
