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

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: The public names and the module that defines each. They are imported on first use
#: (PEP 562 ``__getattr__``), so that ``import ecsel`` and ``ecsel --version`` load
#: neither torch nor scikit-learn; ``from ecsel import ECSELClassifier`` loads what the
#: estimator needs.
_PUBLIC = {
    "ECSELClassifier": "ecsel.classifier",
    "ECSELRegressor": "ecsel.regressor",
    "Explanation": "ecsel.explain",
    "PositivityTransform": "ecsel._transform",
    "Signomial": "ecsel.signomial",
    "load_json": "ecsel.persistence",
}
#: Subpackages reachable as attributes (``ecsel.casestudies``) before an explicit import.
_SUBPACKAGES = frozenset({"casestudies", "cli", "datasets", "explain", "export",
                          "persistence", "recovery", "stream"})

__all__ = [
    "ECSELClassifier",
    "ECSELRegressor",
    "Explanation",
    "PositivityTransform",
    "Signomial",
    "__version__",
    "load_json",
]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from ecsel._transform import PositivityTransform
    from ecsel.classifier import ECSELClassifier
    from ecsel.explain import Explanation
    from ecsel.persistence import load_json
    from ecsel.regressor import ECSELRegressor
    from ecsel.signomial import Signomial


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
    elif name in _SUBPACKAGES:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_PUBLIC) | _SUBPACKAGES)
