"""Dependency-free Python source of a signomial: one function over one row.

The generated module needs only the standard :mod:`math` module. Its function takes
one row as a dict of raw column values and returns the numbers the estimator
computes for it, missing values (``None`` or ``float("nan")``) and unseen
categorical levels handled as the estimator handles them.
"""

from __future__ import annotations

from ecsel.export._program import Expr, Program, build_program

_BINARY = {"add": "+", "sub": "-"}


def _num(v: float) -> str:
    return repr(float(v))


class _Renderer:
    """Renders :class:`Expr` trees as Python expressions over per-column locals."""

    def __init__(self, program: Program):
        self.program = program
        self.index = {c.name: i for i, c in enumerate(program.columns)}

    def expr(self, e: Expr) -> str:
        if e.op == "const":
            return _num(e.value)
        if e.op == "filled":
            return f"x{self.index[e.value[0]]}"
        if e.op == "missing":
            i = self.index[e.value]
            kind = self.program.columns[i].kind
            return f"(1.0 if m{i} else 0.0)" if kind == "numeric" else \
                f"(1.0 if c{i} is None else 0.0)"
        if e.op == "level":
            return f"(1.0 if c{self.index[e.value[0]]} == {e.value[1]!r} else 0.0)"
        if e.op in _BINARY:
            a, b = (self.expr(x) for x in e.args)
            return f"({a} {_BINARY[e.op]} {b})"
        if e.op in ("max", "min"):
            a, b = (self.expr(x) for x in e.args)
            return f"{e.op}({a}, {b})"
        if e.op == "ratio":  # float division overflows to inf in Python, then clipped
            scale, bound = e.value
            return (f"min(max({self.expr(e.args[0])} / {_num(scale)}, {_num(-bound)}), "
                    f"{_num(bound)})")
        if e.op == "log":
            return f"math.log({self.expr(e.args[0])})"
        if e.op == "asinh":
            return f"math.asinh({self.expr(e.args[0])})"
        raise ValueError(f"Unknown operation {e.op!r}.")

    def column_lines(self) -> list[str]:
        lines = []
        for i, column in enumerate(self.program.columns):
            lines.append(f"    value = row[{column.name!r}]")
            if column.kind == "numeric":
                lines.append(f"    m{i} = value is None or value != value")
                lines.append(f"    x{i} = {_num(column.fill)} if m{i} else float(value)")
            else:
                lines.append(f"    c{i} = None if value is None or value != value "
                             "else str(value)")
        return lines


def _body(program: Program) -> list[str]:
    r = _Renderer(program)
    lines = r.column_lines()
    for j, feature in enumerate(program.features):
        lines.append(f"    f{j} = {r.expr(feature)}")
    clamp = _num(program.clamp)
    for o, terms in enumerate(program.terms):
        parts = []
        for coef, factors in terms:
            if not factors:
                parts.append(_num(coef))
                continue
            power = " + ".join(f"{_num(a)} * f{j}" for j, a in factors)
            parts.append(f"{_num(coef)} * math.exp(min(max({power}, -{clamp}), {clamp}))")
        total = f" + ({' + '.join(parts)})" if parts else ""
        lines.append(f"    z{o} = {_num(program.intercept[o])}{total}")
    scores = ", ".join(f"z{o}" for o in range(len(program.terms)))
    if program.task == "regression":
        lines.append("    return z0")
    elif program.task == "binary":
        lines += [
            "    if z0 >= 0.0:",
            "        p = 1.0 / (1.0 + math.exp(-z0))",
            "    else:",
            "        e = math.exp(z0)",
            "        p = e / (1.0 + e)",
            f"    label = {program.classes[1]!r} if p >= {_num(program.threshold)} "
            f"else {program.classes[0]!r}",
            '    return {"score": z0, "probabilities": [1.0 - p, p], "label": label}',
        ]
    elif program.task == "multiclass":
        lines += [
            f"    s = [0.0, {scores}]",
            "    top = max(s)",
            "    e = [math.exp(v - top) for v in s]",
            "    total = sum(e)",
            "    p = [v / total for v in e]",
            f"    classes = {list(program.classes)!r}",
            '    return {"score": s, "probabilities": p, "label": classes[p.index(max(p))]}',
        ]
    else:
        pairs = ", ".join(f"{n!r}: z{o}" for o, n in enumerate(program.output_names))
        lines.append(f"    return {{{pairs}}}")
    return lines


def _docstring(program: Program, name: str) -> list[str]:
    returns = {
        "regression": "the prediction (a float)",
        "binary": 'a dict: "score" (the log-odds of the second class), "probabilities" '
                  '(one per class, in the order of classes_) and "label"',
        "multiclass": 'a dict: "score" (one per class, the first class at 0), '
                      '"probabilities" (one per class, in the order of classes_) and "label"',
        "scores": "a dict of the scores, one per output",
    }[program.task]
    columns = ", ".join(c.name for c in program.columns) or "none"
    return [
        f'    """ECSEL equation for one row: {name}(row) -> {returns}.',
        "",
        f"    row: a dict of raw column values; the columns read are: {columns}.",
        "    A missing value is None or float('nan'); an unseen level counts as the",
        "    reference level, as in the estimator. Generated by ecsel; needs only math.",
        '    """',
    ]


def program_to_python(program: Program, name: str = "ecsel_predict") -> str:
    """The source of a module with one function ``name(row)`` computing ``program``.

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> from ecsel.export._program import build_program
    >>> est, X = example_estimator()
    >>> print(program_to_python(build_program(est.signomial_, est)).splitlines()[3])
    def ecsel_predict(row):
    """
    if not name.isidentifier():
        raise ValueError(f"name must be a Python identifier, got {name!r}.")
    lines = ["import math", "", "", f"def {name}(row):"]
    lines += _docstring(program, name) + _body(program)
    return "\n".join(lines) + "\n"


def signomial_to_python(signomial, name: str = "ecsel_predict", *, estimator=None) -> str:
    """Source of a dependency-free function ``name(row)`` for ``signomial``.

    With a fitted ``estimator`` (whose equation is ``signomial``) the function returns
    the estimator's numbers: the prediction of a regressor, or a dict with the
    ``score`` (``decision_function``), the ``probabilities`` (``predict_proba``) and
    the ``label`` (``predict``) of a classifier. Without one it returns the scores.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> source = signomial_to_python(Signomial([0.5], [[3.0]], [[[-2.0]]], t, ["y"]))
    >>> namespace = {}
    >>> exec(source, namespace)
    >>> namespace["ecsel_predict"]({"r": 8.0})  # 0.5 + 3 (8 / 4) ** -2
    {'y': 1.25}
    """
    return program_to_python(build_program(signomial, estimator), name)


__all__ = ["program_to_python", "signomial_to_python"]
