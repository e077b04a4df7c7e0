"""A differentiable ``torch.nn.Module`` view of a signomial, and its torch scores.

:func:`signomial_scores_torch` is the signomial's score on log-features with the
parameters as tensors (for code that trains them, e.g.
``attribution.compress.EquationStudent``); it applies the same exponent clamp as
:meth:`ecsel.Signomial.evaluate`; :meth:`ecsel.Signomial.evaluate_encoded_torch` is
this function on the signomial's own parameters.
"""

from __future__ import annotations

import torch

from ecsel._transform import EXP_CLAMP


def signomial_scores_torch(log_u: torch.Tensor, intercept: torch.Tensor, coef: torch.Tensor,
                           exponents: torch.Tensor) -> torch.Tensor:
    """Scores ``intercept + sum_k coef_k exp(clamp(log_u @ exponents_k))``, differentiable.

    Parameters
    ----------
    log_u : Tensor of shape (n, n_model_features)
        Log-features (``Signomial.log_features`` of the raw rows).
    intercept : Tensor of shape (n_outputs,)
    coef : Tensor of shape (n_outputs, n_terms)
    exponents : Tensor of shape (n_outputs, n_terms, n_model_features)

    Returns
    -------
    Tensor of shape (n, n_outputs)
        The same values as ``Signomial.evaluate`` for these parameters, the clamp of
        the exponent argument at ``+-EXP_CLAMP`` included.

    Examples
    --------
    >>> log_u = torch.tensor([[0.0], [1.0], [1e3]], dtype=torch.float64)
    >>> z = signomial_scores_torch(log_u, torch.tensor([1.0], dtype=torch.float64),
    ...                            torch.tensor([[2.0]], dtype=torch.float64),
    ...                            torch.tensor([[[1.0]]], dtype=torch.float64))
    >>> z[:2, 0].tolist()  # 1 + 2 u
    [3.0, 6.43656365691809]
    >>> round(float(torch.log((z[2, 0] - 1) / 2)), 9)  # the argument 1000 is clamped to 60
    60.0
    """
    power = torch.einsum("nm,okm->nok", log_u, exponents).clamp(-EXP_CLAMP, EXP_CLAMP)
    return intercept + (coef * torch.exp(power)).sum(dim=2)


class SignomialModule(torch.nn.Module):
    """Maps the encoded raw features (n, m) to scores (n, n_scores).

    The input columns are :meth:`Signomial.encode` of the raw data: the raw values of
    numeric columns and 0/1 indicators for categorical levels. For all-numeric data
    this is the raw feature matrix itself. With ``reference_class=True`` a column of
    zeros is prepended, so a softmax over the outputs gives the class probabilities of
    a multiclass ECSEL model; a binary model returns its single logit column.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> module = SignomialModule(Signomial([0.0], [[3.0]], [[[-2.0]]], t))
    >>> module(torch.tensor([[4.0]], dtype=torch.float64))
    tensor([[3.]], dtype=torch.float64)
    """

    def __init__(self, signomial, reference_class: bool = False):
        super().__init__()
        self.signomial = signomial
        self.reference_class = reference_class

    def forward(self, encoded: torch.Tensor) -> torch.Tensor:
        """Scores ``(N, n_outputs)`` (a leading zero column with ``reference_class``).

        Examples
        --------
        >>> import pandas as pd
        >>> import torch
        >>> from ecsel import PositivityTransform, Signomial
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))  # r scaled by 4
        >>> module = SignomialModule(Signomial([0.0], [[3.0]], [[[-2.0]]], t))  # 48 / r^2
        >>> x = torch.tensor([[4.0], [1.0]], dtype=torch.float64, requires_grad=True)
        >>> out = module(x)
        >>> out.sum().backward()
        >>> out.detach().flatten().round(decimals=9).tolist()
        [3.0, 48.0]
        >>> x.grad.flatten().round(decimals=9).tolist()  # d/dr: -96 / r^3
        [-1.5, -96.0]
        """
        scores = self.signomial.evaluate_encoded_torch(encoded)
        if self.reference_class:
            scores = torch.cat([scores.new_zeros((scores.shape[0], 1)), scores], dim=1)
        return scores
