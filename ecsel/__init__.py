"""Explainable Classification via Signomial Equation Learning.

Examples
--------
>>> from ecsel import ECSELClassifier, ECSELRegressor, Signomial
"""

from ecsel.classifier import ECSELClassifier
from ecsel.explain import Explanation
from ecsel.regressor import ECSELRegressor
from ecsel.signomial import Signomial

__version__ = "0.1.0"


def load_json(text: str):
    """Rebuild a fitted estimator from :meth:`ECSELClassifier.to_json` output."""
    from ecsel.export.json import estimator_from_json

    return estimator_from_json(text)


__all__ = [
    "ECSELClassifier",
    "ECSELRegressor",
    "Explanation",
    "Signomial",
    "__version__",
    "load_json",
]
