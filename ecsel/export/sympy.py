"""SymPy export of a signomial in the ORIGINAL units of its input columns."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import sympy as sp

#: Denominators of the rational exponents that print as fractions; the regressor's
#: symbolic search snaps exponents to the same rationals (``ecsel._fit.symbolic``).
SNAP_DENOMINATORS = (1, 2, 3, 4)


def exponent_to_sympy(value: float, precision: int | None = None,
                      tol: float = 1e-9) -> sp.Expr:
    """A rational with a small denominator when ``value`` is one, else a Float."""
    frac = Fraction(float(value)).limit_denominator(max(SNAP_DENOMINATORS))
    if abs(float(frac) - value) <= tol:
        return sp.Rational(frac.numerator, frac.denominator)
    return _constant(value, precision)


def _constant(value: float, precision: int | None) -> sp.Expr:
    if precision is None:
        return sp.Float(value, 15)
    return sp.Float(float(f"{value:.{precision}g}"), precision)


def feature_symbols(signomial) -> dict[str, sp.Symbol]:
    """One SymPy symbol per model feature: the column name, ``col[level]``, or
    ``col[missing]`` for a missingness indicator (1 where ``col`` is missing, else 0;
    a missing numeric ``col`` itself is read as its fill value, see
    :attr:`ecsel._transform.FeatureMap.fill`).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> frame = pd.DataFrame({"r": [1.0, 4.0, 16.0], "c": ["a", "b", "a"], "s": [-1.0, 0.0, 2.0]})
    >>> t = PositivityTransform.fit(frame)
    >>> symbols = feature_symbols(Signomial([0.0], [[1.0]], [[[1.0, 0.0, 0.0]]], t))
    >>> list(symbols), symbols["r"].is_positive, symbols["s"].is_positive  # s can be negative
    (['r', 'c[b]', 's'], True, None)
    """
    symbols = {}
    for fmap in signomial.transform.feature_maps:
        if fmap.level is not None or fmap.missing:
            symbols[fmap.name] = sp.Symbol(fmap.name)
        elif fmap.kind == "power" and fmap.shift == 0:
            symbols[fmap.name] = sp.Symbol(fmap.source, positive=True)
        else:
            symbols[fmap.name] = sp.Symbol(fmap.source, real=True)
    return symbols


def _term(signomial, out: int, k: int, symbols, precision) -> sp.Expr:
    """One term with the transform's constants folded into its coefficient."""
    log_const = 0.0
    factors = []
    for j, fmap in enumerate(signomial.transform.feature_maps):
        a = float(signomial.exponents[out, k, j])
        if a == 0 or fmap.kind == "constant":
            continue
        x = symbols[fmap.name]
        if fmap.kind == "power":
            log_const -= a * np.log(fmap.scale)
            base = x + _constant(fmap.shift, precision) if fmap.shift else x
            factors.append(base ** exponent_to_sympy(a, precision))
        elif fmap.kind == "signed":
            # exp(a * asinh((clip(x, lower, upper) - center) / scale))
            clipped = sp.Max(x, _constant(fmap.lower, precision))
            if fmap.upper is not None:
                clipped = sp.Min(clipped, _constant(fmap.upper, precision))
            inner = (clipped - _constant(fmap.center, precision)) / _constant(fmap.scale,
                                                                              precision)
            factors.append(sp.exp(_constant(a, precision) * sp.asinh(inner)))
        else:
            # linear / indicator: exp(a * (x - center) / scale)
            log_const -= a * fmap.center / fmap.scale
            factors.append(sp.exp(_constant(a / fmap.scale, precision) * x))
    coefficient = float(signomial.coef[out, k]) * float(np.exp(log_const))
    return sp.Mul(_constant(coefficient, precision), *factors)


def signomial_to_sympy(signomial, precision: int | None = None) -> list[sp.Expr]:
    """One SymPy expression per output, in original units.

    Parameters
    ----------
    signomial : Signomial
    precision : int, optional
        Significant digits of the printed constants; ``None`` keeps full precision.

    Returns
    -------
    list of sympy.Expr

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> s = Signomial([0.0], [[3.0]], [[[-2.0]]], t)
    >>> signomial_to_sympy(s, precision=3)[0]
    48.0/r**2
    """
    symbols = feature_symbols(signomial)
    exprs = []
    for out in range(signomial.n_outputs):
        terms = [
            _term(signomial, out, k, symbols, precision)
            for k in range(signomial.coef.shape[1])
            if signomial.coef[out, k] != 0
        ]
        intercept = float(signomial.intercept[out])
        constant = [_constant(intercept, precision)] if intercept != 0 else []
        exprs.append(sp.Add(*constant, *terms))
    return exprs
