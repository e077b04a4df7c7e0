"""Text of the front: SymPy expressions with rounded constants (the ``equation``
column) and the plain-text front summary."""

from __future__ import annotations

import pandas as pd
import sympy as sp
from sympy.printing.str import StrPrinter

from ecsel.export.sympy import needs_reference_anywhere

TEXT_COLUMNS = ("equation", "sympy_format")
"""The ``equations_`` columns built from SymPy, on first access (see :func:`add_text_columns`)."""


class _RoundedPrinter(StrPrinter):
    """SymPy's ``str`` with every Float rounded to ``precision`` significant digits."""

    def __init__(self, precision: int):
        super().__init__()
        self.digits = precision

    def _print_Float(self, expr):
        value = float(expr)
        if value == 0.0 or abs(value) == float("inf"):  # beyond a double: mpmath rounds
            return super()._print_Float(sp.Float(expr, self.digits))
        rounded = sp.Float(float(f"{value:.{self.digits}g}"), self.digits)
        return super()._print_Float(rounded)


def rounded_text(exprs, precision: int) -> str:
    """The text of ``to_sympy(precision=precision)``, printed from the full-precision
    expressions (building the SymPy expressions a second time cost 0.1-0.4 s a fit).

    Examples
    --------
    >>> x = sp.Symbol("x", positive=True)
    >>> rounded_text([sp.Float(0.812252396356235) * x ** sp.Float(1.3) + 0.123456], 4)
    '0.8123*x**1.3 + 0.1235'
    """
    printer = _RoundedPrinter(precision)
    if isinstance(exprs, list):
        return "; ".join(printer.doprint(e) for e in exprs)
    return printer.doprint(exprs)


def add_text_columns(table: pd.DataFrame, precision: int = 4) -> pd.DataFrame:
    """Insert ``equation`` and ``sympy_format`` (from ``signomial``) into ``table`` in place.

    Building and printing SymPy expressions cost 3-5 ms a row, a fifth of a small
    fit (0.05 of 0.27 s on breast_cancer), so the estimators build these columns
    when ``equations_`` is first read, not during ``fit``. Returns ``table``.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 4.0]}))
    >>> table = pd.DataFrame({"complexity": [1], "loss_se": [0.0], "source": ["fit 0"],
    ...                       "signomial": [Signomial([0.5], [[2.0]], [[[1.0]]], t)]})
    >>> add_text_columns(table)[["loss_se", "equation", "source"]]
       loss_se     equation source
    0      0.0  1.0*x + 0.5  fit 0
    """
    if all(column in table for column in TEXT_COLUMNS):
        return table
    exprs = [sig.to_sympy() for sig in table["signomial"]]
    # the text writes unreadably scaled terms around their reference point
    # (``c * (x / x_ref) ** a``); the rest, and ``sympy_format``, stay in raw units
    printed = [sig.to_sympy(reference="auto") if needs_reference_anywhere(sig) else expr
               for sig, expr in zip(table["signomial"], exprs)]
    position = table.columns.get_loc("loss_se") + 1
    table.insert(position, "equation", [rounded_text(e, precision) for e in printed])
    table.insert(position + 1, "sympy_format", exprs)
    return table


def short_table(table: pd.DataFrame, selected: int, score_name: str = "score",
                width: int = 70) -> str:
    """A plain-text table (complexity, score, equation) with the selected row marked.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [0, 2], "score": [0.5, 0.91],
    ...                   "equation": ["-1.7", "3.1*PageValues**0.5 - 2.0"]})
    >>> print(short_table(t, 1, "val AUC"))
      complexity  val AUC  equation
               0   0.5000  -1.7
    *          2   0.9100  3.1*PageValues**0.5 - 2.0
    """
    lines = [f"  complexity  {score_name:>7}  equation"]
    for index, row in table.iterrows():
        mark = "*" if index == selected else " "
        eq = str(row["equation"])
        eq = eq if len(eq) <= width else eq[: width - 3] + "..."
        lines.append(f"{mark} {int(row['complexity']):>10}  {row['score']:>7.4f}  {eq}")
    return "\n".join(lines)
