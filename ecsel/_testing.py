"""Fixtures for the docstring examples and the tests (not part of the public API).

:func:`example_estimator` builds, without fitting, the fitted regressor of
``y = 0.5 m v^2`` that the explanation examples use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecsel._transform import PositivityTransform
from ecsel.regressor import ECSELRegressor
from ecsel.signomial import Signomial


def example_estimator():
    """A fitted ``ECSELRegressor`` for ``y = 0.5 m v^2`` (built directly) and its data.

    Examples
    --------
    >>> est, X = example_estimator()
    >>> est.sympy(precision=3)
    0.5*m*v**2
    """
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"m": rng.uniform(1, 5, 200), "v": rng.uniform(1, 5, 200)})
    transform = PositivityTransform.fit(X)
    scale = np.array([m.scale for m in transform.feature_maps])
    coef = 0.5 * scale[0] * scale[1] ** 2
    sig = Signomial([0.0], [[coef]], [[[1.0, 2.0]]], transform, ["y"])
    return ECSELRegressor.from_signomial(sig, X), X


__all__ = ["example_estimator"]
