"""Issue-10 floors not covered by fit_speed.py: 100-row fit time, Platt calibration,
max |decision_function| on bundled data, polynomial recovery (default vs "accuracy").

Usage: ``python benchmarks/fit_floors.py [--part a b c d]``. Prints Markdown lines.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers


def split(X, y):
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def part_a() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        ECSELClassifier(random_state=0).fit(X[:100], y[:100])
        times.append(time.perf_counter() - t)
    print(f"(a) 100-row breast_cancer fit: median {np.median(times):.2f} s of {times}")


def part_b(seeds=range(8)) -> None:
    """Platt calibration of ``ECSELClassifier(n_terms=1)`` and of the default
    ``ECSELClassifier()`` on breast_cancer.

    ``ensemble=True`` (sklearn's default) averages five calibrated models, each
    fitted on four fifths of the rows, so its accuracy also moves with the variance
    of the fits. ``ensemble=False`` calibrates the very model the uncalibrated
    column scores (same data, same ``random_state``): only Platt's threshold moves.
    """
    Xtr, Xte, ytr, yte = split(*load_breast_cancer(return_X_y=True, as_frame=True))
    for n_terms in (1, "auto"):
        rows = []
        for seed in seeds:
            raw = ECSELClassifier(n_terms=n_terms, random_state=seed).fit(Xtr, ytr).score(Xte,
                                                                                       yte)
            cal = [CalibratedClassifierCV(ECSELClassifier(n_terms=n_terms, random_state=seed),
                                          method="sigmoid", ensemble=ensemble)
                   .fit(Xtr, ytr).score(Xte, yte) for ensemble in (True, False)]
            rows.append((raw, *cal))
            print(f"(b) Platt, n_terms={n_terms}, random_state {seed}: uncalibrated acc "
                  f"{raw:.4f}, calibrated (ensemble) {cal[0]:.4f} ({cal[0] - raw:+.4f}), "
                  f"calibrated (ensemble=False) {cal[1]:.4f} ({cal[1] - raw:+.4f})", flush=True)
        diffs = np.array([[r[1] - r[0], r[2] - r[0]] for r in rows]) * 100
        for label, column in (("ensemble", 0), ("ensemble=False", 1)):
            d = diffs[:, column]
            print(f"(b) n_terms={n_terms}, {label}: calibrated minus uncalibrated accuracy in "
                  f"points: {', '.join(f'{v:+.1f}' for v in d)}; |diff| <= 1 point on "
                  f"{int((np.abs(d) <= 1.0 + 1e-9).sum())} of {len(d)} seeds, worst {d.min():+.1f}")


def part_c() -> None:
    sets = [(n, *f(return_X_y=True, as_frame=True)) for n, f in
            (("breast_cancer", load_breast_cancer), ("wine", load_wine), ("iris", load_iris))]
    sets.append(("online_shoppers(raw, NaN)", *load_online_shoppers(return_X_y=True)))
    sets.append(("fraud sample", *load_credit_card_fraud(return_X_y=True, full=False)))
    for name, X, y in sets:
        Xtr, Xte, ytr, yte = split(X, y)
        m = ECSELClassifier(random_state=0).fit(Xtr, ytr)
        print(f"(c) {name}: max |decision_function| on test = "
              f"{np.abs(m.decision_function(Xte)).max():.2f}", flush=True)


def part_d() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, 500)
    X = pd.DataFrame({"x": x})
    for deg in (5, 4, 3):
        y = sum(x**k for k in range(1, deg + 1))
        for sel in ("best", "accuracy"):
            m = ECSELRegressor(random_state=0, model_selection=sel).fit(X, y)
            print(f"(d) deg {deg} model_selection={sel}: {m.sympy(precision=4)}", flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", default=["a", "b", "c", "d"])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    with threadpool_limits(1):
        for p in args.part:
            globals()[f"part_{p}"]()


if __name__ == "__main__":
    main()
