"""Missing values and heavy tails: which map for signed columns, measured (issue 11).

Compares the signed-column maps of the positivity transform on real data, each with
the default ``ECSELClassifier(random_state=0)`` on a 70/30 stratified split (seed 0),
against a standardised LogisticRegression (median imputation + missingness
indicators where there are NaN) and HistGradientBoosting (native NaN and
categoricals):

``linear``  the former map ``exp(g (x - median) / std)`` (unbounded);
``clip``    ``exp(g (clip(x, q_0.5%, q_99.5%) - median) / iqr_scale)`` (clipping at
            training quantiles, robust centre and scale);
``asinh``   the shipped ``signed`` map ``exp(g asinh((clip(x, min, max) - median) /
            iqr_scale))`` (robust centre and scale, a power law in the tails, clipped at
            the training range).

Data: the bundled fraud sample (signed PCA columns, heavy tails), the bundled Online
Shoppers data exactly as loaded (NaN in 8 columns, categorical/bool/string columns),
and a held-out set not in the repository: scikit-learn's bundled breast-cancer data,
standardised (signed, right-skewed: kurtosis up to 50) with 10 % of the entries
removed completely at random (seed 0).

Run: ``python benchmarks/missing_heavy_tails.py [--datasets fraud,shoppers,cancer]
[--variants linear,clip,asinh] [--out docs/bench/missing_heavy_tails.md]``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import ecsel._transform as tr
from ecsel import ECSELClassifier


@dataclass(frozen=True)
class _ClipMap(tr.FeatureMap):
    """Benchmark-only variant: robust linear map clipped at training quantiles."""

    def log_feature(self, values):
        v = np.clip(np.asarray(values, dtype=np.float64), self.lower, self.upper)
        return (v - self.center) / self.scale


_SHIPPED = tr._observed_maps


def _variant_maps(variant: str):
    def maps(name, values):
        out = _SHIPPED(name, values)
        if out[0].kind != "signed" or variant == "asinh":
            return out
        if variant.startswith("asinhk"):  # asinh with scale = k robust spreads
            k = float(variant[6:])
            return [tr.FeatureMap(name, name, "signed", scale=k * out[0].scale,
                                  center=out[0].center, lower=out[0].lower,
                                  upper=out[0].upper)]
        if variant.startswith("asinh_"):  # asinh with scale = k standard deviations
            k = float(variant.split("_")[1].rstrip("std") or 1.0)
            return [tr.FeatureMap(name, name, "signed", scale=k * float(np.std(values)),
                                  center=out[0].center, lower=out[0].lower,
                                  upper=out[0].upper)]
        if variant == "linear":
            return [tr.FeatureMap(name, name, "linear", scale=float(np.std(values)),
                                  center=float(np.median(values)))]
        lo, hi = np.quantile(values, [0.005, 0.995])
        return [_ClipMap(name, name, "signed", scale=out[0].scale, center=out[0].center,
                         lower=float(lo), upper=float(hi))]
    return maps


def load(name: str):
    from ecsel.datasets import load_credit_card_fraud, load_online_shoppers

    if name == "fraud":
        X, y = load_credit_card_fraud(full=False, return_X_y=True)
    elif name.startswith("shoppers"):
        X, y = load_online_shoppers(return_X_y=True)
        if name == "shoppers_dropna":  # the former protocol (before native NaN)
            keep = X.notna().all(axis=1).to_numpy()
            X, y = X.loc[keep], np.asarray(y)[keep]
    elif name == "cancer":
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True, as_frame=True)
        X = (X - X.mean()) / X.std()
        mask = np.random.default_rng(0).random(X.shape) < 0.10
        X = X.mask(mask)
    else:
        raise ValueError(name)
    return X.reset_index(drop=True), np.asarray(y).astype(int)


def baselines(X: pd.DataFrame):
    cats = [c for c in X.columns if tr.is_categorical(X[c])]
    nums = [c for c in X.columns if c not in cats]
    num = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    cat = make_pipeline(SimpleImputer(strategy="constant", fill_value="missing"),
                        OneHotEncoder(handle_unknown="ignore"))
    lr = make_pipeline(ColumnTransformer([("num", num, nums), ("cat", cat, cats)]),
                       LogisticRegression(max_iter=5000))
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    return {"LogisticRegression": lr, "HistGradientBoosting": hgb}


def _hgb_input(X: pd.DataFrame) -> pd.DataFrame:
    out = X.copy()
    for c in out.columns:
        if pd.api.types.is_bool_dtype(out[c].dtype):
            out[c] = out[c].astype(float)
        elif tr.is_categorical(out[c]) and not isinstance(out[c].dtype, pd.CategoricalDtype):
            out[c] = out[c].astype("category")
    return out


def evaluate(name: str, variants: list[str]) -> list[dict]:
    X, y = load(name)
    tr_idx, te_idx = train_test_split(np.arange(len(y)), test_size=0.3, stratify=y,
                                      random_state=0)
    Xtr, Xte, ytr, yte = X.iloc[tr_idx], X.iloc[te_idx], y[tr_idx], y[te_idx]
    rows = []
    for variant in variants:
        tr._observed_maps = _variant_maps(variant)
        try:
            t0 = time.perf_counter()
            est = ECSELClassifier(random_state=0).fit(Xtr, ytr)
            seconds = time.perf_counter() - t0
            z = est.decision_function(Xte)
        finally:
            tr._observed_maps = _SHIPPED
        rows.append({"data": name, "model": f"ECSEL ({variant})", "roc_auc": roc_auc_score(yte, z),
                     "pr_auc": average_precision_score(yte, z), "n_terms": est.n_terms_,
                     "max_abs_logit": float(np.max(np.abs(z))), "fit_s": seconds,
                     "equation": str(est.signomial_).replace("\n", "; ")})
    for label, model in baselines(X).items():
        Xa, Xb = (_hgb_input(Xtr), _hgb_input(Xte)) if label.startswith("Hist") else (Xtr, Xte)
        t0 = time.perf_counter()
        model.fit(Xa, ytr)
        seconds = time.perf_counter() - t0
        z = model.decision_function(Xb)
        rows.append({"data": name, "model": label, "roc_auc": roc_auc_score(yte, z),
                     "pr_auc": average_precision_score(yte, z), "n_terms": None,
                     "max_abs_logit": float(np.max(np.abs(z))), "fit_s": seconds,
                     "equation": ""})
    return rows


def case_study(name: str, variants: list[str]) -> None:
    """The case-study protocol (80 % fit / 20 % threshold) before and after, per variant."""
    from ecsel.casestudies import compare_classifiers, load_case, split_case

    case = load_case(name, full=False) if name == "fraud" else load_case(name)
    split = split_case(case)
    for variant in variants:
        tr._observed_maps = _variant_maps(variant)
        try:
            comparison = compare_classifiers(case, split)
        finally:
            tr._observed_maps = _SHIPPED
        est = comparison.models["ECSEL"]
        z = est.decision_function(split.X_test)
        print(f"== {name}, map {variant}: max |test logit| {np.abs(z).max():.4g}")
        print(comparison.metrics.to_string(float_format=lambda v: f"{v:.4f}"))
        print(est.signomial_.to_sympy(precision=3), flush=True)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", default="fraud,shoppers,cancer")
    parser.add_argument("--variants", default="linear,clip,asinh")
    parser.add_argument("--out", default=None)
    parser.add_argument("--case-study", action="store_true",
                        help="run the case-study protocol (ecsel.casestudies) instead")
    args = parser.parse_args(argv)
    if args.case_study:
        for name in args.datasets.split(","):
            case_study(name, args.variants.split(","))
        return
    rows = []
    for name in args.datasets.split(","):
        rows.extend(evaluate(name, args.variants.split(",")))
        print(pd.DataFrame(rows).drop(columns="equation").to_string(index=False), flush=True)
    table = pd.DataFrame(rows)
    if args.out:
        with open(args.out, "w") as fh:
            fh.write(table.drop(columns="equation").to_markdown(index=False, floatfmt=".4g"))
            fh.write("\n\nEquations:\n\n")
            for r in rows:
                if r["equation"]:
                    fh.write(f"- {r['data']}, {r['model']}: `{r['equation']}`\n")


if __name__ == "__main__":
    main()
