"""Input handling shared by the explanation methods: rows, backgrounds, ranges, layouts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ecsel._base import check_predict_input, column_ranges, sample_rows


def is_multiclass(est) -> bool:
    return hasattr(est, "classes_") and len(est.classes_) > 2


def is_classifier(est) -> bool:
    return hasattr(est, "classes_")


def rows(est, X, what: str = "X") -> pd.DataFrame:
    """Validated raw frame with the fit column names (clear errors for bad input)."""
    check_is_fitted(est)
    columns = est.signomial_.input_features
    if isinstance(X, pd.Series):
        X = X.to_frame().T.infer_objects()
    if isinstance(X, pd.DataFrame):
        # fitted without string names (an array, or pd.DataFrame(array)'s 0, 1, ...):
        # the columns are matched by position, as in predict
        names = getattr(est, "feature_names_in_", None)
        if X.shape[1] != len(columns) or (
                names is not None and list(map(str, X.columns)) != list(names)):
            expected = list(names) if names is not None else columns
            raise ValueError(
                f"{what} has columns {list(X.columns)}, but the model was fitted on "
                f"{expected}; pass the same columns in the same order."
            )
    else:
        array = np.asarray(X, dtype=object)
        if array.ndim == 1:
            array = array[None, :]
        if array.ndim != 2 or array.shape[1] != est.n_features_in_:
            raise ValueError(
                f"{what} has {array.shape[-1] if array.ndim else 0} feature(s) but the "
                f"model expects {est.n_features_in_} (shape {array.shape})."
            )
        X = array if est.signomial_.transform.categorical_inputs else array.astype(float)
    try:
        frame = check_predict_input(est, X)
    except ValueError as exc:
        raise ValueError(f"Invalid {what}: {exc}") from exc
    return frame


def background_rows(est, background, X_frame: pd.DataFrame) -> pd.DataFrame:
    """The background frame: the given one, ``est.background_``, or a sample of ``X``.

    ``background=None`` uses the at most 100 training rows stored at fit time
    (``est.background_``); estimators without it (e.g. loaded from JSON) use a
    fixed-seed sample of at most 100 rows of the explained data.
    """
    if background is None:
        stored = getattr(est, "background_", None)
        if stored is not None:
            return stored
        return sample_rows(X_frame)
    frame = rows(est, background, what="background")
    if len(frame) == 0:
        raise ValueError("background must contain at least one row.")
    return frame


def feature_ranges(est, X=None) -> dict:
    """Training ranges when stored, else the ranges of the background or ``X``."""
    stored = getattr(est, "feature_range_", None)
    if stored is not None:
        return stored
    frame = rows(est, X) if X is not None else getattr(est, "background_", None)
    if frame is None:
        raise ValueError(
            "The training ranges are unknown for this estimator; pass X (rows whose "
            "ranges define the box) or explicit bounds."
        )
    return column_ranges(frame)


def is_numeric_column(est, column: str) -> bool:
    maps = [m for m in est.signomial_.transform.feature_maps if m.source == column]
    return all(m.level is None for m in maps)


def column_position(est, feature) -> int:
    names = est.signomial_.input_features
    if not isinstance(feature, (str, int, np.integer)) or isinstance(feature, bool):
        # never print the object itself: a DataFrame passed by mistake fills a screen
        raise ValueError(
            f"A feature must be a column name or a column index, got a "
            f"{type(feature).__name__}; the inputs are {shown_names(names)}.")
    if isinstance(feature, (int, np.integer)) and not isinstance(feature, bool):
        if not 0 <= feature < len(names):
            raise ValueError(f"Feature index {feature} is out of range [0, {len(names)}).")
        return int(feature)
    if str(feature) not in names:
        raise ValueError(f"Unknown feature {feature!r}; the inputs are {shown_names(names)}.")
    return names.index(str(feature))


def shown_names(names, limit: int = 12) -> str:
    """At most ``limit`` names for an error message.

    Examples
    --------
    >>> shown_names([f"x{i}" for i in range(20)], limit=3)
    "['x0', 'x1', 'x2', ... 17 more]"
    """
    names = list(names)
    if len(names) <= limit:
        return repr(names)
    return repr(names[:limit])[:-1] + f", ... {len(names) - limit} more]"


def feature_and_rows(first, second):
    """``(feature, rows)`` from either argument order.

    scikit-learn writes ``partial_dependence(estimator, X, features)``; the methods
    also take ``(feature, background)``. A name or an index is the feature, a table
    the rows.
    """
    if isinstance(first, (str, int, np.integer)) and not isinstance(first, bool):
        return first, second
    return second, first


def with_reference(est, values: np.ndarray, base: np.ndarray):
    """Map (n, O, p) values / (n, O) base to the decision-function layout."""
    if not is_multiclass(est):
        return values[:, 0], base[:, 0]
    zeros = np.zeros_like(values[:, :1])
    return (np.concatenate([zeros, values], axis=1),
            np.concatenate([np.zeros_like(base[:, :1]), base], axis=1))


def output_labels(est) -> list[str]:
    if is_multiclass(est):
        return [str(c) for c in est.classes_]
    return list(est.signomial_.output_names)


def log_features(sig, frame: pd.DataFrame) -> np.ndarray:
    """``sig.log_features(frame)`` (kept as the explanations' single entry point).

    ``PositivityTransform.encode`` converts each categorical column to labels once
    and fills missing entries, so this is the transform's own path.
    """
    return sig.transform.log_features(sig.transform.encode(frame))


def column_bounds(est, column: str, bounds=None):
    """``bounds`` if given, else the stored training range (or the background's range)."""
    if bounds is not None:
        return bounds
    stored = getattr(est, "feature_range_", None)
    if stored is None and getattr(est, "background_", None) is not None:
        stored = column_ranges(est.background_)
    if stored is None:
        raise ValueError(
            f"No training range is stored for {column!r} (e.g. a model loaded from JSON); "
            "pass bounds explicitly."
        )
    return stored[column]
