"""ECSELClassifier() with its defaults vs LogisticRegression, HistGradientBoosting and gplearn.

Data sets: sklearn's bundled breast_cancer, wine and iris, and the two data sets
shipped in this repository (UCI Online Shoppers, 14 rows with missing values
dropped; the stratified ULB credit-card fraud sample). Protocol: 70/30 stratified
split with seed 0, test ROC AUC (one-vs-rest macro for multiclass), fit time.
LogisticRegression is standardised with one-hot categoricals; gplearn's
``SymbolicClassifier`` (binary only) gets population 500 and 10 generations.

Usage: ``python benchmarks/classification.py [--no-gplearn] [--out docs/bench/classification.md]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch
from _tabular import four_datasets, fraud_sample, model_auc  # benchmarks/ is on sys.path
from sklearn.compose import make_column_selector, make_column_transformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ecsel import ECSELClassifier
from ecsel.casestudies import as_model_input, make_hgb, make_logistic


def datasets():
    yield from four_datasets()
    yield fraud_sample()


def _categorical(X):
    return make_column_selector(dtype_include=["category", "object", "bool", "string"])(X)


def gplearn_classifier(X):
    from gplearn.genetic import SymbolicClassifier

    categorical = _categorical(X)
    encode = make_column_transformer((OneHotEncoder(handle_unknown="ignore",
                                                    sparse_output=False), categorical),
                                     remainder=StandardScaler())
    return make_pipeline(encode, SymbolicClassifier(population_size=500, generations=10,
                                                    random_state=0, n_jobs=1))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-gplearn", action="store_true")
    parser.add_argument("--out", default="docs/bench/classification.md")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows = []
    for name, X, y in datasets():
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        # The baselines are the case studies' own (one-hot + standardised logistic
        # regression, boosting with native categoricals), fed 0/1 bools and categories.
        models = {"ECSEL": ECSELClassifier(random_state=0), "LogisticRegression": make_logistic(X),
                  "HistGradientBoosting": make_hgb(0)}
        if not args.no_gplearn and y.nunique() == 2:
            models["gplearn"] = gplearn_classifier(X)
        for method, model in models.items():
            fit_X, test_X = (Xtr, Xte) if method == "ECSEL" else (as_model_input(Xtr),
                                                                   as_model_input(Xte))
            start = time.perf_counter()
            model.fit(fit_X, ytr)
            seconds = time.perf_counter() - start
            row = {"dataset": name, "method": method, "roc_auc": model_auc(model, test_X, yte),
                   "fit_seconds": seconds}
            if method == "ECSEL":
                row["n_terms"] = model.n_terms_
            rows.append(row)
            print(row, flush=True)
    table = pd.DataFrame(rows)
    write_report(table, args.out)


def write_report(table, path):
    wide = table.pivot(index="dataset", columns="method", values="roc_auc")
    means = wide.mean().rename("mean")
    lines = [
        "## Classification: ECSELClassifier() defaults on bundled tabular data",
        "",
        f"Machine: {platform.processor() or platform.machine()}, 1 torch thread, "
        f"torch {torch.__version__}, `python benchmarks/classification.py`. Test ROC AUC, "
        "70/30 stratified split, seed 0 (gplearn: binary sets only).",
        "",
        pd.concat([wide, means.to_frame().T]).round(4).to_markdown(),
        "",
        "Fit seconds:",
        "",
        table.pivot(index="dataset", columns="method", values="fit_seconds").round(2)
        .to_markdown(),
        "",
        "ECSEL terms: " + ", ".join(f"{r.dataset}: {int(r.n_terms)}" for r in
                                      table[table.method == "ECSEL"].itertuples()),
        "",
    ]
    with open(path, "w") as fh:
        fh.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
