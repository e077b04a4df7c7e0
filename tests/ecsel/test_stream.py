"""Out-of-core fit and chunked scoring (ecsel.stream) on real Parquet and CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from ecsel import ECSELClassifier, ECSELRegressor, load_json
from ecsel._transform import PositivityTransform
from ecsel.stream import TableSource, fit_stream, predict_stream
from ecsel.stream._source import row_uniform
from ecsel.stream._stats import TableStats, median_rank_error

pytest.importorskip("pyarrow")

FAST = dict(n_terms=1, max_iter=60, n_restarts=4, random_state=0)


def _mixed(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "pos": rng.lognormal(0, 0.7, n),
        "zeros": np.where(rng.random(n) < 0.3, 0.0, rng.exponential(2.0, n)),
        "neg": rng.normal(0, 2, n),
        "flag": rng.integers(0, 2, n).astype(float),
        "const": np.full(n, 3.0),
        "cat": rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]),
    })


def _binary(n=6000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"f0": rng.lognormal(0, 0.7, n), "f1": rng.lognormal(0, 0.7, n),
                      "f2": rng.lognormal(0, 0.5, n)})
    X["y"] = (rng.random(n) < expit(4 * X.f0 * X.f1 ** -0.5 - 4)).astype(int)
    return X


def _stats(frame, chunk, quantile_rows):
    stats = TableStats(len(frame), quantile_rows)
    for start in range(0, len(frame), chunk):
        stats.update(frame.iloc[start:start + chunk], list(frame.columns), None)
    return stats


def test_row_hash_is_deterministic_and_uniform():
    u = row_uniform(np.arange(200_000), salt=17)
    assert np.array_equal(u, row_uniform(np.arange(200_000), salt=17))
    assert not np.array_equal(u, row_uniform(np.arange(200_000), salt=19))
    counts = np.histogram(u, bins=10, range=(0, 1))[0]
    assert np.abs(counts - 20_000).max() < 600  # about 4 standard deviations


def test_streamed_transform_equals_in_memory_when_sample_covers_rows():
    frame = _mixed()
    expected = PositivityTransform.fit(frame)
    stats = _stats(frame, 700, quantile_rows=10 ** 6)
    transform, pending = stats.transform(list(frame.columns))
    assert [m.name for m in transform.feature_maps] == expected.feature_names
    assert [transform.feature_maps[j].name for j in pending] == ["zeros"]
    for j, (got, want) in enumerate(zip(transform.feature_maps, expected.feature_maps)):
        assert got.kind == want.kind and got.level == want.level
        for field in ("scale", "shift", "center", "lower", "high"):
            if j in pending and field == "scale":
                continue  # measured in the second pass
            assert getattr(got, field) == pytest.approx(getattr(want, field), rel=1e-9)


def test_map_choice_is_exact_with_a_small_sample():
    # One zero and one negative value in 50,000 rows, a rare level: a 500-row sample
    # alone would miss them; the summary sample keeps the rows that decide the map.
    rng = np.random.default_rng(2)
    n = 50_000
    frame = pd.DataFrame({"zero_once": rng.lognormal(0, 1, n), "neg_once": rng.lognormal(0, 1, n),
                          "cat": rng.choice(["a", "b"], n)})
    frame.loc[31_234, "zero_once"] = 0.0
    frame.loc[4_321, "neg_once"] = -1.0
    frame.loc[44_444, "cat"] = "rare"
    expected = PositivityTransform.fit(frame)
    transform, _ = _stats(frame, 8_000, quantile_rows=500).transform(list(frame.columns))
    assert [m.name for m in transform.feature_maps] == expected.feature_names
    assert [m.kind for m in transform.feature_maps] == [m.kind for m in expected.feature_maps]
    assert transform.feature_maps[1].lower == -1.0


def test_sampled_median_respects_the_dkw_bound():
    rng = np.random.default_rng(1)
    n, s = 200_000, 4_000
    frame = pd.DataFrame({"neg": rng.standard_t(3, n)})
    stats = _stats(frame, 25_000, quantile_rows=s)
    center = stats.transform(["neg"])[0].feature_maps[0].center
    sample_size = len(stats.summary_sample(["neg"]))
    rank = (frame.neg.to_numpy() < center).mean()
    assert 0.8 * s < sample_size < 1.2 * s
    assert abs(rank - 0.5) <= median_rank_error(sample_size)
    assert center != np.median(frame.neg)  # really a sample


def test_fit_stream_parquet_csv_and_folder_give_one_model(tmp_path):
    data = _binary(n=3000)
    data.to_parquet(tmp_path / "t.parquet", row_group_size=1000)
    data.to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "parts").mkdir()
    for i in range(3):
        data.iloc[1000 * i:1000 * (i + 1)].to_parquet(tmp_path / "parts" / f"p{i}.parquet",
                                                      row_group_size=1000)
    kw = dict(target="y", chunk_rows=1000)
    a = fit_stream(ECSELClassifier(**FAST), tmp_path / "t.parquet", **kw)
    b = fit_stream(ECSELClassifier(**FAST), tmp_path / "t.csv", **kw)
    c = fit_stream(ECSELClassifier(**FAST), tmp_path / "parts", **kw)
    X = data.drop(columns="y")
    for other in (b, c):
        np.testing.assert_array_equal(a.decision_function(X), other.decision_function(X))
    assert a.classes_.tolist() == [0, 1] and a.n_features_in_ == 3
    # An ordinary fitted estimator: predictions, JSON round trip, explanations.
    assert a.score(X, data.y) > 0.7
    loaded = load_json(a.to_json())
    np.testing.assert_allclose(loaded.predict_proba(X), a.predict_proba(X), rtol=1e-12)
    exp = a.explain(X.head(5))
    np.testing.assert_allclose(exp.values.sum(-1) + exp.base_values,
                               a.decision_function(X.head(5)), rtol=1e-9, atol=1e-9)
    assert len(a.background_) == 100


def _two_term_law(n=2000, seed=5):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.lognormal(0, 0.5, n), "b": rng.lognormal(0, 0.5, n),
                      "c": rng.lognormal(0, 0.5, n)})
    z = 3 * X.a ** 1.5 - 2 * X.b - 1
    return X, z, (rng.random(n) < expit(z)).astype(int)


@pytest.mark.parametrize("kind", ["classifier", "regressor"])
@pytest.mark.parametrize("n_terms", [1, "auto"])
def test_fit_stream_in_memory_table_gives_the_fit_of_fit(tmp_path, kind, n_terms):
    # Both fits hold out the same rows (a hash of the row index) and run one search,
    # so on a table that fits in memory they find the same equation and front.
    X, z, labels = _two_term_law()
    if kind == "classifier":
        y = labels
        est = ECSELClassifier(n_terms=n_terms, n_restarts=4, max_iter=150, random_state=0)
    else:
        y = z + 0.05 * np.random.default_rng(1).normal(size=len(z))
        est = ECSELRegressor(n_terms=n_terms, n_restarts=8, max_iter=200, random_state=0)
    X.assign(y=y).to_parquet(tmp_path / "t.parquet", row_group_size=500)
    memory = clone(est).fit(X, y)
    streamed = fit_stream(clone(est), tmp_path / "t.parquet", target="y", chunk_rows=500)
    s_m, s_s = memory.signomial_, streamed.signomial_
    assert s_s.n_terms == s_m.n_terms and memory.selected_index_ == streamed.selected_index_
    # The same monomials (zero pattern, term by term in canonical order) ...
    np.testing.assert_array_equal(s_s.exponents != 0, s_m.exponents != 0)
    # ... with the same exponents.
    np.testing.assert_allclose(s_s.exponents, s_m.exponents, atol=5e-3)
    front_m, front_s = memory.equations_, streamed.equations_
    assert list(front_s.columns) == list(front_m.columns)
    assert front_s.complexity.tolist() == front_m.complexity.tolist()
    # The front is usable after a streamed fit: select, model_selection, max_complexity.
    simplest = int(front_s.index[0])
    assert streamed.select(simplest).selected_index_ == simplest
    assert streamed.select(model_selection="accuracy").selected_index_ == \
        memory.select(model_selection="accuracy").selected_index_
    limit = int(front_s.complexity.iloc[0])
    assert streamed.select(max_complexity=limit).selected_index_ == \
        memory.select(max_complexity=limit).selected_index_
    assert streamed.n_iter_ > 0 and streamed.n_features_in_ == 3


@pytest.mark.parametrize("batch_size", [8192, 1024])
def test_fit_stream_recovers_the_in_memory_equation(tmp_path, batch_size):
    # polish_rows below the training rows: Adam streams the chunks (one full batch of
    # all chunks, or minibatches of 1024 rows) while the polish uses a sample.
    data = _binary(n=8000, seed=3)
    data.to_parquet(tmp_path / "t.parquet", row_group_size=2000)
    params = dict(n_terms=1, max_iter=200, n_restarts=4, alpha=1e-3, random_state=0,
                  batch_size=batch_size)
    streamed = fit_stream(ECSELClassifier(**params), tmp_path / "t.parquet", target="y",
                          chunk_rows=2000, polish_rows=3000, val_rows=1000)
    X, y = data.drop(columns="y"), data.y
    memory = ECSELClassifier(**params).fit(X, y)
    e_s, e_m = streamed.signomial_.exponents[0, 0], memory.signomial_.exponents[0, 0]
    # Same factors (a, b; not the noise column c). The exponents themselves are not
    # compared: with these short fits both sit on the flat log-linear ridge
    # c * (a^e1 b^e2) ~ c + c (e1 log a + e2 log b), where only the products c * e matter.
    assert np.array_equal(e_s != 0, e_m != 0) and (e_s != 0).sum() == 2
    np.testing.assert_allclose(e_s[1] / e_s[0], e_m[1] / e_m[0], rtol=0.05)
    auc_s = roc_auc_score(y, streamed.decision_function(X))
    auc_m = roc_auc_score(y, memory.decision_function(X))
    assert abs(auc_s - auc_m) < 0.002 and auc_s > 0.85


def test_predict_stream_matches_in_memory(tmp_path):
    data = _binary(n=3000)
    data.to_parquet(tmp_path / "t.parquet", row_group_size=700)
    clf = ECSELClassifier(**FAST).fit(data.drop(columns="y"), data.y)
    X = data.drop(columns="y")
    n = predict_stream(clf, tmp_path / "t.parquet", tmp_path / "p.parquet",
                       method="predict_proba", chunk_rows=500)
    assert n == 3000
    got = pd.read_parquet(tmp_path / "p.parquet")
    np.testing.assert_allclose(got.to_numpy(), clf.predict_proba(X), rtol=1e-12)
    predict_stream(clf, tmp_path / "t.parquet", tmp_path / "e.csv", method="explain",
                   chunk_rows=500)
    exp = pd.read_csv(tmp_path / "e.csv")
    np.testing.assert_allclose(exp.to_numpy(), clf.explain(X).values, rtol=1e-9, atol=1e-12)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.csv", "p.parquet", "t.parquet"]


def test_bad_inputs_give_clear_errors(tmp_path):
    data = _binary(n=500)
    data.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="Target column 'nope' is not in"):
        fit_stream(ECSELClassifier(**FAST), tmp_path / "t.parquet", target="nope")
    with pytest.raises(ValueError, match="fits an ECSELClassifier or an ECSELRegressor"):
        fit_stream(LogisticRegression(), tmp_path / "t.parquet", target="y")
    data.assign(y=np.where(np.arange(500) == 7, np.nan, 1.0)).to_parquet(tmp_path / "r.parquet")
    reg = ECSELRegressor(n_terms=1, n_restarts=2, max_iter=20)
    with pytest.raises(ValueError, match="target column 'y' has missing"):
        fit_stream(reg, tmp_path / "r.parquet", target="y")
    assert not hasattr(reg, "signomial_")
    with pytest.raises(ValueError, match="No such file"):
        TableSource(tmp_path / "missing.parquet")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no Parquet or CSV"):
        TableSource(tmp_path / "empty")
    bad = data.copy()
    bad.loc[123, "f1"] = np.inf
    bad.to_parquet(tmp_path / "inf.parquet")
    clf = ECSELClassifier(**FAST)
    with pytest.raises(ValueError, match="infinity in column 'f1'"):
        fit_stream(clf, tmp_path / "inf.parquet", target="y")
    assert not hasattr(clf, "signomial_")  # all or nothing
    with pytest.raises(ValueError, match="only one class"):
        data.assign(y=1).to_parquet(tmp_path / "one.parquet")
        fit_stream(ECSELClassifier(**FAST), tmp_path / "one.parquet", target="y")
