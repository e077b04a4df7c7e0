"""One fit each, CPU time, one thread: ECSELClassifier() vs HistGradientBoosting on
breast_cancer, wine, iris and Online Shoppers (70/30 stratified, seed 0). A quick
side-by-side in one process (benchmarks/fit_speed.py is the full protocol with medians).

Usage: ``python benchmarks/fit_speed_quick.py``
"""
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

torch.set_num_threads(1)
sets = {}
for name, loader in [("breast_cancer", load_breast_cancer), ("wine", load_wine), ("iris", load_iris)]:
    b = loader(as_frame=True); sets[name] = (b.data, b.target)
b = load_online_shoppers(); sets["online_shoppers"] = (b.data, b.target)
tot = {"ecsel": 0.0, "hgb": 0.0}
with threadpool_limits(1):
    for name, (X, y) in sets.items():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        t = time.process_time(); ECSELClassifier(random_state=0).fit(Xtr, ytr); e = time.process_time() - t
        Xh = Xtr.copy()
        for c in Xh.columns:
            if not pd.api.types.is_numeric_dtype(Xh[c]): Xh[c] = Xh[c].astype("category")
        t = time.process_time(); HistGradientBoostingClassifier(random_state=0, categorical_features="from_dtype").fit(Xh, ytr); h = time.process_time() - t
        tot["ecsel"] += e; tot["hgb"] += h
        print(f"{name}: ECSEL {e:.2f} s CPU, HGB {h:.2f} s CPU")
print(f"total ECSEL {tot['ecsel']:.1f} s, HGB {tot['hgb']:.1f} s, ratio {tot['ecsel']/tot['hgb']:.1f}x; load {os.getloadavg()}")
