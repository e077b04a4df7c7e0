"""Unpenalised refits, bootstrap intervals, prediction intervals (issue 29)."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import logit

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel._fit import engine, resample
from ecsel._testing import example_estimator
from ecsel._transform import PositivityTransform
from ecsel.signomial import Signomial
from ecsel.uncertainty import conformal_quantile, support_sets

F64 = torch.float64


def _params(intercept, coef, expo):
    return engine.Params(torch.tensor(intercept, dtype=F64), torch.tensor(coef, dtype=F64),
                         torch.tensor(expo, dtype=F64))


def _two_term_problem(n=600, seed=0):
    g = torch.Generator().manual_seed(seed)
    log_u = 0.7 * torch.randn(n, 3, generator=g, dtype=F64)
    z = -1 + 2 * torch.exp(1.5 * log_u[:, 0] - 0.5 * log_u[:, 1]) \
        - 1.2 * torch.exp(0.8 * log_u[:, 2])
    y = (torch.rand(n, generator=g, dtype=F64) < torch.sigmoid(z)).to(F64)
    start = _params([[-0.5]], [[[1.0, -1.0]]], [[[[1.0, -0.3, 0.0], [0.0, 0.0, 0.5]]]])
    return engine.Data(log_u, y, torch.ones(n, dtype=F64)), start


def _issue_data(seed, n=2000):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(np.exp(rng.normal(0, 1.0, (n, 3))), columns=["x0", "x1", "x2"])
    z = -1 + 2 * X.x0**1.5 / X.x1**0.5 - 1.2 * X.x2**0.8
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(int)
    return X, y


# ------------------------------------------------------------------ refit
def test_intercept_only_refit_is_the_weighted_logit_of_every_resample():
    # One parameter, closed form: the logistic MLE of an intercept-only model is
    # logit(weighted mean of y), for every bootstrap weighting at once.
    rng = np.random.default_rng(0)
    y = (rng.random(300) < 0.3).astype(float)
    data = engine.Data(torch.zeros(300, 1, dtype=F64), torch.tensor(y), torch.ones(300, dtype=F64))
    weights = resample.bootstrap_weights(300, 64, torch.Generator().manual_seed(1))
    start = _params([[0.0]] * 64, [[[0.0]]] * 64, [[[[0.0]]]] * 64)
    fitted, ok = resample.refit(start, data, "binary", weights=weights)
    expected = logit((weights.numpy() * y).sum(1) / weights.numpy().sum(1))
    assert bool(ok.all())
    np.testing.assert_allclose(fitted.intercept[:, 0].numpy(), expected, rtol=0, atol=1e-9)


def test_bootstrap_of_the_mean_matches_its_closed_form_distribution():
    # Intercept-only regression: the refit is the weighted mean, whose bootstrap
    # distribution has mean ybar and variance (1/n) * mean((y - ybar)^2) exactly.
    rng = np.random.default_rng(2)
    y = rng.normal(3.0, 2.0, 400)
    X = pd.DataFrame({"x": rng.uniform(1, 2, 400)})
    sig = Signomial([1.0], np.zeros((1, 0)), np.zeros((1, 0, 1)), PositivityTransform.fit(X), ["y"])
    est = ECSELRegressor()._set_fitted(sig, n_features_in=1, feature_names_in=["x"])
    table = est.confidence_intervals(X, y, level=0.9, n_resamples=2000, random_state=0)
    assert table.parameter.tolist() == ["intercept"]
    se = np.sqrt(np.mean((y - y.mean()) ** 2) / len(y))
    assert table.attrs["refit"][0] == pytest.approx(y.mean(), abs=1e-10)
    # Monte-Carlo error of a 2000-draw standard deviation: about 1.6 %.
    assert table["std"][0] == pytest.approx(se, rel=0.05)
    assert table["lower"][0] == pytest.approx(y.mean() - 1.6449 * se, abs=0.12 * se)
    assert table["upper"][0] == pytest.approx(y.mean() + 1.6449 * se, abs=0.12 * se)


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_refit_reaches_a_stationary_point_of_the_unpenalised_loss(task):
    data, start = _two_term_problem()
    if task == "multiclass":
        g = torch.Generator().manual_seed(3)
        y = data.y + (torch.rand(len(data), generator=g, dtype=F64) < 0.3).to(F64)
        data = engine.Data(data.log_u, y, data.weights)
        start = engine.Params(torch.zeros(1, 2, dtype=F64), start.coef.expand(1, 2, 2).clone(),
                              start.expo.expand(1, 2, 2, 3).clone())
    if task == "regression":
        data = engine.Data(data.log_u, torch.exp(1.2 * data.log_u[:, 0]) + data.y, data.weights)
    fitted, ok = resample.refit(start, data, task)
    assert bool(ok[0])
    tensors = [t.clone().requires_grad_(True) for t in fitted.tensors()]
    data.loss(engine.Params(*tensors), task).sum().backward()
    structure = resample.Structure.of(start)
    grad = structure.flatten(engine.Params(*(t.grad for t in tensors)))
    assert float(grad.abs().max()) < 1e-7
    # The zero pattern is kept.
    assert torch.equal(fitted.expo[0] != 0, start.expo[0] != 0)


def test_batched_refits_equal_sequential_refits():
    data, start = _two_term_problem()
    weights = resample.bootstrap_weights(len(data), 6, torch.Generator().manual_seed(4))
    warm = engine.Params(*(t.expand(6, *t.shape[1:]).clone() for t in start.tensors()))
    batched, ok = resample.refit(warm, data, "binary", weights=weights)
    assert bool(ok.all())
    for r in range(6):
        single, _ = resample.refit(start, data, "binary", weights=weights[r:r + 1])
        for a, b in zip(batched.tensors(), single.tensors()):
            torch.testing.assert_close(a[r], b[0], rtol=0, atol=1e-7)  # as below


def test_refit_in_chunks_equals_one_batch(monkeypatch):
    data, start = _two_term_problem()
    weights = resample.bootstrap_weights(len(data), 5, torch.Generator().manual_seed(5))
    warm = engine.Params(*(t.expand(5, *t.shape[1:]).clone() for t in start.tensors()))
    whole, ok = resample.refit(warm, data, "binary", weights=weights)
    monkeypatch.setattr(resample, "CHUNK_ELEMENTS", 2 * len(data) * 6)  # two members a chunk
    chunked, ok_chunked = resample.refit(warm, data, "binary", weights=weights)
    assert bool(ok.all()) and bool(ok_chunked.all())
    # A refit may stop where a step no longer changes the loss in float64, which
    # leaves the parameters within about sqrt(machine epsilon) of the optimum.
    for a, b in zip(whole.tensors(), chunked.tensors()):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-7)


def test_refit_keeps_the_exponent_box():
    g = torch.Generator().manual_seed(6)
    log_u = 0.3 * torch.randn(300, 1, generator=g, dtype=F64)
    y = torch.exp(4.0 * log_u[:, 0]) + 0.01 * torch.randn(300, generator=g, dtype=F64)
    data = engine.Data(log_u, y, torch.ones(300, dtype=F64))
    fitted, _ = resample.refit(_params([[0.0]], [[[1.0]]], [[[[1.0]]]]), data, "regression",
                               expo_bound=torch.tensor(2.5, dtype=F64))
    assert float(fitted.expo[0, 0, 0, 0]) == 2.5


def test_classifier_deploys_unbiased_parameters_on_the_issue_signomial():
    # Issue 29: with the penalised parameters the exponent of x0 was 0.61 (truth 1.5).
    X, y = _issue_data(0)
    clf = ECSELClassifier(n_terms=2, random_state=0).fit(X, y)
    terms = support_sets(clf.signomial_)[0]
    assert sorted(map(sorted, terms)) == [["x0", "x1"], ["x2"]]
    expo = clf.signomial_.exponents[0]
    k = int(np.argmax(expo[:, 0] != 0))
    assert abs(expo[k, 0] - 1.5) < 0.4 and abs(expo[k, 1] + 0.5) < 0.25


# -------------------------------------------------------------- intervals
def test_confidence_intervals_cover_the_estimates_and_store_the_bootstrap():
    X, y = _issue_data(1, n=800)
    clf = ECSELClassifier(n_terms=2, n_restarts=4, random_state=0).fit(X, y)
    table = clf.confidence_intervals(X, y, n_resamples=40, random_state=0)
    assert list(table.columns) == ["parameter", "estimate", "lower", "upper", "std"]
    assert table.parameter[0] == "intercept"
    assert (table.lower < table.upper).all()
    assert table.attrs["n_converged"] >= 36
    low, high = clf.predict_proba_interval(X.iloc[:20])
    assert low.shape == (20, 2) and np.all(low <= high)
    expl, lo, hi = clf.explain_intervals(X.iloc[:3], max_resamples=10)
    assert lo.shape == expl.values.shape and np.all(lo <= hi + 1e-12)
    again = clf.confidence_intervals(X, y, n_resamples=40, random_state=0)
    pd.testing.assert_frame_equal(table, again)


def test_bad_input_gets_clear_errors():
    est, X = example_estimator()
    y = est.predict(X)
    with pytest.raises(ValueError, match="level"):
        est.confidence_intervals(X, y, level=1.5)
    with pytest.raises(ValueError, match="n_resamples"):
        est.confidence_intervals(X, y, n_resamples=1)
    with pytest.raises(ValueError, match="one-dimensional"):
        est.confidence_intervals(X, y[:5])
    with pytest.raises(ValueError, match="confidence_intervals"):
        est.explain_intervals(X.iloc[:2])
    with pytest.raises(ValueError, match="classifiers"):
        est.predict_proba_interval(X.iloc[:2])
    with pytest.raises(ValueError, match="calibration"):
        est.predict_interval(X.iloc[:2])  # built without fit: no validation rows


def test_conformal_quantile_is_the_finite_sample_rank():
    r = np.array([5.0, 1.0, 4.0, 2.0, 3.0, 9.0, 7.0, 8.0, 6.0])
    assert conformal_quantile(r, 0.8) == 8.0    # ceil(10 * 0.8) = 8th smallest
    assert conformal_quantile(r, 0.95) == np.inf


def test_predict_interval_with_explicit_calibration_rows():
    est, X = example_estimator()
    rng = np.random.default_rng(0)
    y = est.predict(X) + rng.normal(0, 1.0, len(X))
    low, high = est.predict_interval(X.iloc[:5], level=0.9, calibration=(X, y))
    half = conformal_quantile(np.abs(y - est.predict(X)), 0.9)
    np.testing.assert_allclose(high - low, 2 * half)
    np.testing.assert_allclose((high + low) / 2, est.predict(X.iloc[:5]))


def test_cli_fit_intervals_prints_and_saves_them(tmp_path, capsys):
    from ecsel import load_json
    from ecsel.cli import main

    rng = np.random.default_rng(0)
    x = rng.uniform(1, 3, 120)
    pd.DataFrame({"x": x, "y": 2 * x**1.5 + rng.normal(0, 0.1, 120)}).to_csv(
        tmp_path / "d.csv", index=False)
    out = tmp_path / "m.json"
    code = main(["fit", str(tmp_path / "d.csv"), "--target", "y", "--intervals", "-q",
                 "--n-restarts", "2", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    assert "90% interval" in text and "pi90_coverage" in text
    doc = json.loads(out.read_text())
    names = [p["parameter"] for p in doc["intervals"]["parameters"]]
    assert "exponent[0, x]" in names and doc["intervals"]["level"] == 0.9
    for p in doc["intervals"]["parameters"]:
        assert p["lower"] <= p["upper"]
    assert load_json(out.read_text()).n_features_in_ == 1
