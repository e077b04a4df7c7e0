"""Explanations computed from the closed form of a fitted signomial.

The estimators' methods (``explain``, ``elasticities``, ``monotonicity``,
``feature_importance``, ``partial_dependence``, ``decision_boundary``,
``decision_boundary_at``, ``counterfactual``, ``to_torch`` and the ``plot_*``
methods) come from :class:`ExplainMixin`; ``explain`` returns an :class:`Explanation`.
"""

from ecsel.explain._mixin import ExplainMixin
from ecsel.explain.explanation import Explanation

__all__ = ["ExplainMixin", "Explanation"]
