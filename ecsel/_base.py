"""What the ECSEL classifier and regressor share: input handling, exports, fitted state.

The fit preamble (:meth:`ECSELBase._fit_setup`: parameters checked against
``_parameter_constraints``, device, seeds), the input checks, the explicit "remember
the training data" step of :meth:`ECSELBase._fit_transform` (a background sample and
the training ranges, used by the explanations) and the exports.
"""

from __future__ import annotations

import functools
import warnings
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import is_classifier
from sklearn.utils import check_array, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data
from tqdm.auto import tqdm

from ecsel._fit.front import Candidate, front_table, signomial_complexity
from ecsel._fit.primitives import resolve_device
from ecsel._transform import PositivityTransform, is_categorical
from ecsel.export.json import estimator_to_json
from ecsel.export.onnx import signomial_to_onnx
from ecsel.export.python import signomial_to_python
from ecsel.export.sql import signomial_to_sql

MAX_BACKGROUND = 100
BACKGROUND_SEED = 0


class _Count(Interval):
    """An integer interval that, unlike scikit-learn's, rejects booleans."""

    def is_satisfied_by(self, val):
        return not isinstance(val, (bool, np.bool_)) and super().is_satisfied_by(val)


def check_column_names(X: pd.DataFrame) -> None:
    """Refuse column names that mix strings with other types (scikit-learn's TypeError).

    All-string names are the features' names; all non-string names (``pd.DataFrame(
    array)``'s 0, 1, ...) are positions, and the inputs are called ``x0, x1, ...``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_column_names(pd.DataFrame({"a": [1.0], 1: [2.0]}))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: X has column names of mixed types (int and str): ['a', 1]; use strings ...
    """
    kinds = {type(c).__name__ for c in X.columns}
    if "str" in kinds and len(kinds) > 1:
        shown = list(X.columns)[:8]
        raise ValueError(
            f"X has column names of mixed types ({' and '.join(sorted(kinds))}): {shown}; "
            "use strings for all of them, e.g. X.columns = X.columns.astype(str)."
        )


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


#: Fewer rows than this never make a column look like a row identifier.
MIN_ROWS_FOR_ID = 10


class IDColumnWarning(UserWarning):
    """A column looks like a row identifier (a name or an index), not a feature."""


def id_like_columns(frame: pd.DataFrame) -> dict[str, str]:
    """``{column: why}`` for the columns of ``frame`` that look like row identifiers.

    A non-numeric column with a different value in every row (car names, customer
    ids), or a numeric column of distinct integers that is monotone in row order or
    spans at most twice the number of rows (``rownames`` 1..n, also after a shuffled
    split). Such a column describes the row, not the case: a model that uses it
    memorises the training rows. Frames under ``MIN_ROWS_FOR_ID`` rows are not judged.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"rownames": range(1, 13), "name": list("abcdefghijkl"),
    ...                       "x": [1.5, 2, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]})
    >>> id_like_columns(frame)
    {'rownames': 'a monotone integer index', 'name': 'a different text value in every row'}
    """
    n = len(frame)
    found: dict[str, str] = {}
    if n < MIN_ROWS_FOR_ID:
        return found
    for name in frame.columns:
        series = frame[name]
        if series.isna().any() or series.nunique() != n:
            continue
        if is_categorical(series):
            found[str(name)] = "a different text value in every row"
        elif pd.api.types.is_numeric_dtype(series.dtype) \
                and not pd.api.types.is_bool_dtype(series.dtype):
            values = series.to_numpy(dtype=np.float64)
            if not np.all(values == np.round(values)):
                continue
            steps = np.diff(values)
            if np.all(steps > 0) or np.all(steps < 0):
                found[str(name)] = "a monotone integer index"
            elif values.max() - values.min() + 1 <= 2 * n:
                found[str(name)] = "distinct integers, one per row (an index?)"
    return found


def warn_id_like_columns(frame: pd.DataFrame) -> None:
    """One :class:`IDColumnWarning` per column that :func:`id_like_columns` finds."""
    for name, why in id_like_columns(frame).items():
        warnings.warn(
            f"Column {name!r} looks like a row identifier ({why}); a model that uses it "
            "memorises rows. Drop it unless it is a real feature.",
            IDColumnWarning, stacklevel=4)


def classifier_link(classes) -> dict:
    """The ``link`` / ``reference_class`` keywords of a classifier's :class:`Signomial`.

    Examples
    --------
    >>> classifier_link(["no", "yes"]), classifier_link([0, 1, 2])["link"]
    ({'link': 'logit', 'reference_class': 'no'}, 'softmax')
    """
    return {"link": "logit" if len(classes) == 2 else "softmax",
            "reference_class": str(classes[0])}


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
        if is_categorical(series):
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
        check_column_names(X)
        if not hasattr(est, "feature_names_in_") and list(X.columns) == columns:
            # a frame this package built (x0, x1, ... of a fit without string names),
            # passed on by an explanation: not the user's names, so no warning
            X = X.set_axis(range(X.shape[1]), axis=1)
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
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [_Count(Integral, 1, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _validate_fit_input(self, X, y, *, y_numeric: bool):
        """Validated raw frame and 1-D y; sets n_features_in_ / feature_names_in_."""
        if isinstance(X, pd.DataFrame):
            check_column_names(X)
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
        warn_id_like_columns(frame)  # before the transform refuses 65+ distinct names
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
        if classes is not None and signomial.link == "identity":  # a file from before links
            signomial = signomial.with_link(**classifier_link(classes))
        self.signomial_ = signomial
        self.n_features_in_ = int(n_features_in)
        if feature_names_in is not None:
            self.feature_names_in_ = np.asarray(feature_names_in, dtype=object)
        if classes is not None:
            self.classes_ = np.asarray(classes)
            self.threshold_ = float(threshold)
        self.n_terms_ = signomial.n_terms
        return self

    @classmethod
    def from_signomial(cls, signomial, X=None, *, classes=None, threshold: float = 0.5,
                       **params):
        """A fitted estimator whose equation is ``signomial``, without fitting.

        The public door for an equation built or tuned elsewhere (a distilled student,
        an equation written by hand, a test oracle). Every fitted attribute is set as
        ``fit`` sets it: ``signomial_``, ``n_terms_``, ``n_features_in_``,
        ``feature_names_in_`` (unless the input columns carry the default names ``x0,
        x1, ...`` of an array), ``classes_`` and ``threshold_`` for a classifier, and a
        one-row ``equations_`` front with ``selected_index_ = 0`` (its validation
        ``loss`` and ``score`` are NaN: no validation split chose this equation).

        Parameters
        ----------
        signomial : Signomial
        X : DataFrame, optional
            Training-like rows: a sample becomes ``background_`` and their ranges
            ``feature_range_`` (the defaults of ``explain`` and ``counterfactual``),
            as after ``fit``. Without ``X`` those need explicit arguments.
        classes : array-like, optional
            Classifier only: the class labels, ``signomial.n_outputs + 1`` of them
            (the first is the reference class with score 0). Default ``0, 1, ...``.
        threshold : float, default 0.5
            Classifier only: the probability threshold of a binary ``predict``.
        **params
            Estimator parameters (validated as in ``fit``).

        Returns
        -------
        estimator
            A new fitted estimator of this class.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import ECSELRegressor, PositivityTransform, Signomial
        >>> X = pd.DataFrame({"r": [1.0, 2.0, 4.0]})  # r is scaled by its median, 2
        >>> t = PositivityTransform.fit(X)
        >>> est = ECSELRegressor.from_signomial(Signomial([0.0], [[3.0]], [[[-2.0]]], t), X)
        >>> est.predict(X).round(6).tolist(), est.selected_index_, len(est.equations_)
        ([12.0, 3.0, 0.75], 0, 1)
        """
        if not (hasattr(signomial, "transform") and hasattr(signomial, "n_outputs")):
            raise ValueError(f"signomial must be a Signomial, got {type(signomial).__name__}")
        estimator = cls(**params)
        estimator._validate_params()
        names = [str(c) for c in signomial.input_features]
        default_names = names == [f"x{j}" for j in range(len(names))]
        if is_classifier(estimator):
            classes = np.arange(signomial.n_outputs + 1) if classes is None \
                else np.asarray(classes)
            if classes.ndim != 1 or len(classes) != signomial.n_outputs + 1:
                raise ValueError(f"classes must hold {signomial.n_outputs + 1} labels for a "
                                 f"signomial with {signomial.n_outputs} output(s), got "
                                 f"{classes.tolist()}")
            if not 0 < threshold < 1:
                raise ValueError(f"threshold must be in (0, 1), got {threshold!r}")
        elif classes is not None:
            raise ValueError(f"{cls.__name__} has no classes; pass classes=None")
        estimator._set_fitted(signomial, n_features_in=len(names),
                              feature_names_in=None if default_names else names,
                              classes=classes, threshold=threshold)
        estimator.equations_ = front_table(
            [Candidate(signomial, float("nan"), float("nan"),
                       signomial_complexity(signomial), source="from_signomial")], text=False)
        estimator.selected_index_ = 0
        if X is not None:
            frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(
                np.asarray(X), columns=names)
            if [str(c) for c in frame.columns] != names:
                raise ValueError(f"X has the columns {[str(c) for c in frame.columns]}, the "
                                 f"signomial reads {names}")
            remember_training_data(estimator, frame.reset_index(drop=True))
        return estimator

    # -------------------------------------------------------------- exports
    # to_onnx / to_sql / to_python read row ``index`` through FrontMixin._row_signomial
    def to_json(self) -> str:
        """The fitted estimator as a JSON document (see :func:`ecsel.load_json`)."""
        return estimator_to_json(self)

    def to_onnx(self, index: int | None = None):
        """The equation as an ``onnx.ModelProto`` on the raw columns (``ecsel[onnx]``).

        Inputs: one per raw column, shape ``[N, 1]``: double for numeric columns
        (NaN is missing), string for categorical and boolean ones (the empty string
        is missing). Outputs: ``label``, ``probabilities`` and ``scores``
        (``decision_function``) for a classifier, ``prediction`` for a regressor.
        ``index`` picks a row of ``equations_`` (default: the selected equation).
        See :mod:`ecsel.export.onnx`.

        Examples
        --------
        >>> import onnxruntime as ort
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> session = ort.InferenceSession(est.to_onnx().SerializeToString())
        >>> feed = {c: X[[c]].to_numpy(dtype="float64") for c in X.columns}
        >>> bool(np.allclose(session.run(["prediction"], feed)[0], est.predict(X)))
        True
        """
        return signomial_to_onnx(self._row_signomial(index), estimator=self)

    def to_sql(self, table: str, dialect: str = "sqlite", keep=(), index: int | None = None
               ) -> str:
        """One SQL ``SELECT`` computing the model from the raw columns of ``table``.

        ``dialect``: ``"sqlite"``, ``"duckdb"`` or ``"postgres"``. The result has the
        ``keep`` columns, then ``prediction`` (regressor) or ``score``/``score_<c>``,
        ``proba_<c>`` and ``prediction`` (classifier). ``NULL`` is a missing value.
        ``index`` picks a row of ``equations_``. See :mod:`ecsel.export.sql`.

        Examples
        --------
        >>> import sqlite3
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> db = sqlite3.connect(":memory:")
        >>> X.assign(id=range(len(X))).to_sql("rows", db, index=False)
        200
        >>> rows = db.execute(est.to_sql("rows", keep=["id"]) + " ORDER BY id").fetchall()
        >>> bool(np.allclose([p for _, p in rows], est.predict(X), rtol=1e-12))
        True
        """
        return signomial_to_sql(self._row_signomial(index), table, dialect, keep,
                                estimator=self)

    def to_python(self, name: str = "ecsel_predict", index: int | None = None) -> str:
        """Source of a dependency-free function ``name(row)`` (standard ``math`` only).

        ``row`` is a dict of raw column values (``None`` or NaN is missing). The
        function returns the prediction (regressor) or a dict with ``score``,
        ``probabilities`` and ``label`` (classifier). ``index`` picks a row of
        ``equations_``. See :mod:`ecsel.export.python`.

        Examples
        --------
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> namespace = {}
        >>> exec(est.to_python(), namespace)
        >>> row = X.iloc[0].to_dict()
        >>> bool(np.isclose(namespace["ecsel_predict"](row), est.predict(X.iloc[:1])[0]))
        True
        """
        return signomial_to_python(self._row_signomial(index), name, estimator=self)
