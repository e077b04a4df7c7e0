"""SymPy export of a signomial in the ORIGINAL units of its input columns."""

from __future__ import annotations

from collections.abc import Iterator
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


#: A term is printed around its reference point (``reference="auto"``) when its
#: coefficient in raw units would fall outside ``[READABLE_LOW, READABLE_HIGH)`` in
#: magnitude: ``-9.651e+16*glu**3.4`` is unreadable, ``-0.31*(glu/117)**3.4`` is not.
READABLE_LOW, READABLE_HIGH = 1e-3, 1e4


def _unevaluated_ratio(numerator: sp.Expr, denominator: sp.Expr) -> sp.Expr:
    """``numerator / denominator`` kept as written (SymPy would fold it to ``0.25*x``)."""
    return sp.Mul(numerator, sp.Pow(denominator, -1, evaluate=False), evaluate=False)


def _active_factors(signomial, out: int, k: int) -> Iterator[tuple[object, float]]:
    """``(feature map, exponent)`` of each factor of term ``k`` that is not 1."""
    for j, fmap in enumerate(signomial.transform.feature_maps):
        a = float(signomial.exponents[out, k, j])
        if a != 0 and fmap.kind != "constant":
            yield fmap, a


def _raw_term(signomial, out: int, k: int, symbols, precision) -> sp.Expr:
    """One term with the transform's constants folded into its coefficient."""
    log_const = 0.0
    factors = []
    for fmap, a in _active_factors(signomial, out, k):
        x = symbols[fmap.name]
        if fmap.kind == "power":
            log_const -= a * np.log(fmap.scale)
            base = x + _constant(fmap.shift, precision) if fmap.shift else x
            factors.append(base ** exponent_to_sympy(a, precision))
        elif fmap.kind == "signed":
            factors.append(_signed_factor(fmap, a, x, precision))
        else:
            # linear / indicator: exp(a * (x - center) / scale)
            log_const -= a * fmap.center / fmap.scale
            factors.append(sp.exp(_constant(a / fmap.scale, precision) * x))
    c = float(signomial.coef[out, k])
    with np.errstate(over="ignore", under="ignore"):
        coefficient = c * float(np.exp(log_const))
    if not np.isfinite(coefficient) or (coefficient == 0.0 and c != 0.0):
        # The folded constant leaves the float range (an exponent of ~1e9 on a column
        # like 1e10 + small integers): write this term around its reference point,
        # which states the same function without folding.
        return _reference_term(signomial, out, k, symbols, precision)
    return sp.Mul(_constant(coefficient, precision), *factors)


def _signed_factor(fmap, a: float, x: sp.Expr, precision) -> sp.Expr:
    """``exp(a * asinh((clip(x, lower, upper) - center) / scale))``."""
    clipped = sp.Max(x, _constant(fmap.lower, precision))
    if fmap.upper is not None:
        clipped = sp.Min(clipped, _constant(fmap.upper, precision))
    inner = (clipped - _constant(fmap.center, precision)) / _constant(fmap.scale, precision)
    return sp.exp(_constant(a, precision) * sp.asinh(inner))


def _reference_term(signomial, out: int, k: int, symbols, precision) -> sp.Expr:
    """One term written around its reference point: ``c * ((x + shift) / scale) ** a``.

    ``c`` is the stored coefficient, the term's value where every ``log u`` is 0 (the
    geometric mean of a power column, the median of a signed one, the reference
    level of an indicator): a typical row, so ``c`` has the size of the term itself.
    The tree is built unevaluated so that SymPy keeps the ratios as written; it still
    evaluates (``subs``, ``lambdify``) to the same value as :func:`_raw_term`.
    """
    factors = []
    for fmap, a in _active_factors(signomial, out, k):
        x = symbols[fmap.name]
        if fmap.kind == "power":
            base = sp.Add(x, _constant(fmap.shift, precision), evaluate=False) \
                if fmap.shift else x
            ratio = _unevaluated_ratio(base, _constant(fmap.scale, precision))
            factors.append(sp.Pow(ratio, exponent_to_sympy(a, precision), evaluate=False))
        elif fmap.kind == "signed":
            factors.append(_signed_factor(fmap, a, x, precision))
        else:
            shifted = sp.Add(x, _constant(-fmap.center, precision), evaluate=False) \
                if fmap.center else x
            factors.append(sp.exp(sp.Mul(_constant(a / fmap.scale, precision), shifted,
                                         evaluate=False), evaluate=False))
    return sp.Mul(_constant(float(signomial.coef[out, k]), precision), *factors,
                  evaluate=False)


def _raw_coefficient(signomial, out: int, k: int) -> float:
    """The coefficient of a term once the transform's constants are folded into it."""
    log_const = 0.0
    for fmap, a in _active_factors(signomial, out, k):
        if fmap.kind == "signed":
            continue
        log_const -= a * (np.log(fmap.scale) if fmap.kind == "power"
                          else fmap.center / fmap.scale)
    return float(signomial.coef[out, k]) * float(np.exp(np.clip(log_const, -700.0, 700.0)))


def needs_reference(signomial, out: int, k: int) -> bool:
    """Whether the term's raw-unit coefficient is unreadably large or small.

    Examples
    --------
    ``3 (r / 4) ** -2 = 48 / r ** 2`` reads well in raw units; ``3 (r / 4) ** -9``
    would print as ``786432 / r ** 9``:

    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> needs_reference(Signomial([0.0], [[3.0]], [[[-2.0]]], t), 0, 0)
    False
    >>> needs_reference(Signomial([0.0], [[3.0]], [[[-9.0]]], t), 0, 0)
    True
    """
    magnitude = abs(_raw_coefficient(signomial, out, k))
    return not READABLE_LOW <= magnitude < READABLE_HIGH


def term_expressions(signomial, out: int = 0, precision: int | None = None,
                     reference: bool | str = "auto") -> dict[int, sp.Expr]:
    """``{k: term k of output out}`` for the terms with a non-zero coefficient, each
    written as in :func:`signomial_to_sympy` (labels that match the printed equation).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> term_expressions(Signomial([0.0], [[3.0, 0.0]], [[[-2.0], [1.0]]], t), precision=3)
    {0: 48.0/r**2}
    """
    symbols = feature_symbols(signomial)
    found = {}
    for k in range(signomial.coef.shape[1]):
        if signomial.coef[out, k] == 0:
            continue
        around = reference is True or (reference == "auto"
                                       and needs_reference(signomial, out, k))
        build = _reference_term if around else _raw_term
        found[k] = build(signomial, out, k, symbols, precision)
    return found


def needs_reference_anywhere(signomial) -> bool:
    """Whether any term of any output would print unreadably in raw units."""
    return any(needs_reference(signomial, out, k)
               for out in range(signomial.n_outputs)
               for k in range(signomial.coef.shape[1]) if signomial.coef[out, k] != 0)


def signomial_to_sympy(signomial, precision: int | None = None,
                       reference: bool | str = False) -> list[sp.Expr]:
    """One SymPy expression per output, in original units.

    Parameters
    ----------
    signomial : Signomial
    precision : int, optional
        Significant digits of the printed constants; ``None`` keeps full precision.
    reference : bool or "auto", default=False
        ``False`` folds every constant into the coefficients (``48.0/r**2``).
        ``True`` writes every term around its reference point,
        ``c * ((x + shift) / scale) ** a`` with ``c`` the term's value at a typical
        row (see :func:`_reference_term`); ``"auto"`` does so only for the terms whose
        folded coefficient would be below 1e-3 or at least 1e4 in magnitude. Every
        form evaluates to the same score.

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
    >>> signomial_to_sympy(s, precision=3, reference=True)[0]
    3.0/(r/4.0)**2
    """
    if reference not in (True, False, "auto"):
        raise ValueError(f"reference must be True, False or 'auto', got {reference!r}.")
    symbols = feature_symbols(signomial)
    exprs = []
    for out in range(signomial.n_outputs):
        terms, any_reference = [], False
        for k in range(signomial.coef.shape[1]):
            if signomial.coef[out, k] == 0:
                continue
            around = reference is True or (reference == "auto"
                                           and needs_reference(signomial, out, k))
            any_reference |= around
            build = _reference_term if around else _raw_term
            terms.append(build(signomial, out, k, symbols, precision))
        intercept = float(signomial.intercept[out])
        constant = [_constant(intercept, precision)] if intercept != 0 else []
        # an evaluated sum would fold the reference terms back into raw units
        exprs.append(sp.Add(*constant, *terms, evaluate=not any_reference))
    return exprs


def output_labels(signomial) -> list[str]:
    """The left-hand side of each output's equation.

    ``logit P(y = <class>)`` for a binary classifier (``link="logit"``); for a
    multiclass one (``link="softmax"``) ``log P(y = <class>)/P(y = <reference>)``,
    the class's score against the reference class (whose score is 0); the output
    name otherwise.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> output_labels(Signomial([0.0], [[3.0]], [[[-2.0]]], t, ["yes"], link="logit"))
    ['logit P(y = yes)']
    >>> output_labels(Signomial([0.0], [[3.0]], [[[-2.0]]], t, ["F"]))
    ['F']
    """
    names = signomial.output_names
    if signomial.link == "logit":
        return [f"logit P(y = {name})" for name in names]
    if signomial.link == "softmax":
        ref = signomial.reference_class
        return [f"log P(y = {name})/P(y = {ref})" for name in names]
    return list(names)
