"""Symbolic-regression search for the regressor: variable projection over exponents.

Once the exponents are fixed, a signomial is linear in its intercept and
coefficients, so those are solved exactly by (ridge-stabilised) least squares and
the optimiser only moves the exponents ("variable projection"). Stages:

1. ``K = 1`` and a target of constant sign: ordinary least squares on
   ``log |y| = log |c| + log u @ a`` gives the exponents directly.
2. Restarts (a batch dimension): Adam with a proximal L1 step on the exponents,
   early-stopped on the validation split.
3. L-BFGS polish of the best restarts.
4. Clean-up, each step kept only when the validation BIC does not get worse:
   snap exponents to simple rationals, drop terms, drop the intercept.

Budgets. ``n_restarts`` and ``max_iter`` bound every stage, the lattice stage
included (:class:`SearchBudget`): the L-BFGS polishes run at most ``max_iter // 2``
iterations (200 at the default 400), at most ``min(3, n_restarts)`` Adam restarts
are polished, at most ``n_restarts`` lattice term sets are polished per model size,
and the exhaustive subset search solves at most ``64 * n_restarts`` term sets
(2,000 at the default 32). The defaults reproduce the search as it was before the
budgets were enforced.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import torch

from ecsel._fit import constraints as signed
from ecsel._fit import primitives
from ecsel._fit.budget import QUICK_POLISH, SearchBudget
from ecsel._fit.primitives import clamped_exp, soft_threshold_
from ecsel.export.sympy import SNAP_DENOMINATORS

SNAP_RADIUS = 0.12
LSTSQ_RIDGE = 1e-12
ADAM_ROWS = 512
MAX_SNAP_MISSES = 3
# Exponents of the lattice of simple monomials tried when a term is added (one or
# two variables per monomial; pairs only while the lattice stays small).
LATTICE_VALUES = (-3.0, -2.0, -1.5, -1.0, -0.5, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)
MAX_LATTICE = 2500
MAX_EXCHANGE_SWEEPS = 3
# Lattices up to this size (one or two variables) also get the exchange and
# best-subset searches; on larger ones they cost more than they found.
SMALL_LATTICE = 200
# The clean-up's trials are simpler than the fit they replace (a term, an intercept
# or a free exponent less), so a BIC tie at rounding level goes to the trial: on an
# exact law both sit at the MSE floor and differ by ~1e-10.
BIC_TIE = 1e-6
ANCHOR_R2 = 0.95
SUBSET_CHUNK = 500


@dataclass
class Fit:
    """Exponents (K, m) with their least-squares intercept/coefs and validation score."""

    expo: torch.Tensor
    intercept: float
    coef: torch.Tensor
    use_intercept: bool
    val_mse: float
    bic: float = np.inf


def design(log_u, expo):
    """Term values (R, n, K) for exponent batches (R, K, m)."""
    return clamped_exp(torch.einsum("nm,rkm->rnk", log_u, expo))


def canonical_terms(expo: torch.Tensor) -> torch.Tensor:
    """Rows of ``expo`` (K, m) sorted lexicographically, largest exponents first.

    >>> canonical_terms(torch.tensor([[0.0, 2.0], [1.0, 0.0], [1.0, 1.0]])).tolist()
    [[1.0, 1.0], [1.0, 0.0], [0.0, 2.0]]
    """
    if expo.shape[0] < 2:
        return expo
    rows = expo.detach().cpu().tolist()
    order = sorted(range(len(rows)), key=lambda k: [-v for v in rows[k]])
    return expo[torch.tensor(order, device=expo.device)]


def solve_coefficients(phi, y, use_intercept: bool):
    """Ridge-stabilised least squares for [intercept, coefs]: (R, K + 1)."""
    if use_intercept:
        phi = torch.cat([phi.new_ones(phi.shape[:-1] + (1,)), phi], dim=-1)
    gram = phi.transpose(-1, -2) @ phi
    scale = gram.diagonal(dim1=-2, dim2=-1).mean(-1).clamp(min=1e-30)
    eye = torch.eye(gram.shape[-1], dtype=phi.dtype, device=phi.device)
    rhs = phi.transpose(-1, -2) @ y[:, None]
    theta = torch.linalg.solve(gram + LSTSQ_RIDGE * scale[:, None, None] * eye, rhs)[..., 0]
    if not use_intercept:
        theta = torch.cat([theta.new_zeros(theta.shape[:-1] + (1,)), theta], dim=-1)
    return theta


def projected_mse(log_u, y, expo, use_intercept=True, fit_on=None, constraints=None):
    """MSE on ``(log_u, y)`` of the LS solution fitted on ``fit_on`` (default: same data).

    With ``constraints`` (:class:`ecsel._fit.constraints.Constraints`) each term's
    coefficient keeps the sign its constrained exponents require.
    """
    fit_log_u, fit_y = fit_on if fit_on is not None else (log_u, y)
    orient = None if constraints is None else constraints.orientation(expo)
    theta = signed.solve_signed(design(fit_log_u, expo), fit_y, use_intercept, orient,
                                solve_coefficients)
    pred = theta[:, :1] + (design(log_u, expo) * theta[:, None, 1:]).sum(-1)
    return ((pred - y) ** 2).mean(-1), theta


class SymbolicSearch:
    """Search for a ``K``-term signomial on normalised data (train/val tensors)."""

    def __init__(self, train, val, *, n_restarts, l1, max_iter, generator, rng,
                 constraints=None, to_full=None):
        self.train_log_u, self.train_y = train
        # ``constraints``: the exponents' signs and box in the search's coordinates;
        # ``to_full`` maps those coordinates to the model features' exponents (units).
        self.constraints = constraints if constraints is not None and (
            constraints.active or not constraints.allow_intercept) else None
        self.allow_intercept = constraints is None or constraints.allow_intercept
        self.to_full = to_full
        m = self.train_log_u.shape[1]
        self.fixed = torch.zeros(m, dtype=torch.bool, device=self.train_y.device) \
            if self.constraints is None else torch.as_tensor(
                self.constraints.fixed, device=self.train_y.device)
        self.val_log_u, self.val_y = val
        self.n_restarts = n_restarts
        self.l1 = l1
        self.max_iter = max_iter
        self.generator = generator
        self.rng = rng
        self.floor = 1e-13 * float((self.train_y**2).mean())
        self.n_val = self.val_y.shape[0]
        self.budget = SearchBudget.from_params(n_restarts, max_iter)
        self.n_steps = 0
        # Work done, counted (the budgets' tests read these): term sets solved by
        # the lattice stage, and L-BFGS polishes run.
        self.n_lattice_evaluated = 0
        self.n_polishes = 0
        self._lattice: torch.Tensor | None = None
        self._chain: list[torch.Tensor] = []
        n = self.train_y.shape[0]
        self._rows = torch.arange(0, n, max(1, n // ADAM_ROWS), device=self.train_y.device)

    # ----------------------------------------------------------------- scoring
    def mse(self, log_u, y, expo, use_intercept=True, fit_on=None):
        """:func:`projected_mse` under this search's constraints."""
        return projected_mse(log_u, y, expo, use_intercept and self.allow_intercept, fit_on,
                             self.constraints)

    def project_(self, expo: torch.Tensor) -> torch.Tensor:
        """Exponents moved into the admissible set, in place (no-op without constraints)."""
        if self.constraints is not None:
            self.constraints.project_exponents_(expo)
        return expo

    def evaluate(self, expo, use_intercept=True) -> Fit:
        # Restarts reach one term set in different orders; solving it in one fixed
        # order makes the coefficients (and every later tie) bit-identical.
        use_intercept = use_intercept and self.allow_intercept
        expo = self.project_(canonical_terms(expo).clone())[None]
        _, theta = self.mse(self.train_log_u, self.train_y, expo, use_intercept)
        pred = theta[:, :1] + (design(self.val_log_u, expo) * theta[:, None, 1:]).sum(-1)
        val_mse = float(((pred - self.val_y) ** 2).mean())
        fit = Fit(expo[0], float(theta[0, 0]), theta[0, 1:], use_intercept, val_mse)
        fit.bic = self.bic(fit)
        return fit

    def bic(self, fit: Fit) -> float:
        # An exponent sitting exactly on a simple rational is a structural choice, not
        # a fitted number: only the free ones count, so snapping can pay for itself.
        free = (fit.expo - snap_targets(fit.expo)).abs() > 1e-12
        n_params = int(free.sum()) + int((fit.coef != 0).sum()) + fit.use_intercept
        mse = fit.val_mse if np.isfinite(fit.val_mse) else np.inf
        with np.errstate(divide="ignore"):  # an exact fit of a zero target: log 0 = -inf
            return self.n_val * np.log(mse + self.floor) + n_params * np.log(self.n_val)

    # ----------------------------------------------------------- initialising
    def log_linear_start(self) -> torch.Tensor | None:
        """Exponents of the one-term log-linear least-squares fit, if y has one sign."""
        y = self.train_y
        if not (bool((y > 0).all()) or bool((y < 0).all())):
            return None
        ones = torch.ones_like(y)[:, None]
        target = torch.log(y.abs())
        fixed_value = self._fixed_values()
        if fixed_value is not None:
            # Fixed coordinates (units: the dimensional offset) are not fitted here.
            target = target - self.train_log_u[:, self.fixed] @ fixed_value[self.fixed]
        free = ~self.fixed
        design_matrix = torch.cat([ones, self.train_log_u[:, free]], dim=1)
        # gelsy (the CPU default) reads an uninitialised pivot array: not bit-reproducible
        driver = "gelsd" if design_matrix.device.type == "cpu" else None
        solution = torch.linalg.lstsq(design_matrix, target[:, None], driver=driver).solution
        start = torch.zeros_like(self.train_log_u[0]) if fixed_value is None \
            else fixed_value.clone()
        start[free] = solution[1:, 0]
        return self.project_(start[None])[0]

    def _fixed_values(self) -> torch.Tensor | None:
        if self.constraints is None or not bool(self.fixed.any()):
            return None
        low = torch.as_tensor(self.constraints.low, dtype=self.train_y.dtype,
                              device=self.train_y.device)
        return torch.where(self.fixed, low, torch.zeros_like(low))

    def starts(self, n_terms: int, anchor: torch.Tensor | None) -> torch.Tensor:
        """Initial exponents (R, K, m): perturbations of the anchor and sparse randoms."""
        m = self.train_log_u.shape[1]
        shape = (self.n_restarts, n_terms, m)
        grid = torch.tensor([-2.0, -1.0, -0.5, 0.5, 1.0, 2.0], dtype=self.train_y.dtype)
        pick = torch.randint(len(grid), shape, generator=self.generator)
        sparse = torch.rand(shape, generator=self.generator) < 0.6
        jitter = 0.05 * torch.randn(shape, generator=self.generator, dtype=self.train_y.dtype)
        random_start = torch.where(sparse, torch.zeros(shape, dtype=grid.dtype), grid[pick])
        random_start = random_start + jitter
        if anchor is not None:
            half = self.n_restarts // 2
            # Built on the CPU (where the generator lives), moved to the device below.
            anchor_cpu = anchor.detach().to("cpu", random_start.dtype)
            anchored = anchor_cpu.expand(half, n_terms, m).clone()
            flip = torch.rand((half, n_terms, m), generator=self.generator) < 0.25
            anchored = torch.where(flip, random_start[:half], anchored)
            random_start[:half] = anchored
        return self.project_(random_start.to(self.train_y.device))

    # ------------------------------------------------------------- optimising
    def adam(self, expo0: torch.Tensor) -> torch.Tensor:
        # The exponent search runs on a fixed subsample: the projected loss needs far
        # fewer rows than parameters allow, and the polish uses all training rows.
        n = self.train_y.shape[0]
        rows = torch.randperm(n, generator=self.generator)[:ADAM_ROWS].to(self.train_y.device)
        log_u, y = self.train_log_u[rows], self.train_y[rows]
        lr = 0.03

        def batch_loss(work, batch):
            mse, _ = self.mse(log_u, y, work[0])
            return torch.log(mse + self.floor)

        def validate(work):
            val, _ = self.mse(self.val_log_u, self.val_y, work[0],
                              fit_on=(self.train_log_u, self.train_y))
            return val

        def prox(work):
            soft_threshold_(work[0], lr * self.l1)
            self.project_(work[0])

        (best,), _, steps = primitives.adam_prox(
            [expo0], batch_loss, lambda: [None], validate, prox,
            lr=lr, max_iter=self.budget.adam_iter, patience=8, eval_every=10, rel_tol=1e-6,
            score_start=False, eval_last=False,
        )
        self.n_steps += steps
        return best

    def polish(self, expo: torch.Tensor, free: torch.Tensor | None = None,
               use_intercept=True, max_iter=None) -> torch.Tensor:
        """L-BFGS on the log projected MSE; entries where ``free`` is False stay fixed.

        ``max_iter`` defaults to the budget's ``polish_iter``.
        """
        max_iter = self.budget.polish_iter if max_iter is None else min(
            max_iter, self.budget.polish_iter)
        free = torch.ones_like(expo, dtype=torch.bool) if free is None else free
        free = free & ~self.fixed
        if not bool(free.any()):
            return expo
        self.n_polishes += 1
        bounds = None
        if self.constraints is not None:
            # The box, and each term's orthant from its current direction: the
            # monotonic constraint is a box for L-BFGS-B once the signs are chosen.
            expo = self.project_(expo.clone())
            bounds = [self.constraints.expo_box(expo)]

        def loss_fn(work):
            mse, _ = self.mse(self.train_log_u, self.train_y, work[0][None], use_intercept)
            return torch.log(mse + self.floor).sum()

        result = primitives.lbfgs([expo], loss_fn, masks=[free], bounds=bounds,
                                  max_iter=max_iter, tolerance_grad=1e-14,
                                  tolerance_change=1e-16)
        return expo if result is None else result[0]

    # ------------------------------------------------------------------- run
    def run(self, n_terms: int, anchor: torch.Tensor | None,
            previous: Fit | None = None) -> Fit:
        """Best ``n_terms``-term fit, cleaned up.

        Candidates: the log-linear anchor (one term), the polished best restarts of
        the Adam search, and, when ``previous`` (the chosen fit with one term fewer)
        is given, ``previous`` plus the best monomial of a lattice of simple
        exponents, and the greedy chain of lattice monomials (forward selection with
        exact least squares). The lattice is what finds integer exponents when
        monomials are strongly collinear, where gradient steps stall between them.
        """
        candidates = []
        if n_terms == 1 and anchor is not None:
            candidates.append(self.polish(anchor[None].clone()))
        lattice_sets = [self.extend(base) for base in self._lattice_bases(n_terms, previous)]
        if self.lattice().shape[0] <= SMALL_LATTICE:
            # Polynomials in one or two variables: the collinear case, where the
            # exhaustive and exchange searches are cheap and needed.
            lattice_sets = [self.exchange(expo) for expo in lattice_sets]
            subset = self.best_subset(n_terms)
            if subset is not None:
                lattice_sets.append(subset)
        for expo in _distinct(lattice_sets)[: self.budget.lattice_sets]:
            candidates.extend([expo, self.polish(expo)])
        if n_terms > 1 or anchor is None or not self._anchor_suffices(candidates[0]):
            if not any(self.is_perfect(self.evaluate(c)) for c in candidates[:2]):
                starts = self.starts(n_terms, anchor)
                found = self.adam(starts)
                val, _ = self.mse(self.val_log_u, self.val_y, found,
                                  fit_on=(self.train_log_u, self.train_y))
                val = torch.nan_to_num(val, nan=float("inf"))
                for r in torch.argsort(val)[: self.budget.polished_restarts].tolist():
                    candidates.append(self.polish(found[r]))
        fits = [self.evaluate(c) for c in candidates]
        best = min(fits, key=lambda f: f.bic)
        return self.simplify(best)

    def _anchor_suffices(self, polished_anchor: torch.Tensor) -> bool:
        """Whether the polished log-linear fit leaves the 1-term Adam search nothing to do.

        The anchor is the least-squares monomial in log space, polished on the MSE;
        when it already explains ``ANCHOR_R2`` of the validation variance the target
        is monomial-like, and restarts converge to it (on the Feynman laws at 1 %
        noise the 1-term Adam stage was a third of the fit time and never won).
        """
        fit = self.evaluate(polished_anchor)
        if self.is_perfect(fit):
            return True
        variance = float(((self.val_y - self.val_y.mean()) ** 2).mean())
        return variance > 0 and 1.0 - fit.val_mse / variance >= ANCHOR_R2

    # ------------------------------------------------------------- lattice
    def _empty(self) -> torch.Tensor:
        m = self.train_log_u.shape[1]
        return self.train_y.new_zeros((0, m))

    def _lattice_bases(self, n_terms: int, previous: Fit | None) -> list[torch.Tensor]:
        """Term sets to extend by one monomial: the greedy chain's, and ``previous``."""
        while len(self._chain) < n_terms - 1:
            self._chain.append(self.extend(self._chain[-1] if self._chain else self._empty()))
        bases = [self._chain[n_terms - 2] if n_terms > 1 else self._empty()]
        if previous is not None and previous.expo.shape[0] == n_terms - 1:
            bases.append(previous.expo)
        return bases

    def lattice(self) -> torch.Tensor:
        """Simple monomials (C, m): one variable, or two while C stays below MAX_LATTICE."""
        if self._lattice is None:
            m = self.train_log_u.shape[1]
            values = torch.tensor(LATTICE_VALUES, dtype=self.train_y.dtype)
            rows = []
            for j in range(m):
                block = torch.zeros(len(values), m, dtype=values.dtype)
                block[:, j] = values
                rows.append(block)
            n_pairs = m * (m - 1) // 2 * len(values) ** 2
            if m * len(values) + n_pairs <= MAX_LATTICE:
                a, b = torch.meshgrid(values, values, indexing="ij")
                for j in range(m):
                    for k in range(j + 1, m):
                        block = torch.zeros(a.numel(), m, dtype=values.dtype)
                        block[:, j], block[:, k] = a.flatten(), b.flatten()
                        rows.append(block)
            lattice = torch.cat(rows).to(self.train_y.device)
            fixed_value = self._fixed_values()
            if fixed_value is not None:
                lattice = torch.where(self.fixed, fixed_value, lattice)
            if self.constraints is not None:
                lattice = torch.unique(lattice[self.constraints.admissible_rows(lattice)],
                                       dim=0)
            self._lattice = lattice
        return self._lattice

    def extend(self, base: torch.Tensor) -> torch.Tensor:
        """``base`` (K, m) plus the lattice monomial that lowers the training MSE most."""
        lattice = self.lattice()
        stack = torch.cat([base.expand(lattice.shape[0], *base.shape), lattice[:, None]], dim=1)
        self.n_lattice_evaluated += stack.shape[0]
        rows = self._rows
        mse, _ = self.mse(self.train_log_u[rows], self.train_y[rows], stack)
        mse = torch.nan_to_num(mse, nan=float("inf"))
        return stack[int(torch.argmin(mse))].clone()

    def best_subset(self, n_terms: int) -> torch.Tensor | None:
        """The best ``n_terms`` monomials of (a screened pool of) the lattice, exhaustively.

        Collinear monomials defeat both forward selection and single swaps (the
        chain for x**4 + x**3 + x**2 + x on [0.5, 2] started x**3, x**5, x**-0.5 and
        no single swap led out of it). When the lattice is small, every subset is
        solved, batched; otherwise the pool is cut to the monomials that fit best on
        their own, as many as keep the count of subsets within the budget
        (``budget.subsets``: ``MAX_SUBSETS`` at the default ``n_restarts``).

        Examples
        --------
        >>> g = torch.Generator().manual_seed(0)
        >>> log_u = torch.log(torch.linspace(0.5, 2.0, 300, dtype=torch.float64))[:, None]
        >>> x = torch.exp(log_u[:, 0])
        >>> s = SymbolicSearch((log_u, x**4 + x**3 + x**2 + x), (log_u, x**4 + x**3 + x**2 + x),
        ...                    n_restarts=2, l1=0.0, max_iter=10, generator=g, rng=None)
        >>> sorted(s.best_subset(4)[:, 0].tolist())
        [1.0, 2.0, 3.0, 4.0]
        """
        lattice = self.lattice()
        if n_terms < 2 or n_terms > lattice.shape[0]:
            return None
        log_u, y = self.train_log_u[self._rows], self.train_y[self._rows]
        pool = lattice.shape[0]
        while pool > n_terms and math.comb(pool, n_terms) > self.budget.subsets:
            pool -= 1
        if pool < lattice.shape[0]:
            single, _ = self.mse(log_u, y, lattice[:, None])
            self.n_lattice_evaluated += lattice.shape[0]
            order = torch.argsort(torch.nan_to_num(single, nan=float("inf")))[:pool]
            candidates = lattice[order]
        else:
            candidates = lattice
        index = torch.tensor(list(itertools.combinations(range(pool), n_terms)),
                             device=lattice.device)
        best_mse, best = float("inf"), None
        self.n_lattice_evaluated += index.shape[0]
        for chunk in index.split(SUBSET_CHUNK):
            stack = candidates[chunk]
            mse = torch.nan_to_num(self.mse(log_u, y, stack)[0], nan=float("inf"))
            r = int(torch.argmin(mse))
            if float(mse[r]) < best_mse:
                best_mse, best = float(mse[r]), stack[r].clone()
        return best

    def exchange(self, expo: torch.Tensor, max_sweeps: int = MAX_EXCHANGE_SWEEPS) -> torch.Tensor:
        """Swap terms of ``expo`` (K, m) for lattice monomials while the MSE falls.

        Forward selection alone stalls on collinear monomials (on x in [0.5, 2],
        x**4 + x**3 + x**2 + x was chained as x**3, x, x**2 and a wrong fourth term):
        each sweep tries every lattice monomial in place of each term, in one
        batched least-squares solve per term, and keeps the best swap.

        Examples
        --------
        >>> g = torch.Generator().manual_seed(0)
        >>> log_u = torch.log(torch.linspace(0.5, 2.0, 200, dtype=torch.float64))[:, None]
        >>> y = torch.exp(log_u[:, 0]) ** 3 + torch.exp(log_u[:, 0])
        >>> s = SymbolicSearch((log_u, y), (log_u, y), n_restarts=2, l1=0.0, max_iter=10,
        ...                    generator=g, rng=None)
        >>> sorted(s.exchange(torch.tensor([[2.0], [-1.0]], dtype=torch.float64))[:, 0].tolist())
        [1.0, 3.0]
        """
        if expo.shape[0] == 0:
            return expo
        lattice = self.lattice()
        log_u, y = self.train_log_u[self._rows], self.train_y[self._rows]
        expo = expo.clone()
        current = float(torch.nan_to_num(self.mse(log_u, y, expo[None])[0],
                                         nan=float("inf"))[0])
        for _ in range(max_sweeps):
            improved = False
            for k in range(expo.shape[0]):
                stack = expo.expand(lattice.shape[0], *expo.shape).clone()
                stack[:, k] = lattice
                self.n_lattice_evaluated += stack.shape[0]
                mse = torch.nan_to_num(self.mse(log_u, y, stack)[0], nan=float("inf"))
                best = int(torch.argmin(mse))
                if float(mse[best]) < current * (1 - 1e-6):
                    expo, current, improved = stack[best].clone(), float(mse[best]), True
            if not improved:
                break
        return expo

    def is_perfect(self, fit: Fit) -> bool:
        """Whether ``fit`` reproduces the validation data to rounding error."""
        return fit.val_mse <= self.floor

    def is_exact_law(self, fit: Fit) -> bool:
        """Perfect, and every exponent on a simple rational: nothing left to find.

        A perfect fit with free exponents is not the end of the size search:
        x**1.156, x**2.641 and x**3.964 plus a constant reproduce
        x**4 + x**3 + x**2 + x on [0.5, 2] to a validation MSE of 1.6e-15, and only
        the next size's lattice finds the four integer terms (fewer free numbers,
        so a lower BIC).
        """
        free = (fit.expo - snap_targets(fit.expo)).abs() > 1e-12
        return self.is_perfect(fit) and not bool(free.any())

    # -------------------------------------------------------------- clean-up
    def simplify(self, fit: Fit) -> Fit:
        fit = self._drop_terms(fit)
        fit = self._snap(fit)
        if fit.use_intercept:
            without = self.evaluate(fit.expo, use_intercept=False)
            if without.bic <= fit.bic + BIC_TIE:
                fit = without
        return fit

    def _drop_terms(self, fit: Fit) -> Fit:
        improved = True
        while improved and fit.expo.shape[0] > 1:
            improved = False
            for k in range(fit.expo.shape[0]):
                keep = [i for i in range(fit.expo.shape[0]) if i != k]
                trial = self.evaluate(self.polish(fit.expo[keep], use_intercept=fit.use_intercept,
                                                  max_iter=QUICK_POLISH), fit.use_intercept)
                if trial.bic <= fit.bic + BIC_TIE:
                    fit, improved = trial, True
                    break
        return fit

    def _snap(self, fit: Fit) -> Fit:
        targets = snap_targets(fit.expo)
        close = (targets - fit.expo).abs() <= SNAP_RADIUS
        if self.constraints is not None:
            # A rational outside the box, or across zero, is not a snap target.
            low = torch.as_tensor(self.constraints.low, dtype=targets.dtype, device=targets.device)
            high = torch.as_tensor(self.constraints.high, dtype=targets.dtype,
                                   device=targets.device)
            close &= (targets >= low) & (targets <= high) & (targets * fit.expo >= 0)
            close &= ~self.fixed
        if not bool(close.any()):
            return fit
        all_at_once = torch.where(close, targets, fit.expo)
        polished = self.polish(all_at_once, free=~close, use_intercept=fit.use_intercept)
        trial = self.evaluate(polished, fit.use_intercept)
        if trial.bic <= fit.bic + BIC_TIE:
            return trial
        order = torch.argsort(((targets - fit.expo).abs() + (~close) * 1e9).flatten())
        fixed = torch.zeros_like(close)
        misses = 0
        for flat in order[: int(close.sum())].tolist():
            k, j = divmod(flat, fit.expo.shape[1])
            snapped = fit.expo.clone()
            snapped[k, j] = targets[k, j]
            fixed_trial = fixed.clone()
            fixed_trial[k, j] = True
            trial = self.evaluate(
                self.polish(snapped, free=~fixed_trial, use_intercept=fit.use_intercept,
                            max_iter=QUICK_POLISH),
                fit.use_intercept,
            )
            if trial.bic <= fit.bic + BIC_TIE:
                fit, fixed, misses = trial, fixed_trial, 0
            else:
                # Candidates come nearest-first: after a few rejections the rest
                # are further from a rational and are not worth a refit each.
                misses += 1
                if misses >= MAX_SNAP_MISSES:
                    break
        return fit


def _distinct(term_sets: list[torch.Tensor]) -> list[torch.Tensor]:
    """``term_sets`` without repeats (same terms in any order), first occurrence kept."""
    seen, out = set(), []
    for expo in term_sets:
        key = tuple(map(tuple, canonical_terms(expo).tolist()))
        if key not in seen:
            seen.add(key)
            out.append(expo)
    return out


def snap_targets(expo: torch.Tensor) -> torch.Tensor:
    """The nearest rational with a denominator in ``SNAP_DENOMINATORS`` (0 included)."""
    values = expo.detach().cpu().numpy()
    snapped = np.vectorize(
        lambda v: float(Fraction(float(v)).limit_denominator(max(SNAP_DENOMINATORS)))
    )(values)
    return torch.as_tensor(snapped, dtype=expo.dtype, device=expo.device)
