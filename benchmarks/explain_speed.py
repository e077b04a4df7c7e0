"""Speed and agreement of ECSEL's exact Shapley values vs ``shap.KernelExplainer``.

Fits an ``ECSELClassifier`` on UCI Online Shoppers (the 14 rows with NaN dropped:
12,316 sessions), explains every session against the stored 100-row background and
times it (median of repeats), then runs ``shap.KernelExplainer`` (default nsamples)
on a subset with the same background and the same decision function, and reports
per-row speed ratio and agreement. Categorical columns are passed to KernelSHAP as
integer codes and decoded inside the wrapped model, so both explain the same 17
players.

Usage::

    .venv/bin/python benchmarks/explain_speed.py [--kernel-rows 50] [--repeats 7]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import pandas as pd

from ecsel import ECSELClassifier
from ecsel.datasets import load_online_shoppers
from ecsel.explain._shapley import active_columns


def load() -> tuple[pd.DataFrame, pd.Series]:
    X, y = load_online_shoppers(return_X_y=True)
    keep = ~X.isna().any(axis=1)
    return X[keep].reset_index(drop=True), y[keep].reset_index(drop=True)


def fit(X, y, n_terms: int) -> ECSELClassifier:
    start = time.perf_counter()
    est = ECSELClassifier(n_terms=n_terms, n_restarts=4, max_iter=300, random_state=0)
    est.fit(X, y)
    print(f"fit: {time.perf_counter() - start:.1f} s, train accuracy {est.score(X, y):.3f}")
    return est


def time_exact(est, X, repeats: int):
    """Wall-clock and CPU seconds of ``est.explain(X)`` per repeat."""
    wall, cpu = [], []
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        expl = est.explain(X)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return expl, np.array(wall), np.array(cpu)


def kernel_shap(est, X, rows: int):
    import shap

    categorical = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])
                   or pd.api.types.is_bool_dtype(X[c])]
    levels = {c: pd.Categorical(X[c].astype(str)).categories for c in categorical}

    def to_codes(frame):
        out = frame.copy()
        for c in categorical:
            out[c] = pd.Categorical(frame[c].astype(str), categories=levels[c]).codes
        return out.astype(float)

    def model(codes):
        frame = pd.DataFrame(codes, columns=X.columns)
        for c in categorical:
            values = np.asarray(levels[c])[frame[c].to_numpy().astype(int)]
            frame[c] = values if X[c].dtype != bool else values == "True"
        return est.decision_function(frame)

    background = to_codes(est.background_).to_numpy()
    subset = to_codes(X.iloc[:rows]).to_numpy()
    explainer = shap.KernelExplainer(model, background)
    start = time.perf_counter()
    values = explainer.shap_values(subset, silent=True)
    return values, time.perf_counter() - start, explainer.expected_value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kernel-rows", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--n-terms", type=int, default=2)
    args = parser.parse_args()
    X, y = load()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")
    est = fit(X, y, args.n_terms)
    used = active_columns(est.signomial_)
    print(f"model: {est.signomial_.n_terms} terms, columns per term {used.sum(-1).ravel()}, "
          f"background {len(est.background_)} rows, {len(X)} sessions")
    expl, times, cpu = time_exact(est, X, args.repeats)
    gap = np.abs(expl.values.sum(-1) + expl.base_values - est.decision_function(X)).max()
    scale = max(np.abs(expl.values).max(), np.abs(expl.base_values).max())
    print(f"exact Shapley, all {len(X)} rows: median wall {np.median(times):.3f} s "
          f"(min {times.min():.3f}, max {times.max():.3f}, {args.repeats} runs), median CPU "
          f"{np.median(cpu):.3f} s; max completeness error {gap:.2e} "
          f"({gap / scale:.1e} of the largest |phi| or |base|); "
          f"load average now {os.getloadavg()[0]:.1f}")
    kernel, kernel_time, expected = kernel_shap(est, X, args.kernel_rows)
    exact = expl.values[: args.kernel_rows]
    diff = np.abs(kernel - exact)
    scale = np.abs(exact).max()
    corr = np.corrcoef(kernel.ravel(), exact.ravel())[0, 1]
    per_row_exact = np.median(times) / len(X)
    per_row_kernel = kernel_time / args.kernel_rows
    print(f"KernelExplainer, {args.kernel_rows} rows (nsamples='auto'): {kernel_time:.2f} s")
    print(f"agreement on those rows: max |diff| {diff.max():.3e} (max |phi| {scale:.3e}), "
          f"mean |diff| {diff.mean():.3e}, correlation {corr:.6f}, "
          f"base values {float(expected):.6f} vs {float(expl.base_values[0]):.6f}")
    print(f"per row: exact {per_row_exact * 1e6:.1f} us, kernel {per_row_kernel * 1e3:.1f} ms, "
          f"speed ratio {per_row_kernel / per_row_exact:,.0f}x")


if __name__ == "__main__":
    main()
