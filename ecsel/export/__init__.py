r"""Writers of a fitted :class:`~ecsel.Signomial`: one module per target.

``sympy`` (symbolic expressions in original units), ``latex``, ``json`` (safe
persistence, no pickle), ``torch`` (a differentiable ``nn.Module`` and the clamped
torch scores :func:`signomial_scores_torch`), and the deployment targets on the raw
columns: ``onnx`` (a graph; extra ``onnx``), ``sql`` (one ``SELECT``) and ``python``
(one function needing only ``math``). A writer
takes a signomial (or a fitted estimator) and never imports the estimator classes;
reading a document back is :meth:`ecsel.Signomial.from_json` and
:func:`ecsel.load_json`.

Examples
--------
>>> import pandas as pd
>>> from ecsel import PositivityTransform, Signomial
>>> from ecsel.export import signomial_to_latex
>>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
>>> print(signomial_to_latex(Signomial([0.0], [[3.0]], [[[-2.0]]], t)))
\text{z0} = \frac{48.0}{r^{2}}
"""

from ecsel.export.json import estimator_to_json, signomial_to_dict, signomial_to_json
from ecsel.export.latex import signomial_to_latex
from ecsel.export.onnx import onnx_inputs, register_skl2onnx, signomial_to_onnx
from ecsel.export.python import signomial_to_python
from ecsel.export.sql import signomial_to_sql
from ecsel.export.sympy import feature_symbols, signomial_to_sympy
from ecsel.export.torch import SignomialModule, signomial_scores_torch

__all__ = [
    "SignomialModule",
    "estimator_to_json",
    "feature_symbols",
    "onnx_inputs",
    "register_skl2onnx",
    "signomial_to_dict",
    "signomial_to_json",
    "signomial_to_latex",
    "signomial_to_onnx",
    "signomial_to_python",
    "signomial_to_sql",
    "signomial_to_sympy",
    "signomial_scores_torch",
]
