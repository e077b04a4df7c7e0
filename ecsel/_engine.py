"""Moved to :mod:`ecsel._fit.engine` and :mod:`ecsel._fit.primitives` (thin alias)."""

from ecsel._fit.engine import (  # noqa: F401
    Data,
    Params,
    active_masks,
    adam_prox,
    apply_masks,
    batched_scores,
    data_loss,
    lbfgs_polish,
)
from ecsel._fit.primitives import (  # noqa: F401
    SMALL_PROBLEM,
    resolve_device,
    soft_threshold_,
    thread_budget,
)
