"""Fit time of ECSELClassifier() against HistGradientBoosting and LogisticRegression.

Protocol (issue 10): breast_cancer, wine, iris and Online Shoppers (rows with missing
values dropped), 70/30 stratified split with seed 0, one process, one thread each
(threadpoolctl + torch.set_num_threads(1)), test ROC AUC (one-vs-rest macro for
multiclass). Writes a Markdown table (default docs/bench/fit_speed.md).

Usage: ``python benchmarks/fit_speed.py [--out docs/bench/fit_speed.md]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import torch
from _tabular import four_datasets, model_auc  # benchmarks/ is on sys.path
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier
from ecsel.casestudies import make_hgb, make_logistic


def timed_fit(model, X, y) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one fit (CPU time is less distorted by other
    jobs on a shared machine; with one thread it is the fit's own work)."""
    start, cpu = time.perf_counter(), time.process_time()
    model.fit(X, y)
    return time.perf_counter() - start, time.process_time() - cpu


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/bench/fit_speed.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows, totals, cpu_totals = [], np.zeros(3), np.zeros(3)
    with threadpool_limits(1):
        for name, X, y in four_datasets():
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
            models = [ECSELClassifier(random_state=0), make_hgb(0), make_logistic(X)]
            timings = [timed_fit(m, Xtr, ytr) for m in models]
            seconds = [t[0] for t in timings]
            cpu_totals += [t[1] for t in timings]
            aucs = [model_auc(m, Xte, yte) for m in models]
            dec = float(np.abs(models[0].decision_function(Xte)).max())
            totals += seconds
            rows.append((name, len(Xtr), *seconds, seconds[0] / seconds[1], *aucs, dec))

            print(rows[-1], flush=True)
    mean_auc = np.mean([r[6] for r in rows])
    lines = [
        "# Fit speed (issue 10)", "",
        f"Machine: {platform.platform()}, shared 2-core VM (other developers' jobs "
        "running), one thread per model. `python benchmarks/fit_speed.py`.", "",
        "| data set | train rows | ECSEL fit s | HGB fit s | LR fit s | ECSEL/HGB | "
        "AUC ECSEL | AUC HGB | AUC LR | max abs test score |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]:.2f} | {r[3]:.2f} | {r[4]:.2f} | {r[5]:.1f}x "
                     f"| {r[6]:.4f} | {r[7]:.4f} | {r[8]:.4f} | {r[9]:.1f} |")
    lines += ["", f"Total: ECSEL {totals[0]:.2f} s, HGB {totals[1]:.2f} s "
              f"({totals[0] / totals[1]:.1f}x), LR {totals[2]:.2f} s; mean ECSEL test AUC "
              f"{mean_auc:.4f}.", "",
              f"CPU time (process time, one thread): ECSEL {cpu_totals[0]:.2f} s, HGB "
              f"{cpu_totals[1]:.2f} s ({cpu_totals[0] / cpu_totals[1]:.1f}x), LR "
              f"{cpu_totals[2]:.2f} s.", "", "GPU: unmeasured (no GPU machine was lent).", ""]
    with open(args.out, "w") as handle:
        handle.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
