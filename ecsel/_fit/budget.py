"""What ``n_restarts`` and ``max_iter`` allow each stage of the regressor's search.

:class:`SearchBudget` derives every stage's bound from the two parameters, the
lattice stage included, so that a smaller budget means less work (counted by
:class:`ecsel._fit.symbolic.SymbolicSearch` in ``n_steps``, ``n_polishes`` and
``n_lattice_evaluated``). The defaults (32 restarts, 400 iterations) give the
bounds the search used before they were tied to the parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

# L-BFGS iterations for the many small refits of the clean-up stage.
QUICK_POLISH = 30
# L-BFGS iterations of a full polish at the default max_iter (one per 2 Adam steps).
POLISH_ITER = 200
# How many of the best Adam restarts are polished.
POLISHED_RESTARTS = 3
# Term sets the exhaustive subset search solves, per restart and at most.
SUBSETS_PER_RESTART = 64
MAX_SUBSETS = 2000


@dataclass(frozen=True)
class SearchBudget:
    """What ``n_restarts`` and ``max_iter`` allow each stage of one model size.

    >>> SearchBudget.from_params(n_restarts=2, max_iter=20)
    SearchBudget(adam_iter=20, polish_iter=30, polished_restarts=2, lattice_sets=2, subsets=128)
    >>> SearchBudget.from_params(n_restarts=32, max_iter=400)
    SearchBudget(adam_iter=400, polish_iter=200, polished_restarts=3, lattice_sets=32, subsets=2000)
    """

    adam_iter: int
    polish_iter: int
    polished_restarts: int
    lattice_sets: int
    subsets: int

    @classmethod
    def from_params(cls, n_restarts: int, max_iter: int) -> SearchBudget:
        return cls(
            adam_iter=max_iter,
            # Never below the clean-up's quick refits: a polish must at least settle
            # the coefficients' exponents near a lattice point.
            polish_iter=max(QUICK_POLISH, min(POLISH_ITER, max_iter // 2)),
            polished_restarts=min(POLISHED_RESTARTS, n_restarts),
            lattice_sets=n_restarts,
            subsets=min(MAX_SUBSETS, SUBSETS_PER_RESTART * n_restarts),
        )
