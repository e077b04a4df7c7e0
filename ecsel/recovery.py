"""Signomial term helpers and exact symbolic recovery.

:func:`signomial_terms` / :func:`is_signomial` decompose an expression into
``(coefficient, exponents)`` terms; :func:`exact_recovery` asks whether a fitted
equation has the terms of a known law. The data sets (:mod:`ecsel.datasets`) import
these helpers, never the reverse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

# Function names used in the Feynman table that SymPy spells differently.
_FUNCTIONS: dict[str, object] = {"arcsin": sympy.asin, "arccos": sympy.acos, "ln": sympy.log}


def parse_formula(formula: str, names: Iterable[str]) -> sympy.Expr:
    """Parse a formula with every name in ``names`` declared a positive Symbol.

    The table writes unary minus as ``~`` (SymPy's ``Not``); it is replaced by ``-``,
    which has the same precedence in Python. Declaring the variables explicitly keeps
    names such as ``I``, ``E_n``, ``gamma`` or ``beta`` from resolving to SymPy's
    imaginary unit or special functions.

    Examples
    --------
    >>> parse_formula("~m*v**2/2", ["m", "v"])
    -m*v**2/2
    """
    names = list(names)
    local: dict[str, object] = dict(_FUNCTIONS)
    local.update({n: sympy.Symbol(n, positive=True) for n in names})
    expr = parse_expr(
        formula.replace("~", "-"), local_dict=local, transformations=standard_transformations
    )
    unknown = {s.name for s in expr.free_symbols} - set(names)
    if unknown:
        raise ValueError(f"formula {formula!r} uses undeclared names {sorted(unknown)}")
    return expr


def _variable_names(variables: Sequence[str | sympy.Symbol] | None, expr: sympy.Expr) -> list[str]:
    if variables is None:
        return sorted(s.name for s in expr.free_symbols)
    if isinstance(variables, str | sympy.Symbol):
        variables = [variables]
    return [v.name if isinstance(v, sympy.Symbol) else str(v) for v in variables]


def signomial_terms(
    expr: sympy.Expr | str,
    variables: Sequence[str | sympy.Symbol] | None = None,
) -> list[tuple[float, dict[str, float]]]:
    """Decompose a signomial into its terms.

    Parameters
    ----------
    expr : sympy.Expr or str
        The expression. A string is parsed with every name in ``variables`` declared
        a symbol (``~`` is read as unary minus, ``arcsin``/``ln`` as ``asin``/``log``).
    variables : sequence of str or sympy.Symbol, optional
        The variables. Symbols are matched by name, whatever their assumptions.
        Default: the free symbols of ``expr``. Every free symbol of ``expr`` must be
        listed; listed names that do not occur are allowed.

    Returns
    -------
    list of (float, dict of str to float)
        One ``(coefficient, exponents)`` pair per term, such that
        ``expr == sum(c * prod(x[v] ** a for v, a in exps.items()) for c, exps in terms)``
        for positive ``x``. ``exponents`` is sparse: it holds only the variables with
        a non-zero exponent (a constant term has ``{}``). Like terms are merged, zero
        terms dropped, and terms sorted by their exponent items.

    Raises
    ------
    ValueError
        If ``expr`` is not a signomial of ``variables`` (see Notes) or uses a symbol
        not in ``variables``.

    Notes
    -----
    The variables are treated as positive reals, so ``(x*y)**a == x**a * y**a`` and
    ``sqrt(x**2) == x``. The expression is expanded (``sympy.expand(..., force=True)``:
    powers over products and products over sums); each resulting term must be a
    constant times real constant powers of single variables. Constants such as
    ``pi`` go into the coefficient. Non-integer powers of sums (``sqrt(x + y)``),
    negative powers of sums (``1/(1 + x)``) and transcendental functions of the
    variables make the expression a non-signomial, even where a series would
    converge.

    Examples
    --------
    >>> import sympy
    >>> from ecsel.recovery import signomial_terms
    >>> x, y = sympy.symbols("x y", positive=True)
    >>> signomial_terms(3 * x**2 / sympy.sqrt(y) - x, ["x", "y"])
    [(-1.0, {'x': 1.0}), (3.0, {'x': 2.0, 'y': -0.5})]
    >>> for term in signomial_terms("kappa*(T2-T1)*A/d", ["kappa", "T1", "T2", "A", "d"]):
    ...     print(term)
    (-1.0, {'A': 1.0, 'T1': 1.0, 'd': -1.0, 'kappa': 1.0})
    (1.0, {'A': 1.0, 'T2': 1.0, 'd': -1.0, 'kappa': 1.0})
    >>> signomial_terms("1/(1 + x)", ["x"])
    Traceback (most recent call last):
    ...
    ValueError: not a signomial of ['x']: factor 1/(x + 1) is not a constant power of one variable
    """
    if isinstance(expr, str):
        if variables is None:
            raise ValueError("variables are required when expr is a string")
        expr = parse_formula(expr, _variable_names(variables, sympy.Integer(0)))
    expr = sympy.sympify(expr)
    names = _variable_names(variables, expr)
    present = {s.name for s in expr.free_symbols}
    unknown = present - set(names)
    if unknown:
        raise ValueError(f"expression uses symbols not in variables: {sorted(unknown)}")
    positive = {s: sympy.Symbol(s.name, positive=True) for s in expr.free_symbols}
    expanded = sympy.expand(expr.xreplace(positive), force=True)
    merged: dict[tuple[tuple[str, float], ...], sympy.Expr] = {}
    for term in sympy.Add.make_args(expanded):
        coefficient: sympy.Expr = sympy.Integer(1)
        exponents: dict[str, float] = {}
        for factor in sympy.Mul.make_args(term):
            if not factor.free_symbols:
                coefficient *= factor
                continue
            base, exponent = factor.as_base_exp()
            if not (
                isinstance(base, sympy.Symbol) and not exponent.free_symbols and exponent.is_real
            ):
                raise ValueError(
                    f"not a signomial of {names}: factor {factor} is not a constant power "
                    "of one variable"
                )
            exponents[base.name] = exponents.get(base.name, 0.0) + float(exponent)
        key = tuple(sorted((k, v) for k, v in exponents.items() if v != 0.0))
        merged[key] = merged.get(key, sympy.Integer(0)) + coefficient
    terms = []
    for key in sorted(merged):
        value = complex(sympy.N(merged[key], 17))
        if value.imag != 0.0:
            raise ValueError(f"not a signomial of {names}: complex coefficient {merged[key]}")
        if value.real != 0.0:
            terms.append((value.real, dict(key)))
    return terms


def is_signomial(
    expr: sympy.Expr | str, variables: Sequence[str | sympy.Symbol] | None = None
) -> bool:
    """Tell whether ``expr`` is a signomial of ``variables``.

    Parameters
    ----------
    expr : sympy.Expr or str
        The expression; see :func:`signomial_terms`.
    variables : sequence of str or sympy.Symbol, optional
        The variables; default: the free symbols of ``expr``.

    Returns
    -------
    bool
        ``True`` when :func:`signomial_terms` succeeds.

    Examples
    --------
    >>> from ecsel.recovery import is_signomial
    >>> is_signomial("m*(v**2 + u**2 + w**2)/2", ["m", "v", "u", "w"])
    True
    >>> is_signomial("exp(-x)", ["x"])
    False
    """
    try:
        signomial_terms(expr, variables)
    except ValueError:
        return False
    return True


def _as_expr(candidate):
    return candidate.sympy() if hasattr(candidate, "sympy") else candidate


def exact_recovery(candidate, truth, variables: Sequence[str] | None = None, *,
                   exponent_tol: float = 1e-3, coef_rtol: float = 0.01) -> bool:
    """True when ``candidate`` has exactly the monomials of ``truth``.

    The criterion of the ECSEL benchmark: the same set of monomials, every exponent
    within ``exponent_tol`` and every coefficient within ``coef_rtol`` (relative) of
    the truth. A constant term counts as a monomial, so a spurious intercept fails.

    Parameters
    ----------
    candidate : fitted ECSELRegressor or sympy expression
    truth : sympy expression or str
    variables : sequence of str, optional
        Variable names (default: the free symbols of both expressions).

    Examples
    --------
    >>> import sympy
    >>> m, v = sympy.symbols("m v", positive=True)
    >>> exact_recovery(0.5000001 * m * v**2.0000002, m * v**2 / 2)
    True
    >>> exact_recovery(0.5 * m * v**2 + 1e-3, m * v**2 / 2)
    False
    """
    found_expr, truth_expr = _as_expr(candidate), sympy.sympify(truth)
    if variables is None:
        variables = sorted({str(s) for s in found_expr.free_symbols | truth_expr.free_symbols})
    try:
        found = signomial_terms(found_expr, variables)
    except ValueError:
        return False
    expected = signomial_terms(truth_expr, variables)
    if len(found) != len(expected):
        return False
    unmatched = list(found)
    for coef, exps in expected:
        match = next((t for t in unmatched if _same_term(t, coef, exps, exponent_tol,
                                                          coef_rtol)), None)
        if match is None:
            return False
        unmatched.remove(match)
    return True


def _same_term(term, coef, exps, exponent_tol, coef_rtol) -> bool:
    other_coef, other_exps = term
    names = set(exps) | set(other_exps)
    if any(abs(exps.get(n, 0.0) - other_exps.get(n, 0.0)) > exponent_tol for n in names):
        return False
    return abs(other_coef - coef) <= coef_rtol * abs(coef)


__all__ = ["exact_recovery", "is_signomial", "parse_formula", "signomial_terms"]
