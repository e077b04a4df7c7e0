"""The one way a bundled tabular data set is returned: ``(X, y)`` or a scikit-learn Bunch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from sklearn.utils import Bunch

__all__ = ["frame_dataset"]


def frame_dataset(
    frame: pd.DataFrame,
    features: Sequence[str],
    target: str,
    *,
    return_X_y: bool,
    target_names: Sequence[str],
    descr: str,
    filename: str,
    attrs: dict[str, Any] | None = None,
    **extra: Any,
) -> Bunch | tuple[pd.DataFrame, pd.Series]:
    """Split ``frame`` into features and target; return them, or a Bunch around them.

    Parameters
    ----------
    frame : DataFrame
        The features and the target column.
    features, target
        Column names of ``X`` (in this order) and of ``y``.
    return_X_y : bool
        Return ``(X, y)`` instead of a Bunch.
    target_names, descr, filename
        The Bunch's ``target_names`` (indexed by the label), ``DESCR`` and ``filename``.
    attrs : dict, optional
        Entries of ``X.attrs`` (set in both return forms).
    **extra
        Further Bunch attributes.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"a": [1.0, 2.0], "y": [0, 1]})
    >>> b = frame_dataset(frame, ["a"], "y", return_X_y=False, target_names=["no", "yes"],
    ...                   descr="toy", filename="toy.csv", answer=42)
    >>> b.feature_names, b.target_names.tolist(), b.answer
    (['a'], ['no', 'yes'], 42)
    >>> X, y = frame_dataset(frame, ["a"], "y", return_X_y=True, target_names=["no", "yes"],
    ...                      descr="toy", filename="toy.csv", attrs={"source": "made up"})
    >>> X.attrs["source"], y.name
    ('made up', 'y')
    """
    X = frame[features]
    y = frame[target]
    X.attrs.update(attrs or {})
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=frame,
        feature_names=list(features),
        target_names=np.array(target_names),
        DESCR=descr,
        filename=filename,
        **extra,
    )
