"""One fit each, CPU time, one thread: ECSELClassifier() vs HistGradientBoosting on
breast_cancer, wine, iris and Online Shoppers (70/30 stratified, seed 0). A quick
side-by-side in one process (benchmarks/fit_speed.py is the full protocol with medians).

Usage: ``python benchmarks/fit_speed_quick.py``
"""

from __future__ import annotations

import os
import time

import pandas as pd
import torch
from sklearn.datasets import load_breast_cancer, load_iris, load_wine
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier
from ecsel.datasets import load_online_shoppers


def cpu_seconds(estimator, X, y) -> float:
    start = time.process_time()
    estimator.fit(X, y)
    return time.process_time() - start


def main() -> None:
    torch.set_num_threads(1)
    sets = {}
    for name, loader in [("breast_cancer", load_breast_cancer), ("wine", load_wine),
                         ("iris", load_iris)]:
        bunch = loader(as_frame=True)
        sets[name] = (bunch.data, bunch.target)
    bunch = load_online_shoppers()
    sets["online_shoppers"] = (bunch.data, bunch.target)
    total = {"ecsel": 0.0, "hgb": 0.0}
    with threadpool_limits(1):
        for name, (X, y) in sets.items():
            Xtr, _, ytr, _ = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
            ecsel = cpu_seconds(ECSELClassifier(random_state=0), Xtr, ytr)
            Xh = Xtr.copy()
            for column in Xh.columns:
                if not pd.api.types.is_numeric_dtype(Xh[column]):
                    Xh[column] = Xh[column].astype("category")
            hgb = cpu_seconds(HistGradientBoostingClassifier(
                random_state=0, categorical_features="from_dtype"), Xh, ytr)
            total["ecsel"] += ecsel
            total["hgb"] += hgb
            print(f"{name}: ECSEL {ecsel:.2f} s CPU, HGB {hgb:.2f} s CPU")
    print(f"total ECSEL {total['ecsel']:.1f} s, HGB {total['hgb']:.1f} s, ratio "
          f"{total['ecsel'] / total['hgb']:.1f}x; load {os.getloadavg()}")


if __name__ == "__main__":
    main()
