"""Exports of a fitted :class:`~ecsel.Signomial`: one module per target.

``sympy`` (symbolic expressions in original units), ``latex``, ``json`` (safe
persistence, no pickle) and ``torch`` (a differentiable ``nn.Module``).
"""

from ecsel.export.json import (
    estimator_from_json,
    estimator_to_json,
    signomial_from_json,
    signomial_to_json,
)
from ecsel.export.latex import signomial_to_latex
from ecsel.export.sympy import feature_symbols, signomial_to_sympy
from ecsel.export.torch import SignomialModule

__all__ = [
    "SignomialModule",
    "estimator_from_json",
    "estimator_to_json",
    "feature_symbols",
    "signomial_from_json",
    "signomial_to_json",
    "signomial_to_latex",
    "signomial_to_sympy",
]
