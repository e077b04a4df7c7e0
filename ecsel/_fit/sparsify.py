"""The sparsity path of a fitted classifier signomial: fewer factors, refitted.

Starting from a fitted model, each step removes the factors whose removal costs
least training loss per factor and refits the remaining parameters with the
engine's masked L-BFGS polish. A *move* removes one of:

- one factor (one exponent of one term, or one level weight of a categorical column),
- a whole categorical column from a term (all its one-hot levels together: grouped
  indicator selection).

Moves are ranked in one evaluation (:func:`move_losses` recomputes only the term
each move touches) on at most ``RANKING_ROWS`` training rows; the chosen moves are
then polished on at most ``MAX_PATH_ROWS``. At high complexity several
non-overlapping cheap moves are taken at once (a quarter of the factors above
``BULK_COMPLEXITY``, an eighth below it), below 16 factors one at a time, so
the simple end of the front is resolved factor by factor. A term left with no
factor is folded into the intercept.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ecsel._fit import engine, primitives
from ecsel._fit.budget import QUICK_POLISH
from ecsel._fit.front import MAX_TERM_RATIO, Candidate, cancellation_ratio
from ecsel._fit.objective import penalised_grad
from ecsel._fit.selection import predicted_classes, validation_score
from ecsel._fit.symbolic import Fit, snap_targets
from ecsel._transform import EXP_CLAMP

MAX_PATH_ROWS = 20_000
RANKING_ROWS = 2_048
REFIT_POLISH_ITER = 40
REFIT_RIDGE = 1e-3
POLISH_CHUNK = 5
# Above this many factors a step removes a quarter of them, not an eighth: the
# selection rarely lands up there. Seeds 0-7 of the four bundled sets: mean test
# AUC 0.9774 vs 0.9776, CPU per seed 1.56 vs 1.69 s (Online Shoppers' paths start
# at 60-150 factors).
BULK_COMPLEXITY = 32


def polish(params: engine.Params, data: engine.Data, task: str, *, l1: float = 0.0,
           ridge: float = REFIT_RIDGE, max_iter: int = REFIT_POLISH_ITER,
           val: engine.Data | None = None,
           expo_bound: torch.Tensor | None = None, slope_l2: float = 0.0,
           constraint=None) -> engine.Params:
    """Masked L-BFGS refit of the non-zero parameters with a penalty on the score size.

    The objective is the training loss plus ``l1 * sum |a|`` plus ``ridge`` times the
    mean square of ``z(x) - intercept``. The ridge term keeps the logits of nearly
    separable data finite (without it the refit drives them to infinity and the
    validation log-loss explodes). Zero parameters stay zero. ``expo_bound``
    (broadcastable to the exponents) is the box of the search's exponents, kept
    here too: without it a refit on a handful of rows moved an exponent from the
    small-data bound 5 to 13.5. ``slope_l2``: the L2 penalty on the terms' slopes
    (:func:`~ecsel._fit.objective.penalised_grad`).
    """
    masks = _masks(params)
    bounds = engine.expo_box(params, expo_bound, constraint)

    def value_and_grad(work):
        return penalised_grad(work, data.log_u, data.y, data.weights, task, ridge=ridge,
                              l1=l1, expo_mask=masks[2], with_value=True, slope_l2=slope_l2)

    if val is None:
        result = primitives.lbfgs(params.tensors(), None, value_and_grad=value_and_grad,
                                  masks=masks, bounds=bounds, max_iter=max_iter)
        return params.detach() if result is None else engine.Params(*result)

    def val_loss(candidate: engine.Params) -> float:
        with torch.no_grad():
            return float(val.loss(candidate, task)[0])

    # Early stopping on the validation loss every POLISH_CHUNK iterations, inside
    # one L-BFGS run (restarting it per chunk threw its curvature memory away).
    state = {"best": params.detach(), "loss": val_loss(params), "iterations": 0,
             "checked": True}

    def check(tensors) -> bool:
        state["iterations"] += 1
        state["checked"] = state["iterations"] % POLISH_CHUNK == 0
        if not state["checked"]:
            return False
        candidate = engine.Params(*tensors)
        loss = val_loss(candidate)
        if not loss < state["loss"]:
            return True
        state["best"], state["loss"] = candidate, loss
        return False

    result = primitives.lbfgs(params.tensors(), None, value_and_grad=value_and_grad,
                              masks=masks, bounds=bounds, max_iter=max_iter,
                              on_iteration=check)
    if result is not None and not state["checked"]:
        # Converged (or ran out) between two checks: the last iterate is scored too.
        final = engine.Params(*result)
        if val_loss(final) < state["loss"]:
            return final
    return state["best"]


def feature_groups(feature_maps) -> list[list[int]]:
    """Model-feature indices grouped by categorical column (one-hot levels together).

    Every other model feature is a group of its own.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0],
    ...                                           "c": ["a", "b", "c", "a"]}))
    >>> feature_groups(t.feature_maps)
    [[0], [1, 2]]
    """
    groups: dict[str, list[int]] = {}
    order: list[list[int]] = []
    for j, fmap in enumerate(feature_maps):
        if fmap.level is None:
            order.append([j])
            continue
        if fmap.source not in groups:
            groups[fmap.source] = []
            order.append(groups[fmap.source])
        groups[fmap.source].append(j)
    return order


def _complexity(params: engine.Params) -> int:
    active = params.coef[0] != 0
    return int(((params.expo[0] != 0) & active[..., None]).sum())


def _fold_empty_terms(params: engine.Params) -> engine.Params:
    """Terms whose exponents are all zero are constants: add them to the intercept.

    Terms left with a zero coefficient in every output are dropped (one term is
    kept), so the refits of a long path do not carry dead terms.
    """
    intercept, coef, expo = (t.clone() for t in params.tensors())
    empty = (expo[0] == 0).all(dim=-1) & (coef[0] != 0)
    if bool(empty.any()):
        intercept[0] += (coef[0] * empty).sum(dim=-1)
        coef[0][empty] = 0.0
    live = (coef[0] != 0).any(dim=0)
    if not bool(live.all()):
        if not bool(live.any()):
            live[0] = True
        coef, expo = coef[:, :, live], expo[:, :, live]
    return engine.Params(intercept, coef, expo)


def _moves(params: engine.Params, groups: Sequence[Sequence[int]]) -> list[torch.Tensor]:
    """Boolean masks (O, K, m) of the exponents each candidate move sets to zero."""
    expo = params.expo[0]
    active = (expo != 0) & (params.coef[0] != 0)[..., None]
    moves = []
    # Only the (output, term) pairs with an active factor: a signomial GAM has one
    # term per feature, and scanning every pair cost more than ranking the moves.
    for o, k in active.any(dim=-1).nonzero().tolist():
        on_here = set(active[o, k].nonzero()[:, 0].tolist())
        for group in groups:
            on = [j for j in group if j in on_here]
            for j in on:
                mask = torch.zeros_like(active)
                mask[o, k, j] = True
                moves.append(mask)
            if len(on) > 1:
                mask = torch.zeros_like(active)
                mask[o, k, on] = True
                moves.append(mask)
    return moves


def _masks(params: engine.Params):
    intercept_mask = torch.ones_like(params.intercept, dtype=torch.bool)
    coef_mask = params.coef != 0
    expo_mask = (params.expo != 0) & coef_mask[..., None]
    return intercept_mask, coef_mask, expo_mask


def sparsity_path(params: engine.Params, train: engine.Data, task: str,
                  groups: Sequence[Sequence[int]], *, l1: float = 0.0,
                  ridge: float = REFIT_RIDGE, val: engine.Data | None = None,
                  generator: torch.Generator | None = None,
                  expo_bound: torch.Tensor | None = None,
                  slope_l2: float = 0.0, constraint=None) -> list[engine.Params]:
    """Candidates from ``params`` down to the intercept-only model (fewer factors each).

    Parameters
    ----------
    params : Params
        One fitted model (batch dimension 1), float64.
    train : Data
        The training rows the candidates are refitted on.
    task : {"binary", "multiclass"}
    groups : list of list of int
        See :func:`feature_groups`.
    l1, ridge : float
        Penalties of the refit (see :func:`polish`).
    val : Data, optional
        Validation rows; when given, each refit stops early once their loss stops
        falling (L-BFGS in chunks of ``POLISH_CHUNK`` iterations).
    generator : torch.Generator, optional
        Draws the row subsamples: the moves are ranked on at most ``RANKING_ROWS``
        rows, refitted on at most ``MAX_PATH_ROWS``.
    expo_bound : Tensor, optional
        Box of the exponents in the refits (see :func:`polish`).

    Returns
    -------
    list of Params
        Strictly decreasing complexity, the last with complexity 0.

    Examples
    --------
    >>> import torch
    >>> from ecsel._fit import engine
    >>> g = torch.Generator().manual_seed(0)
    >>> log_u = torch.randn(200, 3, generator=g, dtype=torch.float64)
    >>> y = (log_u[:, 0] + 0.1 * torch.randn(200, generator=g, dtype=torch.float64) > 0)
    >>> data = engine.Data(log_u, y.double(), torch.ones(200, dtype=torch.float64))
    >>> start = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
    ...                       torch.ones(1, 1, 1, dtype=torch.float64),
    ...                       torch.full((1, 1, 1, 3), 0.5, dtype=torch.float64))
    >>> [_complexity(p) for p in sparsity_path(start, data, "binary", [[0], [1], [2]])]
    [2, 1, 0]
    """
    rows = ranking = train
    if len(train) > RANKING_ROWS:
        gen = generator if generator is not None else torch.Generator().manual_seed(0)
        order = torch.randperm(len(train), generator=gen).to(train.log_u.device)
        rows = train if len(train) <= MAX_PATH_ROWS else train.rows(order[:MAX_PATH_ROWS])
        ranking = train.rows(order[:RANKING_ROWS])
    # Ranking the moves only needs the loss differences, which a few thousand
    # shared rows estimate well; the refit of each step uses all of ``rows``.
    current = _fold_empty_terms(params.detach())
    path: list[engine.Params] = []
    while _complexity(current) > 0:
        moves = _moves(current, groups)
        with torch.no_grad():
            base = float(ranking.loss(current, task)[0])
            losses = move_losses(current, moves, ranking, task)
        sizes = torch.stack([m.sum() for m in moves]).to(losses.dtype)
        cost = (losses - base) / sizes
        complexity = _complexity(current)
        n_remove = max(1, complexity // (4 if complexity > BULK_COMPLEXITY else 8))
        removed = torch.zeros_like(moves[0])
        for r in torch.argsort(cost).tolist():
            if bool((moves[r] & removed).any()):
                continue
            removed |= moves[r]
            if int(removed.sum()) >= n_remove:
                break
        expo = current.expo.clone()
        expo[0][removed] = 0.0
        pruned = _fold_empty_terms(engine.Params(current.intercept, current.coef, expo))
        polished = polish(pruned, rows, task, l1=l1, ridge=ridge, val=val,
                          expo_bound=expo_bound, slope_l2=slope_l2, constraint=constraint)
        current = _fold_empty_terms(polished)
        path.append(current)
    return path


def move_losses(params: engine.Params, moves: Sequence[torch.Tensor], data: engine.Data,
                task: str) -> torch.Tensor:
    """Data loss after each move (exponents where ``moves[i]`` is True set to zero).

    Every move zeroes exponents of one term, so only that term is recomputed: one
    ``n x m`` by ``m x n_moves`` product and one exp per move, not a full model each.
    Equal to ``data.loss`` of the moved parameters up to rounding.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> data = engine.Data(torch.randn(50, 3, generator=g, dtype=torch.float64),
    ...                    torch.randint(0, 2, (50,), generator=g).double(),
    ...                    torch.ones(50, dtype=torch.float64))
    >>> p = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
    ...                   torch.ones(1, 1, 2, dtype=torch.float64),
    ...                   torch.full((1, 1, 2, 3), 0.5, dtype=torch.float64))
    >>> move = torch.zeros(1, 2, 3, dtype=torch.bool)
    >>> move[0, 1, 2] = True
    >>> moved = engine.Params(p.intercept, p.coef, p.expo * ~move)
    >>> bool(torch.isclose(move_losses(p, [move], data, "binary")[0],
    ...                    data.loss(moved, "binary")[0]))
    True
    """
    _, n_out, n_terms, m = params.expo.shape
    expo, coef = params.expo[0], params.coef[0]
    power = data.log_u @ expo.reshape(n_out * n_terms, m).T                  # (n, O*K)
    terms = primitives.clamped_exp(power)
    stacked = torch.stack(list(moves))                                       # (M, O, K, m)
    touched = stacked.any(dim=-1).flatten(1).to(torch.int64).argmax(dim=1)   # term o*K + k
    removed = (stacked * expo).flatten(1, 2)[torch.arange(len(moves)), touched]  # (M, m)
    new_terms = primitives.clamped_exp(power[:, touched] - data.log_u @ removed.T)  # (n, M)
    # The terms are summed again rather than the changed one swapped in: a term at
    # the exp clamp (1e26) would otherwise cancel away the others' digits.
    moved_terms = terms[None].repeat(len(moves), 1, 1)                       # (M, n, O*K)
    moved_terms[torch.arange(len(moves)), :, touched] = new_terms.T
    moved = (moved_terms.view(len(moves), -1, n_out, n_terms) * coef).sum(-1) \
        + params.intercept[0]
    return engine.data_loss(moved, data.y, data.weights, task)


def term_values(params: engine.Params, log_u: torch.Tensor) -> np.ndarray:
    """``coef_k * t_k(x)`` of shape (n, O, K) for one model (numpy)."""
    with torch.no_grad():
        expo = params.expo[0]
        power = torch.einsum("nm,okm->nok", log_u, expo).clamp(-EXP_CLAMP, EXP_CLAMP)
        values = params.coef[0][None] * torch.exp(power)
    return values.cpu().numpy().astype(np.float64)


def per_row_loss(params: engine.Params, data: engine.Data, task: str) -> np.ndarray:
    """Per-row log-loss times ``w_i / mean(w)``: its mean is the weighted loss."""

    with torch.no_grad():
        scores = engine.batched_scores(data.log_u, *params.tensors())[0]
        if task == "binary":
            loss = F.binary_cross_entropy_with_logits(scores[:, 0], data.y, reduction="none")
        else:
            logits = torch.cat([scores.new_zeros((scores.shape[0], 1)), scores], dim=1)
            loss = -torch.log_softmax(logits, dim=1).gather(1, data.y.long()[:, None])[:, 0]
        loss = loss * data.weights / data.weights.mean()
    return loss.cpu().numpy().astype(np.float64)


def classifier_candidates(fits: Sequence[engine.Params], train: engine.Data, val: engine.Data,
                          task: str, to_signomial, groups: Sequence[Sequence[int]], *,
                          l1: float = 0.0, generator: torch.Generator | None = None,
                          max_term_ratio: float | None = None,
                          expo_bound: torch.Tensor | None = None,
                          slope_l2: float = 0.0, constraint=None,
                          refit=None) -> list:
    """Every fit and every step of its sparsity path as a scored front candidate.

    ``refit(params)``, when given, replaces each candidate's parameters before it is
    scored (the classifier's unpenalised refit, :func:`ecsel._fit.resample.unpenalised`).

    ``to_signomial(params)`` maps engine parameters (on the engine's scaled
    log-features) to the deployed :class:`~ecsel.Signomial`. Candidates that rely
    on a cancellation (see :mod:`ecsel._fit.front`) are left out, unless every
    candidate with a factor does (then they are kept, marked in ``source``).

    Examples
    --------
    >>> import torch
    >>> from ecsel._fit import engine
    >>> g = torch.Generator().manual_seed(0)
    >>> log_u = torch.randn(300, 2, generator=g, dtype=torch.float64)
    >>> y = (log_u[:, 0] > 0).double()
    >>> data = engine.Data(log_u, y, torch.ones(300, dtype=torch.float64))
    >>> start = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
    ...                       torch.ones(1, 1, 1, dtype=torch.float64),
    ...                       torch.full((1, 1, 1, 2), 0.5, dtype=torch.float64))
    >>> cands = classifier_candidates([start], data, data, "binary", lambda p: p, [[0], [1]])
    >>> sorted(c.complexity for c in cands)
    [0, 1, 2]
    """

    limit = MAX_TERM_RATIO if max_term_ratio is None else max_term_ratio
    candidates, rejected, losses = [], [], []
    fits = [_fold_empty_terms(fit.detach()) for fit in fits]
    # One sparsity path, from the most accurate fit: the smaller sizes' paths run
    # through much the same equations and cost as much again each.
    with torch.no_grad():
        start = int(np.argmin([float(val.loss(fit, task)[0]) for fit in fits]))
    for i, fit in enumerate(fits):
        path = [fit]
        if i == start:
            path += sparsity_path(fit, train, task, groups, l1=l1, val=val,
                                  generator=generator, expo_bound=expo_bound,
                                  slope_l2=slope_l2, constraint=constraint)
        for step, params in enumerate(path):
            params = params if refit is None else refit(params)
            terms = term_values(params, train.log_u)
            ratio = cancellation_ratio(terms, terms.sum(-1))
            if ratio > limit:
                rejected.append((i, step, params))
                continue
            per_row = per_row_loss(params, val, task)
            losses.append(per_row)
            candidates.append(Candidate(
                to_signomial(params), float(per_row.mean()), validation_score(params, val, task),
                _complexity(params), f"fit {i}" if step == 0 else f"fit {i}, path step {step}",
                predicted_classes=predicted_classes(params, val, task),
            ))
    _paired_standard_errors(candidates, losses)
    if rejected and all(c.complexity == 0 for c in candidates):
        # Every equation with a factor cancels: keep them rather than deploy a constant.
        for i, step, params in rejected:
            per_row = per_row_loss(params, val, task)
            candidates.append(Candidate(
                to_signomial(params), float(per_row.mean()), validation_score(params, val, task),
                _complexity(params), f"fit {i}, path step {step} (cancelling terms)",
                predicted_classes=predicted_classes(params, val, task),
            ))
    return candidates


def _paired_standard_errors(candidates: list, losses: list[np.ndarray]) -> None:
    """Set each candidate's ``loss_se``: the paired standard error of its loss gap.

    The gap is the candidate's per-row validation loss minus that of the most
    accurate candidate, on the same rows. Pairing removes the rows' shared
    difficulty, so the standard error measures how sure the split is that the
    candidate is worse, not how noisy one loss is on its own (the unpaired error
    of the mean admitted a 2-factor breast_cancer equation with 30 % more
    validation log-loss, and 0.017 less test AUC, than the most accurate one).
    """
    if not candidates or len(losses[0]) < 2:
        return
    reference = losses[int(np.argmin([c.loss for c in candidates]))]
    for cand, per_row in zip(candidates, losses):
        gap = per_row - reference
        cand.loss_se = float(gap.std(ddof=1) / np.sqrt(len(gap)))


# --------------------------------------------------------------------- regressor
def _symbolic_complexity(fit, to_full=None) -> int:
    """Factors of a regression fit, plus one per fitted number a reader must carry.

    A factor whose exponent is a simple rational (``x**2``, ``x**-1.5``) counts one;
    a factor with a fitted exponent (``x**1.156``) counts two, the factor and its
    number; a free intercept beside other terms counts one. The additive constant
    is something a physicist must explain, and counting it keeps the "best" rule
    from preferring a noise-fitted constant over the exact monomials. The fitted
    exponents are counted because collinear monomials can imitate a law: on
    x in [0.5, 2], ``1.736*x**1.351 + 1.938*x**3.286 + 1.278*x**4.917 + 0.047``
    reproduces x**5 + ... + x to a validation MSE of 4e-14, with fewer factors
    (3 and a constant) than the five integer terms. The intercept-only model is 0.
    ``to_full`` maps a search's working exponents to the model features' (units).
    """
    if fit.expo.shape[0] == 0:
        return 0
    expo = fit.expo if to_full is None else to_full(fit.expo)
    active = (expo != 0) & (fit.coef != 0)[:, None]
    factors = int(active.sum())
    fitted = int((active & ((expo - snap_targets(expo)).abs() > 1e-12)).sum())
    return factors + fitted + int(bool(fit.use_intercept) and factors > 0)


def _intercept_only(search, expo: torch.Tensor):
    """The constant model (training mean) as a :class:`~ecsel._fit.symbolic.Fit`."""

    mean = float(search.train_y.mean())
    val_mse = float(((search.val_y - mean) ** 2).mean())
    return Fit(expo, mean, expo.new_zeros(0), True, val_mse)


def symbolic_path(fit, search) -> list:
    """The regressor's sparsity path: one factor fewer per step, refitted.

    ``fit`` is a :class:`ecsel._fit.symbolic.Fit` of ``search`` (a
    :class:`~ecsel._fit.symbolic.SymbolicSearch`). Each step zeroes the exponent
    whose removal raises the projected training MSE least (all moves in one
    batched least-squares solve), drops a term left without factors (it is a
    constant, absorbed by the intercept), and polishes the remaining free
    exponents; exponents that sit on a simple rational stay fixed, so a snapped
    law is not unsnapped along the path.

    Examples
    --------
    >>> import torch
    >>> from ecsel._fit.symbolic import SymbolicSearch
    >>> g = torch.Generator().manual_seed(0)
    >>> log_u = torch.rand(200, 2, generator=g, dtype=torch.float64)
    >>> y = torch.exp(log_u @ torch.tensor([1.0, 0.1], dtype=torch.float64))
    >>> s = SymbolicSearch((log_u, y), (log_u, y), n_restarts=2, l1=0.0, max_iter=10,
    ...                    generator=g, rng=None)
    >>> start = s.evaluate(torch.tensor([[1.0, 0.1]], dtype=torch.float64))
    >>> [_symbolic_complexity(f) for f in symbolic_path(start, s)]
    [2, 0]
    """

    path = []
    current = fit
    while True:
        # Fixed coordinates (a constrained column's missingness indicator, the
        # dimensional offset of a unit search) are never moves.
        active = (current.expo != 0) & (current.coef != 0)[:, None] & ~search.fixed
        moves = active.nonzero().tolist()
        if not moves:
            break
        batch = current.expo.expand(len(moves), -1, -1).clone()
        for r, (k, j) in enumerate(moves):
            batch[r, k, j] = 0.0
        with torch.no_grad():
            mse, _ = search.mse(search.train_log_u, search.train_y, batch,
                                current.use_intercept)
        mse = torch.nan_to_num(mse, nan=float("inf"))
        expo = batch[int(torch.argmin(mse))]
        # A term left with no factor is a constant (absorbed by the intercept); with
        # units every term keeps its dimensional part, and equal terms are merged.
        expo = expo[(expo != 0).any(dim=1)]
        if bool(search.fixed.any()):
            expo = torch.unique(expo, dim=0)
        if expo.shape[0] == 0:
            path.append(_intercept_only(search, expo))
            break
        free = (expo - snap_targets(expo)).abs() > 1e-12
        polished = search.polish(expo, free=free, use_intercept=True, max_iter=QUICK_POLISH)
        current = search.evaluate(polished, use_intercept=True)
        path.append(current)
    return path


def regressor_candidates(fits: Sequence, search, to_signomial, y_scale: float) -> list:
    """Every fit and every step of its :func:`symbolic_path` as a front candidate.

    The loss is the validation MSE in the target's units, the score the
    validation R^2; ``to_signomial(fit)`` builds the deployed signomial.

    Examples
    --------
    >>> import torch
    >>> from ecsel._fit.symbolic import SymbolicSearch
    >>> g = torch.Generator().manual_seed(0)
    >>> log_u = torch.rand(100, 1, generator=g, dtype=torch.float64)
    >>> y = torch.exp(2 * log_u[:, 0])
    >>> s = SymbolicSearch((log_u, y), (log_u, y), n_restarts=2, l1=0.0, max_iter=10,
    ...                    generator=g, rng=None)
    >>> fit = s.evaluate(torch.tensor([[2.0]], dtype=torch.float64))
    >>> [(c.complexity, round(c.score, 6)) for c in regressor_candidates([fit], s, id, 1.0)]
    [(2, 1.0), (0, 0.0)]
    """

    val_var = float(((search.val_y - search.val_y.mean()) ** 2).mean())
    candidates = []
    for i, fit in enumerate(fits):
        for step, f in enumerate([fit] + symbolic_path(fit, search)):
            score = 1.0 - f.val_mse / val_var if val_var > 0 else float("nan")
            candidates.append(Candidate(
                to_signomial(f), f.val_mse * y_scale**2, score,
                _symbolic_complexity(f, search.to_full),
                f"fit {i}" if step == 0 else f"fit {i}, path step {step}",
            ))
    return candidates
