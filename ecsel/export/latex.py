"""LaTeX export of a signomial: the same equation as ``str(signomial)``."""

from __future__ import annotations

import re

import sympy as sp

from ecsel.export.sympy import feature_symbols, output_labels, signomial_to_sympy

_SPECIAL = re.compile(r"([\\{}_^#$%&~])")
_REPLACEMENTS = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\^{}"}


def latex_text(text: str) -> str:
    r"""``text`` as upright LaTeX text, every special character escaped.

    Column names such as ``VisitorType[New_Visitor]`` are not LaTeX: SymPy's default
    would read ``_`` as a subscript and print ``VisitorType[New_{Visitor]}}``.

    Examples
    --------
    >>> print(latex_text("VisitorType[New_Visitor]"))
    \text{VisitorType[New\_Visitor]}
    >>> print(latex_text("x"))  # a one-letter name stays a math symbol
    x
    """
    if re.fullmatch(r"[A-Za-z]", text):
        return text
    escaped = _SPECIAL.sub(lambda m: _REPLACEMENTS.get(m.group(1), "\\" + m.group(1)), text)
    return r"\text{" + escaped + "}"


def _lhs(label: str) -> str:
    """``logit P(y = yes)`` -> ``\\operatorname{logit} P(y = \\text{yes})``."""
    match = re.fullmatch(r"logit P\(y = (.*)\)", label)
    if match:
        return rf"\operatorname{{logit}} P(y = {latex_text(match.group(1))})"
    match = re.fullmatch(r"log P\(y = (.*)\)/P\(y = (.*)\)", label)
    if match:
        return (rf"\log \frac{{P(y = {latex_text(match.group(1))})}}"
                rf"{{P(y = {latex_text(match.group(2))})}}")
    return latex_text(label)


def signomial_to_latex(signomial, precision: int | None = 4) -> str:
    r"""LaTeX for every output, one ``lhs = expr`` line each (joined by ``\\``).

    The left-hand side is the one of ``str(signomial)`` (``logit P(y = <class>)`` for
    a binary classifier); terms whose raw-unit coefficient would be astronomically
    large or small are written around their reference point
    (``reference="auto"`` of :func:`~ecsel.export.sympy.signomial_to_sympy`); column
    names are set as escaped text.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r_1": [1.0, 4.0, 16.0]}))
    >>> print(signomial_to_latex(Signomial([0.0], [[3.0]], [[[-2.0]]], t, ["F"])))
    F = \frac{48.0}{\text{r\_1}^{2}}
    >>> print(signomial_to_latex(Signomial([0.0], [[3.0]], [[[-2.0]]], t, ["yes"],
    ...                                    link="logit")))
    \operatorname{logit} P(y = \text{yes}) = \frac{48.0}{\text{r\_1}^{2}}
    """
    exprs = signomial_to_sympy(signomial, precision=precision, reference="auto")
    names = {symbol: latex_text(name) for name, symbol in feature_symbols(signomial).items()}
    # a numeric column's own symbol is named after the column (``source``)
    names.update({symbol: latex_text(str(symbol)) for symbol in names})
    lines = [
        f"{_lhs(label)} = {sp.latex(expr, symbol_names=names)}"
        for label, expr in zip(output_labels(signomial), exprs)
    ]
    return " \\\\\n".join(lines)
