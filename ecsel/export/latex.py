"""LaTeX export of a signomial."""

from __future__ import annotations

import sympy as sp

from ecsel.export.sympy import signomial_to_sympy


def signomial_to_latex(signomial, precision: int | None = 4) -> str:
    """LaTeX for every output, one ``name = expr`` line each (joined by ``\\\\``).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> signomial_to_latex(Signomial([0.0], [[3.0]], [[[-2.0]]], t, ["F"]))
    'F = \\\\frac{48.0}{r^{2}}'
    """
    exprs = signomial_to_sympy(signomial, precision=precision)
    lines = [
        f"{sp.latex(sp.Symbol(name))} = {sp.latex(expr)}"
        for name, expr in zip(signomial.output_names, exprs)
    ]
    return " \\\\\n".join(lines)
