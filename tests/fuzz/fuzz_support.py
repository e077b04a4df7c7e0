"""What the property-based suite shares: budgets, generated frames, the contract checks.

Budgets: ``make test`` runs each property with a small, derandomized example budget
(the same cases on every run). ``ECSEL_FUZZ=long`` (``make fuzz``) runs each
property's own long budget (times ``ECSEL_FUZZ_SCALE`` if set), and random cases
instead of the derandomized ones when ``ECSEL_FUZZ_SEED`` is set.
``ECSEL_FUZZ_REPORT=path`` writes the number of cases each property ran to a JSON
file (the floor in docs/benchmarks.md is counted from it).

The contract (issue 32): a call either succeeds, with finite outputs, probabilities in
[0, 1] summing to 1, an exact JSON round trip and complete finite Shapley values, or
raises a ``ValueError``; no other exception type, no ``RuntimeWarning`` reaching the
user, no flood of warnings.
"""

from __future__ import annotations

import collections
import json
import os
import string
import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

LONG = os.environ.get("ECSEL_FUZZ", "") == "long"
SCALE = int(os.environ.get("ECSEL_FUZZ_SCALE", "40")) if LONG else 1
SEED = os.environ.get("ECSEL_FUZZ_SEED")
#: Most warnings one call may emit (one per column and kind is fine; a flood is not).
MAX_WARNINGS = 12
#: cases run per property: {"estimator" | "attribution": {test name: n}}
COUNTS: dict = collections.defaultdict(collections.Counter)

#: Words that betray an internal error reaching the user.
INTERNAL = ("unreachable", "Argument", "tensor", "Tensor", "assert", "NoneType", "lstsq",
            "index out of", "object has no attribute")


def budget(n: int, long: int | None = None, **extra):
    """Hypothesis settings: ``n`` derandomized examples; under ``make fuzz`` ``long``
    examples (default ``n * SCALE``), ``ECSEL_FUZZ_SCALE`` times that if set."""
    # No shrinking: a failing case is printed as drawn (shrinking a fit can take
    # minutes, beyond any test budget); the recipe in each message names the input.
    if LONG:
        n = long * int(os.environ.get("ECSEL_FUZZ_SCALE", "1")) if long else n * SCALE
    kwargs = dict(max_examples=n, deadline=None, database=None, derandomize=True,
                  print_blob=True, suppress_health_check=list(HealthCheck),
                  phases=(Phase.explicit, Phase.generate), report_multiple_bugs=True)
    if SEED is not None:
        kwargs["derandomize"] = False
    kwargs.update(extra)
    return settings(**kwargs)


def count(kind: str, name: str) -> None:
    """Count one generated case (written to ECSEL_FUZZ_REPORT every 25 cases, so that a
    long run stopped early still leaves its count)."""
    COUNTS[kind][name] += 1
    if os.environ.get("ECSEL_FUZZ_REPORT") and sum(COUNTS[kind].values()) % 25 == 0:
        write_report(os.environ["ECSEL_FUZZ_REPORT"])


def write_report(path: str, failed: int | None = None) -> None:
    report = {kind: dict(cases) for kind, cases in COUNTS.items()}
    report["total"] = {kind: sum(cases.values()) for kind, cases in COUNTS.items()}
    report["failed"] = failed
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


class Recorded:
    """Record every warning of a block (RuntimeWarnings and floods are defects)."""

    def __enter__(self):
        self._ctx = warnings.catch_warnings(record=True)
        self.caught = self._ctx.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._ctx.__exit__(*exc)
        return False

    def check(self, what: str) -> None:
        runtime = [w for w in self.caught if issubclass(w.category, RuntimeWarning)]
        assert not runtime, (f"{what}: RuntimeWarning reached the user: "
                             f"{runtime[0].message} ({runtime[0].filename}:{runtime[0].lineno})")
        assert len(self.caught) <= MAX_WARNINGS, (
            f"{what}: {len(self.caught)} warnings, e.g. {self.caught[0].message}")


def check_value_error(exc: BaseException, what: str) -> None:
    """An exception a user may see: a ValueError with a message in the user's terms."""
    assert isinstance(exc, ValueError), f"{what}: {type(exc).__name__}: {exc}"
    text = str(exc)
    assert text.strip(), f"{what}: ValueError without a message"
    bad = [w for w in INTERNAL if w in text]
    assert not bad, f"{what}: internal detail {bad} in the message: {text}"


# ------------------------------------------------------------------ generated frames
COLUMN_KINDS = ("normal", "positive", "counts", "constant", "huge", "tiny", "narrow", "ints",
                "bools", "bool_none", "strings", "categorical", "signed_heavy", "duplicate")
TARGET_KINDS = ("binary", "multiclass", "strings", "bools", "regression", "huge_regression",
                "constant")


@st.composite
def frames(draw, max_rows: int = 40, max_cols: int = 4):
    """(X, recipe): a DataFrame of hostile columns; the recipe names what was drawn."""
    n = draw(st.integers(1, max_rows))
    kinds = draw(st.lists(st.sampled_from(COLUMN_KINDS), min_size=1, max_size=max_cols))
    nan_rate = draw(st.sampled_from([0.0, 0.0, 0.1, 0.5]))
    names = draw(st.sampled_from(["plain", "ints", "odd"]))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    columns = {}
    for j, kind in enumerate(kinds):
        col = _column(kind, n, rng, columns)
        if nan_rate and kind not in ("strings", "categorical", "bool_none") and \
                col.dtype.kind == "f":
            col = col.copy()
            col[rng.random(n) < nan_rate] = np.nan
        columns[_name(names, j)] = col
    X = pd.DataFrame({k: pd.Series(v) for k, v in columns.items()})
    if names == "ints":
        X.columns = list(range(X.shape[1]))
    for j, kind in enumerate(kinds):
        if kind == "categorical":
            X[X.columns[j]] = X[X.columns[j]].astype("category")
    return X, {"n": n, "kinds": kinds, "nan_rate": nan_rate, "names": names, "seed": seed}


def _name(style: str, j: int) -> str:
    if style == "odd":
        return ["a b", "é", "x[1]", "", "1", "__index_level_0__", "-"][j % 7] + "#" * (j // 7)
    return f"c{j}"


def _column(kind: str, n: int, rng, previous: dict) -> np.ndarray:
    if kind == "normal":
        return rng.normal(size=n)
    if kind == "positive":
        return rng.lognormal(size=n)
    if kind == "counts":
        return rng.poisson(1.0, n).astype(float)
    if kind == "constant":
        return np.full(n, 3.5)
    if kind == "huge":
        return rng.choice([-1e300, 1e300, 1.0, -2.0, 1e308, 0.5], n)
    if kind == "tiny":
        return rng.choice([1e-300, -2e-305, 3e-302, 0.0, 5e-324], n)
    if kind == "narrow":
        return 1e10 + rng.integers(0, 3, n).astype(float)
    if kind == "ints":
        return rng.integers(-3, 10, n)
    if kind == "bools":
        return rng.random(n) < 0.5
    if kind == "bool_none":
        out = (rng.random(n) < 0.5).astype(object)
        out[rng.random(n) < 0.2] = None
        return out
    if kind == "strings":
        out = rng.choice(list("abc") + ["missing", "é"], n).astype(object)
        out[rng.random(n) < 0.1] = None
        return out
    if kind == "categorical":
        return rng.choice(list(string.ascii_lowercase[:4]), n)
    if kind == "signed_heavy":
        return rng.standard_cauchy(n) * 1e5
    if kind == "duplicate" and previous:
        return np.array(list(previous.values())[0], copy=True)
    return rng.uniform(-1, 1, n)


def target(kind: str, X: pd.DataFrame, seed: int):
    rng = np.random.default_rng(seed)
    n = len(X)
    numeric = X.select_dtypes("number")
    signal = np.zeros(n)
    if numeric.shape[1]:
        first = numeric.iloc[:, 0].to_numpy(dtype=float)
        with np.errstate(all="ignore"):
            signal = np.nan_to_num(np.sign(first - np.nanmedian(first)) if n else signal)
    noise = rng.normal(size=n)
    if kind == "binary":
        return ((signal + noise) > 0).astype(int)
    if kind == "multiclass":
        return np.digitize(signal + noise, [-0.5, 0.5])
    if kind == "strings":
        return np.where(signal + noise > 0, "yes", "no").astype(object)
    if kind == "bools":
        return (signal + noise) > 0
    if kind == "regression":
        return 2.0 + signal + 0.1 * noise
    if kind == "huge_regression":
        return 1e200 * (2.0 + signal + noise)
    return np.full(n, 1.0)


def hostile_rows(X: pd.DataFrame, seed: int) -> pd.DataFrame:
    """New rows for predict: NaN, unseen levels, extreme magnitudes, zeros, negatives."""
    rng = np.random.default_rng(seed)
    rows = X.sample(n=min(len(X), 6), replace=len(X) < 6, random_state=seed).reset_index(
        drop=True).copy()
    for name in X.columns:
        col = rows[name]
        if isinstance(col.dtype, pd.CategoricalDtype) or col.dtype == object:
            values = col.astype(object).to_numpy(copy=True)
            values[rng.random(len(values)) < 0.5] = rng.choice(["zz", None, "a"])
            if isinstance(col.dtype, pd.CategoricalDtype):
                rows[name] = pd.Categorical(values)
            else:
                rows[name] = values
        elif col.dtype.kind == "f":
            values = col.to_numpy(copy=True)
            pick = rng.random(len(values)) < 0.6
            values[pick] = rng.choice([np.nan, 0.0, -1e308, 1e308, 1e-310, -3.0, 7e5],
                                      pick.sum())
            rows[name] = values
    return rows
