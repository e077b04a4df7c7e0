"""The AI Feynman benchmark: 100 physics laws sampled on their published ranges."""

from __future__ import annotations

import difflib
import functools
import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sympy

from ecsel.recovery import is_signomial, parse_formula, signomial_terms

from ._paths import data_path

__all__ = ["feynman_units", "list_feynman", "load_feynman", "signomial_terms", "is_signomial"]

FEYNMAN_FILE = "FeynmanEquations.csv"
UNITS_FILE = "feynman_units.csv"
#: Base dimensions of the units table: metre, second, kilogram, kelvin, volt.
BASE_DIMENSIONS = ("m", "s", "kg", "T", "V")


@dataclass(frozen=True)
class _Law:
    name: str
    output: str
    formula: str
    variables: tuple[str, ...]
    lows: tuple[float, ...]
    highs: tuple[float, ...]
    expr: sympy.Expr


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
            expr=parse_formula(row["Formula"], variables),
        )
    return laws


@functools.lru_cache(maxsize=1)
def _units_table() -> dict[str, dict[str, float]]:
    frame = pd.read_csv(data_path(UNITS_FILE))
    return {str(row["Variable"]).strip(): {b: float(row[b]) for b in BASE_DIMENSIONS
                                           if float(row[b]) != 0}
            for _, row in frame.iterrows()}


def feynman_units(name: str) -> dict:
    """Units of one law's variables and output, ready for :class:`~ecsel.ECSELRegressor`.

    Returns ``{"units": {variable: {base: power}}, "target_units": {base: power}}`` in
    the base dimensions m, s, kg, T and V of the AI Feynman units table
    (``datasets/feynman_units.csv``); a dimensionless quantity is ``{}``.

    Examples
    --------
    >>> feynman_units("I.12.2")["target_units"]
    {'m': 1.0, 's': -2.0, 'kg': 1.0}
    >>> feynman_units("I.12.2")["units"]["r"]
    {'m': 1.0}
    """
    law = _get_law(name)
    table = _units_table()
    return {"units": {v: dict(table[v]) for v in law.variables},
            "target_units": dict(table[law.output])}


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
    return_units: bool = False,
) -> tuple:
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
    return_units : bool, default=False
        Also return the units (see :func:`feynman_units`).

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
    units : dict
        Only with ``return_units=True``: ``{"units": ..., "target_units": ...}``, the
        keyword arguments of :class:`~ecsel.ECSELRegressor` that make every term
        dimensionally homogeneous (:func:`feynman_units`).

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
    if return_units:
        return X, y, law.expr, feynman_units(name)
    return X, y, law.expr
