"""A differentiable ``torch.nn.Module`` view of a signomial."""

from __future__ import annotations

import torch


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
