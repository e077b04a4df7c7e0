"""Explainable Classification via Signomial Equation Learning.

The public door: the two estimators, the fitted expression (:class:`Signomial`) and
its input map (:class:`PositivityTransform`), explanations (:class:`Explanation`) and
:func:`load_json`. See ``docs/architecture.md`` for the rooms behind it.

Examples
--------
>>> import pandas as pd
>>> from ecsel import PositivityTransform, Signomial
>>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
>>> print(Signomial([0.5], [[3.0]], [[[-2.0]]], t))
z0 = 0.5 + 48.0/r**2
"""

from ecsel._transform import PositivityTransform
from ecsel.classifier import ECSELClassifier
from ecsel.explain import Explanation
from ecsel.persistence import load_json
from ecsel.regressor import ECSELRegressor
from ecsel.signomial import Signomial

__version__ = "0.1.0"

__all__ = [
    "ECSELClassifier",
    "ECSELRegressor",
    "Explanation",
    "PositivityTransform",
    "Signomial",
    "__version__",
    "load_json",
]
