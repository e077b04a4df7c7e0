"""Counterfactuals: the smallest change to allowed features that reaches a target.

Success is a non-negative *target margin* (see :mod:`ecsel.explain._boundary`): the
target class's score minus its best rival (multiclass), ``+-(z - logit(p))`` (binary),
or ``z - target`` on the far side of a regressor's score. For one allowed feature
the nearest feasible value is a root of the margin, found in closed form (one term) or
by bracketed root finding, then nudged onto the feasible side. For several features
``sum_j ((x_j - x0_j) / s_j)^2`` is minimised under the margin constraint and the bounds
with SLSQP, started from the original row and from every single-feature solution;
``s_j = |x0_j|`` (relative change) or 1 (absolute change). Categorical columns listed
in ``features`` are searched over every combination of their levels (each switched
category adds 1 to the squared distance), solving the numeric part for each.

Missing values: a counterfactual never proposes "make this value missing" (the level
and value ranges searched hold observed values only), and an entry that is missing in
``x`` is held as it is (there is no value to measure a change from).
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import expit, logit, softmax

from ecsel.explain import _common as common
from ecsel.explain._boundary import (
    SCAN_POINTS,
    closed_form_root,
    decision_scores,
    scan_roots,
    with_values,
)
from ecsel.explain._elasticity import grid

MAX_LEVEL_COMBINATIONS = 512
MARGIN = 1e-9


def _target(est, target_class, target_proba, target_score, z0: np.ndarray):
    """(class index or None, margin function on decision scores (n, O) -> (n,))."""
    if not common.is_classifier(est):
        if target_score is None:
            raise ValueError("A regressor needs target_score=.")
        sign = 1.0 if target_score >= z0[0] else -1.0
        return None, lambda z: sign * (z[:, 0] - target_score)
    classes = list(est.classes_)
    if target_class is None:
        if len(classes) > 2:
            raise ValueError("Pass target_class= for a multiclass model.")
        current = int(z0[0] >= logit(est.threshold_))
        target_class = classes[1 - current]
    if target_class not in classes:
        raise ValueError(f"target_class must be one of {classes}, got {target_class!r}.")
    c = classes.index(target_class)
    if target_proba is not None and not 0 < target_proba < 1:
        raise ValueError(f"target_proba must be in (0, 1), got {target_proba!r}.")
    if len(classes) == 2:
        p = est.threshold_ if target_proba is None else target_proba
        level = logit(p) if c == 1 else -logit(p)
        sign = 1.0 if c == 1 else -1.0
        return c, lambda z: sign * z[:, 0] - level
    if target_proba is None:
        return c, lambda z: z[:, c] - np.delete(z, c, axis=1).max(axis=1)
    lse = lambda z: np.logaddexp.reduce(z, axis=1)  # noqa: E731
    return c, lambda z: z[:, c] - lse(z) - np.log(target_proba)


def _allowed(est, features, immutable) -> tuple[list[str], list[str]]:
    """(numeric, categorical) columns allowed to change.

    Categorical columns change only when listed in ``features`` explicitly: by default
    (``features=None``) only numeric features move.
    """
    names = est.signomial_.input_features
    chosen = list(names) if features is None else [
        names[common.column_position(est, f)] for f in features]
    frozen = {names[common.column_position(est, f)] for f in (immutable or ())}
    chosen = [c for c in chosen if c not in frozen]
    numeric = [c for c in chosen if common.is_numeric_column(est, c)]
    categorical = [] if features is None else [
        c for c in chosen if not common.is_numeric_column(est, c)]
    if not numeric and not categorical:
        raise ValueError("No feature is allowed to change.")
    return numeric, categorical


def _level_options(est, row, categorical, bounds) -> list[tuple]:
    """Every combination of allowed levels of the categorical columns (capped)."""
    options = []
    for column in categorical:
        levels = common.column_bounds(est, column, (bounds or {}).get(column))
        current = str(row[column].iloc[0])
        options.append([current] + [str(v) for v in levels if str(v) != current])
    combos = list(itertools.islice(itertools.product(*options), MAX_LEVEL_COMBINATIONS + 1))
    if len(combos) > MAX_LEVEL_COMBINATIONS:
        raise ValueError(
            f"More than {MAX_LEVEL_COMBINATIONS} combinations of categorical levels; allow "
            "fewer categorical features or restrict their levels with bounds={col: [...]}."
        )
    return combos


def _with_levels(row: pd.DataFrame, categorical, combo) -> pd.DataFrame:
    probe = row.copy()
    for column, level in zip(categorical, combo):
        probe[column] = probe[column].astype(object)
        probe.loc[probe.index[0], column] = level
    return probe


def _single(est, row, column, margin, bounds, scale) -> tuple[float, float] | None:
    """(value, distance) of the nearest feasible value of one feature, or None."""
    lo, hi = bounds[column]
    x0 = float(row[column].iloc[0])
    f = lambda v: margin(decision_scores(est, with_values(row, column, v)))  # noqa: E731
    roots = None
    if not common.is_multiclass(est):
        z_root = _level_for_margin(est, margin, row)
        roots = None if z_root is None else closed_form_root(est, row, column, z_root)
    if roots is None:
        points = np.union1d(grid(est, column, {column: (lo, hi)}, SCAN_POINTS),
                            [np.clip(x0, lo, hi)])
        roots = scan_roots(f, lo, hi, points)
    candidates = [r for r in roots if lo <= r <= hi] + [lo, hi]
    feasible = [t for t in (_nudge(f, r, lo, hi, x0) for r in candidates) if t is not None]
    if not feasible:
        return None
    best = min(feasible, key=lambda t: abs(t - x0))
    return best, abs(best - x0) / scale[column]


def _level_for_margin(est, margin, row) -> float | None:
    """The binary score level of a margin ``+-z - level`` (for the closed form)."""
    z = decision_scores(est, row)
    m0, m1 = margin(z), margin(z + 1.0)
    sign = float(m1[0] - m0[0])
    return float(z[0, 0] - m0[0] / sign) if sign != 0 else None


def _nudge(f, t, lo, hi, x0) -> float | None:
    """``t`` moved by the smallest step (away from ``x0``) that makes the margin >= 0."""
    direction = np.sign(t - x0) or 1.0
    step = 1e-12 * max(1.0, abs(t))
    for _ in range(60):
        if f(np.array([t]))[0] >= MARGIN:
            return float(t)
        t = float(np.clip(t + direction * step, lo, hi))
        step *= 2.0
    return None


def _several(est, row, columns, margin, bounds, scale, starts):
    x0 = row[columns].to_numpy(dtype=np.float64)[0]
    s = np.array([scale[c] for c in columns])

    def evaluate(v):
        probe = row.copy()
        probe[columns] = v[None, :]
        return margin(decision_scores(est, probe))[0]

    objective = lambda v: float(np.sum(((v - x0) / s) ** 2))  # noqa: E731
    constraint = {"type": "ineq", "fun": lambda v: evaluate(v) - MARGIN}
    best = None
    for start in starts:
        res = minimize(objective, start, method="SLSQP", constraints=[constraint],
                       bounds=[bounds[c] for c in columns], options={"maxiter": 200,
                                                                     "ftol": 1e-12})
        if evaluate(res.x) >= 0 and (best is None or objective(res.x) < objective(best)):
            best = res.x
    return best


def counterfactual(est, x, target_class=None, target_proba=None, target_score=None,
                   features=None, bounds=None, relative=True, immutable=None) -> pd.DataFrame:
    """Smallest change reaching a target; see :meth:`ExplainMixin.counterfactual`."""
    row = common.rows(est, x)
    if len(row) != 1:
        raise ValueError(f"x must be a single row, got {len(row)}.")
    z0 = decision_scores(est, row)[0]
    _, margin = _target(est, target_class, target_proba, target_score, z0)
    columns, categorical = _allowed(est, features, immutable)
    present = ~row.isna().iloc[0]
    columns = [c for c in columns if present[c]]
    categorical = [c for c in categorical if present[c]]
    if not columns and not categorical:
        raise ValueError("Every feature allowed to change is missing in x; missing entries "
                         "are held as they are.")
    row = row.astype({c: np.float64 for c in columns})
    box = {c: tuple(map(float, common.column_bounds(est, c, (bounds or {}).get(c))))
           for c in columns}
    scale = {c: (abs(float(row[c].iloc[0])) if relative and row[c].iloc[0] != 0 else 1.0)
             for c in columns}
    if margin(decision_scores(est, row))[0] >= 0:
        return _report(est, row, row.copy(), "already reached", 0.0, relative)
    best = None
    for combo in _level_options(est, row, categorical, bounds):
        probe = _with_levels(row, categorical, combo)
        switched = sum(str(row[c].iloc[0]) != level for c, level in zip(categorical, combo))
        found = _solve_numeric(est, probe, columns, margin, box, scale)
        if found is None:
            continue
        # A switched category costs as much as a 100 % (or unit) numeric change.
        distance = float(np.sqrt(_distance(row, found, columns, scale) ** 2 + switched))
        if best is None or distance < best[1]:
            best = (found, distance)
    if best is None:
        result = row.copy()
        result[columns + categorical] = np.nan
        return _report(est, row, result, "infeasible within the bounds", np.nan, relative,
                       valid=np.array([True, False]))
    return _report(est, row, best[0], "found", best[1], relative)


def _solve_numeric(est, row, columns, margin, box, scale) -> pd.DataFrame | None:
    """The row with its numeric ``columns`` moved the least to reach the margin, or None."""
    if margin(decision_scores(est, row))[0] >= 0:
        return row
    if not columns:
        return None
    result = row.copy()
    singles = {c: _single(est, row, c, margin, box, scale) for c in columns}
    singles = {c: v for c, v in singles.items() if v is not None}
    if len(columns) == 1:
        found = singles.get(columns[0])
        if found is None:
            return None
        result[columns[0]] = found[0]
        return result
    x0 = row[columns].to_numpy(dtype=np.float64)[0]
    starts = [x0] + [np.where(np.array(columns) == c, v[0], x0) for c, v in singles.items()]
    best = _several(est, row, columns, margin, box, scale, starts)
    if best is None:
        return None
    result[columns] = best[None, :]
    return result


def _distance(row, result, columns, scale) -> float:
    delta = [(float(result[c].iloc[0]) - float(row[c].iloc[0])) / scale[c] for c in columns]
    return float(np.sqrt(np.sum(np.square(delta))))


def _report(est, row, result, status, distance, relative, valid=None) -> pd.DataFrame:
    frame = pd.concat([row, result], ignore_index=True)
    frame.index = ["original", "counterfactual"]
    valid = np.array([True, True]) if valid is None else valid
    z = np.full((2, decision_scores(est, row).shape[1]), np.nan)
    z[valid] = decision_scores(est, frame[valid])
    if common.is_classifier(est):
        if common.is_multiclass(est):
            proba = softmax(z, axis=1)
            idx = np.where(valid, np.nan_to_num(z, nan=-np.inf).argmax(axis=1), 0)
        else:
            proba = np.column_stack([1 - expit(z[:, 0]), expit(z[:, 0])])
            idx = (proba[:, 1] >= est.threshold_).astype(int)
        frame["prediction"] = [est.classes_[i] if v else None for i, v in zip(idx, valid)]
        for j, c in enumerate(est.classes_):
            frame[f"proba_{c}"] = proba[:, j]
    else:
        frame["prediction"] = z[:, 0]
    frame["distance"] = [0.0, distance]
    frame["distance_kind"] = "relative" if relative else "absolute"
    frame["status"] = ["", status]
    return frame
