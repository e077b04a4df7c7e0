"""Test ROC AUC of ECSELClassifier() on the four sets over several seeds (issue 25).

Measures whether a change of the fit's validation split (for example the row-hash
split shared with ``fit_stream``) costs accuracy: for every seed ``s`` the data are
split 70/30 (stratified, ``random_state=s``) and ``ECSELClassifier(random_state=s)``
is fitted on the 70 %. One thread; prints one line per fit and the mean test AUC.

Usage: ``python benchmarks/split_accuracy.py [--seeds 0 1 2 3]``
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch
from _tabular import four_datasets, model_auc  # benchmarks/ is on sys.path
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    aucs = []
    with threadpool_limits(1):
        for name, X, y in four_datasets():
            for seed in args.seeds:
                Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                                      random_state=seed)
                start = time.process_time()
                model = ECSELClassifier(random_state=seed).fit(Xtr, ytr)
                cpu = time.process_time() - start
                auc = model_auc(model, Xte, yte)
                aucs.append(auc)
                print(f"{name} seed {seed}: test AUC {auc:.4f}, complexity "
                      f"{int(model.equations_.complexity[model.selected_index_])}, "
                      f"CPU {cpu:.2f} s", flush=True)
    print(f"mean test AUC over {len(aucs)} fits: {np.mean(aucs):.4f}")


if __name__ == "__main__":
    main()
