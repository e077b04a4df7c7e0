"""The fit engine: what turns log-features and targets into signomial parameters.

* :mod:`ecsel._fit.primitives`: the pieces both searches share (the clamped term
  ``exp(clamp(log_u @ a))``, the soft-threshold step, one Adam + proximal loop that
  takes its batches from a callable, one masked L-BFGS wrapper, device and thread
  choice).
* :mod:`ecsel._fit.engine`: the classifier's batched-restart engine.
* :mod:`ecsel._fit.symbolic`: the regressor's variable-projection search.
"""
