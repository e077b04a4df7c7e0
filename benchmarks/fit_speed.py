"""Fit time of ECSELClassifier() against HistGradientBoosting and LogisticRegression.

Protocol (issue 10): breast_cancer, wine, iris and Online Shoppers (rows with missing
values dropped), 70/30 stratified split with seed 0, one process, one thread each
(threadpoolctl + torch.set_num_threads(1)), test ROC AUC (one-vs-rest macro for
multiclass), median of ``--repeats`` fits. Writes a Markdown table into the block
between the BEGIN/END markers of docs/bench/fit_speed.md, keeping the notes around it.

Usage: ``python benchmarks/fit_speed.py [--out docs/bench/fit_speed.md] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np
import torch
from _tabular import cpu_model, four_datasets, model_auc  # benchmarks/ is on sys.path
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier
from ecsel.casestudies import make_hgb, make_logistic

BEGIN, END = "<!-- fit_speed.py: begin -->", "<!-- fit_speed.py: end -->"


def timed_fit(model, X, y, repeats: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``repeats`` fits (CPU time is less
    distorted by other jobs on a shared machine; with one thread it is the fit's own
    work). Every fit has the same ``random_state``, so the last one is the model the
    other columns score."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        model.fit(X, y)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return float(np.median(walls)), float(np.median(cpus))


def machine() -> str:
    """CPU model, core count and load average: the numbers only compare within one run."""
    model = cpu_model()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (f"{platform.platform()}, {model}, {os.cpu_count()} cores, load average {load} "
            f"at the start; torch {torch.__version__}, one thread per model")


def write_section(path: str, lines: list[str]) -> None:
    """Replace the measured block of ``path`` (between BEGIN and END), keeping the
    hand-written notes around it; a new file holds the block alone."""
    block = "\n".join([BEGIN, *lines, END])
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = block + "\n"
    with open(path, "w") as handle:
        handle.write(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/bench/fit_speed.md")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    host = machine()
    rows, totals, cpu_totals = [], np.zeros(3), np.zeros(3)
    with threadpool_limits(1):
        for name, X, y in four_datasets():
            Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                                  random_state=0)
            models = [ECSELClassifier(random_state=0), make_hgb(0), make_logistic(X)]
            timings = [timed_fit(m, Xtr, ytr, args.repeats) for m in models]
            seconds = [t[0] for t in timings]
            cpu_totals += [t[1] for t in timings]
            aucs = [model_auc(m, Xte, yte) for m in models]
            dec = float(np.abs(models[0].decision_function(Xte)).max())
            totals += seconds
            rows.append((name, len(Xtr), *seconds, seconds[0] / seconds[1], *aucs, dec))

            print(rows[-1], flush=True)
    mean_auc = np.mean([r[6] for r in rows])
    lines = [
        f"Machine: {host}. `python benchmarks/fit_speed.py` (median of {args.repeats} fits "
        "per model, all in one process).", "",
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
              f"{cpu_totals[2]:.2f} s."]
    write_section(args.out, lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
