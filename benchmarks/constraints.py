"""Constraints as exact properties (issue 28): monotonic_cst on Online Shoppers, units on Feynman.

``shoppers``: Online Shoppers (raw columns, 70/30 split, seed 0), ECSELClassifier()
with and without ``monotonic_cst={"PageValues": 1, "ExitRates": -1, "BounceRates": -1}``,
HistGradientBoostingClassifier with the same ``monotonic_cst`` and EBM with its
``monotone_constraints`` (benchmark-only dependency): test ROC AUC, fit time, and
violations of the constraints by finite differences at 100,000 random points drawn
uniformly from ten times the training range of every numeric column (categorical
columns: training levels); ECSEL's own certificate from ``monotonicity()``, also
after a JSON round trip. Writes a partial-dependence plot of ExitRates (the
direction the unconstrained fit gets wrong).

``feynman``: the 45 signomial AI Feynman laws at 0, 1 % and 10 % noise,
``ECSELRegressor(random_state=0)`` unit-free and with the units of
``load_feynman(..., return_units=True)``: exact recovery, homogeneity of every
deployed equation (exponents @ dimension matrix = target dimension, checked by
linear algebra), fit time. Rows go to a JSON-lines file as they finish
(``--resume`` continues a run).

Usage: ``python benchmarks/constraints.py shoppers|feynman|report [--noise ...] [--laws ...]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ecsel import ECSELClassifier, ECSELRegressor, load_json
from ecsel.datasets import list_feynman, load_feynman, load_online_shoppers
from ecsel.recovery import exact_recovery

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DOC = ROOT / "docs" / "bench" / "constraints.md"
PLOT = ROOT / "docs" / "bench" / "constraints_exitrates.png"
CONSTRAINTS = {"PageValues": 1, "ExitRates": -1, "BounceRates": -1}
N_POINTS = 100_000
RANGE_FACTOR = 10.0
BASES = ("m", "s", "kg", "T", "V")
# The units table's own I.43.16 (v = mu_drift q Volt / d) is not homogeneous:
# mu_drift [kg/s] * q [kg m^2 s^-2 V^-1] * Volt [V] / d [m] = kg^2 m s^-3, not m/s.
NOT_HOMOGENEOUS = ("I.43.16",)


def machine() -> str:
    load = os.getloadavg()
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        model = next(line.split(":", 1)[1].strip() for line in cpu.splitlines()
                     if line.startswith("Model name"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    return (f"{model}, {os.cpu_count()} cores, torch {torch.__version__}, load average "
            f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min) at the end")


# ------------------------------------------------------------------ shoppers
def random_points(X: pd.DataFrame, n: int, factor: float, seed: int = 0) -> pd.DataFrame:
    """``n`` rows: numeric columns uniform on ``factor`` times their training range
    (centred on it), other columns drawn from their training values."""
    rng = np.random.default_rng(seed)
    out = {}
    for c in X.columns:
        s = X[c]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            lo, hi = float(s.min()), float(s.max())
            pad = (factor - 1.0) / 2.0 * (hi - lo)
            out[c] = rng.uniform(lo - pad, hi + pad, n)
        else:
            out[c] = rng.choice(s.dropna().to_numpy(), n)
    return pd.DataFrame(out)[list(X.columns)].astype(
        {c: X[c].dtype for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])})


def violations(predict, points: pd.DataFrame, X: pd.DataFrame, constraints: dict) -> dict:
    """Finite-difference violations per constrained column (step: 1 % of its range)."""
    base = predict(points)
    counts = {}
    for column, sign in constraints.items():
        step = 0.01 * float(X[column].max() - X[column].min())
        moved = points.copy()
        moved[column] = moved[column] + step
        diff = sign * (predict(moved) - base)
        counts[column] = int(np.sum(diff < -1e-12))
    return counts


def run_shoppers() -> dict:
    from interpret.glassbox import ExplainableBoostingClassifier
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import train_test_split

    X, y = load_online_shoppers(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=0)
    points = random_points(X_tr, N_POINTS, RANGE_FACTOR)
    signs = [CONSTRAINTS.get(c, 0) for c in X.columns]
    cat = lambda f: f.astype({c: "category" for c in f.columns  # noqa: E731
                              if not pd.api.types.is_numeric_dtype(f[c])})
    models = {
        "ECSEL (unconstrained)": (ECSELClassifier(random_state=0), lambda f: f),
        "ECSEL monotonic_cst": (ECSELClassifier(random_state=0, monotonic_cst=CONSTRAINTS),
                                lambda f: f),
        "HGB (unconstrained)": (HistGradientBoostingClassifier(
            random_state=0, categorical_features="from_dtype"), cat),
        "HGB monotonic_cst": (HistGradientBoostingClassifier(
            random_state=0, categorical_features="from_dtype", monotonic_cst=CONSTRAINTS), cat),
        "EBM monotone_constraints": (ExplainableBoostingClassifier(
            random_state=0, monotone_constraints=signs, n_jobs=2), lambda f: f),
    }
    rows, fitted = [], {}
    for name, (model, prep) in models.items():
        start = time.perf_counter()
        model.fit(prep(X_tr), y_tr)
        seconds = time.perf_counter() - start
        proba = lambda f, m=model, p=prep: m.predict_proba(p(f))[:, 1]  # noqa: E731
        auc = roc_auc_score(y_te, proba(X_te))
        counts = violations(proba, points, X_tr, CONSTRAINTS)
        row = {"model": name, "test_auc": round(auc, 4), "fit_s": round(seconds, 1),
               **{f"violations {c}": v for c, v in counts.items()}}
        if name.startswith("ECSEL"):
            table = model.monotonicity()
            row["monotonicity() ExitRates"] = table.loc["ExitRates", "monotonicity"]
            if "certified" in table:
                loaded = load_json(model.to_json()).monotonicity()
                row["certified (fit / loaded from JSON)"] = (
                    f"{bool(table['certified'].dropna().all())} / "
                    f"{bool(loaded['certified'].dropna().all())}")
                row["front rows all certified"] = all_rows_certified(model)
            row["equation factors"] = int(model.equations_.loc[model.selected_index_,
                                                               "complexity"])
        rows.append(row)
        fitted[name] = model
        print(row, flush=True)
    plot_exitrates(fitted, X_tr)
    result = {"rows": rows, "n_train": len(X_tr), "n_test": len(X_te), "machine": machine()}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "constraints_shoppers.json").write_text(json.dumps(result, indent=1))
    return result


def all_rows_certified(model) -> str:
    """``certified rows / front rows``: every row of ``equations_``, from its closed form."""
    sigs = list(model.equations_["signomial"])
    good = 0
    names = model.signomial_.input_features
    for sig in sigs:
        effect = sig.coef[..., None] * sig.exponents
        ok = True
        for m, fmap in enumerate(sig.transform.feature_maps):
            sign = model.constraints_["monotonic"].get(fmap.source)
            if sign is None:
                continue
            if fmap.missing:
                ok &= bool(np.all(sig.exponents[..., m][sig.coef != 0] == 0))
            else:
                ok &= bool(np.all(sign * effect[..., m] >= 0))
        good += ok
    assert names  # the table is per column; rows are checked per model feature
    return f"{good} / {len(sigs)}"


def plot_exitrates(fitted: dict, X_tr: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    grid = np.linspace(0.0, float(X_tr["ExitRates"].max()) * 1.5, 80)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    background = X_tr.sample(300, random_state=0)
    for name in ("ECSEL (unconstrained)", "ECSEL monotonic_cst"):
        est = fitted[name]
        pdp = est.partial_dependence("ExitRates", values=grid, background=background)
        axes[0].plot(grid, pdp.iloc[:, 1], label=name)
        row = X_tr.median(numeric_only=True)
        probe = X_tr.iloc[[0] * len(grid)].reset_index(drop=True)
        for c, v in row.items():
            probe[c] = v
        probe["ExitRates"] = grid
        axes[1].plot(grid, est.predict_proba(probe)[:, 1], label=name)
    axes[0].set(xlabel="ExitRates", ylabel="partial dependence (logit)",
                title="Average over 300 training rows")
    axes[1].set(xlabel="ExitRates", ylabel="P(Revenue)", title="At the median visitor")
    for ax in axes:
        ax.axvline(float(X_tr["ExitRates"].max()), color="grey", ls=":", lw=1)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ feynman
def homogeneous(est, units: dict) -> bool:
    """Every term of the deployed equation has the target's dimension (and no intercept)."""
    sig = est.signomial_
    cols = list(sig.input_features)
    D = np.array([[units["units"][c].get(b, 0.0) for b in BASES] for c in cols])
    d = np.array([units["target_units"].get(b, 0.0) for b in BASES])
    live = sig.coef[0] != 0
    ok = np.allclose(sig.exponents[0][live] @ D, d, atol=1e-9)
    return bool(ok and (sig.intercept[0] == 0 or not np.any(d)))


def run_feynman(noises, laws, out: Path, resume: bool, arms=(False, True)) -> None:
    torch.set_num_threads(1)
    done = set()
    if resume and out.exists():
        for line in out.read_text().splitlines():
            r = json.loads(line)
            done.add((r["law"], r["noise"], r["units"]))
    with out.open("a") as fh:
        for noise in noises:
            for name in laws:
                X, y, truth, units = load_feynman(name, n_samples=2000, noise=noise,
                                                  random_state=0, return_units=True)
                for with_units in arms:
                    if (name, noise, with_units) in done:
                        continue
                    kwargs = units if with_units else {}
                    start = time.perf_counter()
                    est = ECSELRegressor(random_state=0, device="cpu", **kwargs).fit(X, y)
                    seconds = time.perf_counter() - start
                    row = {"law": name, "noise": noise, "units": with_units,
                           "recovered": bool(exact_recovery(est, truth, list(X.columns))),
                           "homogeneous": homogeneous(est, units), "seconds": seconds,
                           "equation": str(est.sympy(precision=5)),
                           "load": os.getloadavg()[0]}
                    fh.write(json.dumps(row) + "\n")
                    fh.flush()
                    print(row, flush=True)


def feynman_report(path: Path) -> str:
    table = pd.DataFrame([json.loads(line) for line in path.read_text().splitlines()])
    lines = []
    for noise, part in table.groupby("noise"):
        free = part[~part.units].set_index("law")
        unit = part[part.units].set_index("law")
        both = free.index.intersection(unit.index)
        free, unit = free.loc[both], unit.loc[both]
        homog_laws = [law for law in both if law not in NOT_HOMOGENEOUS]
        fallback = unit.recovered.copy()
        for law in NOT_HOMOGENEOUS:
            if law in fallback.index:
                fallback[law] = free.recovered[law]
        lines.append({
            "noise": noise, "laws": len(both),
            "recovered unit-free": int(free.recovered.sum()),
            "recovered with units": int(unit.recovered.sum()),
            "with units; I.43.16 unit-free": int(fallback.sum()),
            "homogeneous laws recovered with units": f"{int(unit.recovered[homog_laws].sum())}"
                                                     f" / {len(homog_laws)}",
            "deployed homogeneous (units)": f"{int(unit.homogeneous.sum())} / {len(unit)}",
            "deployed homogeneous (unit-free)": f"{int(free.homogeneous.sum())} / {len(free)}",
            "fit s, median (unit-free / units)": f"{free.seconds.median():.2f} / "
                                                 f"{unit.seconds.median():.2f}",
            "total fit time ratio units / unit-free": round(unit.seconds.sum()
                                                            / free.seconds.sum(), 2),
        })
    per_law = table.pivot_table(index="law", columns=["noise", "units"], values="recovered",
                                aggfunc="first")
    return "\n".join([pd.DataFrame(lines).to_markdown(index=False), "",
                      "<details><summary>Per law (recovered?)</summary>", "",
                      per_law.to_markdown(), "", "</details>", ""])


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["shoppers", "feynman", "report"])
    parser.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.01, 0.1])
    parser.add_argument("--laws", nargs="*", default=None)
    parser.add_argument("--out", default=str(RESULTS / "constraints_feynman.jsonl"))
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--arms", nargs="+", choices=["free", "units"], default=["free", "units"])
    args = parser.parse_args(argv)
    if args.part == "shoppers":
        run_shoppers()
    elif args.part == "feynman":
        run_feynman(args.noise, args.laws or list_feynman(signomial_only=True), Path(args.out),
                    args.resume, tuple(a == "units" for a in args.arms))
    else:
        print(feynman_report(Path(args.out)))


if __name__ == "__main__":
    main()
