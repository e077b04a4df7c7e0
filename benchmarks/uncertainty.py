"""Uncertainty floors of issue 29: bias, interval coverage, cost, EBM side by side.

Sections (each writes ``benchmarks/results/uncertainty_<section>.csv``; ``report``
assembles ``docs/bench/uncertainty.md`` from whatever CSVs exist):

``bias``
    The issue's signomial ``z = -1 + 2 x0^1.5 / x1^0.5 - 1.2 x2^0.8`` (features
    lognormal(0, 1), 2,000 rows), ``ECSELClassifier(n_terms=2)``, seeds 0-7, with the
    deployed parameters penalised (the search's values, the refit switched off) and
    refitted by unpenalised maximum likelihood (the default now).
``spot``
    The same signomial, ``confidence_intervals(n_resamples=200)`` after each fit:
    CPU of the 200 resamples over CPU of the fit, and coverage of the truth.
``logistic``
    Coverage on simulated logistic signomials with known parameters: per seed 2 or 3
    terms with random coefficients and exponents, 2,000 rows, ``ECSELClassifier(n_terms=
    true K)``, ``confidence_intervals(level=0.9, n_resamples=200)``. Coverage is
    counted over the parameters of the seeds whose structure was recovered (the
    intervals condition on the structure); the cost ratio is the CPU time of the
    200-resample call over the CPU time of the fit.
``feynman``
    The AI Feynman signomial laws at 1 % and 10 % noise (``load_feynman``: Gaussian,
    std = noise * std(y)), 1,000 training rows, ``ECSELRegressor(random_state=0)``:
    coefficient/exponent coverage (laws whose monomials were recovered) and the
    coverage of ``predict_interval(level=0.9)`` on 1,000 fresh noisy rows.
``ebm``
    Side by side with EBM's ``predict_with_uncertainty`` (bagged models, benchmark-only
    dependency) on scikit-learn's diabetes (regression: 90 % interval coverage of
    held-out targets, mean width) and breast_cancer (classification: mean width of
    90 % probability intervals, no truth).

Usage: ``nice -n 19 python benchmarks/uncertainty.py {bias,spot,logistic,feynman,ebm,report}
[--seeds 30] [--laws ...]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel._fit import resample
from ecsel.recovery import signomial_terms
from ecsel.uncertainty import support_sets

RESULTS = Path(__file__).parent / "results"
LEVEL = 0.9


def _cpu() -> float:
    return time.process_time()


def _save(rows: list[dict], section: str) -> None:
    RESULTS.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(RESULTS / f"uncertainty_{section}.csv", index=False)


def _issue_data(seed: int, n: int = 2000):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(np.exp(rng.normal(0, 1.0, (n, 3))), columns=["x0", "x1", "x2"])
    z = -1 + 2 * X.x0**1.5 / X.x1**0.5 - 1.2 * X.x2**0.8
    return X, (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)


# ------------------------------------------------------------------- bias
def run_bias(seeds: int) -> None:
    from sklearn.metrics import log_loss

    rows = []
    original = resample.unpenalised
    for mode in ("penalised", "unpenalised"):
        resample.unpenalised = original if mode == "unpenalised" else (lambda p, *a, **k: p)
        for seed in range(seeds):
            X, y = _issue_data(seed)
            start = _cpu()
            clf = ECSELClassifier(n_terms=2, random_state=seed).fit(X, y)
            seconds = _cpu() - start
            sig = clf.signomial_
            terms = sorted(map(sorted, support_sets(sig)[0]))
            expo = sig.exponents[0]
            k = int(np.argmax(expo[:, 0] != 0)) if (expo[:, 0] != 0).any() else None
            rows.append({
                "mode": mode, "seed": seed, "true_structure": terms == [["x0", "x1"], ["x2"]],
                "exponent_x0": float(expo[k, 0]) if k is not None else np.nan,
                "log_loss_sum": log_loss(y, clf.predict_proba(X)[:, 1], normalize=False),
                "cpu_seconds": seconds, "equation": str(sig)})
            print(rows[-1], flush=True)
    resample.unpenalised = original
    _save(rows, "bias")


# --------------------------------------------------------------- coverage
def _true_terms(rng, n_terms: int):
    """Random logistic signomial: (intercept, [(coef, {feature: exponent})])."""
    features = [f"x{j}" for j in range(4)]
    terms = []
    used = set()
    while len(terms) < n_terms:
        size = int(rng.integers(1, 3))
        support = tuple(sorted(rng.choice(features, size=size, replace=False)))
        if support in used:
            continue
        used.add(support)
        expo = {f: float(rng.choice([-1, 1]) * rng.uniform(0.4, 1.5)) for f in support}
        coef = float(rng.choice([-1, 1]) * rng.uniform(0.8, 2.0))
        terms.append((coef, expo))
    return float(rng.uniform(-1, 1)), terms


def _match_terms(fitted: list[frozenset], truth: list[frozenset]):
    """Fitted term index -> true support, when every fitted term contains a distinct
    true term (the same number of terms); None otherwise."""
    if len(fitted) != len(truth):
        return None
    remaining, match = list(truth), {}
    for k in sorted(range(len(fitted)), key=lambda k: len(fitted[k])):
        options = [t for t in remaining if t <= fitted[k]]
        if not options:
            return None
        best = max(options, key=len)
        remaining.remove(best)
        match[k] = best
    return match


def _coverage_rows(table, truth_intercept, truth_terms, sig):
    """Per parameter: truth, interval, covered; None when the structure does not
    contain the true one term by term. A factor the truth lacks has truth 0
    (``spurious``); ``exact`` says whether the structure is exactly the truth."""
    fitted = support_sets(sig)[0]
    by_support = {frozenset(e): (c, e) for c, e in truth_terms if e}
    match = _match_terms(fitted, list(by_support))
    if match is None:
        return None
    exact = all(fitted[k] == t for k, t in match.items())
    active = [k for k in range(sig.coef.shape[1]) if sig.coef[0, k] != 0]
    rows = []
    for _, row in table.iterrows():
        name = row.parameter
        spurious = False
        if name == "intercept":
            truth = truth_intercept
        else:
            k = int(name.split("[")[1].split("]")[0].split(",")[0])
            coef, expo = by_support[match[active.index(k)]]
            if name.startswith("coef"):
                truth = coef
            else:
                feature = name.split(", ")[1][:-1]
                spurious = feature not in expo
                truth = expo.get(feature, 0.0)
        rows.append({"parameter": name, "truth": truth, "estimate": row.estimate,
                     "lower": row.lower, "upper": row.upper, "exact_structure": exact,
                     "spurious": spurious, "covered": bool(row.lower <= truth <= row.upper)})
    return rows


def run_logistic(seeds: int, n: int = 2000) -> None:
    rows, costs = [], []
    for seed in range(seeds):
        rng = np.random.default_rng(1000 + seed)
        n_terms = 2 + seed % 2
        intercept, terms = _true_terms(rng, n_terms)
        X = pd.DataFrame(np.exp(rng.normal(0, 0.7, (n, 4))), columns=[f"x{j}" for j in range(4)])
        z = intercept + sum(c * np.prod([X[f] ** a for f, a in e.items()], axis=0)
                            for c, e in terms)
        y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
        start = _cpu()
        clf = ECSELClassifier(n_terms=n_terms, random_state=seed).fit(X, y)
        fit_seconds = _cpu() - start
        start = _cpu()
        try:
            table = clf.confidence_intervals(X, y, level=LEVEL, n_resamples=200,
                                             random_state=seed)
        except ValueError as error:  # separable by the fitted equation
            print(seed, "no intervals:", error, flush=True)
            continue
        ci_seconds = _cpu() - start
        costs.append({"seed": seed, "fit_cpu": fit_seconds, "ci_cpu": ci_seconds,
                      "ratio": ci_seconds / fit_seconds,
                      "n_converged": table.attrs["n_converged"]})
        found = _coverage_rows(table, intercept, terms, clf.signomial_)
        print(seed, n_terms, "recovered" if found else "other structure",
              f"fit {fit_seconds:.2f}s ci {ci_seconds:.2f}s", clf.signomial_, flush=True)
        costs[-1]["recovered"] = found is not None
        costs[-1]["exact"] = bool(found and found[0]["exact_structure"])
        for row in found or []:
            rows.append({"seed": seed, "n_terms": n_terms, **row})
        _save(rows, "logistic")
        _save(costs, "cost")


def run_feynman(laws: list[str] | None, noises=(0.01, 0.1), n: int = 1000) -> None:
    from ecsel.datasets import list_feynman, load_feynman

    laws = laws or list_feynman(signomial_only=True)
    rows, pred_rows = [], []
    for noise in noises:
        for name in laws:
            X, y, truth = load_feynman(name, n_samples=n, noise=noise, random_state=0)
            X_test, y_test, _ = load_feynman(name, n_samples=n, noise=noise, random_state=1)
            start = _cpu()
            est = ECSELRegressor(random_state=0).fit(X, y)
            fit_seconds = _cpu() - start
            low, high = est.predict_interval(X_test, level=LEVEL)
            covered = float(np.mean((low <= y_test) & (y_test <= high)))
            start = _cpu()
            table = est.confidence_intervals(X, y, level=LEVEL, n_resamples=200, random_state=0)
            ci_seconds = _cpu() - start
            terms = signomial_terms(truth, list(X.columns))
            intercept = sum(c for c, e in terms if not e)
            found = _coverage_rows(table, intercept, terms, est.signomial_)
            if found is not None and "intercept" not in set(table.parameter) and intercept:
                found = None
            pred_rows.append({"law": name, "noise": noise, "pi_coverage": covered,
                              "pi_width": float(np.mean(high - low)),
                              "recovered_structure": found is not None,
                              "exact": bool(found and found[0]["exact_structure"]),
                              "fit_cpu": fit_seconds, "ci_cpu": ci_seconds})
            for row in found or []:
                rows.append({"law": name, "noise": noise, **row})
            print(f"{noise:4.2f} {name:10s} pi={covered:.3f} structure={found is not None} "
                  f"fit {fit_seconds:.2f}s ci {ci_seconds:.2f}s {est.sympy(precision=4)}",
                  flush=True)
            tag = "_".join(f"{v:g}" for v in noises)
            _save(rows, f"feynman_{tag}")
            _save(pred_rows, f"feynman_pi_{tag}")


def run_ebm() -> None:
    from interpret.glassbox import ExplainableBoostingClassifier, ExplainableBoostingRegressor
    from sklearn.datasets import load_breast_cancer, load_diabetes
    from sklearn.model_selection import train_test_split

    rows = []
    z = 1.6448536269514722  # two-sided 90 % normal quantile
    X, y = load_diabetes(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    ebm = ExplainableBoostingRegressor(random_state=0).fit(X_tr, y_tr)
    mean_std = ebm.predict_with_uncertainty(X_te)
    lo, hi = mean_std[:, 0] - z * mean_std[:, 1], mean_std[:, 0] + z * mean_std[:, 1]
    rows.append({"data": "diabetes", "method": "EBM predict_with_uncertainty (+-1.645 sd)",
                 "coverage": float(np.mean((lo <= y_te) & (y_te <= hi))),
                 "mean_width": float(np.mean(hi - lo))})
    est = ECSELRegressor(random_state=0).fit(X_tr, y_tr)
    lo, hi = est.predict_interval(X_te, level=LEVEL)
    rows.append({"data": "diabetes", "method": "ECSEL predict_interval (conformal)",
                 "coverage": float(np.mean((lo <= y_te) & (y_te <= hi))),
                 "mean_width": float(np.mean(hi - lo))})
    est.confidence_intervals(X_tr, y_tr, level=LEVEL, n_resamples=200, random_state=0)
    samples = np.stack([o.predict(X_te) for o in est._resampled()])
    lo, hi = resample.percentile_interval(samples, LEVEL)
    rows.append({"data": "diabetes", "method": "ECSEL bootstrap of the mean prediction",
                 "coverage": float(np.mean((lo <= y_te) & (y_te <= hi))),
                 "mean_width": float(np.mean(hi - lo))})
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    ebm = ExplainableBoostingClassifier(random_state=0).fit(X_tr, y_tr)
    mean_std = ebm.predict_with_uncertainty(X_te)
    p = mean_std[:, 0]
    width = np.minimum(p + z * mean_std[:, 1], 1) - np.maximum(p - z * mean_std[:, 1], 0)
    rows.append({"data": "breast_cancer", "method": "EBM predict_with_uncertainty (+-1.645 sd)",
                 "coverage": np.nan, "mean_width": float(np.mean(width))})
    clf = ECSELClassifier(random_state=0).fit(X_tr, y_tr)
    try:
        clf.confidence_intervals(X_tr, y_tr, level=LEVEL, n_resamples=200, random_state=0)
        lo, hi = clf.predict_proba_interval(X_te, level=LEVEL)
        width = float(np.mean(hi[:, 1] - lo[:, 1]))
    except ValueError as error:
        print("breast_cancer:", error)
        width = np.nan
    rows.append({"data": "breast_cancer", "method": "ECSEL predict_proba_interval (bootstrap)",
                 "coverage": np.nan, "mean_width": width})
    print(pd.DataFrame(rows).to_string())
    _save(rows, "ebm")


def run_spot(seeds: int) -> None:
    """Cost ratio and coverage of the issue's own signomial (seeds 0..seeds-1)."""
    rows, costs = [], []
    truth = (-1.0, [(2.0, {"x0": 1.5, "x1": -0.5}), (-1.2, {"x2": 0.8})])
    for seed in range(seeds):
        X, y = _issue_data(seed)
        start = _cpu()
        clf = ECSELClassifier(n_terms=2, random_state=seed).fit(X, y)
        fit_seconds = _cpu() - start
        start = _cpu()
        table = clf.confidence_intervals(X, y, n_resamples=200, random_state=seed)
        ci_seconds = _cpu() - start
        found = _coverage_rows(table, truth[0], truth[1], clf.signomial_)
        costs.append({"seed": seed, "fit_cpu": fit_seconds, "ci_cpu": ci_seconds,
                      "ratio": ci_seconds / fit_seconds, "recovered": found is not None,
                      "exact": bool(found and found[0]["exact_structure"]),
                      "n_converged": table.attrs["n_converged"]})
        rows += [{"seed": seed, **row} for row in found or []]
        print(costs[-1], flush=True)
        _save(rows, "spot")
        _save(costs, "spot_cost")


# ----------------------------------------------------------------- report
def _read(section: str) -> pd.DataFrame | None:
    """The section's CSV, or the concatenation of its per-noise CSVs."""
    path = RESULTS / f"uncertainty_{section}.csv"
    parts = [path] if path.exists() else sorted(RESULTS.glob(f"uncertainty_{section}_0*.csv"))
    parts = [p for p in parts if p.stat().st_size > 1]  # a run that saved no row yet
    return pd.concat([pd.read_csv(p) for p in parts], ignore_index=True) if parts else None


def report(out: str) -> None:
    lines = ["# Uncertainty (issue 29)", "",
             f"Machine: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores shared with other jobs (load average "
             f"{os.getloadavg()[0]:.1f} when this report was written); "
             "`nice -n 19 python benchmarks/uncertainty.py <section>`. Times are CPU "
             "seconds of this process.", "",
             "What the intervals mean: `confidence_intervals` is a pairs bootstrap of the "
             "rows with the deployed structure (which terms and factors are non-zero) held "
             "fixed; each resample is an unpenalised maximum-likelihood refit, all 200 "
             "batched on one tensor and warm-started at the refit on all rows; 90 % "
             "equal-tailed percentile intervals. They condition on the structure; "
             "`structure_stability` reruns the whole search on subsamples for that. "
             "`predict_interval` (regressor) is split conformal on the fit's validation "
             "rows: `yhat +- q`, `q` the ceil((n+1) 0.9)-th smallest absolute residual.",
             ""]
    bias = _read("bias")
    if bias is not None:
        lines += ["## Bias of the deployed parameters", "",
                  "The issue's signomial, `ECSELClassifier(n_terms=2)`, seeds "
                  f"0-{bias.seed.max()}; true exponent of x0 is 1.5 (of x1 -0.5, of x2 "
                  "0.8). `penalised`: the search's parameters (the refit switched off); "
                  "`unpenalised`: every front row refitted by maximum likelihood with its "
                  "zero pattern and exponent box kept (the default). Log-loss summed over "
                  "all 2,000 rows; the maximum-likelihood value of the true structure is "
                  "about 684 at seed 0.", "",
                  "| deployed parameters | true structure | mean exponent of x0 | "
                  "mean training log-loss (sum) | mean fit CPU s |", "|---|---|---|---|---|"]
        for mode, g in bias.groupby("mode", sort=False):
            lines.append(f"| {mode} | {int(g.true_structure.sum())}/{len(g)} | "
                         f"{g.exponent_x0.mean():.3f} | {g.log_loss_sum.mean():.1f} | "
                         f"{g.cpu_seconds.mean():.2f} |")
        lines.append("")
    spot = _read("spot_cost")
    if spot is not None:
        cover = _read("spot")
        lines += ["## The issue's signomial: cost and coverage", "",
                  f"Seeds 0-{spot.seed.max()}, 2,000 rows, `ECSELClassifier(n_terms=2)` then "
                  "`confidence_intervals(n_resamples=200)`, one torch thread.", "",
                  spot.to_markdown(index=False, floatfmt=".2f"), ""]
        if cover is not None:
            lines += [f"90 % intervals covering the truth: {int(cover.covered.sum())} of "
                      f"{len(cover)} parameters ({cover.covered.mean():.3f}).", ""]
    for section, title in (("logistic", "Simulated logistic signomials"),
                           ("feynman", "AI Feynman signomial laws")):
        table = _read(section)
        if table is None:
            continue
        table["kind"] = table.parameter.str.extract(r"(intercept|coef|exponent)")[0]
        table.loc[table.spurious, "kind"] = "spurious exponent (truth 0)"
        keys = ["noise", "kind"] if section == "feynman" else ["kind"]
        summary = table.groupby(keys).covered.agg(["mean", "size"]).reset_index()
        exact = table[table.exact_structure]
        lines += [f"## {title}: 90 % parameter intervals", "",
                  "Coverage of the true value, over the parameters of the fits whose "
                  "terms each contain a distinct true term (a factor the truth lacks "
                  "has truth 0); `size` counts parameters.", "",
                  summary.to_markdown(index=False, floatfmt=".3f"), "",
                  f"Exact structure only: coverage {exact.covered.mean():.3f} over "
                  f"{len(exact)} parameters.", ""]
        if section == "logistic":
            cost = _read("cost")
            if cost is not None:
                lines += [f"Seeds: {len(cost)}; true terms contained in "
                          f"{int(cost.recovered.sum())}, exact structure in "
                          f"{int(cost.exact.sum())}; overall coverage "
                          f"{table.covered.mean():.3f} over {len(table)} parameters.", "",
                          f"Cost of 200 resamples / one fit (CPU): median "
                          f"{cost.ratio.median():.2f}x, max {cost.ratio.max():.2f}x "
                          f"(fit median {cost.fit_cpu.median():.2f} s, 200 resamples median "
                          f"{cost.ci_cpu.median():.2f} s).", ""]
    pi = _read("feynman_pi")
    if pi is not None:
        summary = pi.groupby("noise").agg(laws=("law", "size"),
                                          recovered=("recovered_structure", "sum"),
                                          pi_coverage_mean=("pi_coverage", "mean"),
                                          pi_coverage_min=("pi_coverage", "min"),
                                          pi_coverage_max=("pi_coverage", "max"),
                                          ci_over_fit=("ci_cpu", "sum")).reset_index()
        summary["ci_over_fit"] = summary.ci_over_fit / pi.groupby("noise").fit_cpu.sum().values
        lines += ["## AI Feynman: 90 % prediction intervals (split conformal) on fresh rows",
                  "", summary.to_markdown(index=False, floatfmt=".3f"), ""]
    ebm = _read("ebm")
    if ebm is not None:
        lines += ["## Side by side with EBM", "", ebm.to_markdown(index=False, floatfmt=".3f"),
                  "", "EBM's `predict_with_uncertainty` is the spread of its bagged models: "
                  "uncertainty of the mean prediction, without the noise.", ""]
    Path(out).write_text("\n".join(lines))
    print("\n".join(lines))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("section",
                        choices=["bias", "spot", "logistic", "feynman", "ebm", "report"])
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--laws", nargs="*", default=None)
    parser.add_argument("--noise", type=float, nargs="*", default=[0.01, 0.1])
    parser.add_argument("--out", default="docs/bench/uncertainty.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.section == "bias":
        run_bias(args.seeds or 8)
    elif args.section == "spot":
        run_spot(args.seeds or 8)
    elif args.section == "logistic":
        run_logistic(args.seeds or 30)
    elif args.section == "feynman":
        run_feynman(args.laws, tuple(args.noise))
    elif args.section == "ebm":
        run_ebm()
    else:
        report(args.out)


if __name__ == "__main__":
    main()
