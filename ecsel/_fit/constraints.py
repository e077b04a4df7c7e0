"""Domain knowledge as exact constraints on a signomial's exponents and coefficients.

Three kinds of constraint, each parsed from the estimator's parameters into arrays
over the *model features* (:class:`~ecsel.PositivityTransform` columns) and kept by
every step of the fit (starts, gradient steps, L-BFGS-B boxes, lattice, pruning,
sparsity path), never clipped after selection:

``monotonic_cst``
    scikit-learn's convention: -1/0/+1 per input column, or ``{name: sign}``. Every
    input map (power, shifted power, clipped asinh, binary indicator) is
    non-decreasing in its raw column, so term ``k`` moves with column ``j`` in the
    direction of ``sign(c_k * a_kj)`` everywhere, inside and outside the training
    range. The constraint is ``s_j * c_k * a_kj >= 0`` for every term. A
    constrained column must be numeric. **Missing values**: a missing entry takes
    the column's fill value (see :mod:`ecsel._transform`), and the exponent of a
    constrained column's missingness indicator is held at 0; so a missing value
    scores exactly as the fill value does, and the equation is monotone on the
    column's values with a missing entry placed at its fill value.
``exponent_bounds``
    A box ``(low, high)`` for every exponent of a column (one global pair or
    ``{name: (low, high)}``), in the raw column's exponent units. The box must
    contain 0, the exponent of a term that does not use the column. It applies to
    the column's own factor (and to every level of a categorical column), not to
    its missingness indicator.
``units`` / ``target_units`` (regressor)
    Each column's dimension as ``{base: power}``. Every term must carry the
    target's dimension: ``sum_j a_kj * D_j = D_y``. Solved exactly: the admissible
    exponents of a term are ``a0 + N z`` (``a0`` a particular solution, ``N`` a
    basis of the dimensionless groups, both rational, from the reduced row echelon
    form), and the search runs over ``z``. An intercept (a term with no factor) is
    dimensionless, so it is allowed only when the target is.

Examples
--------
>>> import pandas as pd
>>> from ecsel._transform import PositivityTransform
>>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, None, 3.0], "y": [1.0, 2.0, 4.0]}))
>>> c = build(t, monotonic_cst={"x": -1}, exponent_bounds=(-2, 2))
>>> c.sign.tolist(), c.low.tolist(), c.high.tolist()
([-1, 0, 0], [-2.0, 0.0, -2.0], [2.0, 0.0, 2.0])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Real

import numpy as np
import sympy
import torch

MONOTONE_INCREASING = 1
MONOTONE_DECREASING = -1


# ---------------------------------------------------------------- parsing
def _per_column(value, input_features, what: str) -> dict:
    """``{column: entry}`` from a dict keyed by name or a sequence in column order."""
    if isinstance(value, Mapping):
        unknown = [k for k in value if k not in input_features]
        if unknown:
            raise ValueError(
                f"{what} names unknown feature(s) {unknown}; the features are "
                f"{list(input_features)}.")
        return dict(value)
    values = list(np.asarray(value, dtype=object).ravel()) if not isinstance(value, str) \
        else None
    if values is None or len(values) != len(input_features):
        got = "a string" if values is None else f"{len(values)} values"
        raise ValueError(f"{what} must have one entry per feature "
                         f"({len(input_features)}), got {got}.")
    return dict(zip(input_features, values))


def monotonic_signs(monotonic_cst, transform) -> dict[str, int]:
    """``{column: -1 or +1}`` of the constrained columns; ``ValueError`` on bad input.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["u", "v", "u"]}))
    >>> monotonic_signs([1, 0], t)
    {'a': 1}
    >>> monotonic_signs({"c": 1}, t)
    Traceback (most recent call last):
    ...
    ValueError: monotonic_cst: 'c' is not numeric; a monotonic constraint needs ordered values.
    """
    if monotonic_cst is None:
        return {}
    entries = _per_column(monotonic_cst, transform.input_features, "monotonic_cst")
    signs = {}
    for column, raw in entries.items():
        if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, (Real, np.number)) \
                or raw not in (-1, 0, 1):
            raise ValueError(f"monotonic_cst must be -1, 0 or +1 per feature; got {raw!r} "
                             f"for {column!r}.")
        if raw == 0:
            continue
        if any(m.source == column and m.level is not None for m in transform.feature_maps):
            raise ValueError(f"monotonic_cst: {column!r} is not numeric; a monotonic "
                             "constraint needs ordered values.")
        signs[column] = int(raw)
    return signs


def _pair(value, column) -> tuple[float, float]:
    try:
        low, high = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"exponent_bounds for {column!r} must be a (low, high) pair, got "
                         f"{value!r}.") from None
    if math.isnan(low) or math.isnan(high) or not low <= 0.0 <= high:
        # 0 is the exponent of every term that does not use the feature.
        raise ValueError(f"exponent_bounds for {column!r} must satisfy low <= 0 <= high, "
                         f"got ({low}, {high}).")
    return low, high


def exponent_box(exponent_bounds, transform) -> dict[str, tuple[float, float]]:
    """``{column: (low, high)}`` of the bounded columns; ``ValueError`` on bad input.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [1.0, 5.0, 2.0]}))
    >>> exponent_box({"a": (0, 2)}, t)
    {'a': (0.0, 2.0)}
    >>> exponent_box((-1, 1), t)
    {'a': (-1.0, 1.0), 'b': (-1.0, 1.0)}
    >>> exponent_box((1, 2), t)
    Traceback (most recent call last):
    ...
    ValueError: exponent_bounds for 'a' must satisfy low <= 0 <= high, got (1.0, 2.0).
    """
    if exponent_bounds is None:
        return {}
    if isinstance(exponent_bounds, Mapping):
        entries = _per_column(exponent_bounds, transform.input_features, "exponent_bounds")
        return {c: _pair(v, c) for c, v in entries.items()}
    return {c: _pair(exponent_bounds, c) for c in transform.input_features}


# ---------------------------------------------------------------- the arrays
@dataclass(frozen=True)
class Constraints:
    """Per-coordinate constraints of a search's exponents (working coordinates).

    ``sign`` (m,): +1/-1 where ``sign * c_k * a_kj >= 0`` is required, 0 where free.
    ``low``, ``high`` (m,): a static box; ``low == high`` fixes a coordinate.
    ``allow_intercept``: whether a constant term is admissible.
    """

    sign: np.ndarray
    low: np.ndarray
    high: np.ndarray
    allow_intercept: bool = True
    columns: dict = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(np.any(self.sign != 0) or np.any(np.isfinite(self.low))
                    or np.any(np.isfinite(self.high)))

    @property
    def fixed(self) -> np.ndarray:
        return self.low == self.high

    def scaled(self, spread: np.ndarray) -> Constraints:
        """The same constraints for exponents measured in ``spread`` units (``e = a * spread``)."""
        return Constraints(self.sign, self.low * spread, self.high * spread,
                           self.allow_intercept, self.columns)

    def _tensors(self, like: torch.Tensor):
        as_t = lambda a: torch.as_tensor(a, dtype=like.dtype, device=like.device)  # noqa: E731
        return as_t(self.sign), as_t(self.low), as_t(self.high)

    # ------------------------------------------------------ orientations
    def orientation(self, expo: torch.Tensor) -> torch.Tensor:
        """Required sign of each term's coefficient (..., K): from its constrained exponents.

        ``sign(sum_j s_j a_kj)`` over the constrained coordinates; 0 (free) for a term
        that uses no constrained feature.
        """
        sign, _, _ = self._tensors(expo)
        return torch.sign((expo * sign).sum(-1))

    def project_exponents_(self, expo: torch.Tensor) -> torch.Tensor:
        """In place: the static box, then each term's constrained exponents made to agree.

        A term whose constrained exponents point both ways keeps the direction of
        the larger ``sum |a|`` and zeroes the others (the coefficient's sign then
        follows, see :func:`solve_signed`).
        """
        sign, low, high = self._tensors(expo)
        expo.copy_(torch.maximum(torch.minimum(expo, high), low))
        if bool((sign != 0).any()):
            effect = expo * sign
            keep = torch.sign(effect.sum(-1, keepdim=True))
            expo.mul_(((effect * keep) >= 0).to(expo.dtype))
        return expo

    def project_pair_(self, coef: torch.Tensor, expo: torch.Tensor) -> None:
        """In place, for free coefficients (classifier): box, then the exponents that
        disagree with their term's coefficient sign are set to 0."""
        sign, low, high = self._tensors(expo)
        expo.copy_(torch.maximum(torch.minimum(expo, high), low))
        if bool((sign != 0).any()):
            wrong = (coef[..., None] * expo * sign) < 0
            expo.masked_fill_(wrong, 0.0)

    def pair_box(self, coef: torch.Tensor, expo: torch.Tensor):
        """L-BFGS-B bounds ``(coef_box, expo_box)`` keeping each term's current orientation.

        A term using a constrained feature keeps its coefficient's sign and the
        constrained exponents stay on the side that agrees with it: the bilinear
        constraint becomes a box, exact for L-BFGS-B.
        """
        sign, low, high = self._tensors(expo)
        inf = torch.full_like(coef, math.inf)
        orient = torch.sign(coef)
        uses = ((expo * sign) != 0).any(-1)
        pos = uses & (orient > 0)
        neg = uses & (orient < 0)
        coef_low = torch.where(pos, torch.zeros_like(coef), -inf)
        coef_high = torch.where(neg, torch.zeros_like(coef), inf)
        expo_low, expo_high = self.orthant(orient, expo, sign, low, high)
        # A term that does not use a constrained feature keeps a free coefficient,
        # so its constrained exponents stay at 0 for this run.
        idle = (~uses)[..., None] & (sign != 0)
        zero = torch.zeros_like(expo)
        expo_low = torch.where(idle, zero, expo_low)
        expo_high = torch.where(idle, zero, expo_high)
        return (coef_low, coef_high), (expo_low, expo_high)

    def engine_box(self, coef: torch.Tensor, expo: torch.Tensor, expo_bound=None):
        """The classifier engine's L-BFGS-B bounds ``[intercept, coef, expo]``.

        :meth:`pair_box` intersected with the engine's symmetric ``expo_bound``.
        """
        (coef_low, coef_high), (expo_low, expo_high) = self.pair_box(coef, expo)
        if expo_bound is not None:
            bound = expo_bound.to(expo.dtype).expand_as(expo)
            expo_low, expo_high = torch.maximum(expo_low, -bound), torch.minimum(expo_high, bound)
        return [None, (coef_low, coef_high), (expo_low, expo_high)]

    def expo_box(self, expo: torch.Tensor):
        """L-BFGS-B bounds of the exponents (regressor): box plus each term's orthant."""
        sign, low, high = self._tensors(expo)
        return self.orthant(self.orientation(expo), expo, sign, low, high)

    @staticmethod
    def orthant(orient, expo, sign, low, high):
        want = orient[..., None] * sign  # required sign of a_kj; 0: free
        expo_low = torch.where(want > 0, torch.clamp(low, min=0.0).expand_as(expo),
                               low.expand_as(expo))
        expo_high = torch.where(want < 0, torch.clamp(high, max=0.0).expand_as(expo),
                                high.expand_as(expo))
        return expo_low, expo_high

    def admissible_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """Mask of monomials (C, m) that satisfy the box and point one way."""
        sign, low, high = self._tensors(rows)
        inside = ((rows >= low) & (rows <= high)).all(-1)
        effect = rows * sign
        one_way = ~((effect > 0).any(-1) & (effect < 0).any(-1))
        return inside & one_way

    def satisfied(self, coef: np.ndarray, expo: np.ndarray, tol: float = 0.0) -> bool:
        """Whether coefficients (..., K) and exponents (..., K, m) meet every constraint."""
        coef, expo = np.asarray(coef, float), np.asarray(expo, float)
        live = (coef != 0)[..., None]
        with np.errstate(invalid="ignore"):
            low = np.where(np.isfinite(self.low), self.low - tol * (1.0 + np.abs(self.low)),
                           -np.inf)
            high = np.where(np.isfinite(self.high),
                            self.high + tol * (1.0 + np.abs(self.high)), np.inf)
        inside = np.all(~live | ((expo >= low) & (expo <= high)))
        # Signs are exact: the search sets a wrong-way exponent to 0, never near it.
        direction = np.all(coef[..., None] * expo * self.sign >= 0)
        return bool(inside and direction)


def build(transform, monotonic_cst=None, exponent_bounds=None) -> Constraints:
    """Monotonic and box constraints as per-model-feature arrays (raw exponent units).

    ``columns`` records the parsed per-column constraints (``monotonic``,
    ``exponent_bounds``): what the estimator stores and certifies.
    """
    signs = monotonic_signs(monotonic_cst, transform)
    bounds = exponent_box(exponent_bounds, transform)
    maps = transform.feature_maps
    sign = np.zeros(len(maps), dtype=np.int64)
    low, high = np.full(len(maps), -np.inf), np.full(len(maps), np.inf)
    for j, fmap in enumerate(maps):
        if fmap.missing:
            if fmap.source in signs:
                low[j] = high[j] = 0.0  # a missing entry scores as the fill value
            continue
        sign[j] = signs.get(fmap.source, 0)
        if fmap.source in bounds:
            low[j], high[j] = bounds[fmap.source]
    columns = {"monotonic": signs,
               "exponent_bounds": {c: [v if math.isfinite(v) else None for v in b]
                                   for c, b in bounds.items()}}
    return Constraints(sign, low, high, True, columns)


# ----------------------------------------------------- signed least squares
def solve_signed(phi, y, use_intercept: bool, orient, solve):
    """``solve(phi, y, use_intercept)`` with coefficient ``k`` kept to the sign ``orient_k``.

    An active set: a term whose unconstrained coefficient has the wrong sign is
    removed (its coefficient 0) and the rest re-solved, until none is wrong (at most
    ``K`` rounds). ``orient`` (R, K) holds +1, -1 or 0 (free).
    """
    theta = solve(phi, y, use_intercept)
    if orient is None or not bool((orient != 0).any()):
        return theta
    keep = torch.ones_like(orient, dtype=torch.bool)
    for _ in range(orient.shape[-1]):
        wrong = keep & (theta[..., 1:] * orient < 0)
        if not bool(wrong.any()):
            break
        keep &= ~wrong
        theta = solve(phi * keep[..., None, :].to(phi.dtype), y, use_intercept)
    return torch.cat([theta[..., :1], theta[..., 1:] * keep.to(theta.dtype)], dim=-1)


# ---------------------------------------------------------------- units
def _dimension(spec, what: str) -> dict[str, Fraction]:
    if not isinstance(spec, Mapping):
        raise ValueError(f"{what} must be a dict {{base dimension: power}}, got {spec!r}.")
    out = {}
    for base, power in spec.items():
        if isinstance(power, bool) or not isinstance(power, (Real, np.number)) \
                or not math.isfinite(float(power)):
            raise ValueError(f"{what}: the power of {base!r} must be a finite number, "
                             f"got {power!r}.")
        if float(power) != 0:
            out[str(base)] = Fraction(float(power)).limit_denominator(1000)
    return out


@dataclass(frozen=True)
class UnitSpace:
    """The homogeneous exponents ``a = a0 + N z`` of one term (model-feature coordinates).

    ``a0`` (m,) and ``basis`` (m, r) are exact rationals (as floats); ``dims``
    (m, d) and ``target`` (d,) the dimension matrix, for checks.
    """

    a0: np.ndarray
    basis: np.ndarray
    dims: np.ndarray
    target: np.ndarray
    bases: tuple[str, ...]

    @property
    def dimensionless_target(self) -> bool:
        return not np.any(self.target != 0)

    def exponents(self, z: np.ndarray) -> np.ndarray:
        """Full exponents (..., m) of working coordinates ``z`` (..., r)."""
        return self.a0 + np.asarray(z, dtype=np.float64) @ self.basis.T

    def residual(self, expo: np.ndarray) -> np.ndarray:
        """``expo @ D - D_y`` per term: zero for a homogeneous term."""
        return np.asarray(expo, dtype=np.float64) @ self.dims - self.target


def unit_space(transform, units, target_units) -> UnitSpace:
    """Parse ``units`` / ``target_units`` and solve the homogeneity equations exactly.

    Every input column needs an entry (``{}`` for a dimensionless one); a column
    that does not enter as a power of itself (signed, indicator or categorical
    maps) can only be dimensionless, or its exponent is held at 0. ``ValueError``
    when an entry is missing or malformed, or when no product of powers of the
    columns has the target's dimension.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 3.0], "v": [2.0, 1.0, 4.0]}))
    >>> s = unit_space(t, {"m": {"kg": 1}, "v": {"m": 1, "s": -1}},
    ...                {"kg": 1, "m": 2, "s": -2})
    >>> s.a0.tolist(), s.basis.shape
    ([1.0, 2.0], (2, 0))
    """
    if units is None or target_units is None:
        raise ValueError("units and target_units must be given together.")
    if not isinstance(units, Mapping):
        raise ValueError(f"units must be a dict {{feature: {{base: power}}}}, got {units!r}.")
    columns = list(transform.input_features)
    unknown = [c for c in units if c not in columns]
    if unknown:
        raise ValueError(f"units names unknown feature(s) {unknown}; the features are "
                         f"{columns}.")
    missing = [c for c in columns if c not in units]
    if missing:
        raise ValueError(f"units has no entry for {missing}; give every feature its "
                         "dimension ({} for a dimensionless one).")
    dims = {c: _dimension(units[c], f"units[{c!r}]") for c in columns}
    target = _dimension(target_units, "target_units")
    bases = tuple(sorted({b for d in dims.values() for b in d} | set(target)))
    maps = transform.feature_maps
    # A factor that is not a power of its column (asinh, indicator) is dimensionless:
    # such a column can enter only if it is itself dimensionless.
    rows, usable = [], []
    for fmap in maps:
        d = dims[fmap.source]
        is_power = fmap.kind == "power" and not fmap.missing
        rows.append([d.get(b, Fraction(0)) if is_power else Fraction(0) for b in bases])
        usable.append(is_power or not d)
    free = [j for j in range(len(maps)) if usable[j]]
    matrix = sympy.Matrix([[rows[j][i] for j in free] for i in range(len(bases))]) \
        if bases else sympy.zeros(0, len(free))
    rhs = sympy.Matrix([target.get(b, Fraction(0)) for b in bases])
    a0 = np.zeros(len(maps))
    basis_cols = []
    if bases:
        reduced, pivots = matrix.row_join(rhs).rref()
        if len(free) in pivots:
            raise ValueError(
                f"No product of powers of the features has the target's dimension "
                f"{_format_dimension(target)}: the units are inconsistent.")
        for i, p in enumerate(pivots):
            a0[free[p]] = float(reduced[i, len(free)])
        for f in (f for f in range(len(free)) if f not in pivots):
            vec = np.zeros(len(maps))
            vec[free[f]] = 1.0
            for i, p in enumerate(pivots):
                vec[free[p]] = -float(reduced[i, f])
            basis_cols.append(vec)
    else:
        for f in free:
            vec = np.zeros(len(maps))
            vec[f] = 1.0
            basis_cols.append(vec)
    basis = np.column_stack(basis_cols) if basis_cols else np.zeros((len(maps), 0))
    dims_matrix = np.array([[float(v) for v in r] for r in rows]).reshape(len(maps), len(bases))
    target_vec = np.array([float(target.get(b, 0)) for b in bases])
    return UnitSpace(a0, basis, dims_matrix, target_vec, bases)


def _format_dimension(dim: Mapping) -> str:
    parts = [f"{b}^{v}" if v != 1 else b for b, v in dim.items() if v != 0]
    return " ".join(str(p) for p in parts) if parts else "1 (dimensionless)"


def homogeneity_residual(exponents: np.ndarray, dims: np.ndarray,
                         target: np.ndarray) -> np.ndarray:
    """``exponents @ dims - target`` for exponents (..., m): 0 where homogeneous.

    Examples
    --------
    >>> D = np.array([[0.0, 0.0, 1.0], [1.0, -1.0, 0.0]])  # m: kg; v: m/s  (bases m, s, kg)
    >>> homogeneity_residual(np.array([[1.0, 2.0]]), D, np.array([2.0, -2.0, 1.0])).tolist()
    [[0.0, 0.0, 0.0]]
    """
    return np.asarray(exponents, dtype=np.float64) @ dims - target


def units_document(units, target_units) -> dict:
    """JSON-ready copy of the unit specification."""
    return {"units": {str(c): {str(b): float(v) for b, v in d.items()}
                      for c, d in units.items()},
            "target_units": {str(b): float(v) for b, v in target_units.items()}}


def working_constraints(space: UnitSpace) -> Constraints:
    """Constraints of the unit search's working coordinates ``[z, offset]``.

    The last coordinate multiplies ``log_u @ a0`` and is fixed at 1 when the
    target has a dimension (every term carries ``a0``); the intercept is then not
    admissible. A dimensionless target has ``a0 = 0`` and no offset coordinate.
    """
    r = space.basis.shape[1]
    if space.dimensionless_target:
        return Constraints(np.zeros(r, dtype=np.int64), np.full(r, -np.inf),
                           np.full(r, np.inf), True)
    low = np.concatenate([np.full(r, -np.inf), [1.0]])
    high = np.concatenate([np.full(r, np.inf), [1.0]])
    return Constraints(np.zeros(r + 1, dtype=np.int64), low, high, False)


def working_log_u(space: UnitSpace, log_u: np.ndarray) -> np.ndarray:
    """The search's features for ``[z, offset]``: ``log_u @ N`` and ``log_u @ a0``."""
    z = log_u @ space.basis
    if space.dimensionless_target:
        return z
    return np.column_stack([z, log_u @ space.a0])


def full_exponents(space: UnitSpace, working: np.ndarray) -> np.ndarray:
    """Exponents (..., m) of the model features from working coordinates (..., r [+ 1])."""
    working = np.asarray(working, dtype=np.float64)
    r = space.basis.shape[1]
    z = working[..., :r]
    expo = z @ space.basis.T
    if not space.dimensionless_target:
        expo = expo + working[..., r:r + 1] * space.a0
    return expo


def check_front(candidates, constraints, space=None, tol: float = 1e-9) -> None:
    """Every front candidate obeys the constraints (a guard against a search bug).

    The search keeps the constraints at every step; this check proves it on the
    deployed numbers and raises ``RuntimeError`` rather than deploy a violation.
    """
    for cand in candidates:
        sig = cand.signomial
        live = sig.coef != 0
        if constraints is not None and constraints.active \
                and not constraints.satisfied(sig.coef, sig.exponents, tol):
            raise RuntimeError(f"internal error: front row {cand.source!r} breaks the "
                               "monotonic or exponent constraints.")
        if space is not None:
            residual = np.abs(space.residual(sig.exponents[live]))
            if residual.size and residual.max() > tol:
                raise RuntimeError(f"internal error: front row {cand.source!r} is not "
                                   "dimensionally homogeneous.")
            if not space.dimensionless_target and np.any(sig.intercept != 0):
                raise RuntimeError(f"internal error: front row {cand.source!r} has an "
                                   "intercept but the target has a dimension.")


def parameters_from_document(document: Mapping) -> dict:
    """Estimator parameters that reproduce a stored ``constraints_`` record.

    Examples
    --------
    >>> parameters_from_document({"monotonic": {"x": -1},
    ...                           "exponent_bounds": {"x": [None, 2.0]}})
    {'monotonic_cst': {'x': -1}, 'exponent_bounds': {'x': (-inf, 2.0)}}
    """
    params = {}
    if document.get("monotonic"):
        params["monotonic_cst"] = {str(c): int(v) for c, v in document["monotonic"].items()}
    if document.get("exponent_bounds"):
        params["exponent_bounds"] = {
            str(c): (-math.inf if lo is None else float(lo), math.inf if hi is None else float(hi))
            for c, (lo, hi) in document["exponent_bounds"].items()}
    if "units" in document:
        params["units"] = {str(c): dict(d) for c, d in document["units"].items()}
        params["target_units"] = dict(document["target_units"])
    return params
