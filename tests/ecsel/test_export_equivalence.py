"""ONNX, SQL and Python exports reproduce the estimator on every row (issue 30).

Oracles: the estimator's own ``decision_function`` / ``predict_proba`` / ``predict``,
evaluated by onnxruntime, a real SQLite (the standard library), a real DuckDB and the
generated Python function, on the raw Online Shoppers table (NaN, categories and a
boolean), the fraud sample, a three-class set with string labels and a regressor,
each with hostile rows appended: NaN everywhere (also in columns that had none in
training), unseen levels, and values far beyond the training range.
"""

from __future__ import annotations

import sqlite3
import warnings

import numpy as np
import pandas as pd
import pytest

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel.datasets import load_credit_card_fraud, load_online_shoppers
from ecsel.export.onnx import onnx_inputs

ort = pytest.importorskip("onnxruntime")
duckdb = pytest.importorskip("duckdb")
pytestmark = pytest.mark.slow  # four small fits, then every row of four data sets

#: Relative error allowed in double precision (SQL, Python) and through onnxruntime.
EXACT = 1e-9
ONNX = 1e-6
#: ONNX probabilities are compared relative to max(|p|, PROBA_FLOOR): the estimator's
#: own ``1 - p`` carries an absolute rounding error of about 1e-16, so a tiny
#: probability's last digits are noise in the reference itself (onnxruntime's sigmoid
#: rounds differently from scipy's; measured: at most 2 ulp of 1 apart).
PROBA_FLOOR = 1e-9

FAST = {"n_terms": 2, "n_restarts": 2, "max_iter": 15, "random_state": 0}
N_FIT = 800  # the fits are small (the file must stay fast); the evaluation is on all rows


def hostile_rows(X: pd.DataFrame) -> pd.DataFrame:
    """Rows a deployed model meets: missing, unseen and out-of-range values."""
    rows = []
    for j, name in enumerate(X.columns):
        series = X[name]
        base = X.iloc[j % len(X)].to_dict()
        if pd.api.types.is_bool_dtype(series.dtype):
            rows.append({**base, name: not base[name]})
            continue
        if isinstance(series.dtype, pd.CategoricalDtype) or series.dtype == object:
            rows += [{**base, name: None}, {**base, name: "never-seen-level"}]
            continue
        lo, hi = float(series.min()), float(series.max())
        span = max(hi - lo, 1.0)
        rows += [{**base, name: np.nan}, {**base, name: hi + 1e3 * span},
                 {**base, name: lo - 1e3 * span}, {**base, name: 0.0},
                 {**base, name: 1e-300}, {**base, name: 1e250},
                 {**base, name: 1.7e308}, {**base, name: -1.7e308}]
    all_missing = {name: (np.nan if pd.api.types.is_float_dtype(X[name].dtype) else None)
                   for name in X.columns if not pd.api.types.is_bool_dtype(X[name].dtype)}
    rows.append({**X.iloc[0].to_dict(), **all_missing})
    extra = pd.DataFrame(rows, columns=X.columns)
    out = pd.concat([X, extra], ignore_index=True)
    for name in X.columns:  # keep the dtypes (a categorical gains the unseen level)
        if isinstance(X[name].dtype, pd.CategoricalDtype):
            cats = list(X[name].cat.categories) + ["never-seen-level"]
            out[name] = pd.Categorical(out[name].astype(object), categories=cats)
        elif pd.api.types.is_bool_dtype(X[name].dtype):
            out[name] = out[name].astype(bool)
        elif pd.api.types.is_numeric_dtype(X[name].dtype):
            out[name] = out[name].astype(np.float64)
    return out


def _shoppers():
    X, y = load_online_shoppers(return_X_y=True)
    return X, y


def fit_cases():
    """name -> (fitted estimator, evaluation frame): four data sets, hostile rows added."""
    X, y = _shoppers()
    shoppers = ECSELClassifier(**FAST).fit(X.iloc[:N_FIT], y.iloc[:N_FIT])
    Xf, yf = load_credit_card_fraud(return_X_y=True, full=False)  # the bundled sample
    keep = np.flatnonzero(yf.to_numpy() == 1).tolist() + list(range(N_FIT))
    fraud = ECSELClassifier(**FAST).fit(Xf.iloc[keep], yf.iloc[keep])
    # three classes with string labels, NaN and categories among the inputs
    Xm = X.drop(columns=["VisitorType"])
    ym = X["VisitorType"].astype(str)
    multi = ECSELClassifier(**FAST).fit(Xm.iloc[:N_FIT], ym.iloc[:N_FIT])
    # a regressor on raw shoppers columns (NaN, a category, a boolean, a signed column);
    # a multiplicative target, so that one term uses several of them
    Xr = X[["Administrative", "ExitRates", "Month", "Weekend", "ProductRelated_Duration"]]
    rng = np.random.default_rng(0)
    yr = (5.0 * (X.ExitRates.fillna(0.02) + 0.02) ** -0.5 * np.where(X.Month == "Nov", 1.5, 1.0)
          * np.where(X.Weekend, 1.2, 1.0) * (X.Administrative.fillna(0) + 1.0) ** 0.3
          * np.exp(rng.normal(0, 0.05, len(X))))
    reg = ECSELRegressor(n_terms=1, n_restarts=2, max_iter=20, random_state=0).fit(
        Xr.iloc[:400], yr[:400])
    return {
        "shoppers": (shoppers, hostile_rows(X)),
        "fraud": (fraud, hostile_rows(Xf.iloc[:3000])),
        "multiclass": (multi, hostile_rows(Xm)),
        "regressor": (reg, hostile_rows(Xr)),
    }


@pytest.fixture(scope="module")
def cases():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fit_cases()


def reference(est, X, index=None):
    """The estimator's numbers: {name: array}."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if hasattr(est, "classes_"):
            return {"score": est.decision_function(X, index=index),
                    "proba": est.predict_proba(X, index=index),
                    "label": est.predict(X, index=index)}
        return {"prediction": est.predict(X, index=index)}


def rel_error(got, want, floor: float = 0.0) -> float:
    """max |got - want| / max(|want|, floor) (an exact 0 must be matched exactly)."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape
    assert np.all(np.isfinite(got)), "the export returned NaN or infinity"
    scale = np.maximum(np.abs(want), floor)
    error = np.abs(got - want)
    if np.any(error[scale == 0] != 0):
        return np.inf
    return float(np.max(error[scale > 0] / scale[scale > 0], initial=0.0))


def check(got: dict, want: dict, tol: float, proba_floor: float = 0.0) -> dict:
    errors = {}
    for key, value in want.items():
        if key == "label":
            assert np.array_equal(np.asarray(got[key]).astype(value.dtype), value), \
                "predicted class differs"
            continue
        errors[key] = rel_error(got[key], value, proba_floor if key == "proba" else 0.0)
        assert errors[key] <= tol, (key, errors[key])
    return errors


def run_python(est, X, index=None) -> dict:
    namespace: dict = {}
    exec(est.to_python(index=index), namespace)
    function = namespace["ecsel_predict"]
    results = [function(row) for row in X.to_dict("records")]
    if not hasattr(est, "classes_"):
        return {"prediction": np.array(results)}
    return {"score": np.array([r["score"] for r in results]),
            "proba": np.array([r["probabilities"] for r in results]),
            "label": np.array([r["label"] for r in results], dtype=object)}


def _sql_result(est, rows: pd.DataFrame) -> dict:
    rows = rows.sort_values("row_id")
    if not hasattr(est, "classes_"):
        return {"prediction": rows["prediction"].to_numpy(dtype=np.float64)}
    probas = [f"proba_{c}" for c in est.classes_]
    scores = "score" if len(est.classes_) == 2 else [f"score_{c}" for c in est.classes_]
    return {"score": rows[scores].to_numpy(dtype=np.float64),
            "proba": rows[probas].to_numpy(dtype=np.float64),
            "label": rows["prediction"].to_numpy()}


def run_sqlite(est, X, index=None) -> dict:
    db = sqlite3.connect(":memory:")
    X.assign(row_id=np.arange(len(X))).to_sql("raw", db, index=False)
    query = est.to_sql("raw", dialect="sqlite", keep=["row_id"], index=index)
    return _sql_result(est, pd.read_sql_query(query, db))


def run_duckdb(est, X, index=None) -> dict:
    db = duckdb.connect()
    frame = X.assign(row_id=np.arange(len(X)))
    db.register("frame", frame)
    db.execute("CREATE TABLE raw AS SELECT * FROM frame")
    query = est.to_sql("raw", dialect="duckdb", keep=["row_id"], index=index)
    return _sql_result(est, db.execute(query).df())


def run_onnx(est, X, index=None) -> dict:
    model = est.to_onnx(index=index)
    session = ort.InferenceSession(model.SerializeToString())
    names = [o.name for o in session.get_outputs()]
    out = dict(zip(names, session.run(None, onnx_inputs(model, X))))
    if not hasattr(est, "classes_"):
        return {"prediction": out["prediction"]}
    return {"score": out["scores"], "proba": out["probabilities"], "label": out["label"]}


RUNNERS = {"python": (run_python, EXACT, 0.0), "sqlite": (run_sqlite, EXACT, 0.0),
           "duckdb": (run_duckdb, EXACT, 0.0), "onnx": (run_onnx, ONNX, PROBA_FLOOR)}


@pytest.mark.parametrize("target", sorted(RUNNERS))
@pytest.mark.parametrize("case", ["shoppers", "fraud", "multiclass", "regressor"])
def test_export_reproduces_estimator_on_every_row(cases, case, target):
    est, X = cases[case]
    run, tol, floor = RUNNERS[target]
    check(run(est, X), reference(est, X), tol, floor)


@pytest.mark.parametrize("target", sorted(RUNNERS))
@pytest.mark.parametrize("case", ["shoppers", "regressor"])
def test_export_of_another_row_of_the_front(cases, case, target):
    est, X = cases[case]
    rows = [i for i in est.equations_.index if i != est.selected_index_]
    index = max(rows, key=lambda i: est.equations_.loc[i, "complexity"])
    run, tol, floor = RUNNERS[target]
    X = X.iloc[::7]
    want = reference(est, X, index=index)
    assert rel_error(reference(est, X)[next(iter(want))], want[next(iter(want))]) > 0, \
        "the chosen row must differ from the deployed equation"
    check(run(est, X, index=index), want, tol, floor)
