"""Unpenalised refits of a fixed signomial structure, batched over resamples.

The search's penalties (L1 on the exponents, the score wall, the path's ridge) pick
the structure and keep separable data finite, but they shrink the parameters: on
``z = -1 + 2 x0^1.5 / x1^0.5 - 1.2 x2^0.8`` the search put the exponent of ``x0``
near 0.6. :func:`refit` removes that bias: it maximises the (weighted) likelihood
alone over the parameters that are non-zero, keeping the zero pattern and the
exponent box of the search.

The optimiser is Newton's method with Levenberg-Marquardt damping. The Hessian is
exact: the Fisher (Gauss-Newton) part ``J^T W J`` of the score ``z``, with
``J = dz/dtheta`` in closed form,

* ``dz_o/db_o = 1``, ``dz_o/dc_ok = T_ok``, ``dz_o/da_okj = c_ok T_ok log u_j``,

and ``W`` the loss's second derivative by ``z`` (2 for squared error, ``p (1 - p)``
for the logistic loss, ``diag(p) - p p^T`` for the softmax), plus the model's own
curvature ``sum_n dL/dz_n d2z_n/dtheta2``; the damping is scaled by the Fisher
diagonal. (Gauss-Newton alone converged linearly on classification data, whose
residuals never vanish: 300 iterations where Newton needs about 20.) The structure has
few free parameters (a handful to a few dozen), so one Marquardt step is a small
linear solve, and every member of a batch (a leading dimension R, as in
:class:`ecsel._fit.engine.Params`) has its own damping and acceptance, so R
bootstrap refits that differ only in their row weights run as one computation:
the batched result equals R sequential calls (tested).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ecsel._fit.engine import Data, Params
from ecsel._transform import EXP_CLAMP

MAX_REFIT_ITER = 100
# The front rows' refit gives up sooner: on the issue's signomial (seeds 0-3) Newton
# converged within 15 iterations even from half the deployed parameters, while the
# separable rows of breast_cancer's front never converge and ran all 100 iterations,
# doubling the fit's CPU (3.3 -> 6.8 s).
FRONT_REFIT_ITER = 30
# Converged when the largest scaled gradient entry (the Newton step in units of
# its standard error times sqrt(n)) is below this, or a step no longer changes the loss.
GRAD_TOL = 1e-12
# Elements of the Jacobian held at once (resamples x rows x outputs x parameters):
# larger batches are refitted in chunks of resamples.
CHUNK_ELEMENTS = 2**24
MIN_DAMPING = 1e-12


@dataclass
class Structure:
    """Which parameters of a signomial are free (the zero pattern, batch dim dropped).

    Examples
    --------
    >>> p = Params(torch.zeros(1, 1), torch.tensor([[[2.0, 0.0]]]),
    ...            torch.tensor([[[[1.5, 0.0], [0.0, 0.0]]]]))
    >>> s = Structure.of(p)
    >>> s.n_free, s.names(["x0", "x1"])
    (3, ['intercept', 'coef[0]', 'exponent[0, x0]'])
    """

    intercept: torch.Tensor  # (O,) bool
    coef: torch.Tensor       # (O, K) bool
    expo: torch.Tensor       # (O, K, m) bool

    @classmethod
    def of(cls, params: Params, zero_intercept_fixed: bool = False) -> Structure:
        """The zero pattern of member 0; the intercept is free unless
        ``zero_intercept_fixed`` and it is zero (a regressor without a constant)."""
        coef = params.coef[0] != 0
        intercept = torch.ones_like(params.intercept[0], dtype=torch.bool)
        if zero_intercept_fixed:
            intercept = params.intercept[0] != 0
        return cls(intercept, coef, (params.expo[0] != 0) & coef[..., None])

    @property
    def n_free(self) -> int:
        return int(self.intercept.sum()) + int(self.coef.sum()) + int(self.expo.sum())

    def names(self, features, outputs=None) -> list[str]:
        """Parameter names in the order of :meth:`flatten`."""
        n_out = self.coef.shape[0]

        def prefix(o):
            return "" if n_out == 1 else f"{outputs[o] if outputs else o}: "

        names = [f"{prefix(o)}intercept" for o in self.intercept.nonzero()[:, 0].tolist()]
        names += [f"{prefix(o)}coef[{k}]" for o, k in self.coef.nonzero().tolist()]
        names += [f"{prefix(o)}exponent[{k}, {features[j]}]"
                  for o, k, j in self.expo.nonzero().tolist()]
        return names

    def columns(self):
        """Per free parameter: kind (0 intercept, 1 coef, 2 exponent), term id
        (``o * K + k``, -1 for an intercept) and feature (-1 unless an exponent)."""
        n_terms = self.coef.shape[1]
        oi = self.intercept.nonzero()[:, 0]
        oc, kc = self.coef.nonzero(as_tuple=True)
        oe, ke, je = self.expo.nonzero(as_tuple=True)
        kind = torch.cat([torch.zeros_like(oi), torch.ones_like(oc), torch.full_like(oe, 2)])
        term = torch.cat([torch.full_like(oi, -1), oc * n_terms + kc, oe * n_terms + ke])
        feature = torch.cat([torch.full_like(oi, -1), torch.full_like(oc, -1), je])
        return kind, term, feature

    def flatten(self, params: Params) -> torch.Tensor:
        """Free parameters as one (R, n_free) tensor: intercepts, coefficients, exponents."""
        return torch.cat([params.intercept[:, self.intercept], params.coef[:, self.coef],
                          params.expo[:, self.expo]], dim=1)

    def unflatten(self, theta: torch.Tensor, like: Params) -> Params:
        """The inverse of :meth:`flatten` (zeros outside the structure)."""
        r = theta.shape[0]
        n_int, n_coef = int(self.intercept.sum()), int(self.coef.sum())
        intercept = like.intercept[:1].to(theta.dtype).expand(r, -1).clone()
        coef = theta.new_zeros((r,) + tuple(like.coef.shape[1:]))
        expo = theta.new_zeros((r,) + tuple(like.expo.shape[1:]))
        intercept[:, self.intercept] = theta[:, :n_int]
        coef[:, self.coef] = theta[:, n_int:n_int + n_coef]
        expo[:, self.expo] = theta[:, n_int + n_coef:]
        return Params(intercept, coef, expo)


def scores_and_jacobian(structure: Structure, params: Params, log_u: torch.Tensor):
    """Scores (R, n, O) and their Jacobian by the free parameters (R, n, O, n_free).

    Examples
    --------
    >>> p = Params(torch.zeros(1, 1, dtype=torch.float64),
    ...            torch.ones(1, 1, 1, dtype=torch.float64),
    ...            torch.ones(1, 1, 1, 1, dtype=torch.float64))
    >>> log_u = torch.log(torch.tensor([[2.0]], dtype=torch.float64))
    >>> z, jac = scores_and_jacobian(Structure.of(p), p, log_u)
    >>> z.flatten().tolist(), [round(v, 6) for v in jac.flatten().tolist()]
    ([2.0], [1.0, 2.0, 1.386294])
    """
    r, n_out, n_terms, m = params.expo.shape
    n = log_u.shape[0]
    power = torch.einsum("nm,rokm->rnok", log_u, params.expo)
    inside = (power >= -EXP_CLAMP) & (power <= EXP_CLAMP)
    terms = torch.exp(power.clamp(-EXP_CLAMP, EXP_CLAMP))             # (R, n, O, K)
    scaled = terms * params.coef[:, None]                             # c_ok T_ok
    scores = scaled.sum(-1) + params.intercept[:, None]
    out_idx, term_idx = structure.coef.nonzero(as_tuple=True)
    eo, ek, ej = structure.expo.nonzero(as_tuple=True)
    # Columns of one output's parameters, then spread over the outputs by a one-hot
    # product (an index_put into a zero (R, n, O, p) tensor cost ten times more).
    int_idx = structure.intercept.nonzero()[:, 0]
    columns = torch.cat([scores.new_ones(r, n, len(int_idx)), terms[:, :, out_idx, term_idx],
                         (scaled * inside)[:, :, eo, ek] * log_u[None, :, ej]], dim=-1)
    if n_out == 1:
        return scores, columns[:, :, None, :]
    onehot = F.one_hot(_owner(structure), n_out).T.to(log_u.dtype)  # (O, p)
    return scores, columns[:, :, None, :] * onehot


def loss_terms(scores: torch.Tensor, y: torch.Tensor, weights: torch.Tensor, task: str):
    """Weighted mean loss (R,), its gradient by the scores and the Fisher weights.

    ``weights`` is (R, n) (one weighting of the rows per batch member). Returns
    ``(loss, dloss/dz (R, n, O), W (R, n, O, O))``, each already divided by the
    weight total, so ``J^T dloss/dz`` is the gradient and ``J^T W J`` the curvature.
    """
    norm = (weights / weights.sum(dim=1, keepdim=True))[..., None]   # (R, n, 1)
    if task == "regression":
        residual = scores[..., 0] - y
        loss = (residual**2 * norm[..., 0]).sum(1)
        fisher = 2.0 * norm[..., None]
        return loss, 2.0 * residual[..., None] * norm, fisher
    if task == "binary":
        logit = scores[..., 0]
        target = y.expand_as(logit)
        loss = (F.binary_cross_entropy_with_logits(logit, target, reduction="none")
                * norm[..., 0]).sum(1)
        p = torch.sigmoid(logit)
        return loss, ((p - target) * norm[..., 0])[..., None], \
            (p * (1 - p) * norm[..., 0])[..., None, None]
    logits = torch.cat([scores.new_zeros(scores.shape[:-1] + (1,)), scores], dim=-1)
    log_p = torch.log_softmax(logits, dim=-1)
    labels = y.long().expand(scores.shape[0], -1)[..., None]
    loss = (-log_p.gather(-1, labels)[..., 0] * norm[..., 0]).sum(1)
    p = log_p.exp()[..., 1:]
    onehot = F.one_hot(y.long(), logits.shape[-1])[..., 1:].to(p.dtype)
    fisher = torch.diag_embed(p) - p[..., :, None] * p[..., None, :]
    return loss, (p - onehot) * norm, fisher * norm[..., None]


def refit(params: Params, data: Data, task: str, *, weights: torch.Tensor | None = None,
          expo_bound: torch.Tensor | None = None, max_iter: int = MAX_REFIT_ITER,
          structure: Structure | None = None) -> tuple[Params, torch.Tensor]:
    """Unpenalised maximum-likelihood refit of a fixed structure, batched.

    Parameters
    ----------
    params : Params
        Starting values with a batch dimension R (all members share the zero pattern
        of member 0, which is kept).
    data : Data
        Log-features and targets (``data.weights`` multiplies ``weights``).
    task : {"binary", "multiclass", "regression"}
    weights : Tensor of shape (R, n), optional
        One row weighting per member (bootstrap counts); default: ``data.weights``
        for every member.
    expo_bound : Tensor, optional
        The exponents stay within ``+-expo_bound`` (broadcastable to one member's
        exponents), the box of the search.
    max_iter : int
        Levenberg-Marquardt iterations at most.

    Returns
    -------
    params : Params
        The refitted members.
    converged : Tensor of bool, shape (R,)
        False where the likelihood had no finite maximiser in reach (separable
        data drive the scores to infinity) or the iterations ran out.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.exp(torch.randn(400, 1, generator=g, dtype=torch.float64))
    >>> y = 2.0 * x[:, 0] ** 1.5 + 0.01 * torch.randn(400, generator=g, dtype=torch.float64)
    >>> data = Data(torch.log(x), y, torch.ones(400, dtype=torch.float64))
    >>> start = Params(torch.zeros(1, 1, dtype=torch.float64),
    ...                torch.ones(1, 1, 1, dtype=torch.float64),
    ...                torch.ones(1, 1, 1, 1, dtype=torch.float64))
    >>> fitted, ok = refit(start, data, "regression")
    >>> bool(ok[0]), round(float(fitted.expo[0, 0, 0, 0]), 2), round(float(fitted.coef[0, 0, 0]), 2)
    (True, 1.5, 2.0)
    """
    structure = Structure.of(params) if structure is None else structure
    r = params.intercept.shape[0]
    n, n_out = len(data), params.intercept.shape[1]
    base = data.weights.expand(r, n) if weights is None else weights * data.weights
    per_member = max(1, n * n_out * max(structure.n_free, 1))
    chunk = max(1, CHUNK_ELEMENTS // per_member)
    if r > chunk:
        parts = [refit(params.select(slice(s, s + chunk)), data, task,
                       weights=base[s:s + chunk], expo_bound=expo_bound, max_iter=max_iter,
                       structure=structure) for s in range(0, r, chunk)]
        return (Params(*(torch.cat(ts) for ts in zip(*(p.tensors() for p, _ in parts)))),
                torch.cat([ok for _, ok in parts]))
    return _levenberg_marquardt(structure, params.detach(), data, task, base,
                                expo_bound, max_iter)


def _levenberg_marquardt(structure, params, data, task, weights, expo_bound, max_iter):
    theta = structure.flatten(params)
    r, p = theta.shape
    low = high = None
    if expo_bound is not None:
        bound = expo_bound.to(theta.dtype).expand_as(params.expo[0])[structure.expo]
        n_lin = p - bound.numel()
        inf = theta.new_full((n_lin,), float("inf"))
        high = torch.cat([inf, bound])
        low = -high
        theta = torch.maximum(torch.minimum(theta, high), low)

    kind, term, feature = structure.columns()
    same_term = (term[:, None] == term[None, :]) & (term[:, None] >= 0)
    coef_expo = same_term & (kind[:, None] == 1) & (kind[None, :] == 2)
    expo_expo = same_term & (kind[:, None] == 2) & (kind[None, :] == 2)
    log_col = data.log_u[:, feature.clamp(min=0)] * (kind == 2).to(data.log_u.dtype)
    owner = _owner(structure)

    def evaluate(t, members=None):
        point = structure.unflatten(t, params)
        scores, jac = scores_and_jacobian(structure, point, data.log_u)
        loss, dz, fisher = loss_terms(scores, data.y,
                                      weights if members is None else weights[members], task)
        grad = torch.einsum("rnop,rno->rp", jac, dz)
        if n_out > 1:
            gauss_newton = torch.einsum("rnop,rnos,rnsq->rpq", jac, fisher, jac)
        else:
            gauss_newton = torch.einsum("rnp,rn,rnq->rpq", jac[:, :, 0], fisher[:, :, 0, 0],
                                        jac[:, :, 0])
        # The model's own curvature, sum_n dL/dz_n d2z_n/dtheta2: without it the steps
        # are Gauss-Newton, which converges only linearly where the residuals are
        # large (always, for a classifier). Only coefficient-exponent and
        # exponent-exponent pairs of one term are non-zero:
        # d2z/dc_k da_kj = T_k log u_j, d2z/da_ki da_kj = c_k T_k log u_i log u_j.
        weighted = dz[:, :, owner] * jac.sum(2)                     # (R, n, p)
        second = torch.einsum("rnp,nq->rpq", weighted, log_col)
        cross = second * coef_expo
        exact = gauss_newton + cross + cross.transpose(1, 2) + second * expo_expo
        return loss, grad, exact, gauss_newton

    n_out = params.intercept.shape[1]
    loss, grad, curvature, gauss_newton = evaluate(theta)
    damping = theta.new_full((r,), 1e-3)
    active = torch.isfinite(loss)
    converged = torch.zeros(r, dtype=torch.bool, device=theta.device)
    eye = torch.eye(p, dtype=theta.dtype, device=theta.device)
    for _ in range(max_iter):
        diag = gauss_newton.diagonal(dim1=-2, dim2=-1)
        scale = diag.clamp(min=1e-12 * diag.amax(-1, keepdim=True).clamp(min=1e-300))
        # Scaled gradient: the Newton decrement per parameter, unit-free.
        small = (grad.abs() / scale.sqrt()).amax(-1) < GRAD_TOL
        converged |= small & active
        active &= ~small
        if not bool(active.any()):
            break
        # Only the members still running are evaluated: a few slow resamples must
        # not make the converged ones pay for every remaining iteration.
        idx = active.nonzero()[:, 0]
        system = curvature[idx] + damping[idx, None, None] * torch.diag_embed(scale[idx]) \
            + MIN_DAMPING * eye
        step = torch.linalg.solve(system, -grad[idx, :, None])[..., 0]
        trial = theta[idx] + step
        if low is not None:
            trial = torch.maximum(torch.minimum(trial, high), low)
        new_loss, new_grad, new_curv, new_gn = evaluate(trial, idx)
        old = loss[idx]
        accept = torch.isfinite(new_loss) & (new_loss <= old)
        # A step that no longer changes the loss in float64 has converged too.
        flat = accept & ((old - new_loss) <= 1e-15 * old.abs())
        taken = idx[accept]
        theta[taken] = trial[accept]
        loss[taken] = new_loss[accept]
        grad[taken] = new_grad[accept]
        curvature[taken] = new_curv[accept]
        gauss_newton[taken] = new_gn[accept]
        damping[idx] = torch.where(accept, (damping[idx] / 3).clamp(min=1e-9),
                                   damping[idx] * 5)
        stuck = damping[idx] > 1e12
        converged[idx[flat]] = True
        active[idx[flat | stuck]] = False
    return structure.unflatten(theta, params), converged & torch.isfinite(loss)


def _owner(structure: Structure) -> torch.Tensor:
    """The output each free parameter belongs to."""
    return torch.cat([structure.intercept.nonzero()[:, 0], structure.coef.nonzero()[:, 0],
                      structure.expo.nonzero()[:, 0]])


def bootstrap_weights(n: int, n_resamples: int, generator: torch.Generator,
                      dtype=torch.float64) -> torch.Tensor:
    """Multinomial bootstrap counts (n_resamples, n): each row draws n rows with replacement.

    Examples
    --------
    >>> w = bootstrap_weights(5, 3, torch.Generator().manual_seed(0))
    >>> w.shape, w.sum(1).tolist()
    (torch.Size([3, 5]), [5.0, 5.0, 5.0])
    """
    draws = torch.randint(0, n, (n_resamples, n), generator=generator)
    counts = torch.zeros(n_resamples, n, dtype=dtype)
    counts.scatter_add_(1, draws, torch.ones_like(draws, dtype=dtype))
    return counts


def percentile_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed percentile interval along axis 0 (NaN rows ignored).

    Examples
    --------
    >>> lo, hi = percentile_interval(np.arange(101.0)[:, None], 0.9)
    >>> round(float(lo[0]), 9), round(float(hi[0]), 9)
    (5.0, 95.0)
    """
    tail = 100 * (1 - level) / 2
    return (np.nanpercentile(samples, tail, axis=0),
            np.nanpercentile(samples, 100 - tail, axis=0))


def unpenalised(params: Params, data: Data, task: str, *,
                expo_bound: torch.Tensor | None = None) -> Params:
    """:func:`refit` of one fitted model, or the model itself where the refit fails.

    The fallback keeps the penalised parameters where the likelihood has no finite
    maximiser in reach (separable data), the one case the search's penalties exist for.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(1)
    >>> log_u = torch.randn(500, 1, generator=g, dtype=torch.float64)
    >>> y = (torch.rand(500, generator=g, dtype=torch.float64)
    ...      < torch.sigmoid(2.0 * torch.exp(log_u[:, 0]) - 3.0)).double()
    >>> data = Data(log_u, y, torch.ones(500, dtype=torch.float64))
    >>> shrunk = Params(torch.tensor([[-1.0]], dtype=torch.float64),
    ...                 torch.tensor([[[0.8]]], dtype=torch.float64),
    ...                 torch.tensor([[[[0.5]]]], dtype=torch.float64))
    >>> bool(data.loss(unpenalised(shrunk, data, "binary"), "binary")
    ...      < data.loss(shrunk, "binary"))
    True
    >>> separable = Data(log_u, (log_u[:, 0] > 0).double(), data.weights)
    >>> unpenalised(shrunk, separable, "binary", expo_bound=torch.tensor(10.0)) is shrunk
    True
    """
    if params.intercept.shape[0] != 1:
        raise ValueError("unpenalised refits one model (batch dimension 1).")
    start, data64 = params.to(torch.float64), data.to(torch.float64)
    fitted, converged = refit(start, data64, task, expo_bound=expo_bound,
                              max_iter=FRONT_REFIT_ITER)
    if not bool(converged[0]):
        return params
    # A maximum-likelihood refit never fits the training rows worse than its start;
    # one that does stopped at another stationary point (a term's coefficient driven
    # to 0 on a column of tiny relative spread), so the start is kept.
    if float(data64.loss(fitted, task)[0]) > float(data64.loss(start, task)[0]) + 1e-9:
        return params
    return fitted
