"""Explanations computed from the closed form of a fitted signomial.

The estimators' methods (``explain``, ``elasticities``, ``monotonicity``,
``feature_importance``, ``partial_dependence``, ``decision_boundary``,
``decision_boundary_at``, ``counterfactual``, ``to_torch`` and the ``plot_*``
methods) come from :class:`ExplainMixin`; ``explain`` returns an :class:`Explanation`.

The closed form behind ``explain`` is public for code that trains or checks against
it: :func:`signomial_shapley` (NumPy), :func:`signomial_shapley_torch`
(differentiable in the coefficients and exponents) and :func:`column_index` (the raw
column, i.e. the player, of every model feature).
"""

from ecsel.explain._mixin import ExplainMixin
from ecsel.explain._shapley import column_index, signomial_shapley, signomial_shapley_torch
from ecsel.explain.explanation import Explanation

__all__ = [
    "ExplainMixin",
    "Explanation",
    "column_index",
    "signomial_shapley",
    "signomial_shapley_torch",
]
