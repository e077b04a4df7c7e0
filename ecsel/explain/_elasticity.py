"""Global behaviour: elasticities, monotonicity, partial dependence, importance table.

For a power feature ``u = (x + shift) / scale`` the score is a sum of products of
powers, so ``d z / d x_j = sum_k a_kj t_k(x) / (x_j + shift_j)`` and the elasticity is
``E_j = d log z / d log x_j = x_j (d z / d x_j) / z``; for one term and ``shift = 0`` it
is the constant exponent ``a_j``. For a linear (signed) feature the term factor is
``exp(g x / scale)``: the same formula is the point elasticity in ``x`` (it changes
sign with ``x``), and ``semi=True`` gives the semi-elasticity ``d log z / d x_j``.
For a signed (asinh) feature ``d log u / d x = 1 / (scale * sqrt(1 + z^2))`` inside the
training range and 0 where the value is clipped.
Indicators and categorical columns have no derivative: NaN. A missingness indicator
``col[missing]`` is not a derivative direction: elasticities, monotonicity and partial
dependence of ``col`` ignore it (they are about observed values), and a row where
``col`` is missing has a NaN elasticity for ``col``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ecsel._transform import EXP_CLAMP
from ecsel.explain import _common as common
from ecsel.explain._local import explain
from ecsel.explain._shapley import active_columns, column_index, column_log_factors

GRID_POINTS = 64


def _dlogu_dx(sig, encoded: np.ndarray) -> np.ndarray:
    """``d log u_m / d x`` (n, M); NaN for indicators, 0 for constants and clipped x."""
    out = np.zeros_like(encoded, dtype=np.float64)
    for m, fmap in enumerate(sig.transform.feature_maps):
        x = encoded[:, m]
        if fmap.kind == "power":
            out[:, m] = np.where(x > fmap.lower, 1.0 / (np.maximum(x, fmap.lower) + fmap.shift),
                                 0.0)
        elif fmap.kind == "linear":
            out[:, m] = 1.0 / fmap.scale
        elif fmap.kind == "signed":
            upper = np.inf if fmap.upper is None else fmap.upper
            z = (x - fmap.center) / fmap.scale
            inside = (x >= fmap.lower) & (x <= upper)
            with np.errstate(over="ignore"):  # huge z (outside the clip): derivative 0
                out[:, m] = np.where(inside, 1.0 / (fmap.scale * np.sqrt(1.0 + z * z)), 0.0)
        elif fmap.missing:
            out[:, m] = 0.0
        elif fmap.kind == "indicator":
            out[:, m] = np.nan
    return out


def score_gradient(sig, frame: pd.DataFrame):
    """Scores (n, O), ``d z / d x_j`` per raw column (n, O, p), and the encoded rows."""
    encoded = sig.transform.encode(frame)
    log_u = sig.transform.log_features(encoded)
    power = np.einsum("nm,okm->nok", log_u, sig.exponents)
    inside = np.abs(power) < EXP_CLAMP
    terms = sig.term_values_from_log(log_u) * inside
    dz_dlogu = np.einsum("nok,okm->nom", terms, sig.exponents)
    dz_dx_m = dz_dlogu * _dlogu_dx(sig, encoded)[:, None, :]
    idx = column_index(sig)
    p = len(sig.input_features)
    grad = np.zeros(dz_dx_m.shape[:2] + (p,))
    for m, j in enumerate(idx):
        fmap = sig.transform.feature_maps[m]
        if fmap.missing and fmap.level is None:
            # a numeric column's missingness indicator: no derivative in x; rows where
            # x is missing have none at all
            grad[encoded[:, m] > 0, :, j] = np.nan
        elif fmap.kind == "indicator":
            grad[:, :, j] = np.nan
        elif fmap.kind != "constant":
            grad[:, :, j] += dz_dx_m[:, :, m]
    scores = sig.intercept + sig.term_values_from_log(log_u).sum(axis=2)
    return scores, grad, frame


def has_derivative(sig, column: str) -> bool:
    """Whether ``column`` is a direction of change: not categorical, not a 0/1 switch."""
    maps = [m for m in sig.transform.feature_maps if m.source == column and not m.missing]
    return bool(maps) and not all(m.kind == "indicator" for m in maps)


def elasticities(est, X, semi: bool = False) -> pd.DataFrame:
    """Elasticities ``d log z / d log x_j``; see :meth:`ExplainMixin.elasticities`."""
    index = X.index if isinstance(X, pd.DataFrame) else None
    frame = common.rows(est, X)
    sig = est.signomial_
    scores, grad, _ = score_gradient(sig, frame)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = grad / scores[:, :, None]
        if not semi:
            raw = np.column_stack([
                frame[c].to_numpy(dtype=np.float64) if common.is_numeric_column(est, c)
                else np.full(len(frame), np.nan) for c in sig.input_features
            ])
            out = out * raw[:, None, :]
    keep = [j for j, c in enumerate(sig.input_features) if has_derivative(sig, c)]
    names = [sig.input_features[j] for j in keep]
    out = out[:, :, keep]
    if common.is_multiclass(est):
        columns = pd.MultiIndex.from_product([list(sig.output_names), names],
                                             names=["class", "feature"])
        values = out.reshape(len(frame), -1)
    else:
        columns, values = pd.Index(names, name="feature"), out[:, 0]
    return pd.DataFrame(values, index=index if index is not None else frame.index,
                        columns=columns)


def _sign_labels(sig) -> np.ndarray:
    """Proved direction per (output, column) from the signs of coef * exponent."""
    idx = column_index(sig)
    p = len(sig.input_features)
    effect = sig.coef[..., None] * sig.exponents  # (O, K, M)
    labels = np.full((sig.n_outputs, p), "", dtype=object)
    for o in range(sig.n_outputs):
        for j in range(p):
            cols = idx == j
            maps = np.array(sig.transform.feature_maps, dtype=object)[cols]
            if any(m.level is not None for m in maps):
                e = effect[o][:, cols]
                labels[o, j] = "categorical (unordered)" if np.any(e != 0) else "constant"
                continue
            # the missingness indicator is not a direction in x: ignored
            e = effect[o][:, cols][:, [not m.missing for m in maps]]
            if np.all(e == 0):
                labels[o, j] = "constant"
            elif np.all(e >= 0):
                labels[o, j] = "increasing (proved)"
            elif np.all(e <= 0):
                labels[o, j] = "decreasing (proved)"
    return labels


def grid(est, column: str, ranges: dict, n: int = GRID_POINTS) -> np.ndarray:
    """Grid over a column's range: log-spaced for positive power features, else linear."""
    bounds = ranges[column]
    if not common.is_numeric_column(est, column):
        return np.array(bounds, dtype=object)
    lo, hi = bounds
    maps = [m for m in est.signomial_.transform.feature_maps if m.source == column]
    if maps and maps[0].kind == "power" and lo > 0:
        return np.geomspace(lo, hi, n)
    return np.linspace(lo, hi, n)


def _numerical_direction(est, o: int, column: str, ranges: dict, back: pd.DataFrame) -> str:
    values = grid(est, column, ranges)
    scores = _scores_on_grid(est, column, values, back)[:, :, o]  # (grid, B)
    step = np.diff(scores, axis=0)
    tol = 1e-12 * np.abs(scores).max(initial=1.0)
    if np.all(step >= -tol):
        return "increasing (numerical)"
    if np.all(step <= tol):
        return "decreasing (numerical)"
    return "non-monotone"


def _scores_on_grid(est, column: str, values: np.ndarray, back: pd.DataFrame) -> np.ndarray:
    """Signomial scores (grid, B, O) with ``column`` set to each value for every row."""
    rep = back.loc[back.index.repeat(len(values))].reset_index(drop=True)
    rep[column] = np.tile(values, len(back))
    z = est.signomial_.evaluate(rep).reshape(len(back), len(values), -1)
    return z.transpose(1, 0, 2)


def _certified(sig, o: int, column: str, required) -> bool | None:
    """Whether the closed form proves the required direction of ``column`` everywhere.

    Every term obeys ``sign * c_k * a_kj >= 0`` for the column's own factor (each
    input map is non-decreasing in the raw value, at any value, inside or outside
    the training range), and the column's missingness indicator has exponent 0 in
    every term, so a missing entry scores exactly as the fill value. None for an
    unconstrained column.
    """
    if not required:
        return None
    idx = column_index(sig)
    maps = sig.transform.feature_maps
    j = sig.input_features.index(column)
    own = [m for m in range(len(maps)) if idx[m] == j and not maps[m].missing]
    missing = [m for m in range(len(maps)) if idx[m] == j and maps[m].missing]
    live = sig.coef[o] != 0
    effect = sig.coef[o][:, None] * sig.exponents[o][:, own] * required
    return bool(np.all(effect >= 0) and not np.any(sig.exponents[o][live][:, missing]))


def monotonicity(est, X=None) -> pd.DataFrame:
    """Per-feature monotonicity table; see :meth:`ExplainMixin.monotonicity`."""
    sig = est.signomial_
    labels = _sign_labels(sig)
    try:
        ranges = common.feature_ranges(est, X)
    except ValueError:
        # A model loaded from JSON keeps no training data: the proofs from the closed
        # form (and the constraint certificates) need none; the numerical scan does.
        ranges = {}
    back = common.rows(est, X) if X is not None else getattr(est, "background_", None)
    records = []
    for o, output in enumerate(sig.output_names):
        for j, column in enumerate(sig.input_features):
            label = labels[o, j]
            if label == "" and back is not None:
                label = _numerical_direction(est, o, column, ranges, common.sample_rows(back))
            elif label == "":
                label = "not proved (pass X to scan)" if not ranges else "non-monotone"
            records.append({"output": output, "feature": column, "monotonicity": label,
                            "range": ranges.get(column)})
    table = pd.DataFrame(records)
    required = (getattr(est, "constraints_", None) or {}).get("monotonic") or {}
    if required:
        table["constraint"] = [int(required.get(c, 0)) for c in table["feature"]]
        table["certified"] = [_certified(sig, o, c, required.get(c)) for o, c in
                              zip(table["output"].map(list(sig.output_names).index),
                                  table["feature"])]
    if not common.is_multiclass(est):
        return table.drop(columns="output").set_index("feature")
    return table.set_index(["output", "feature"])


def partial_dependence(est, feature, values=None, background=None) -> pd.DataFrame:
    """Closed-form partial dependence; see :meth:`ExplainMixin.partial_dependence`."""
    sig = est.signomial_
    column = sig.input_features[common.column_position(est, feature)]
    if background is None and getattr(est, "background_", None) is None:
        raise ValueError("Pass background= (the rows to average over); none is stored.")
    back = common.background_rows(est, background, None)
    if values is None:
        values = grid(est, column, common.feature_ranges(est, back))
    values = np.asarray(values)
    # PD(t) = b0 + sum_k c_k f_kj(t) * mean_b prod_{i != j} f_ki(b): a signomial in t.
    j = sig.input_features.index(column)
    others = column_log_factors(sig, sig.log_features(back))
    others[..., j] = 0.0
    weight = np.exp(np.clip(others.sum(axis=-1), -EXP_CLAMP, EXP_CLAMP)).mean(axis=0)
    probe = back.iloc[np.zeros(len(values), dtype=int)].reset_index(drop=True)
    probe[column] = values if common.is_numeric_column(est, column) else \
        pd.Series(values, dtype=object).astype(str)
    own = column_log_factors(sig, sig.log_features(probe))[..., j]  # (g, O, K)
    pd_values = sig.intercept + (sig.coef * np.exp(own) * weight).sum(axis=-1)
    frame = pd.DataFrame(pd_values, columns=list(sig.output_names))
    frame.insert(0, column, values)
    return frame


def importance(est, X=None, background=None) -> pd.DataFrame:
    """Global importance table; see :meth:`ExplainMixin.feature_importance`."""
    sig = est.signomial_
    rows_ = common.rows(est, X) if X is not None else getattr(est, "background_", None)
    if rows_ is None:
        raise ValueError("Pass X: the rows whose attributions define global importance.")
    expl = explain(est, rows_, background=background)
    mean_abs = expl.mean_abs()
    used = active_columns(sig)
    mono = monotonicity(est, X)
    if common.is_multiclass(est):
        mono = mono.groupby(level="feature", sort=False)["monotonicity"].agg(
            lambda s: "; ".join(f"{o}: {v}" for (o, _), v in s.items()))
    else:
        mono = mono["monotonicity"]
    elastic = elasticities(est, rows_)
    if isinstance(elastic.columns, pd.MultiIndex):  # pool the classes per feature
        elastic = pd.concat([elastic[o] for o in elastic.columns.levels[0]
                             if o in elastic.columns.get_level_values(0)], ignore_index=True)
    with np.errstate(all="ignore"):
        median_e = np.array([
            np.nanmedian(elastic[c]) if c in elastic and np.isfinite(elastic[c]).any()
            else np.nan for c in sig.input_features])
    table = pd.DataFrame({
        "mean_abs_shapley": mean_abs.to_numpy(),
        "share": mean_abs.to_numpy() / max(mean_abs.sum(), np.finfo(float).tiny),
        "n_terms": used.sum(axis=(0, 1)),
        "median_elasticity": median_e,
        "monotonicity": mono.reindex(sig.input_features).to_numpy(),
    }, index=pd.Index(sig.input_features, name="feature"))
    return table.sort_values("mean_abs_shapley", ascending=False, kind="stable")
