"""A small fitted :class:`~attribution.compress.EquationStudent` for docstring examples."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecsel import ECSELRegressor

from ..compress import EquationStudent


def example_student() -> tuple[EquationStudent, pd.DataFrame]:
    """A student of the teacher ``a * b`` fitted in a few steps, and its 60 rows.

    Examples
    --------
    >>> student, X = example_student()
    >>> len(student.history_), list(X.columns)
    (2, ['a', 'b'])
    """
    X = pd.DataFrame(np.random.default_rng(0).uniform(1, 3, (60, 2)), columns=["a", "b"])
    initial = ECSELRegressor(n_terms=1, n_restarts=1, max_iter=5, random_state=0)
    student = EquationStudent(lambda z: z[:, :1] * z[:, 1:], regressor=initial, epochs=2,
                              n_background=4, ig_steps=4, random_state=0)
    return student.fit(X), X
