"""How sure is the equation? Parameter, prediction and attribution intervals, stability.

:class:`UncertaintyMixin` gives both estimators:

* :meth:`~UncertaintyMixin.confidence_intervals`: one row per parameter of the deployed
  equation, by the pairs bootstrap with the **structure held fixed**: every resample
  refits the same non-zero intercepts, coefficients and exponents by unpenalised
  maximum likelihood (:func:`ecsel._fit.resample.refit`, all resamples batched on one
  tensor, warm-started at the refit on the full data). The intervals condition on the
  structure: they say how far the numbers move under another sample *given* these
  terms, not how likely the terms themselves are. That second question is
  :meth:`~UncertaintyMixin.structure_stability`, which reruns the whole search.
* prediction intervals (:meth:`~UncertaintyMixin.predict_interval`, split conformal,
  noise included), probability intervals and Shapley-value intervals from the same
  bootstrap, and plots with error bars and bands.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.base import clone
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.validation import check_is_fitted

from ecsel._base import check_predict_input
from ecsel._fit import engine, resample
from ecsel._fit.classify import EXPO_BOUND, EXPO_BOUND_SMALL, SMALL_DATA
from ecsel.explain import _interval_plots
from ecsel.signomial import Signomial

DEFAULT_LEVEL = 0.9
MAX_CALIBRATION_ROWS = 20_000


@dataclass(frozen=True)
class ParameterBootstrap:
    """The converged resamples, ``intercept`` (R, O), ``coef`` (R, O, K), ``exponents``
    (R, O, K, m), and ``center``, the refit on all the rows given."""

    intercept: np.ndarray
    coef: np.ndarray
    exponents: np.ndarray
    center: Signomial
    n_requested: int

    def signomials(self, like: Signomial, limit: int | None = None) -> list[Signomial]:
        stop = len(self.intercept) if limit is None else min(limit, len(self.intercept))
        return [Signomial(self.intercept[r], self.coef[r], self.exponents[r], like.transform,
                          like.output_names) for r in range(stop)]


def _check_level(level) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"level must be a number strictly between 0 and 1, got {level!r}.")
    return float(level)


def _check_count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def printed_units(transform, coef: np.ndarray, exponents: np.ndarray):
    """Coefficients and exponents as the printed equation shows them (batched).

    The model's terms are ``c * prod u_j ** a_j`` on the transformed features; the
    printed equation folds each feature map's constants into the coefficient
    (``u = x / scale`` for a power feature: ``c * scale ** -a``) and shows a linear
    or indicator feature's weight as ``exp((a / scale) x)`` (see
    :mod:`ecsel.export.sympy`). ``coef`` is (..., O, K), ``exponents`` (..., O, K, m).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, _ = example_estimator()
    >>> s = est.signomial_
    >>> c, a = printed_units(s.transform, s.coef, s.exponents)
    >>> round(float(c[0, 0]), 6), a[0, 0].tolist()
    (0.5, [1.0, 2.0])
    """
    maps = transform.feature_maps
    power = np.array([f.kind == "power" for f in maps])
    additive = np.array([f.kind in ("linear", "indicator") for f in maps])
    constant = np.array([f.kind == "constant" for f in maps])
    scale = np.array([f.scale if f.scale else 1.0 for f in maps], dtype=np.float64)
    center = np.array([f.center for f in maps], dtype=np.float64)
    expo = np.where(constant, 0.0, np.asarray(exponents, dtype=np.float64))
    log_const = -(expo * np.where(power, np.log(scale), 0.0)).sum(-1) \
        - (expo * np.where(additive, center / scale, 0.0)).sum(-1)
    shown = np.where(additive, expo / scale, expo)
    return np.asarray(coef, dtype=np.float64) * np.exp(log_const), shown


def _params_of(signomial: Signomial) -> engine.Params:
    as_t = lambda a: torch.as_tensor(np.array(a, dtype=np.float64))[None]  # noqa: E731
    return engine.Params(as_t(signomial.intercept), as_t(signomial.coef),
                         as_t(signomial.exponents))


def _signomial_of(params: engine.Params, like: Signomial, r: int = 0) -> Signomial:
    intercept, coef, expo = params.numpy(r)
    return Signomial(intercept, coef, expo, like.transform, like.output_names)


def calibration_rows(log_u, y, y_scale: float = 1.0) -> dict:
    """The regressor's validation rows kept for conformal prediction intervals.

    ``log_u`` and ``y`` are the validation split as the search saw it (tensors or
    arrays, ``y`` divided by ``y_scale``); at most ``MAX_CALIBRATION_ROWS`` are kept.

    Examples
    --------
    >>> rows = calibration_rows(np.zeros((3, 1)), np.array([1.0, 2.0, 3.0]), y_scale=2.0)
    >>> rows["y"].tolist()
    [2.0, 4.0, 6.0]
    """
    log_u = np.asarray(torch.as_tensor(log_u).cpu(), dtype=np.float64)
    y = np.asarray(torch.as_tensor(y).cpu(), dtype=np.float64) * y_scale
    return {"log_u": log_u[:MAX_CALIBRATION_ROWS], "y": y[:MAX_CALIBRATION_ROWS]}


def conformal_quantile(abs_residuals: np.ndarray, level: float) -> float:
    """Split-conformal half-width: the ``ceil((n + 1) level)``-th smallest ``|r|``.

    With exchangeable calibration and test rows, ``y`` lies within ``yhat +- q`` with
    probability at least ``level`` (and below ``level + 1 / (n + 1)``); infinite when
    ``n`` is too small for the level.

    Examples
    --------
    >>> conformal_quantile(np.arange(1.0, 20.0), 0.9)
    18.0
    >>> conformal_quantile(np.array([1.0, 2.0]), 0.9)
    inf
    """
    r = np.sort(np.abs(np.asarray(abs_residuals, dtype=np.float64)))
    rank = int(np.ceil((len(r) + 1) * level))
    return float("inf") if rank > len(r) else float(r[rank - 1])


def support_sets(signomial: Signomial) -> list[list[frozenset]]:
    """Per output, the set of feature names in each term with a non-zero coefficient.

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> est, _ = example_estimator()
    >>> [[sorted(term) for term in terms] for terms in support_sets(est.signomial_)]
    [[['m', 'v']]]
    """
    names = signomial.feature_names
    out = []
    for o in range(signomial.n_outputs):
        terms = []
        for k in range(signomial.coef.shape[1]):
            if signomial.coef[o, k] != 0:
                terms.append(frozenset(names[j] for j in np.nonzero(signomial.exponents[o, k])[0]))
        out.append(terms)
    return out


def intervals_text(table: pd.DataFrame, precision: int = 4) -> str:
    """One line per parameter: ``name  estimate  [lower, upper]`` (for consoles, reports).

    Examples
    --------
    >>> t = pd.DataFrame({"parameter": ["coef[0]"], "estimate": [0.5012],
    ...                   "lower": [0.49], "upper": [0.513], "std": [0.007]})
    >>> t.attrs["level"] = 0.9
    >>> print(intervals_text(t))
    parameter  estimate  90% interval
    coef[0]      0.5012  [0.49, 0.513]
    """
    level = table.attrs.get("level")
    head = f"{level:.0%} interval" if level else "interval"
    fmt = lambda v: f"{v:.{precision}g}"  # noqa: E731
    names = list(table["parameter"])
    width = max(len("parameter"), *map(len, names))
    estimates = [fmt(v) for v in table["estimate"]]
    est_width = max(len("estimate"), *map(len, estimates))
    lines = [f"{'parameter':<{width}}  {'estimate':>{est_width}}  {head}"]
    for name, e, lo, hi in zip(names, estimates, table["lower"], table["upper"]):
        lines.append(f"{name:<{width}}  {e:>{est_width}}  [{fmt(lo)}, {fmt(hi)}]")
    return "\n".join(lines)


def _with_signomial(est, signomial):
    other = copy.copy(est)
    other.signomial_ = signomial
    return other


def _best_match(term: frozenset, candidates: list[frozenset]) -> frozenset | None:
    def jaccard(other):
        union = term | other
        return len(term & other) / len(union) if union else 1.0

    return max(candidates, key=jaccard) if candidates else None


class UncertaintyMixin:
    """Intervals and stability for a fitted ECSEL estimator (see the module docstring).

    Examples
    --------
    >>> import numpy as np; from ecsel._testing import example_estimator
    >>> est, X = example_estimator()  # y = 0.5 m v^2, fitted
    >>> y = est.predict(X) + np.random.default_rng(0).normal(0, 1.0, len(X))
    >>> ci = est.confidence_intervals(X, y, n_resamples=50, random_state=0)
    >>> ci.parameter.tolist()
    ['coef[0]', 'exponent[0, m]', 'exponent[0, v]']
    >>> list(ci.columns)
    ['parameter', 'estimate', 'lower', 'upper', 'std']
    """

    # --------------------------------------------------------- parameters
    def _task(self) -> str:
        classes = getattr(self, "classes_", None)
        if classes is None:
            return "regression"
        return "binary" if len(classes) == 2 else "multiclass"

    def _target(self, y, n: int) -> tuple[np.ndarray, np.ndarray]:
        """``y`` as the engine's target (class index or float) and the row weights."""
        y = np.asarray(y)
        if y.ndim != 1 or len(y) != n:
            raise ValueError(f"y must be one-dimensional with {n} entries (one per row "
                             f"of X), got shape {y.shape}.")
        if self._task() == "regression":
            target = np.asarray(y, dtype=np.float64)
            if not np.all(np.isfinite(target)):
                raise ValueError("y contains NaN or infinite values.")
            return target, np.ones(n)
        index = np.searchsorted(self.classes_, y)
        index = np.clip(index, 0, len(self.classes_) - 1)
        unknown = self.classes_[index] != y
        if unknown.any():
            raise ValueError(f"y contains labels not seen in fit: {np.unique(y[unknown])[:5]!r}.")
        weight = getattr(self, "class_weight", None)
        weights = compute_sample_weight(weight, y) if weight else np.ones(n)
        return index.astype(np.float64), weights

    def _expo_bound(self, n: int):
        if self._task() == "regression":
            return None
        # The search's box in the original log units of each feature (see classify).
        return torch.tensor(EXPO_BOUND_SMALL if n < SMALL_DATA else EXPO_BOUND,
                            dtype=torch.float64)

    def confidence_intervals(self, X, y, level=DEFAULT_LEVEL, n_resamples=200,
                             random_state=None) -> pd.DataFrame:
        """Bootstrap intervals of every parameter of the deployed equation.

        Pairs bootstrap with the structure held fixed: each of ``n_resamples``
        resamples of the rows of ``(X, y)`` refits the non-zero intercept(s),
        coefficients and exponents of ``signomial_`` by unpenalised maximum likelihood
        (log-loss for a classifier, squared error for a regressor; the classifier keeps
        its exponent box), warm-started at the refit on all of ``(X, y)``; the
        resamples are batched on one tensor. The interval is the equal-tailed
        percentile interval of the resampled values.

        What the intervals condition on: the selected terms and factors (the zero
        pattern) are taken as given, so the intervals do not include the uncertainty
        of choosing them (see :meth:`structure_stability`); the rows of ``X`` are
        treated as a random sample (pairs bootstrap). Pass the training data for
        intervals about the fitted equation. Every non-zero parameter is refitted, so a
        regressor exponent snapped to a simple rational (``x**(4/3)``) is free here: an
        interval that excludes the estimate says the data disagree with the snap.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        level : float, default=0.9
            Nominal coverage of each interval.
        n_resamples : int, default=200
        random_state : int or None, default=None
            Seeds the bootstrap draws.

        Returns
        -------
        DataFrame
            One row per parameter: ``parameter`` (``intercept``, ``coef[k]``,
            ``exponent[k, feature]``; prefixed by the class for a multiclass model; a
            regressor without a constant has no intercept row), in the units of the
            printed equation (:func:`printed_units`), ``estimate`` (the deployed
            value), ``lower``, ``upper`` and ``std`` (the bootstrap standard
            deviation). ``attrs`` records the level, the number of resamples
            requested and converged, and the refit on all rows
            (``attrs["refit"]``). The resamples are kept in ``bootstrap_`` for
            :meth:`predict_proba_interval`, :meth:`explain_intervals` and the plots.

        Examples
        --------
        >>> import numpy as np, pandas as pd; from ecsel import ECSELClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"x": rng.lognormal(0, 1, 400)})
        >>> y = (rng.random(400) < 1 / (1 + np.exp(1 - 2 * X.x ** 0.8))).astype(int)
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, random_state=0).fit(X, y)
        >>> ci = clf.confidence_intervals(X, y, n_resamples=50, random_state=0)
        >>> ci.parameter.tolist()
        ['intercept', 'coef[0]', 'exponent[0, x]']
        >>> bool((ci.lower <= ci.upper).all())
        True
        """
        check_is_fitted(self)
        level = _check_level(level)
        n_resamples = _check_count(n_resamples, "n_resamples", 2)
        frame = check_predict_input(self, X)
        target, weights = self._target(y, len(frame))
        signomial = self.signomial_
        task = self._task()
        data = engine.Data(torch.as_tensor(signomial.log_features(frame), dtype=torch.float64),
                           torch.as_tensor(np.array(target)),
                           torch.as_tensor(np.array(weights, dtype=np.float64)))
        start = _params_of(signomial)
        structure = resample.Structure.of(start, zero_intercept_fixed=task == "regression")
        bound = self._expo_bound(len(frame))
        center, ok = resample.refit(start, data, task, expo_bound=bound, structure=structure)
        if not bool(ok[0]):
            raise ValueError(
                "The unpenalised refit of the deployed equation on these rows did not "
                "converge (the classes are separable by it, so the likelihood has no "
                "finite maximum): bootstrap intervals are not defined.")
        generator = torch.Generator().manual_seed(
            int(np.random.SeedSequence(random_state).generate_state(1)[0]))
        counts = resample.bootstrap_weights(len(frame), n_resamples, generator)
        warm = engine.Params(*(t.expand(n_resamples, *t.shape[1:]).clone()
                               for t in center.tensors()))
        fitted, converged = resample.refit(warm, data, task, weights=counts, expo_bound=bound,
                                           structure=structure)
        good = converged.cpu().numpy()

        def shown(params):
            coef, expo = printed_units(signomial.transform, params.coef.cpu().numpy(),
                                       params.expo.cpu().numpy())
            as_t = torch.as_tensor
            return structure.flatten(engine.Params(params.intercept.cpu(), as_t(coef),
                                                   as_t(expo))).numpy()

        samples = shown(fitted)[good]
        lower, upper = resample.percentile_interval(samples, level)
        names = structure.names(signomial.feature_names, list(signomial.output_names))
        table = pd.DataFrame({
            "parameter": names,
            "estimate": shown(start)[0],
            "lower": lower, "upper": upper, "std": samples.std(axis=0, ddof=1),
        })
        refit_sig = _signomial_of(center, signomial)
        table.attrs.update(level=level, n_resamples=n_resamples, n_converged=int(good.sum()),
                           refit=shown(center)[0].tolist(),
                           conditioning="structure (zero pattern) of signomial_ held fixed")
        kept = fitted.select(torch.as_tensor(good))
        intercept, coef, expo = (t.cpu().numpy() for t in kept.tensors())
        self.bootstrap_ = ParameterBootstrap(intercept, coef, expo, refit_sig, n_resamples)
        self.confidence_intervals_ = table
        return table

    # -------------------------------------------------------- stability
    def structure_stability(self, X, y, n_resamples=20, subsample=0.8,
                            random_state=None) -> pd.DataFrame:
        """How often each term, factor and feature is selected when the search is rerun.

        Each of ``n_resamples`` random subsamples (``subsample`` of the rows, drawn
        without replacement, so no row sits in both the training and validation split
        of a refit) gets a fresh ``fit`` with this estimator's parameters; the
        deployed equation's terms and factors are then looked up in each refitted
        equation. The default is 20 resamples, not 200: every resample is a whole
        search (about one fit each), where :meth:`confidence_intervals` refits a fixed
        structure for a fraction of that.

        Returns
        -------
        DataFrame
            Columns ``kind`` (``"term"``: a term of the deployed equation with exactly
            the same features; ``"factor"``: the feature appears in the refitted term
            most similar (Jaccard) to this term; ``"feature"``: the feature appears in
            any term, listed for every feature some resample selected), ``output``,
            ``term``, ``feature`` and ``frequency`` (share of resamples).
            ``attrs["n_terms"]`` counts the refitted model sizes.

        Examples
        --------
        >>> import numpy as np, pandas as pd; from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 60), "v": rng.uniform(1, 5, 60)})
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v ** 2)
        >>> s = est.structure_stability(X, 0.5 * X.m * X.v ** 2, n_resamples=2, random_state=0)
        >>> s[s.kind == "term"].frequency.tolist()
        [1.0]
        """
        check_is_fitted(self)
        n_resamples = _check_count(n_resamples, "n_resamples", 1)
        if not 0 < subsample <= 1:
            raise ValueError(f"subsample must be in (0, 1], got {subsample!r}.")
        frame = check_predict_input(self, X)
        y = np.asarray(y)
        self._target(y, len(frame))
        rng = np.random.default_rng(random_state)
        size = max(2, int(round(subsample * len(frame))))
        deployed = support_sets(self.signomial_)
        outputs = list(self.signomial_.output_names)
        term_hits = [[0] * len(terms) for terms in deployed]
        factor_hits = [[dict.fromkeys(t, 0) for t in terms] for terms in deployed]
        feature_hits: dict = {}
        sizes: dict = {}
        for _ in range(n_resamples):
            rows = np.sort(rng.choice(len(frame), size=size, replace=False))
            refit = clone(self).set_params(random_state=int(rng.integers(2**31 - 1)),
                                           verbose=False)
            refit.fit(frame.iloc[rows].reset_index(drop=True), y[rows])
            found = support_sets(refit.signomial_)
            sizes[refit.signomial_.n_terms] = sizes.get(refit.signomial_.n_terms, 0) + 1
            for o, terms in enumerate(deployed):
                other = found[o] if o < len(found) else []
                for name in set().union(*other) if other else set():
                    feature_hits[(o, name)] = feature_hits.get((o, name), 0) + 1
                for k, term in enumerate(terms):
                    term_hits[o][k] += term in other
                    match = _best_match(term, other)
                    for name in term:
                        factor_hits[o][k][name] += match is not None and name in match
        rows_out = []
        for o, terms in enumerate(deployed):
            for k, term in enumerate(terms):
                rows_out.append(("term", outputs[o], k, " * ".join(sorted(term)),
                                 term_hits[o][k] / n_resamples))
                for name in sorted(term):
                    rows_out.append(("factor", outputs[o], k, name,
                                     factor_hits[o][k][name] / n_resamples))
        for (o, name), hits in sorted(feature_hits.items(), key=lambda kv: (kv[0][0], -kv[1])):
            rows_out.append(("feature", outputs[o], -1, name, hits / n_resamples))
        table = pd.DataFrame(rows_out, columns=["kind", "output", "term", "feature",
                                                "frequency"])
        table.attrs.update(n_resamples=n_resamples, subsample=subsample,
                           n_terms=dict(sorted(sizes.items())))
        return table

    # ------------------------------------------------------- predictions
    def _bootstrap(self) -> ParameterBootstrap:
        check_is_fitted(self)
        state = getattr(self, "bootstrap_", None)
        if state is None:
            raise ValueError("No bootstrap is stored: call confidence_intervals(X, y) first "
                             "(it keeps its resamples in bootstrap_).")
        return state

    def _resampled(self, limit: int | None = None) -> list:
        """Shallow copies of this estimator, one per resampled equation."""
        return [_with_signomial(self, signomial)
                for signomial in self._bootstrap().signomials(self.signomial_, limit)]

    def predict_proba_interval(self, X, level=DEFAULT_LEVEL):
        """Percentile intervals of ``predict_proba(X)`` over the parameter bootstrap.

        The uncertainty of the estimated probabilities (the equation's parameters,
        structure fixed), from the resamples of the last :meth:`confidence_intervals`
        call. Returns ``(lower, upper)``, each of the shape of ``predict_proba(X)``.

        Examples
        --------
        >>> import numpy as np, pandas as pd; from ecsel import ECSELClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"x": rng.lognormal(0, 1, 400)})
        >>> y = (rng.random(400) < 1 / (1 + np.exp(1 - 2 * X.x ** 0.8))).astype(int)
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, random_state=0).fit(X, y)
        >>> _ = clf.confidence_intervals(X, y, n_resamples=50, random_state=0)
        >>> low, high = clf.predict_proba_interval(X.iloc[:3])
        >>> bool(np.all((0 <= low) & (low <= high) & (high <= 1))), low.shape
        (True, (3, 2))
        """
        level = _check_level(level)
        if self._task() == "regression":
            raise ValueError("predict_proba_interval is for classifiers; use predict_interval.")
        frame = check_predict_input(self, X)
        samples = np.stack([other.predict_proba(frame) for other in self._resampled()])
        return resample.percentile_interval(samples, level)

    def predict_interval(self, X, level=DEFAULT_LEVEL, calibration=None):
        """Prediction intervals for new observations (noise included), split conformal.

        ``yhat(x) +- q`` with ``q`` the conformal quantile of the absolute residuals
        of the deployed equation on calibration rows: by default the validation split
        of ``fit`` (rows the parameters were not fitted on; they did help to choose
        among a few front rows, so the guarantee is approximate), or
        ``calibration=(X_cal, y_cal)`` held out by you (then exact: at least
        ``level`` marginal coverage for exchangeable rows). The width is constant: it
        covers the noise on average over ``x``, not row by row. Returns
        ``(lower, upper)`` of shape (n_samples,).

        Examples
        --------
        >>> import numpy as np, pandas as pd; from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"x": rng.uniform(1, 3, 500)})
        >>> y = 2 * X.x ** 2 + rng.normal(0, 0.5, 500)
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X.iloc[:400], y.iloc[:400])
        >>> low, high = est.predict_interval(X.iloc[400:])
        >>> bool(0.8 < np.mean((low <= y.iloc[400:]) & (y.iloc[400:] <= high)))
        True
        """
        level = _check_level(level)
        if self._task() != "regression":
            raise ValueError("predict_interval is for regressors; classifiers have "
                             "predict_proba_interval.")
        frame = check_predict_input(self, X)
        if calibration is not None:
            X_cal, y_cal = calibration
            cal = check_predict_input(self, X_cal)
            target, _ = self._target(y_cal, len(cal))
            residuals = target - self.signomial_.evaluate(cal)[:, 0]
        else:
            rows = getattr(self, "calibration_", None)
            if rows is None:
                raise ValueError("No calibration rows are stored (a model loaded from JSON): "
                                 "pass calibration=(X_cal, y_cal).")
            sig = self.signomial_
            pred = sig.intercept[0] + sig.term_values_from_log(rows["log_u"])[:, 0].sum(-1)
            residuals = rows["y"] - pred
        half = conformal_quantile(np.abs(residuals), level)
        center = self.predict(frame)
        return center - half, center + half

    def explain_intervals(self, X, level=DEFAULT_LEVEL, background=None, max_resamples=100):
        """Shapley values of ``X`` with percentile intervals over the parameter bootstrap.

        Exact Shapley values of every resampled equation (structure fixed, the last
        :meth:`confidence_intervals` call; at most ``max_resamples`` of them), same
        background. Returns ``(explanation, lower, upper)``: the deployed equation's
        :class:`~ecsel.Explanation` and two arrays of the shape of its ``values``.

        Examples
        --------
        >>> import numpy as np; from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> y = est.predict(X) + np.random.default_rng(0).normal(0, 1.0, len(X))
        >>> _ = est.confidence_intervals(X, y, n_resamples=50, random_state=0)
        >>> e, low, high = est.explain_intervals(X.iloc[:4])
        >>> low.shape == e.values.shape, bool(np.all(low <= high))
        (True, True)
        """
        level = _check_level(level)
        max_resamples = _check_count(max_resamples, "max_resamples", 2)
        frame = check_predict_input(self, X)
        deployed = self.explain(frame, background=background)
        samples = np.stack([other.explain(frame, background=background).values
                            for other in self._resampled(max_resamples)])
        lower, upper = resample.percentile_interval(samples, level)
        return deployed, lower, upper

    # ------------------------------------------------------------- plots
    def plot_confidence_intervals(self, intervals=None, ax=None):
        """Estimates with error bars, one row per parameter (EBM-style).

        ``intervals`` is a table of :meth:`confidence_intervals` (default: the last one).

        Examples
        --------
        >>> import numpy as np; from ecsel._testing import example_estimator
        >>> est, X = example_estimator()  # y = 0.5 m v^2, fitted
        >>> y = est.predict(X) + np.random.default_rng(0).normal(0, 1.0, len(X))
        >>> _ = est.confidence_intervals(X, y, n_resamples=50, random_state=0)
        >>> est.plot_confidence_intervals().get_ylabel()
        'parameter'
        """
        table = intervals if intervals is not None else getattr(self, "confidence_intervals_",
                                                                None)
        if table is None:
            raise ValueError("Pass intervals= or call confidence_intervals(X, y) first.")
        return _interval_plots.parameter_errorbars(table, ax=ax)

    def plot_partial_dependence_interval(self, feature, values=None, level=DEFAULT_LEVEL,
                                         background=None, ax=None, max_resamples=100):
        """Partial dependence of the deployed equation with a band over the bootstrap.

        Examples
        --------
        >>> import numpy as np; from ecsel._testing import example_estimator
        >>> est, X = example_estimator()  # y = 0.5 m v^2, fitted
        >>> y = est.predict(X) + np.random.default_rng(0).normal(0, 1.0, len(X))
        >>> _ = est.confidence_intervals(X, y, n_resamples=50, random_state=0)
        >>> len(est.plot_partial_dependence_interval("m").collections)
        1
        """
        level = _check_level(level)
        deployed = self.partial_dependence(feature, values=values, background=background)
        grid = deployed.iloc[:, 0].to_numpy()
        samples = np.stack([other.partial_dependence(feature, values=grid,
                                                     background=background).iloc[:, 1:]
                            .to_numpy() for other in self._resampled(max_resamples)])
        lower, upper = resample.percentile_interval(samples, level)
        return _interval_plots.band(deployed, lower, upper, level, ax=ax)
