"""Decision boundaries: per point and feature (closed form / bracketed roots) and in SymPy.

The *margin* of a row is positive on the side of the current (or target) decision:
``z - logit(threshold)`` for a binary classifier, ``z_c - max_{c' != c} z_c'`` for a
multiclass one, ``z - level`` for a regressor. Along one feature the predicted class
changes exactly where the margin changes sign. For a one-term binary classifier or
regressor the root is closed form: ``z = b0 + c R u_j^a`` with ``R`` the other factors,
so ``u_j = ((level - b0) / (c R))^(1/a)``. Otherwise the feature's range is scanned on a
grid and every sign change is refined with :func:`scipy.optimize.brentq`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sympy as sp
from scipy.optimize import brentq
from scipy.special import logit

from ecsel.explain import _common as common
from ecsel.explain._elasticity import grid

SCAN_POINTS = 257
NO_CHANGE = "no change inside the feature's range"


def score_level(est, level=None) -> float:
    """The score where a binary decision flips (``logit(threshold_)``) or ``level``."""
    if level is not None:
        return float(level)
    if common.is_classifier(est) and not common.is_multiclass(est):
        return float(logit(est.threshold_))
    raise ValueError("A regressor has no classes: pass level= (the score to reach).")


def decision_scores(est, frame: pd.DataFrame) -> np.ndarray:
    """Decision-function layout scores (n, n_outputs incl. a zero reference column)."""
    z = est.signomial_.evaluate(frame)
    if common.is_multiclass(est):
        return np.hstack([np.zeros((len(frame), 1)), z])
    return z


def class_margin(est, frame: pd.DataFrame, target: int, level=None) -> np.ndarray:
    """Margin (n,) of class index ``target`` (binary: index 1 means ``z >= level``)."""
    z = decision_scores(est, frame)
    if common.is_multiclass(est):
        others = np.delete(z, target, axis=1)
        return z[:, target] - others.max(axis=1)
    margin = z[:, 0] - score_level(est, level)
    return margin if target == 1 else -margin


def predicted_index(est, frame: pd.DataFrame, level=None) -> np.ndarray:
    z = decision_scores(est, frame)
    if common.is_multiclass(est):
        return z.argmax(axis=1)
    return (z[:, 0] >= score_level(est, level)).astype(int)


def with_values(row: pd.DataFrame, column: str, values) -> pd.DataFrame:
    probe = row.iloc[np.zeros(len(values), dtype=int)].reset_index(drop=True)
    probe[column] = np.asarray(values, dtype=np.float64)
    return probe


def scan_roots(margin, lo: float, hi: float, points: np.ndarray) -> list[float]:
    """All sign changes of a vectorised ``margin(values)`` on ``points``, refined by brentq."""
    values = margin(points)
    roots = []
    for i in np.flatnonzero(np.sign(values[:-1]) * np.sign(values[1:]) < 0):
        f = lambda t: float(margin(np.array([t]))[0])  # noqa: E731
        roots.append(brentq(f, points[i], points[i + 1], xtol=1e-12, rtol=1e-14))
    roots.extend(float(points[i]) for i in np.flatnonzero(values == 0))
    return sorted(r for r in roots if lo <= r <= hi)


def closed_form_root(est, row: pd.DataFrame, column: str, level: float):
    """Root of a one-term single-output score in ``column``, or None when not closed form."""
    sig = est.signomial_
    # The missingness indicator is 0 along an observed value of the column: not a factor.
    maps = [(m, f) for m, f in enumerate(sig.transform.feature_maps)
            if f.source == column and not f.missing]
    if sig.n_outputs != 1 or np.count_nonzero(sig.coef) != 1 or len(maps) != 1 \
            or row[column].isna().any():
        return None
    (m, fmap), = maps
    if fmap.kind not in ("power", "linear", "signed"):
        return None
    k = int(np.flatnonzero(sig.coef[0])[0])
    a = sig.exponents[0, k, m]
    log_u = sig.log_features(row)[0]
    rest = log_u @ sig.exponents[0, k] - a * log_u[m]
    ratio = (level - sig.intercept[0]) / (sig.coef[0, k] * np.exp(rest))
    if a == 0 or ratio <= 0:
        return []
    s = np.log(ratio) / a  # the log u_m at the boundary
    if fmap.kind == "power":
        t = fmap.scale * np.exp(s) - fmap.shift
        return [float(t)] if t > fmap.lower else []
    if fmap.kind == "signed":
        t = fmap.center + fmap.scale * np.sinh(s)
        upper = np.inf if fmap.upper is None else fmap.upper
        return [float(t)] if fmap.lower < t < upper else []
    return [float(fmap.center + fmap.scale * s)]


def boundary_for_row(est, row: pd.DataFrame, column: str, bounds, level=None) -> dict:
    """Where the decision changes along ``column`` for one row; see ``decision_boundary_at``."""
    current = int(predicted_index(est, row, level)[0])
    labels = _labels(est)
    record = {"feature": column, "value": row[column].iloc[0], "prediction": labels[current]}
    if not common.is_numeric_column(est, column):
        return record | _categorical_changes(est, row, column, bounds, current, labels, level)
    lo, hi = bounds
    method = "closed form"
    roots = None
    if not common.is_multiclass(est):
        roots = closed_form_root(est, row, column, score_level(est, level))
    if roots is None:
        method = "root finding"
        points = np.union1d(grid(est, column, {column: (lo, hi)}, SCAN_POINTS),
                            [np.clip(float(row[column].iloc[0]), lo, hi)])
        roots = scan_roots(lambda v: class_margin(est, with_values(row, column, v), current,
                                                  level), lo, hi, points)
    roots = [r for r in roots if lo <= r <= hi]
    x0 = float(row[column].iloc[0])
    nearest = min(roots, key=lambda r: abs(r - x0)) if roots else np.nan
    after = labels[_class_beyond(est, row, column, nearest, x0, level)] if roots else None
    return record | {"boundary": nearest, "new_prediction": after, "all_boundaries": roots,
                     "method": method, "note": "" if roots else NO_CHANGE}


def _class_beyond(est, row, column, root, x0, level) -> int:
    step = np.sign(root - x0) or 1.0
    probe = with_values(row, column, [root + step * 1e-6 * max(1.0, abs(root))])
    return int(predicted_index(est, probe, level)[0])


def _categorical_changes(est, row, column, levels, current, labels, level) -> dict:
    probe = row.iloc[np.zeros(len(levels), dtype=int)].reset_index(drop=True)
    probe[column] = pd.Series(list(levels), dtype=object)
    pred = predicted_index(est, probe, level)
    changed = [lv for lv, p in zip(levels, pred) if p != current]
    return {"boundary": changed[0] if changed else np.nan,
            "new_prediction": labels[pred[list(levels).index(changed[0])]] if changed else None,
            "all_boundaries": changed, "method": "enumeration",
            "note": "" if changed else NO_CHANGE}


def _labels(est) -> list:
    if common.is_classifier(est):
        return list(est.classes_)
    return ["below level", "at or above level"]


def decision_boundary_at(est, X, feature, bounds=None, level=None) -> pd.DataFrame:
    """Per-row boundary values; see :meth:`ExplainMixin.decision_boundary_at`."""
    frame = common.rows(est, X)
    column = est.signomial_.input_features[common.column_position(est, feature)]
    bounds = common.column_bounds(est, column, bounds)
    records = [boundary_for_row(est, frame.iloc[[i]].reset_index(drop=True), column, bounds,
                                level) for i in range(len(frame))]
    return pd.DataFrame(records)


def decision_boundary(est, classes=None, level=None, solve_for=None, precision=None):
    """SymPy boundary equation; see :meth:`ExplainMixin.decision_boundary`."""
    exprs = est.signomial_.to_sympy(precision=precision)
    if common.is_multiclass(est):
        labels = [str(c) for c in est.classes_]
        pair = classes if classes is not None else labels[:2]
        if len(pair) != 2 or any(str(c) not in labels for c in pair):
            raise ValueError(f"classes must be two of {labels}, got {classes!r}.")
        score = {lab: (sp.Integer(0) if i == 0 else exprs[i - 1]) for i, lab in
                 enumerate(labels)}
        equation = sp.Eq(score[str(pair[0])], score[str(pair[1])], evaluate=False)
    else:
        equation = sp.Eq(exprs, sp.Float(score_level(est, level), 15), evaluate=False)
    if solve_for is None:
        return equation
    names = {str(s): s for s in equation.free_symbols}
    if str(solve_for) not in names:
        raise ValueError(f"{solve_for!r} does not appear in the boundary equation "
                         f"(symbols: {sorted(names)}).")
    return sp.solve(equation, names[str(solve_for)])
