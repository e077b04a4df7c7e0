"""Moved to :mod:`ecsel._fit.symbolic` (thin alias)."""

from ecsel._fit.symbolic import (  # noqa: F401
    SNAP_DENOMINATORS,
    SNAP_RADIUS,
    Fit,
    SymbolicSearch,
    design,
    projected_mse,
    snap_targets,
    solve_coefficients,
)
