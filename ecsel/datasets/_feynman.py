"""The AI Feynman benchmark: 100 physics laws sampled on their published ranges."""

from __future__ import annotations

import difflib
import functools
import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy
from sympy.parsing.sympy_parser import parse_expr, standard_transformations

from ._paths import data_path

__all__ = ["list_feynman", "load_feynman", "signomial_terms", "is_signomial"]

FEYNMAN_FILE = "FeynmanEquations.csv"

# Function names used in the table that SymPy spells differently.
_FUNCTIONS: dict[str, object] = {"arcsin": sympy.asin, "arccos": sympy.acos, "ln": sympy.log}


@dataclass(frozen=True)
class _Law:
    name: str
    output: str
    formula: str
    variables: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    expr: sympy.Expr


def _parse(formula: str, names: Iterable[str]) -> sympy.Expr:
    """Parse a formula with every name in ``names`` declared a positive Symbol.

    The table writes unary minus as ``~`` (SymPy's ``Not``); it is replaced by ``-``,
    which has the same precedence in Python. Declaring the variables explicitly keeps
    names such as ``I``, ``E_n``, ``gamma`` or ``beta`` from resolving to SymPy's
    imaginary unit or special functions.
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


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, _Law]:
    frame = pd.read_csv(data_path(FEYNMAN_FILE), dtype={"Filename": str, "Output": str})
    laws: dict[str, _Law] = {}
    for _, row in frame.iterrows():
        # ``# variables`` is wrong in 6 rows: the non-empty vN_name cells are the truth.
        slots = [i for i in range(1, 11) if isinstance(row[f"v{i}_name"], str)]
        variables = tuple(row[f"v{i}_name"].strip() for i in slots)
        lows = tuple(float(row[f"v{i}_low"]) for i in slots)
        highs = tuple(float(row[f"v{i}_high"]) for i in slots)
        name = row["Filename"].strip()
        laws[name] = _Law(
            name=name,
            output=row["Output"].strip(),
            formula=row["Formula"],
            variables=variables,
            lows=lows,
            highs=highs,
            expr=_parse(row["Formula"], variables),
        )
    return laws


@functools.cache
def _function(name: str) -> Callable[..., np.ndarray]:
    law = _table()[name]
    symbols = [sympy.Symbol(v, positive=True) for v in law.variables]
    return sympy.lambdify(symbols, law.expr, modules="numpy")


@functools.cache
def _law_is_signomial(name: str) -> bool:
    law = _table()[name]
    return is_signomial(law.expr, law.variables)


def _get_law(name: str) -> _Law:
    table = _table()
    if not isinstance(name, str) or name not in table:
        close = difflib.get_close_matches(str(name), list(table), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"unknown Feynman law {name!r}{hint} (see ecsel.datasets.list_feynman())")
    return table[name]


def list_feynman(signomial_only: bool = False, as_frame: bool = False) -> list[str] | pd.DataFrame:
    """List the laws of the AI Feynman benchmark.

    Parameters
    ----------
    signomial_only : bool, default=False
        Keep only the laws that are signomials of their variables (see Notes).
    as_frame : bool, default=False
        Return a DataFrame with one row per law instead of a list of names.

    Returns
    -------
    list of str or pandas.DataFrame
        The ``Filename`` keys accepted by :func:`load_feynman` (e.g. ``"I.12.2"``), in
        the order of the table. With ``as_frame=True``: a DataFrame indexed by that key
        with columns ``output`` (the law's output name), ``formula`` (as written in the
        table), ``expression`` (the parsed SymPy expression), ``variables`` (tuple of
        names), ``n_variables``, ``ranges`` (tuple of ``(low, high)``), ``signomial``
        (bool) and ``n_terms`` (number of signomial terms, 0 when not a signomial).

    Notes
    -----
    A law is a *signomial* when it equals a finite sum of terms, each a real constant
    times a product of real powers of the variables. It is decided symbolically by
    :func:`is_signomial`: the expression is expanded (powers distributed over
    products, products over sums); every resulting term must be a constant times
    powers of single variables. So ``kappa*(T2 - T1)*A/d`` and ``q*v/(2*pi*r)`` are
    signomials, while ``1/(1 + chi)``, ``sqrt(x**2 + y**2)`` and any law with
    ``exp``, ``sin``, ``cos``, ``tanh``, ``arcsin`` or ``ln`` of the variables are
    not. This rule finds 45 of the 100 laws.

    Examples
    --------
    >>> from ecsel.datasets import list_feynman
    >>> names = list_feynman()
    >>> len(names), names[:3]
    (100, ['I.6.2a', 'I.6.2', 'I.6.2b'])
    >>> len(list_feynman(signomial_only=True))
    45
    >>> table = list_feynman(as_frame=True)
    >>> law = table.loc["I.12.2"]
    >>> law.output, law.variables, law.expression
    ('F', ('q1', 'q2', 'epsilon', 'r'), q1*q2/(4*pi*epsilon*r**2))
    """
    table = _table()
    names = [n for n in table if not signomial_only or _law_is_signomial(n)]
    if not as_frame:
        return names
    rows = []
    for n in names:
        law = table[n]
        signomial = _law_is_signomial(n)
        rows.append(
            {
                "name": n,
                "output": law.output,
                "formula": law.formula,
                "expression": law.expr,
                "variables": law.variables,
                "n_variables": len(law.variables),
                "ranges": tuple(zip(law.lows, law.highs, strict=True)),
                "signomial": signomial,
                "n_terms": len(signomial_terms(law.expr, law.variables)) if signomial else 0,
            }
        )
    return pd.DataFrame(rows).set_index("name")


def load_feynman(
    name: str,
    n_samples: int = 2000,
    noise: float = 0.0,
    random_state: int | np.random.Generator | None = None,
) -> tuple[pd.DataFrame, pd.Series, sympy.Expr]:
    """Sample one law of the AI Feynman benchmark (Udrescu & Tegmark, 2020).

    Parameters
    ----------
    name : str
        The law's ``Filename`` key, e.g. ``"I.12.2"``; see :func:`list_feynman`.
    n_samples : int, default=2000
        Number of rows, at least 1.
    noise : float, default=0.0
        Relative noise level, at least 0. The target is
        ``y = f(X) + eps`` with ``eps ~ Normal(0, (noise * std(f(X)))**2)`` i.i.d.,
        where ``std`` is the population standard deviation (``ddof=0``) of the
        noise-free values in this sample. This is the SRBench convention (La Cava et
        al., 2021), which adds ``noise * RMS`` to the standardized target.
    random_state : int, numpy.random.Generator or None, default=None
        Seed or generator for :func:`numpy.random.default_rng`. ``X`` depends only on
        ``name``, ``n_samples`` and ``random_state``: the noise is drawn after ``X``,
        so the same seed gives the same ``X`` at every noise level.

    Returns
    -------
    X : pandas.DataFrame of shape (n_samples, n_variables)
        One float64 column per variable, named as in the table and in its order; each
        column is drawn independently and uniformly on the variable's
        ``[low, high]`` range.
    y : pandas.Series of shape (n_samples,)
        The law's value at ``X`` plus noise, float64, named after the law's output.
    expr : sympy.Expr
        The true law. Every variable is a ``sympy.Symbol(name, positive=True)``, so
        ``expr.subs`` and :func:`sympy.lambdify` with symbols built that way
        reproduce the noise-free ``y``.

    Raises
    ------
    ValueError
        For an unknown ``name``, a non-integer or non-positive ``n_samples``, or a
        negative or non-finite ``noise``.

    Notes
    -----
    The table (``datasets/FeynmanEquations.csv``) writes unary minus as ``~`` and
    gives a wrong ``# variables`` count in 6 rows; both are handled here. Variable
    names such as ``I``, ``gamma`` or ``E_n`` are plain symbols, never SymPy's
    built-ins.

    Examples
    --------
    >>> from ecsel.datasets import load_feynman
    >>> X, y, expr = load_feynman("I.12.2", n_samples=5, random_state=0)
    >>> list(X.columns), y.name
    (['q1', 'q2', 'epsilon', 'r'], 'F')
    >>> expr
    q1*q2/(4*pi*epsilon*r**2)
    >>> bool(((X >= 1) & (X <= 5)).all().all())
    True
    >>> import numpy as np
    >>> row = {s: X.loc[0, s.name] for s in expr.free_symbols}
    >>> bool(np.isclose(float(expr.subs(row)), y[0], rtol=1e-12))
    True
    """
    law = _get_law(name)
    if isinstance(n_samples, bool) or not isinstance(n_samples, numbers.Integral):
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive integer, got {n_samples!r}")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not math.isfinite(noise)
        or noise < 0
    ):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    n = int(n_samples)
    rng = np.random.default_rng(random_state)
    columns = {
        v: rng.uniform(lo, hi, size=n)
        for v, lo, hi in zip(law.variables, law.lows, law.highs, strict=True)
    }
    X = pd.DataFrame(columns, columns=list(law.variables), dtype=np.float64)
    with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
        values = np.asarray(_function(name)(*columns.values()), dtype=np.float64)
    values = np.broadcast_to(values, (n,)).copy()
    if noise > 0:
        values = values + rng.normal(0.0, noise * float(np.std(values)), size=n)
    y = pd.Series(values, index=X.index, name=law.output)
    return X, y, law.expr


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
    >>> from ecsel.datasets import signomial_terms
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
        expr = _parse(expr, _variable_names(variables, sympy.Integer(0)))
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
    >>> from ecsel.datasets import is_signomial
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
