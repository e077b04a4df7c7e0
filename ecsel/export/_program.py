"""The equation as a small program of raw-column arithmetic, shared by the code writers.

The ONNX, SQL and Python writers all compute the same thing: each model feature's
``log u`` from the raw columns (the maps of :mod:`ecsel._transform`, missing values
and unseen levels included), then the clamped terms, the scores and, for an
estimator, the probabilities and the predicted label. This module states that
computation once, from the public attributes of a signomial (``intercept``, ``coef``,
``exponents``, ``transform``) and of a fitted estimator (``classes_``, ``threshold_``);
each writer only renders it in its own language.

A feature is an expression tree of :class:`Expr` nodes over three leaves: a numeric
column with its missing entries replaced by the fill value (``filled``), a
missingness test (``missing``) and a level test of a categorical column (``level``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ecsel._transform import EXP_CLAMP, MAX_STANDARDISED

#: The largest double: ``u`` of a power map is clipped there (``log u`` stays finite).
FLOAT_MAX = float(np.finfo(np.float64).max)

#: The spellings of a boolean accepted where a boolean arrives as text (ONNX).
TRUE_SPELLINGS = ("True", "true", "1")
FALSE_SPELLINGS = ("False", "false", "0")


@dataclass(frozen=True)
class Expr:
    """One node: ``op`` with child nodes ``args`` and a payload ``value``.

    ``op`` is one of ``const`` (value: float), ``filled`` (value: (column, fill)),
    ``missing`` (value: column), ``level`` (value: (column, level)), ``add``,
    ``sub`` (two children), ``log``, ``asinh`` (one child), ``max``, ``min`` (a
    child and a constant), ``ratio`` (one child ``a``, value ``(scale, bound)``:
    ``clip(a / scale, -bound, bound)``, which a writer must compute without
    overflowing where its arithmetic raises on overflow, as SQL engines do).
    """

    op: str
    args: tuple = ()
    value: object = None


def _const(v: float) -> Expr:
    return Expr("const", value=float(v))


def _binary(op: str, a: Expr, b: float) -> Expr:
    return Expr(op, (a, _const(b)))


@dataclass(frozen=True)
class Column:
    """A raw input column the equation reads.

    ``kind`` is ``numeric`` (read as a double), or ``categorical`` (read as a label).
    ``boolean`` marks a column that held booleans in training (see
    :attr:`ecsel.PositivityTransform.boolean_inputs`). ``fill`` is the value a missing
    entry of a numeric column takes (its map's ``fill``).
    """

    name: str
    kind: str
    boolean: bool
    fill: float = 0.0


@dataclass(frozen=True)
class Program:
    """What a writer renders (see the module docstring).

    Attributes
    ----------
    columns : tuple of Column
        The raw columns the equation reads, in the transform's order.
    inputs : tuple of Column
        Every raw input column of the transform (an interface that lists them all
        stays the same from one row of ``equations_`` to the next). A column whose
        every map is constant counts as numeric unless it held booleans.
    features : tuple of Expr
        ``log u`` of each model feature used by a term.
    intercept : ndarray (n_outputs,)
    terms : tuple of tuple of (float, tuple of (int, float))
        Per output, its terms ``(coef, ((feature index, exponent), ...))``; terms with
        a zero coefficient and zero exponents are left out (they add exactly 0).
    task : {"scores", "regression", "binary", "multiclass"}
    classes : tuple
        Class labels (``classes_``) of a classifier.
    threshold : float
        Probability of ``classes[1]`` from which a binary classifier predicts it.
    output_names : tuple of str
    """

    columns: tuple
    features: tuple
    intercept: np.ndarray
    terms: tuple
    task: str = "scores"
    classes: tuple = ()
    threshold: float = 0.5
    output_names: tuple = ()
    inputs: tuple = ()

    @property
    def clamp(self) -> float:
        return EXP_CLAMP


def _ratio(a: Expr, scale: float, bound: float) -> Expr:
    return Expr("ratio", (a,), (float(scale), float(bound)))


def _standardised(v: Expr, fmap) -> Expr:
    """``(v - center) / scale`` clipped to ``+-MAX_STANDARDISED``, as the transform does."""
    return _ratio(_binary("sub", v, fmap.center), fmap.scale, MAX_STANDARDISED)


def feature_expr(fmap) -> Expr | None:
    """``log u`` of one :class:`~ecsel._transform.FeatureMap`; None when it is always 0.

    Mirrors :meth:`FeatureMap.log_feature` on the values of
    :meth:`PositivityTransform.encode` (a missing numeric value takes ``fmap.fill``).
    """
    if fmap.kind == "constant":
        return None
    if fmap.missing:
        return Expr("missing", value=fmap.source)
    if fmap.level is not None:
        return Expr("level", value=(fmap.source, fmap.level))
    v = Expr("filled", value=(fmap.source, float(fmap.fill)))
    if fmap.kind == "power":  # log(min((max(x, lower) + shift) / scale, FLOAT_MAX))
        shifted = _binary("max", v, fmap.lower)
        if fmap.shift != 0:
            shifted = _binary("add", shifted, fmap.shift)
        return Expr("log", (_ratio(shifted, fmap.scale, FLOAT_MAX),))
    if fmap.kind == "signed":  # asinh(standardised clip(x, lower, upper))
        clipped = _binary("max", v, fmap.lower)
        if fmap.upper is not None:
            clipped = _binary("min", clipped, fmap.upper)
        return Expr("asinh", (_standardised(clipped, fmap),))
    if fmap.kind == "linear":
        return _standardised(v, fmap)
    if fmap.kind == "indicator":
        return _binary("min", _binary("max", _standardised(v, fmap), 0.0), 1.0)
    raise ValueError(f"Unknown feature map kind {fmap.kind!r}.")


def build_program(signomial, estimator=None) -> Program:
    """The :class:`Program` of ``signomial``; with a fitted ``estimator``, its head too.

    A classifier (it has ``classes_``) adds its probabilities and label (``classes_``,
    ``threshold_``), a regressor its prediction; without an estimator the program
    computes the signomial's scores only. ``signomial`` is the row of the estimator's
    ``equations_`` to export.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0],
    ...                                           "c": ["a", "b", "a"]}))
    >>> p = build_program(Signomial([0.5], [[3.0]], [[[-2.0, 0.0]]], t))
    >>> [c.name for c in p.columns], p.terms
    (['r'], (((3.0, ((0, -2.0),)),),))
    """
    maps = signomial.transform.feature_maps
    coef, expo = signomial.coef, signomial.exponents
    used: dict[int, int] = {}
    features: list[Expr] = []
    terms = []
    for o in range(coef.shape[0]):
        out = []
        for k in range(coef.shape[1]):
            if coef[o, k] == 0:
                continue  # coef * exp(clamped) is exactly 0
            factors = []
            for j in np.flatnonzero(expo[o, k]):
                expr = feature_expr(maps[j])
                if expr is None:
                    continue  # log u = 0: the factor is 1
                if j not in used:
                    used[j] = len(features)
                    features.append(expr)
                factors.append((used[j], float(expo[o, k, j])))
            out.append((float(coef[o, k]), tuple(factors)))
        terms.append(tuple(out))
    sources = {maps[j].source for j in used}
    boolean = set(getattr(signomial.transform, "boolean_inputs", ()))
    inputs = []
    for name in signomial.transform.input_features:
        categorical = any(m.source == name and m.level is not None for m in maps)
        fills = [m.fill for m in maps if m.source == name and m.level is None
                 and not m.missing and m.kind != "constant"]
        inputs.append(Column(name, "categorical" if categorical else "numeric",
                             name in boolean, float(fills[0]) if fills else 0.0))
    columns = [c for c in inputs if c.name in sources]
    task, classes, threshold = "scores", (), 0.5
    if estimator is not None and hasattr(estimator, "classes_"):
        classes = tuple(estimator.classes_.tolist())
        task = "binary" if len(classes) == 2 else "multiclass"
        threshold = float(getattr(estimator, "threshold_", 0.5))
        if signomial.n_outputs != len(classes) - 1:
            raise ValueError(f"The signomial has {signomial.n_outputs} outputs; a classifier "
                             f"of {len(classes)} classes needs {len(classes) - 1}.")
    elif estimator is not None:
        task = "regression"
    return Program(tuple(columns), tuple(features), np.array(signomial.intercept),
                   tuple(terms), task, classes, threshold, tuple(signomial.output_names),
                   tuple(inputs))


__all__ = ["Column", "Expr", "FALSE_SPELLINGS", "Program", "TRUE_SPELLINGS",
           "build_program", "feature_expr"]
