"""The complexity-accuracy front: default ("best") equation vs "accuracy" selection, LR, HGB.

For every bundled classification data set (sklearn's breast_cancer, wine, iris; the
shipped UCI Online Shoppers, with and without the 14 rows that have missing values,
and the ULB credit-card fraud sample): 70/30 stratified split with seed 0, one
``ECSELClassifier(random_state=0)`` fit, then the test ROC AUC (one-vs-rest macro for
multiclass) and complexity (factors) of the default equation (``model_selection=
"best"``) and of the row ``"accuracy"`` would deploy (the same fit, via ``select``),
against LogisticRegression and HistGradientBoosting (the case studies' baselines).
Also the largest cancellation ratio (median |term| / score std on the training rows;
the rule rejects > 1000) and the largest test |decision_function| of the default.

Usage: ``python benchmarks/front.py [--out docs/bench/front.md] [--only NAME ...]``
"""

from __future__ import annotations

import argparse
import platform
import time

import numpy as np
import pandas as pd
import torch
from _tabular import four_datasets, fraud_sample, proba_auc  # benchmarks/ is on sys.path
from sklearn.model_selection import train_test_split

from ecsel import ECSELClassifier
from ecsel._fit.front import cancellation_ratio, choice_sentence
from ecsel._fit.printing import short_table
from ecsel.casestudies._models import as_model_input, make_hgb, make_logistic
from ecsel.datasets import load_online_shoppers


def datasets():
    yield from four_datasets()
    X, y = load_online_shoppers(return_X_y=True)
    yield "online_shoppers (raw, 14 rows with NaN)", X, y
    yield fraud_sample()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="docs/bench/front.md")
    parser.add_argument("--only", nargs="*", default=None)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    rows, fronts = [], []
    for name, X, y in datasets():
        if args.only and not any(o in name for o in args.only):
            continue
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
        start = time.perf_counter()
        try:
            est = ECSELClassifier(random_state=0).fit(Xtr, ytr)
        except ValueError as exc:  # e.g. missing values before the transform supports them
            print(f"{name}: skipped ({exc})")
            continue
        fit_s = time.perf_counter() - start
        front = est.equations_
        best = est.selected_index_
        acc = int(est.select(model_selection="accuracy").selected_index_)
        auc_acc = proba_auc(yte, est.predict_proba(Xte))
        est.select(best)
        auc_best = proba_auc(yte, est.predict_proba(Xte))
        terms = est.signomial_.term_values(Xtr)
        ratio = cancellation_ratio(terms, terms.sum(-1))
        max_score = float(np.abs(est.decision_function(Xte)).max())
        Xb_tr, Xb_te = as_model_input(Xtr), as_model_input(Xte)
        lr = make_logistic(Xtr.dropna()).fit(Xb_tr.fillna(Xb_tr.median(numeric_only=True)),
                                             ytr)
        hgb = make_hgb(0).fit(Xb_tr, ytr)
        auc_lr = proba_auc(yte, lr.predict_proba(Xb_te.fillna(Xb_tr.median(numeric_only=True))))
        auc_hgb = proba_auc(yte, hgb.predict_proba(Xb_te))
        rows.append({
            "dataset": name, "rows": len(X), "front rows": len(front),
            "best: complexity": int(front.loc[best, "complexity"]),
            "best: terms": int(front.loc[best, "n_terms"]), "best: AUC": auc_best,
            "accuracy: complexity": int(front.loc[acc, "complexity"]),
            "accuracy: AUC": auc_acc, "LR AUC": auc_lr, "HGB AUC": auc_hgb,
            "HGB - best": auc_hgb - auc_best, "cancel ratio": ratio,
            "max |score|": max_score, "fit s": fit_s,
        })
        print(rows[-1], flush=True)
        fronts.append((name, front, best, choice_sentence(front, best, "best", None)))
    table = pd.DataFrame(rows)
    lines = [
        "# Readable equations: the complexity-accuracy front (`benchmarks/front.py`)",
        "",
        f"Machine: {platform.machine()} VM, 2 cores shared with other developers' jobs "
        f"(fit seconds are indicative only), 1 torch thread, torch {torch.__version__}. "
        "70/30 stratified split, seed 0, test ROC AUC (one-vs-rest macro for multiclass). "
        "`best` is the default `ECSELClassifier(random_state=0)`; `accuracy` is the row "
        "`model_selection=\"accuracy\"` deploys, from the same fit (`select`). Complexity "
        "counts factors (an exponent or an indicator weight; coefficients are not counted). "
        "`cancel ratio` is the largest median |term| / std(score) on the training rows of "
        "the default equation (rows above 1000 are not admitted to the front). LR is "
        "standardised with one-hot categoricals (NaN filled with training medians), HGB "
        "has native categoricals and NaN.",
        "",
        table.to_markdown(index=False, floatfmt=".4f"),
        "",
    ]
    for name, front, best, sentence in fronts:
        lines += [f"## Front: {name}", "", sentence, "", "```",
                  short_table(front, best, "val AUC", width=110), "```", ""]
    with open(args.out, "w") as fh:
        fh.write("\n".join(lines))
    print(table.to_string())


if __name__ == "__main__":
    main()
