"""Exact interventional Shapley values of a signomial score, in closed form.

Players are the RAW input columns (the one-hot levels of a categorical column form
one player). For one term ``c * exp(sum_m a_m log u_m)`` and one background row
``b`` the interventional game is a *product game*

    v(S) = c * prod_{j in S} f_j(x) * prod_{j not in S} f_j(b),
    f_j(.) = exp(sum_{m in column j} a_m log u_m(.)) > 0,

whose Shapley value is the integral of the multilinear extension (Owen 1972):

    phi_j = c * (f_j(x) - f_j(b)) * int_0^1 prod_{i != j} ((1 - q) f_i(b) + q f_i(x)) dq.

The integrand is a polynomial of degree ``p - 1`` in ``q`` (``p`` = number of columns
the term uses), so Gauss-Legendre quadrature with ``ceil(p / 2)`` nodes is exact.
Shapley values are linear in the game, so they add over terms and average over
background rows. A column absent from a term is a null player and gets exactly 0.

The engine clamps the exponent argument to ``[-60, 60]``; the product form holds when
no coalition reaches the clamp. Rows where one could are recomputed by enumerating
the coalitions of the term's columns (exact as well), which is affordable up to
``MAX_ENUMERATED_PLAYERS`` columns per term.

:func:`signomial_shapley` (NumPy, for explanations) and
:func:`signomial_shapley_torch` (differentiable in the coefficients and exponents,
for training against attributions) are published from :mod:`ecsel.explain`;
:func:`column_index` maps each model feature to its raw column (its player).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch

from ecsel._fit.primitives import thread_budget
from ecsel._transform import EXP_CLAMP

CHUNK_PAIRS = 6_000
MAX_ENUMERATED_PLAYERS = 14
_SAFE_LOG = 700.0


def column_index(signomial) -> np.ndarray:
    """Raw-column index (into ``input_features``) of every model feature.

    The one-hot levels of a categorical column share their column's index: they are
    one player of the game.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> X = pd.DataFrame({"a": [1.0, 2.0, 3.0], "c": ["u", "v", "w"]})
    >>> t = PositivityTransform.fit(X)
    >>> column_index(Signomial([0.0], [[1.0]], [[[1.0, 0.0, 0.0]]], t)).tolist()
    [0, 1, 1]
    """
    position = {name: i for i, name in enumerate(signomial.input_features)}
    return np.array([position[m.source] for m in signomial.transform.feature_maps], dtype=int)


def column_log_factors(signomial, log_u: np.ndarray) -> np.ndarray:
    """``log f_j`` per raw column and term: shape (n, n_outputs, n_terms, n_columns).

    ``log f_j = sum_{m in column j} a_m log u_m``; the columns' values add up to the
    term's (unclamped) exponent argument.
    """
    n_cols = len(signomial.input_features)
    groups = np.zeros((log_u.shape[1], n_cols))
    groups[np.arange(log_u.shape[1]), column_index(signomial)] = 1.0
    weighted = signomial.exponents[..., None] * groups  # (O, K, M, p)
    return np.einsum("nm,okmp->nokp", log_u, weighted, optimize=True)


def active_columns(signomial) -> np.ndarray:
    """Boolean (n_outputs, n_terms, n_columns): the columns each term depends on."""
    n_cols = len(signomial.input_features)
    used = np.zeros(signomial.exponents.shape[:2] + (n_cols,), dtype=bool)
    idx = column_index(signomial)
    nonzero = signomial.exponents != 0
    for m, j in enumerate(idx):
        used[..., j] |= nonzero[..., m]
    return used & (signomial.coef != 0)[..., None]


def _gauss_legendre(n_players: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes in (0, 1) and weights exact for polynomials of degree ``n_players - 1``."""
    nodes, weights = np.polynomial.legendre.leggauss(max(1, math.ceil(n_players / 2)))
    return (nodes + 1.0) / 2.0, weights / 2.0


def product_game_shapley(lx: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Mean over background rows of the product-game Shapley values (unit coefficient).

    Parameters
    ----------
    lx : ndarray of shape (n, p)
        ``log f_j(x)`` of the samples.
    lb : ndarray of shape (B, p)
        ``log f_j(b)`` of the background rows.

    Returns
    -------
    ndarray of shape (n, p)
        ``mean_b phi_j(x, b)`` for the game ``prod_{S} f(x) prod_{not S} f(b)``.

    Examples
    --------
    >>> lx, lb = np.log([[2.0, 3.0]]), np.zeros((1, 2))
    >>> product_game_shapley(lx, lb)  # v = 1, 2, 3, 6: phi = (1 + 3) / 2, (2 + 4) / 2
    array([[2., 3.]])
    """
    n, p = lx.shape
    n_back = lb.shape[0]
    nodes, weights = _gauss_legendre(p)
    with np.errstate(over="ignore"):  # rows beyond exp's range: term_shapley enumerates them
        fx = torch.from_numpy(np.ascontiguousarray(np.exp(lx).T))  # (p, n)
        fb = torch.from_numpy(np.ascontiguousarray(np.exp(lb).T))  # (p, B)
    out = torch.empty((p, n), dtype=torch.float64)
    # Pairs (sample, background row) are flattened into long rows, in chunks small
    # enough to stay in cache; per node: one fused interpolation for the path, one
    # product over the players and one fused divide-accumulate.
    rows = max(1, CHUNK_PAIRS // n_back)
    with thread_budget(0, torch.device("cpu")):
        for start in range(0, n, rows):
            stop = min(n, start + rows)
            pairs = (stop - start) * n_back
            shape = (p, stop - start, n_back)
            at_x = fx[:, start:stop, None].expand(shape).reshape(p, pairs)
            at_b = fb[:, None, :].expand(shape).reshape(p, pairs)
            diff = at_x - at_b
            acc = torch.zeros_like(diff)
            path = torch.empty_like(diff)
            for q, w in zip(nodes.tolist(), weights.tolist()):
                torch.lerp(at_b, at_x, q, out=path)  # (1 - q) f(b) + q f(x)
                total = path.prod(dim=0).mul_(w)
                acc.addcdiv_(total.expand_as(path), path)  # w * prod over the others
            acc.mul_(diff)
            out[:, start:stop] = acc.view(p, stop - start, n_back).mean(dim=2)
    return out.T.numpy()


def _coalition_weights(p: int) -> tuple[np.ndarray, np.ndarray]:
    """All coalitions of ``p`` players (2^p, p) and the Shapley weight of each size."""
    masks = ((np.arange(2**p)[:, None] >> np.arange(p)) & 1).astype(bool)
    sizes = np.arange(p)
    weights = np.array([math.factorial(s) * math.factorial(p - s - 1) / math.factorial(p)
                        for s in sizes])
    return masks, weights


def enumerated_shapley(lx: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Exact Shapley values of the CLAMPED term game by enumerating coalitions.

    Same contract as :func:`product_game_shapley`, for the game
    ``exp(clip(sum_{S} log f(x) + sum_{not S} log f(b), -60, 60))``.
    """
    n, p = lx.shape
    masks, weights = _coalition_weights(p)
    out = np.zeros((n, p))
    for i in range(n):
        # argument of every coalition for every background row: (B, 2^p)
        arg = lb.sum(axis=1)[:, None] + (lx[i][None, :] - lb) @ masks.T.astype(float)
        value = np.exp(np.clip(arg, -EXP_CLAMP, EXP_CLAMP)).mean(axis=0)
        for j in range(p):
            without = ~masks[:, j]
            with_j = np.flatnonzero(without) | (1 << j)
            size = masks[without].sum(axis=1)
            out[i, j] = np.sum(weights[size] * (value[with_j] - value[without]))
    return out


def _needs_clamp(lx: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Samples for which some coalition's exponent argument may leave [-60, 60]."""
    hi = np.maximum(lx, lb.max(axis=0)).sum(axis=1)
    lo = np.minimum(lx, lb.min(axis=0)).sum(axis=1)
    extreme = np.abs(lx).max(axis=1, initial=0.0) > _SAFE_LOG
    return (hi > EXP_CLAMP) | (lo < -EXP_CLAMP) | extreme | (np.abs(lb).max() > _SAFE_LOG)


def term_shapley(lx: np.ndarray, lb: np.ndarray) -> np.ndarray:
    """Exact Shapley values (mean over background) of one unit-coefficient term."""
    out = product_game_shapley(lx, lb) if lx.shape[1] else np.zeros(lx.shape)
    clamped = np.flatnonzero(_needs_clamp(lx, lb)) if lx.shape[1] else []
    if len(clamped) == 0:
        return out
    if lx.shape[1] > MAX_ENUMERATED_PLAYERS:
        warnings.warn(
            f"{len(clamped)} sample(s) reach the exponent clamp (|argument| > {EXP_CLAMP}) "
            f"in a term with {lx.shape[1]} columns; their Shapley values are those of the "
            "unclamped equation and may not add up exactly.", RuntimeWarning, stacklevel=3)
        return out
    out[clamped] = enumerated_shapley(lx[clamped], lb)
    return out


def signomial_shapley(signomial, log_u_x: np.ndarray, log_u_b: np.ndarray):
    """Exact interventional Shapley values of every output of a signomial.

    Parameters
    ----------
    signomial : Signomial
    log_u_x : ndarray of shape (n, n_model_features)
        Log-features of the samples to explain.
    log_u_b : ndarray of shape (B, n_model_features)
        Log-features of the background rows.

    Returns
    -------
    values : ndarray of shape (n, n_outputs, n_columns)
    base : ndarray of shape (n_outputs,)
        Mean score over the background.

    Examples
    --------
    One product term against one background row; the values add up to
    ``z(x) - z(background)``:

    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"a": [1.0, 2.0], "b": [1.0, 3.0]}))
    >>> s = Signomial([1.0], [[2.0]], [[[1.0, 1.0]]], t)
    >>> x, b = pd.DataFrame({"a": [2.0], "b": [3.0]}), pd.DataFrame({"a": [1.0], "b": [1.0]})
    >>> values, base = signomial_shapley(s, s.log_features(x), s.log_features(b))
    >>> values.round(10).tolist(), base.round(10).tolist() == s.evaluate(b)[0].round(10).tolist()
    ([[[6.3890560989, 6.3890560989]]], True)
    >>> bool(abs(values.sum() + base[0] - s.evaluate(x)[0, 0]) < 1e-12)
    True
    """
    fx = column_log_factors(signomial, log_u_x)
    fb = column_log_factors(signomial, log_u_b)
    used = active_columns(signomial)
    n_out, n_terms, n_cols = used.shape
    values = np.zeros((log_u_x.shape[0], n_out, n_cols))
    for o in range(n_out):
        for k in range(n_terms):
            cols = np.flatnonzero(used[o, k])
            if cols.size == 0:
                continue
            phi = term_shapley(fx[:, o, k][:, cols], fb[:, o, k][:, cols])
            values[:, o, cols] += signomial.coef[o, k] * phi
    base = signomial.term_values_from_log(log_u_b).sum(axis=2).mean(axis=0)
    return values, base + signomial.intercept


def signomial_shapley_torch(
    coef: torch.Tensor, exponents: torch.Tensor, log_u_x: torch.Tensor,
    log_u_b: torch.Tensor, groups: torch.Tensor, n_columns: int,
) -> torch.Tensor:
    r"""Exact interventional Shapley values of a signomial, differentiable in torch.

    The torch form of :func:`signomial_shapley` for parameters being trained: the same
    product game per term (Owen's multilinear extension, module docstring), integrated
    by Gauss-Legendre with ``ceil(n_columns / 2)`` nodes in log space (no factor
    overflows), averaged over the background rows and summed over terms. The clamp of
    the exponent argument is not applied: the values are exact when no coalition
    reaches it (:func:`signomial_shapley` enumerates the coalitions where one could).

    Parameters
    ----------
    coef : Tensor of shape (n_outputs, n_terms)
    exponents : Tensor of shape (n_outputs, n_terms, n_model_features)
    log_u_x : Tensor of shape (n, n_model_features)
        ``log u`` of the explained rows (``Signomial.log_features``).
    log_u_b : Tensor of shape (B, n_model_features)
        ``log u`` of the background rows.
    groups : LongTensor of shape (n_model_features,)
        Raw column of each model feature (:func:`column_index`).
    n_columns : int
        Number of raw columns (players).

    Returns
    -------
    Tensor of shape (n, n_outputs, n_columns)
        ``values.sum(-1) = z(x) - mean_b z(b)`` (intercept excluded on both sides).

    Examples
    --------
    >>> c = torch.tensor([[1.0]], dtype=torch.float64)
    >>> a = torch.tensor([[[1.0, 1.0]]], dtype=torch.float64)
    >>> lx = torch.log(torch.tensor([[2.0, 3.0]], dtype=torch.float64))
    >>> lb = torch.zeros(1, 2, dtype=torch.float64)
    >>> phi = signomial_shapley_torch(c, a, lx, lb, torch.tensor([0, 1]), 2)  # v: 1, 2, 3, 6
    >>> phi.round(decimals=10).tolist()
    [[[2.0, 3.0]]]
    """
    one_hot = torch.nn.functional.one_hot(groups.long(), n_columns).to(exponents.dtype)
    weighted = exponents[..., None] * one_hot  # (O, K, M, p)
    lfx = torch.einsum("nm,okmp->nokp", log_u_x, weighted)  # (n, O, K, p)
    lfb = torch.einsum("nm,okmp->nokp", log_u_b, weighted)  # (B, O, K, p)
    nodes, weights = _gauss_legendre(n_columns)
    lx, lb = lfx[:, None], lfb[None]  # (n, 1, O, K, p), (1, B, O, K, p)
    diff = torch.exp(lx) - torch.exp(lb)
    integral = torch.zeros_like(diff)
    for q, w in zip(nodes.tolist(), weights.tolist()):
        log_path = torch.logaddexp(lb + math.log1p(-q), lx + math.log(q))
        others = log_path.sum(dim=-1, keepdim=True) - log_path
        integral = integral + w * torch.exp(others)
    phi = (diff * integral).mean(dim=1)  # (n, O, K, p)
    return (coef[None, :, :, None] * phi).sum(dim=2)
