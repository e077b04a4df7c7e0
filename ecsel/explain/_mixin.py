"""Explanation methods shared by the ECSEL estimators."""

from __future__ import annotations

from sklearn.utils.validation import check_is_fitted


class ExplainMixin:
    """Exact, closed-form explanations of a fitted ECSEL estimator."""

    def to_torch(self):
        """A differentiable ``torch.nn.Module`` mapping encoded raw features to scores.

        The module's input is ``est.signomial_.encode(X)`` (the raw matrix itself
        for all-numeric data). A binary classifier or regressor returns one column
        (the decision function); a multiclass classifier returns one logit per class.
        """
        from ecsel.export.torch import SignomialModule

        check_is_fitted(self)
        multiclass = hasattr(self, "classes_") and len(self.classes_) > 2
        return SignomialModule(self.signomial_, reference_class=multiclass).double()
