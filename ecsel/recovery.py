"""Exact symbolic recovery: does a fitted equation match a known law?"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

from ecsel.datasets import signomial_terms


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
    >>> import sympy as sp
    >>> m, v = sp.symbols("m v", positive=True)
    >>> exact_recovery(0.5000001 * m * v**2.0000002, m * v**2 / 2)
    True
    >>> exact_recovery(0.5 * m * v**2 + 1e-3, m * v**2 / 2)
    False
    """
    found_expr, truth_expr = _as_expr(candidate), sp.sympify(truth)
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
