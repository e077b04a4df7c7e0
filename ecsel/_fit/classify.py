"""The classifier's model-size search on top of the batched engine.

One :class:`ClassifierSearch` fits 1, 2, ... terms per class score. Each size runs
the restarts as one batch (Adam + proximal L1 in float32, early-stopped on the
validation split, with the intercept and coefficients stepping
:data:`LINEAR_LR_FACTOR` times faster than the exponents), prunes small exponents
and polishes with L-BFGS-B in float64. Cost follows the data:

* a size ``K + 1`` starts half its restarts from the best ``K``-term model plus one
  new small term (a warm start), so growing costs few extra steps;
* the size search stops as soon as one more term does not lower the validation
  loss by 0.5 % (``"auto"`` caps the classifier at :data:`CLASSIFIER_MAX_AUTO_TERMS`
  terms);
* early stopping gives up after :data:`PATIENCE` checks (10 full-batch steps each)
  without improvement.

Scores stay readable: the training loss carries ``SCORE_L2 * mean(max(|z| - 10, 0) ** 2)``
(free within +-10, a quadratic wall beyond, so perfectly separable data cannot push
the logits to infinity) and every exponent is kept in ``[-EXPO_BOUND, EXPO_BOUND]`` (10; 5 below
SMALL_DATA rows) in the original log units of its feature (a bound of 5 cost
breast_cancer 0.007 test AUC, 10 none).

With fewer than :data:`SMALL_DATA` rows there is no validation split: the size is
then chosen by the Bayesian information criterion on the training data (never by
training loss alone), and a warning says the data are small.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from ecsel._fit import engine

CLASSIFIER_MAX_AUTO_TERMS = 3
# Three thresholds, not five (0.2 ... 0.01): over seeds 0-9 of the four bundled sets the
# mean test AUC was 0.9767 vs 0.9769, at 12 % less fit time.
PRUNE_THRESHOLDS = (0.2, 0.05, 0.01)
PRUNE_TOLERANCE = 5e-3
GROWTH_TOLERANCE = 5e-3
PATIENCE = 5
SEARCH_POLISH_ITER = 20
SCORE_L2 = 1e-2
LINEAR_LR_FACTOR = 2.0
EXPO_BOUND = 10.0
EXPO_BOUND_SMALL = 5.0
SMALL_DATA = 20


class SmallDataWarning(UserWarning):
    """Too few rows for a validation split: the model size is chosen by BIC."""


@dataclass
class SearchCandidate:
    """One fitted model the search considered: its size, pruning threshold and losses."""

    params: engine.Params
    n_terms: int
    threshold: float
    val_loss: float
    criterion: float


@dataclass
class ClassifierSearch:
    """Fit and choose the classifier's signomial on unit-variance log-features.

    ``spread`` is the standard deviation of each raw log-feature (the fit runs on
    ``log_u / spread``); it converts :data:`EXPO_BOUND` to the working units.
    ``rows``, when given, is the row source of the Adam stage (see
    :mod:`ecsel._fit.source`: a streamed table); ``train`` then holds an in-memory
    sample of the training rows for the starts, the polish and the sparsity path.

    Examples
    --------
    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.linspace(0.5, 2.0, 60, dtype=torch.float64)
    >>> data = engine.Data(torch.log(x)[:, None] / 0.4, (x > 1.2).double(),
    ...                    torch.ones(60, dtype=torch.float64))
    >>> search = ClassifierSearch(data, data, "binary", 1, np.array([0.4]), n_restarts=4,
    ...                           alpha=1e-2, max_iter=100, learning_rate=0.1,
    ...                           batch_size=8192, generator=g, small=False)
    >>> best, fits = search.run("auto")
    >>> best.coef.shape[-1] >= 1, len(search.candidates) > 0
    (True, True)
    """

    train: engine.Data
    val: engine.Data
    task: str
    n_out: int
    spread: np.ndarray
    n_restarts: int
    alpha: float
    max_iter: int
    learning_rate: float
    batch_size: int
    generator: torch.Generator
    small: bool
    n_iter: int = 0
    candidates: list[SearchCandidate] = field(default_factory=list)
    fits: list[engine.Params] = field(default_factory=list)
    rows: object = None

    def __post_init__(self):
        limit = EXPO_BOUND_SMALL if self.small else EXPO_BOUND
        bound = limit * np.asarray(self.spread, dtype=np.float64)
        self.expo_bound = torch.as_tensor(bound, dtype=torch.float64,
                                          device=self.train.log_u.device)

    # ---------------------------------------------------------------- sizes
    def run(self, n_terms) -> tuple[engine.Params, list[engine.Params]]:
        """Best model and the chosen model of every size tried (smallest first)."""
        if self.small and n_terms == "auto":
            warnings.warn(
                f"Only {len(self.train)} rows: too few for a validation split, so the "
                "model size is chosen by BIC on the training data.",
                SmallDataWarning, stacklevel=4,
            )
        sizes = range(1, CLASSIFIER_MAX_AUTO_TERMS + 1) if n_terms == "auto" else (n_terms,)
        best, best_score, fits, warm = None, np.inf, [], None
        for size in sizes:
            params, loss, criterion = self.fit_size(size, warm)
            fits.append(params)
            score = criterion if self.small else loss
            if best is None or score < best_score - GROWTH_TOLERANCE * abs(best_score):
                best, best_score, warm = params, score, params
            else:
                break
        self.fits = fits
        return best, fits

    def fit_size(self, n_terms: int, warm: engine.Params | None = None):
        """One Adam stage, then prune and polish: (params, validation loss, BIC).

        Adam only has to find which exponents matter and roughly how large they are:
        the L-BFGS polish of :meth:`prune` finishes the fit (at a tenth of the L1
        strength) far faster than more Adam steps would.
        """
        # Adam runs in float32 (about twice as fast on the CPU); pruning, the
        # L-BFGS polish and the deployed model are float64.
        train32, val32 = self.train.to(torch.float32), self.val.to(torch.float32)
        params = self.init_params(n_terms, warm).to(torch.float32)
        bound32 = (self.expo_bound * (1 - 1e-6)).to(torch.float32)  # float32 rounding stays inside
        path = self.l1_path(val32.log_u)
        rows = train32 if self.rows is None else self.rows
        params, val_loss, steps = engine.adam_prox(
            params, rows, val32, self.task, l1=path, lr=self.learning_rate,
            max_iter=self.max_iter, batch_size=self.batch_size, patience=PATIENCE,
            generator=self.generator, score_l2=SCORE_L2, expo_bound=bound32,
            linear_lr_factor=LINEAR_LR_FACTOR)
        r = int(torch.argmin(val_loss))
        best = params.select(slice(r, r + 1)).to(torch.float64)
        self.n_iter += steps
        return self.prune(best, n_terms, float(path[r]))

    def init_params(self, n_terms: int, warm: engine.Params | None) -> engine.Params:
        """Random sparse starts; with ``warm``, half start from it plus one new term."""
        shape = (self.n_restarts, self.n_out, n_terms)
        m = self.train.log_u.shape[1]
        y = self.train.y.cpu().numpy().astype(int)
        prior = np.bincount(y, minlength=self.n_out + 1) + 1.0
        base = np.log(prior[1:] / prior[0])
        g = self.generator
        intercept = torch.as_tensor(base, dtype=torch.float64).expand(self.n_restarts,
                                                                      self.n_out).clone()
        coef = 0.3 * torch.randn(shape, generator=g, dtype=torch.float64)
        expo = 0.5 * torch.randn(shape + (m,), generator=g, dtype=torch.float64)
        expo = expo * (torch.rand(shape + (m,), generator=g) < 0.5)
        if warm is not None and warm.coef.shape[-1] == n_terms - 1:
            half = max(1, self.n_restarts // 2)
            old = warm.to(torch.float64)
            intercept[:half] = old.intercept[0].cpu()
            coef[:half, :, :-1] = old.coef[0].cpu()
            coef[:half, :, -1] *= 0.1
            expo[:half, :, :-1] = old.expo[0].cpu()
        device = self.train.log_u.device
        return engine.Params(intercept.to(device), coef.to(device), expo.to(device))

    def prune(self, params: engine.Params, n_terms: int, l1: float):
        """Drop small exponents and polish; keep the sparsest model that costs < 0.5 %.

        Log-features have unit variance here, so an exponent's size is its effect:
        exponents below each threshold are zeroed, the rest polished with L-BFGS-B,
        and the largest threshold whose validation loss is within 0.5 % of the best
        wins. Thresholds that leave the same exponents active are fitted once.
        """
        scale = float(params.coef.abs().max().clamp(min=1e-12))
        found, seen = [], set()
        for threshold in PRUNE_THRESHOLDS:
            masks = engine.active_masks(params, threshold, 1e-6 * scale)
            key = tuple(masks[1].flatten().tolist()) + tuple(masks[2].flatten().tolist())
            if key in seen:
                continue
            seen.add(key)
            pruned = engine.apply_masks(params, masks)
            polished = engine.lbfgs_polish(pruned, self.train, self.task, masks=masks,
                                           l1=l1 / 10, max_iter=SEARCH_POLISH_ITER,
                                           score_l2=SCORE_L2, expo_bound=self.expo_bound)
            for candidate in (pruned, polished):
                loss = float(self.val.loss(candidate, self.task)[0])
                bic = self.bic(candidate, loss)
                found.append(SearchCandidate(candidate, n_terms, threshold, loss, bic))
        self.candidates.extend(found)
        key = "criterion" if self.small else "val_loss"
        best_value = min(getattr(c, key) for c in found)
        for c in found:
            value = getattr(c, key)
            if value <= best_value + PRUNE_TOLERANCE * abs(best_value):
                return c.params, c.val_loss, c.criterion
        raise AssertionError("unreachable: the best candidate is within tolerance")

    def bic(self, params: engine.Params, mean_loss: float) -> float:
        """``2 n loss + k log n`` on the validation rows, ``k`` the non-zero parameters."""
        n = len(self.val)
        k = sum(int((t != 0).sum()) for t in params.tensors())
        return 2 * n * mean_loss + k * np.log(max(n, 2))

    def l1_path(self, log_u: torch.Tensor) -> torch.Tensor:
        """One L1 strength per restart (see :func:`l1_path`)."""
        return l1_path(self.alpha, self.n_restarts, log_u)


def l1_path(alpha: float, n_restarts: int, like: torch.Tensor) -> torch.Tensor:
    """One L1 strength per restart: ``alpha`` times 1, 1/4, 4, 1/16, 16, ...

    Restarts are a batch dimension, so a short regularisation path costs no
    extra passes; validation loss picks the strength.

    Examples
    --------
    >>> l1_path(1.0, 5, torch.zeros(1)).tolist()
    [1.0, 0.25, 4.0, 0.0625, 16.0]
    """
    factors = [1.0]
    while len(factors) < n_restarts:
        step = 4.0 ** ((len(factors) + 1) // 2)
        factors.append(1 / step if len(factors) % 2 else step)
    return torch.as_tensor(factors[:n_restarts], dtype=like.dtype, device=like.device) * alpha
