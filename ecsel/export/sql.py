"""One SQL ``SELECT`` that computes a signomial from the raw columns of a table.

Dialects: ``sqlite`` (3.35 or later, with its math functions, as bundled with Python),
``duckdb`` and ``postgres`` (12 or later). The query reads only the columns the
equation uses and is built from nested derived tables, so it can be used as it is,
as a view, or as a subquery.

Conventions (the estimator's rules for missing values and categories):

- a missing value is ``NULL`` (DuckDB and Postgres: ``NaN`` too) and takes the
  column's fill value and its missingness indicator, as in the estimator;
- a categorical column is compared as text with the levels the model was trained on
  (``str(value)`` in Python); an unseen level counts as the reference level;
- a column that held booleans in training is ``0``/``1`` in SQLite and ``BOOLEAN``
  in DuckDB and Postgres;
- constants are written with 17 significant digits and typed as double precision, so
  the arithmetic is IEEE double precision as in numpy.
"""

from __future__ import annotations

import math

from ecsel.export._program import Expr, Program, build_program

DIALECTS = ("sqlite", "duckdb", "postgres")

#: exp() of Postgres raises an underflow error below about -745.1; 0 is the value.
_EXP_FLOOR = -745.0

_DOUBLE = {"sqlite": "REAL", "duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION"}
_TEXT = {"sqlite": "TEXT", "duckdb": "VARCHAR", "postgres": "TEXT"}


def quote(name: str) -> str:
    """A double-quoted SQL identifier (quotes inside doubled).

    Examples
    --------
    >>> print(quote('Page "Values" 2'))
    "Page ""Values"" 2"
    """
    return '"' + str(name).replace('"', '""') + '"'


def _text(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


class _Dialect:
    def __init__(self, name: str):
        if name not in DIALECTS:
            raise ValueError(f"dialect must be one of {DIALECTS}, got {name!r}.")
        self.name = name

    @property
    def fence(self) -> str:
        """Keeps a derived table from being merged into the query above it.

        Merged, every reference to a column is replaced by its whole expression, and
        the levels reference each other's columns several times: Postgres then
        evaluates exponentially many copies (minutes for 30 columns). A subquery with
        an OFFSET is never merged, in Postgres and in SQLite alike.
        """
        return {"sqlite": "\nLIMIT -1 OFFSET 0", "postgres": "\nOFFSET 0", "duckdb": ""}[self.name]

    def num(self, v: float) -> str:
        text = repr(float(v))
        if self.name == "sqlite":
            return text  # a literal with a point or an exponent is a REAL
        # DuckDB reads 1.5 as a DECIMAL and Postgres as a NUMERIC: type it exactly.
        return f"CAST({_text(text)} AS {_DOUBLE[self.name]})"

    def double(self, column: str, boolean: bool) -> str:
        ref = quote(column)
        if boolean and self.name == "postgres":
            return f"CAST(CAST({ref} AS INTEGER) AS DOUBLE PRECISION)"
        return f"CAST({ref} AS {_DOUBLE[self.name]})"

    def is_missing(self, value: str) -> str:
        if self.name == "sqlite":
            return f"{value} IS NULL"  # SQLite stores NaN as NULL
        if self.name == "duckdb":
            return f"({value} IS NULL OR isnan({value}))"
        return f"({value} IS NULL OR {value} = {self.num(float('nan'))})"

    def label(self, column: str, boolean: bool) -> str:
        ref = quote(column)
        if boolean:
            truth = f"{ref} = 1" if self.name == "sqlite" else ref
            return (f"CASE WHEN {ref} IS NULL THEN NULL WHEN {truth} THEN 'True' "
                    "ELSE 'False' END")
        return f"CAST({ref} AS {_TEXT[self.name]})"

    def greatest(self, items: list[str]) -> str:
        return ("max(" if self.name == "sqlite" else "GREATEST(") + ", ".join(items) + ")"

    def exp(self, arg: str) -> str:
        if self.name != "postgres":
            return f"exp({arg})"
        return f"CASE WHEN {arg} < {self.num(_EXP_FLOOR)} THEN {self.num(0.0)} " \
               f"ELSE exp({arg}) END"

    def clip(self, value: str, lo: float, hi: float) -> str:
        return (f"CASE WHEN {value} < {self.num(lo)} THEN {self.num(lo)} "
                f"WHEN {value} > {self.num(hi)} THEN {self.num(hi)} ELSE {value} END")


class _Renderer:
    def __init__(self, program: Program, dialect: _Dialect):
        self.program = program
        self.d = dialect
        self.index = {c.name: i for i, c in enumerate(program.columns)}

    def expr(self, e: Expr) -> str:
        d = self.d
        if e.op == "const":
            return d.num(e.value)
        if e.op == "filled":
            return f"ecsel_x{self.index[e.value[0]]}"
        if e.op == "missing":
            i = self.index[e.value]
            if self.program.columns[i].kind == "numeric":
                return f"ecsel_m{i}"
            return f"CASE WHEN ecsel_c{i} IS NULL THEN {d.num(1.0)} ELSE {d.num(0.0)} END"
        if e.op == "level":
            i = self.index[e.value[0]]
            return (f"CASE WHEN ecsel_c{i} = {_text(e.value[1])} THEN {d.num(1.0)} "
                    f"ELSE {d.num(0.0)} END")
        if e.op in ("add", "sub"):
            a, b = (self.expr(x) for x in e.args)
            return f"({a} {dict(add='+', sub='-')[e.op]} {b})"
        if e.op == "ratio":
            # DuckDB and Postgres raise on a double overflow: test before dividing
            scale, bound = e.value
            a = self.expr(e.args[0])
            quotient = f"{a} / {d.num(scale)}"
            limit = bound * scale
            if not math.isfinite(limit):  # |a| / scale cannot exceed the bound
                return f"({quotient})"
            return (f"CASE WHEN {a} > {d.num(limit)} THEN {d.num(bound)} "
                    f"WHEN {a} < {d.num(-limit)} THEN {d.num(-bound)} ELSE {quotient} END")
        if e.op in ("max", "min"):
            a, b = (self.expr(x) for x in e.args)
            # CASE, not GREATEST/LEAST: their NULL rules differ between dialects
            cmp = "<" if e.op == "max" else ">"
            return f"CASE WHEN {a} {cmp} {b} THEN {b} ELSE {a} END"
        if e.op == "log":
            return f"ln({self.expr(e.args[0])})"
        if e.op == "asinh":
            return f"asinh({self.expr(e.args[0])})"
        raise ValueError(f"Unknown operation {e.op!r}.")

    def reads(self) -> list[str]:
        d, out = self.d, []
        for i, column in enumerate(self.program.columns):
            if column.kind == "numeric":
                value = d.double(column.name, column.boolean)
                missing = d.is_missing(value)
                out.append(f"CASE WHEN {missing} THEN {d.num(column.fill)} ELSE {value} END "
                           f"AS ecsel_x{i}")
                out.append(f"CASE WHEN {missing} THEN {d.num(1.0)} ELSE {d.num(0.0)} END "
                           f"AS ecsel_m{i}")
            else:
                out.append(f"{d.label(column.name, column.boolean)} AS ecsel_c{i}")
        return out

    def powers(self) -> list[str]:
        """The exponent argument of every term with factors: ``ecsel_q<o>_<k>``."""
        d = self.d
        return [f"{' + '.join(f'{d.num(a)} * ecsel_f{j}' for j, a in factors)} "
                f"AS ecsel_q{o}_{k}"
                for o, terms in enumerate(self.program.terms)
                for k, (_, factors) in enumerate(terms) if factors]

    def score(self, o: int) -> str:
        d, parts = self.d, []
        clamp = self.program.clamp
        for k, (coef, factors) in enumerate(self.program.terms[o]):
            if not factors:
                parts.append(d.num(coef))
                continue
            parts.append(f"{d.num(coef)} * exp({d.clip(f'ecsel_q{o}_{k}', -clamp, clamp)})")
        total = f" + ({' + '.join(parts)})" if parts else ""
        return f"{d.num(self.program.intercept[o])}{total}"


def _select(d: _Dialect, columns: list[str], source: str, alias: str) -> str:
    body = ",\n  ".join(columns)
    indented = (source + d.fence).replace("\n", "\n  ")
    return f"SELECT\n  {body}\nFROM (\n  {indented}\n) AS {alias}"


def _literal(value) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return _text(value)


def _head(program: Program, d: _Dialect, keep: list[str], source: str) -> str:
    """The levels above the scores: probabilities and the label."""
    n_out = len(program.terms)
    if program.task == "regression":
        return _select(d, keep + ["ecsel_z0 AS prediction"], source, "ecsel_scores")
    if program.task == "scores":
        return _select(d, keep + [f"ecsel_z{o} AS {quote(n)}"
                               for o, n in enumerate(program.output_names)],
                       source, "ecsel_scores")
    names = [quote(f"proba_{c}") for c in program.classes]
    one = d.num(1.0)
    if program.task == "binary":
        p = (f"CASE WHEN ecsel_z0 >= {d.num(0.0)} THEN {one} / ({one} + "
             f"{d.exp('-ecsel_z0')}) ELSE {d.exp('ecsel_z0')} / ({one} + "
             f"{d.exp('ecsel_z0')}) END")
        level = _select(d, keep + ["ecsel_z0 AS score", f"{p} AS ecsel_p"], source, "ecsel_scores")
        c0, c1 = (_literal(c) for c in program.classes)
        return _select(d, keep + ["score", f"{one} - ecsel_p AS {names[0]}",
                               f"ecsel_p AS {names[1]}",
                               f"CASE WHEN ecsel_p >= {d.num(program.threshold)} THEN {c1} "
                               f"ELSE {c0} END AS prediction"], level, "ecsel_probability")
    scores = [d.num(0.0)] + [f"ecsel_z{o}" for o in range(n_out)]
    score_names = [quote(f"score_{c}") for c in program.classes]
    level = _select(d, keep + [f"{s} AS {n}" for s, n in zip(scores, score_names)]
                    + [f"{d.greatest(scores)} AS ecsel_top"], source, "ecsel_scores")
    level = _select(d, keep + score_names
                    + [f"{d.exp(f'({n} - ecsel_top)')} AS ecsel_e{c}"
                       for c, n in enumerate(score_names)], level, "ecsel_shifted")
    total = "(" + " + ".join(f"ecsel_e{c}" for c in range(len(names))) + ")"
    level = _select(d, keep + score_names + [f"ecsel_e{c} / {total} AS {n}"
                                          for c, n in enumerate(names)],
                    level, "ecsel_softmax")
    whens = []
    for c in range(len(names) - 1):
        wins = " AND ".join(f"{names[c]} >= {names[j]}" for j in range(c + 1, len(names)))
        whens.append(f"WHEN {wins} THEN {_literal(program.classes[c])}")
    label = f"CASE {' '.join(whens)} ELSE {_literal(program.classes[-1])} END AS prediction"
    return _select(d, keep + score_names + names + [label], level, "ecsel_probabilities")


def program_to_sql(program: Program, table: str, dialect: str = "sqlite", keep=()) -> str:
    """The ``SELECT`` of ``program`` over ``table`` (see :func:`signomial_to_sql`).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> from ecsel.export._program import build_program
    >>> est, X = example_estimator()
    >>> program_to_sql(build_program(est.signomial_, est), "rows").startswith("SELECT")
    True
    """
    d = _Dialect(dialect)
    if not isinstance(table, str) or not table:
        raise ValueError(f"table must be a non-empty string, got {table!r}.")
    keep = [quote(c) for c in ([keep] if isinstance(keep, str) else list(keep))]
    r = _Renderer(program, d)
    reads = r.reads() or [f"{d.num(0.0)} AS ecsel_none"]
    source = "SELECT\n  " + ",\n  ".join(keep + reads) + f"\nFROM {table}"
    features = [f"{r.expr(e)} AS ecsel_f{j}" for j, e in enumerate(program.features)]
    if features:
        source = _select(d, keep + features, source, "ecsel_raw")
    powers = r.powers()
    if powers:
        source = _select(d, keep + powers, source, "ecsel_features")
    scores = [f"{r.score(o)} AS ecsel_z{o}" for o in range(len(program.terms))]
    source = _select(d, keep + scores, source, "ecsel_powers")
    return _head(program, d, keep, source) + "\n"


def signomial_to_sql(signomial, table: str, dialect: str = "sqlite", keep=(), *,
                     estimator=None) -> str:
    """One ``SELECT`` computing ``signomial`` from the raw columns of ``table``.

    Parameters
    ----------
    signomial : Signomial
    table : str
        The table (or a parenthesised subquery with an alias) holding the raw
        columns, used verbatim in ``FROM``.
    dialect : {"sqlite", "duckdb", "postgres"}
    keep : sequence of str
        Columns of ``table`` carried into the result unchanged (an id, say).
    estimator : fitted ECSEL estimator, optional
        With it the query returns the estimator's numbers: ``prediction`` for a
        regressor; ``score`` (the log-odds), ``proba_<class>`` and ``prediction`` for a
        binary classifier; ``score_<class>``, ``proba_<class>`` and ``prediction`` for
        a multiclass one. Without it, one column of scores per output.

    Examples
    --------
    >>> import sqlite3
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t, ["y"])  # 0.5 + 3 (r / 4) ** -2
    >>> db = sqlite3.connect(":memory:")
    >>> _ = db.execute("CREATE TABLE t (id INTEGER, r REAL)")
    >>> _ = db.executemany("INSERT INTO t VALUES (?, ?)", [(1, 8.0), (2, None)])
    >>> db.execute(signomial_to_sql(s, "t", keep=["id"]) + " ORDER BY id").fetchall()
    [(1, 1.25), (2, 3.5)]
    """
    return program_to_sql(build_program(signomial, estimator), table, dialect, keep)


__all__ = ["DIALECTS", "program_to_sql", "quote", "signomial_to_sql"]
