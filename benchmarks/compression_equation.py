"""Distil a tabular MLP into an ECSEL equation, with and without attribution matching.

Data: ``ecsel.datasets.load_online_shoppers`` and the bundled credit-card fraud sample,
each split 70 / 30 (stratified, seed 0). Teacher: an MLP (inputs: one-hot categoricals,
``log1p`` of non-negative numeric columns, standardised; 64-32 ReLU units), trained on the
true labels with a fixed seed. Students, fitted on ``--n-fit`` training rows:

* ``plain``: ``ECSELRegressor(random_state=seed)`` fitted to the teacher's logits;
* ``tuned, beta=0``: the same, fine-tuned on the fidelity term only;
* ``tuned, beta=B``: fine-tuned with the attribution-matching term (``EquationStudent``).

Both tuned students start from the one plain fit (``prefit=True``); their ``seconds``
are the fine-tuning alone (teacher attributions included), the plain row's the fit.

Scored on the test split: fidelity on all of it (ROC AUC of the student's score against
the teacher's labels ``logit > 0``; R^2 on the teacher's logits) and attribution agreement
on ``--n-test`` of its rows (mean per-row Spearman correlation between the teacher's
integrated gradients, averaged over the 32 background rows, and the student's exact
Shapley values against them).

    PYTHONPATH=. .venv/bin/python benchmarks/compression_equation.py --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

from attribution.compress import EquationStudent, spearman
from attribution.testing import train_binary_mlp
from ecsel import ECSELRegressor
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


class TabularEncoder:
    """One-hot categoricals, signed log1p of numeric columns that are >= 0 in training.

    Missing numeric values (Online Shoppers has 14 rows with NaN) are imputed with the
    training median and flagged by a 0/1 missingness column, grouped with its feature.
    """

    def __init__(self, frame: pd.DataFrame) -> None:
        self.categorical = {c: sorted(frame[c].astype(str).unique()) for c in frame.columns
                            if not pd.api.types.is_numeric_dtype(frame[c])
                            and not pd.api.types.is_bool_dtype(frame[c])}
        self.log = [c for c in frame.columns if c not in self.categorical
                    and not pd.api.types.is_bool_dtype(frame[c]) and frame[c].min() >= 0]
        numeric = [c for c in frame.columns if c not in self.categorical]
        self.median = {c: float(frame[c].astype(float).median()) for c in numeric}
        self.missing = [c for c in numeric if frame[c].isna().any()]
        raw = self._raw(frame)
        self.mean, self.std = raw.mean(0), raw.std(0) + 1e-6
        self.groups = []
        for c in frame.columns:
            self.groups += [c] * (len(self.categorical[c]) if c in self.categorical
                                  else 1 + (c in self.missing))

    def _raw(self, frame: pd.DataFrame) -> np.ndarray:
        cols = []
        for c in frame.columns:
            if c in self.categorical:
                values = frame[c].astype(str).to_numpy()
                cols += [(values == level).astype(float) for level in self.categorical[c]]
            else:
                v = frame[c].to_numpy(dtype=float)
                nan = np.isnan(v)
                v = np.where(nan, self.median[c], v)
                cols.append(np.sign(v) * np.log1p(np.abs(v)) if c in self.log else v)
                if c in self.missing:
                    cols.append(nan.astype(float))
        return np.column_stack(cols)

    def __call__(self, frame: pd.DataFrame) -> torch.Tensor:
        return torch.tensor((self._raw(frame) - self.mean) / self.std, dtype=torch.float32)


def train_teacher(encoder: TabularEncoder, X: pd.DataFrame, y: np.ndarray, seed: int = 0):
    return train_binary_mlp(encoder(X), y, epochs=30, seed=seed)


def load(name: str):
    if name == "shoppers":
        bunch = load_online_shoppers()
    else:
        bunch = load_credit_card_fraud(full=False)
    X, y = bunch.data.reset_index(drop=True), np.asarray(bunch.target, dtype=int)
    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def score(student_score, teacher_logit, teacher_attr, student_attr) -> dict:
    """Fidelity on the whole test split; attribution agreement on the ``--n-test`` rows."""
    return {
        "auc_vs_teacher": float(roc_auc_score(teacher_logit > 0, student_score)),
        "r2_logit": float(r2_score(teacher_logit, student_score)),
        "n_teacher_positive": int((teacher_logit > 0).sum()),
        "rank_corr": float(np.nanmean(spearman(teacher_attr, student_attr))),
    }


def run(name: str, seeds: list[int], args) -> list[dict]:
    X_train, X_test, y_train, y_test = load(name)
    encoder = TabularEncoder(X_train)
    teacher = train_teacher(encoder, X_train, y_train)
    with torch.no_grad():
        test_logit = teacher(encoder(X_test))[:, 0].double().numpy()
    teacher_test_auc = roc_auc_score(y_test, test_logit)
    rows = []
    for seed in seeds:
        rng = np.random.default_rng(seed)
        fit_rows = X_train.iloc[np.sort(rng.choice(len(X_train), args.n_fit, replace=False))]
        test_rows = X_test.iloc[np.sort(rng.choice(len(X_test), args.n_test, replace=False))]
        start = time.perf_counter()
        with torch.no_grad():
            fit_logit = teacher(encoder(fit_rows))[:, 0].double().numpy()
        plain = ECSELRegressor(random_state=seed).fit(fit_rows, fit_logit)
        fit_seconds = time.perf_counter() - start
        for beta in [0.0, *args.betas]:
            start = time.perf_counter()
            student = EquationStudent(
                teacher, encoder=encoder, groups=encoder.groups, beta=beta,
                epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, random_state=seed,
                regressor=plain, prefit=True).fit(fit_rows)
            seconds = time.perf_counter() - start
            attr = student.teacher_attribution(test_rows)
            if beta == 0.0:
                phi = plain.explain(test_rows, background=student.background_).values
                rows.append({"data": name, "seed": seed, "student": "plain", "beta": None,
                             "seconds": fit_seconds, "teacher_test_auc": teacher_test_auc,
                             "n_terms": int(plain.signomial_.n_terms),
                             **score(plain.predict(X_test), test_logit, attr, phi)})
                print(json.dumps(rows[-1]), flush=True)
            phi = student.explain(test_rows).values
            rows.append({"data": name, "seed": seed, "student": "tuned", "beta": beta,
                         "seconds": seconds, "teacher_test_auc": teacher_test_auc,
                         "n_terms": int(student.signomial_.n_terms),
                         **score(student.predict(X_test), test_logit, attr, phi)})
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["shoppers", "fraud"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--betas", type=float, nargs="+", default=[10.0])
    parser.add_argument("--n-fit", type=int, default=3000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default=str(RESULTS / "compression_equation.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.data:
        rows += run(name, args.seeds, args)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
