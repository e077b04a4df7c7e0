"""Local explanations: exact Shapley values, log-linear decomposition, term contributions."""

from __future__ import annotations

import numpy as np

from ecsel.explain import _common as common
from ecsel.explain._shapley import column_log_factors, signomial_shapley
from ecsel.explain.explanation import Explanation
from ecsel.export.sympy import term_expressions

EXPLANATION_METHODS = ("shapley", "log-linear", "terms")


def explain(est, X, background=None, method: str = "shapley") -> Explanation:
    """Dispatch ``est.explain``; see :meth:`ExplainMixin.explain`."""
    if method not in EXPLANATION_METHODS:
        raise ValueError(f"method must be one of {EXPLANATION_METHODS}, got {method!r}.")
    frame = common.rows(est, X)
    back = common.background_rows(est, background, frame)
    sig = est.signomial_
    log_x = common.log_features(sig, frame)
    log_b = common.log_features(sig, back)
    data = frame.to_numpy()
    names = sig.input_features
    if method == "shapley":
        values, base = signomial_shapley(sig, log_x, log_b)
        base = np.broadcast_to(base, (len(frame), len(base)))
        values, base = common.with_reference(est, values, base)
        return Explanation(values, base, data, names, _outputs(est, values), method, names,
                           score_name(est))
    if method == "terms":
        values, base = term_contributions(sig, log_x, log_b)
        active = np.flatnonzero(np.any(sig.coef != 0, axis=0))  # no zero-length bars
        values, base = common.with_reference(est, values[..., active], base)
        return Explanation(values, base, data, term_labels(sig, active),
                           _outputs(est, values), method, names, score_name(est))
    values, base = log_linear(sig, log_x, log_b)
    outputs = list(sig.output_names) if values.ndim == 3 else None
    if not common.is_multiclass(est):
        values, base = values[:, 0], base[:, 0]
        outputs = None
    return Explanation(values, base, data, names, outputs, method, names,
                       "log |score - intercept|")


def score_name(est) -> str:
    """What the attributions add up to: a classifier's score is its log-odds."""
    return "log-odds" if common.is_classifier(est) else "score"


def term_labels(sig, active) -> list[str]:
    """Each term as printed in ``str(signomial)`` (3 digits) for one output; ``term k``
    (numbered from 1 in the order of ``coef``) when several outputs share the terms."""
    if sig.n_outputs > 1:
        return [f"term {k + 1}" for k in active]
    texts = term_expressions(sig, 0, precision=3)
    return [str(texts[k]) for k in active]


def _outputs(est, values):
    return common.output_labels(est) if values.ndim == 3 else None


def term_contributions(sig, log_x: np.ndarray, log_b: np.ndarray):
    """Per-term contributions ``t_k(x) - mean_b t_k(b)`` (n, O, K) and the base (n, O).

    The base is ``intercept + mean_b sum_k t_k(b)``, so contributions plus base equal
    the score exactly.
    """
    terms_x = sig.term_values_from_log(log_x)
    mean_b = sig.term_values_from_log(log_b).mean(axis=0)
    base = sig.intercept + mean_b.sum(axis=1)
    return terms_x - mean_b[None], np.broadcast_to(base, (len(log_x), len(base))).copy()


def log_linear(sig, log_x: np.ndarray, log_b: np.ndarray):
    """Exact additive decomposition of the log-score of one-term outputs.

    For ``z = b0 + c * prod_j f_j`` the log-score ``log|z - b0| = log|c| + sum_j log f_j``
    is additive: ``phi_j = log f_j(x) - mean_b log f_j(b)``, base
    ``log|c| + mean_b sum_j log f_j(b)``. Columns absent from the term get exactly 0.
    Returns values (n, O, p) and base (n, O). The exponent clamp at +-60 is ignored
    (it never binds for scores below ``exp(60)``).
    """
    nonzero = sig.coef != 0
    if np.any(nonzero.sum(axis=1) > 1):
        raise ValueError(
            "method='log-linear' is exact only for one-term outputs; this model has "
            f"{int(nonzero.sum(axis=1).max())} terms in an output. Use method='shapley' "
            "(exact for any number of terms) or method='terms'."
        )
    k = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), 0)
    outputs = np.arange(sig.n_outputs)
    fx = column_log_factors(sig, log_x)[:, outputs, k]  # (n, O, p)
    fb = column_log_factors(sig, log_b)[:, outputs, k]
    mean_b = fb.mean(axis=0)
    coef = np.abs(sig.coef[outputs, k])
    with np.errstate(divide="ignore"):
        base = np.log(coef) + mean_b.sum(axis=-1)
    values = np.where(nonzero.any(axis=1)[None, :, None], fx - mean_b[None], 0.0)
    return values, np.broadcast_to(base, (len(log_x), len(base))).copy()
