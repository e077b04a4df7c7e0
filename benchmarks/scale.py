"""Fit ECSELClassifier() and ECSELRegressor() with their defaults on 100,000 x 20 rows.

Reports wall time and the peak resident memory of the process (``ru_maxrss``),
next to the size of the data itself, to show that memory stays bounded
(minibatches of ``batch_size`` rows in the Adam stage; the regressor's exponent
search runs on a 512-row subsample and its polish uses full-batch L-BFGS on one
restart).

Usage: ``python benchmarks/scale.py [--rows 100000] [--features 20]``
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import pandas as pd
import torch
from scipy.special import expit

from ecsel import ECSELClassifier, ECSELRegressor


def make_data(rows: int, features: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.lognormal(0, 0.5, (rows, features)),
                     columns=[f"f{j}" for j in range(features)])
    score = 2 * X.f0 * X.f1**-0.5 - X.f2**1.5 + 0.5
    y_class = (rng.random(rows) < expit(score)).astype(int)
    y_reg = score + rng.normal(0, 0.1, rows)
    return X, y_class, y_reg


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X, y_class, y_reg = make_data(args.rows, args.features)
    print(f"data: {X.memory_usage().sum() / 2**20:.1f} MiB; peak before fitting: "
          f"{peak_mib():.0f} MiB")
    for est, y in ((ECSELClassifier(random_state=0), y_class),
                   (ECSELRegressor(random_state=0), y_reg)):
        start = time.perf_counter()
        est.fit(X, y)
        print(f"{type(est).__name__}: {time.perf_counter() - start:.1f} s, "
              f"score {est.score(X, y):.4f}, n_terms {est.n_terms_}, "
              f"peak RSS so far {peak_mib():.0f} MiB", flush=True)


if __name__ == "__main__":
    main()
