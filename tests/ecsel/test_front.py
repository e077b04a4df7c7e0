"""The complexity-accuracy front: counting, Pareto filter, selection rules, estimator wiring."""

from __future__ import annotations

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
import sympy as sp
import torch

import ecsel
from ecsel import ECSELClassifier, ECSELRegressor
from ecsel._fit import engine, selection, sparsify
from ecsel._fit.front import (
    MAX_TERM_RATIO,
    Candidate,
    cancellation_ratio,
    complexity_of,
    pareto_front,
    select_row,
    signomial_complexity,
)
from ecsel._fit.selection import COMPLEXITY_PENALTY
from ecsel._transform import EXP_CLAMP, PositivityTransform
from ecsel.signomial import Signomial

FAST = dict(n_restarts=2, max_iter=120, random_state=0)


# ------------------------------------------------------------------ counting
def test_complexity_counts_exponents_and_level_weights_not_coefficients():
    frame = pd.DataFrame({"x": [1.0, 2.0, 4.0, 3.0], "c": ["a", "b", "c", "a"],
                          "k": [5.0, 5.0, 5.0, 5.0]})
    t = PositivityTransform.fit(frame)  # x, c[b], c[c], k (constant)
    assert [m.kind for m in t.feature_maps] == ["power", "indicator", "indicator", "constant"]
    # Term 1: x**2 * exp(g c[b]) * exp(h c[c]) -> 3 factors; term 2 has coef 0 -> 0;
    # the exponent on the constant feature has no effect and is not counted.
    s = Signomial([1.0], [[7.5, 0.0]], [[[2.0, 0.3, -0.4, 9.0], [1.0, 1.0, 1.0, 1.0]]], t)
    assert signomial_complexity(s) == 3
    assert complexity_of(s.exponents, s.coef) == 4
    assert signomial_complexity(Signomial([1.0], [[0.0]], [[[0.0, 0.0, 0.0, 0.0]]], t)) == 0


# ------------------------------------------------------------- Pareto filter
def _brute_force_front(cands):
    """Candidates no other (simpler or equal, strictly better) candidate dominates."""
    keep = []
    for c in cands:
        dominated = any(
            (o.complexity < c.complexity and o.loss <= c.loss)
            or (o.complexity == c.complexity and o.loss < c.loss)
            for o in cands if o is not c
        )
        if not dominated:
            keep.append(c)
    return sorted(keep, key=lambda c: c.complexity)


@pytest.mark.parametrize("seed", range(5))
def test_pareto_front_matches_brute_force_and_is_monotone(seed):
    rng = np.random.default_rng(seed)
    losses = rng.permutation(40) / 40 + 0.1  # distinct losses
    cands = [Candidate(None, float(loss), 0.0, int(rng.integers(0, 12))) for loss in losses]
    front = pareto_front(cands)
    assert [(c.complexity, c.loss) for c in front] == \
        [(c.complexity, c.loss) for c in _brute_force_front(cands)]
    assert all(a.complexity < b.complexity and a.loss > b.loss
               for a, b in itertools.pairwise(front))


def test_pareto_front_drops_non_finite_losses():
    cands = [Candidate(None, np.nan, 0.9, 1), Candidate(None, 0.5, 0.8, 2)]
    assert [c.complexity for c in pareto_front(cands)] == [2]


# ---------------------------------------------------------- selection rules
@pytest.fixture
def table():
    # loss falls, AUC rises; row 4 is the most accurate (lowest loss).
    return pd.DataFrame({
        "complexity": [0, 3, 7, 12, 20],
        "loss": [0.60, 0.30, 0.262, 0.255, 0.2545],
        "score": [0.50, 0.905, 0.917, 0.921, 0.9212],
    })


def test_accuracy_rule_picks_lowest_loss(table):
    assert select_row(table, "accuracy") == 4
    assert select_row(table, "accuracy", max_complexity=12) == 3
    assert select_row(table, "accuracy", max_complexity=0) == 0


def test_best_rule_minimises_the_penalised_log_loss(table):
    # Without n_val there is no penalty: "best" is the lowest validation log-loss.
    assert select_row(table, "best") == 4
    # With 100 validation rows a factor costs COMPLEXITY_PENALTY / 100 of log-loss.
    t = table.copy()
    t.attrs["n_val"] = 100
    penalised = t["loss"] + COMPLEXITY_PENALTY / 100 * t["complexity"]
    assert select_row(t, "best") == int(penalised.idxmin())
    # 2 validation rows make factors 50x dearer: the 3-factor row wins.
    t.attrs["n_val"] = 2
    assert select_row(t, "best") == 1
    assert select_row(t, "best", max_complexity=0) == 0
    # Brute force over the definition on random fronts.
    rng = np.random.default_rng(0)
    for _ in range(50):
        r = pd.DataFrame({"complexity": np.arange(8) * 2,
                          "loss": np.sort(rng.uniform(0.2, 0.6, 8))[::-1],
                          "score": np.sort(rng.uniform(0.7, 0.95, 8))})
        n_val = int(rng.integers(5, 500))
        r.attrs["n_val"] = n_val
        values = [r.loc[i, "loss"] + COMPLEXITY_PENALTY * r.loc[i, "complexity"] / n_val
                  for i in r.index]
        assert select_row(r, "best") == int(np.argmin(values))


def test_best_rule_never_deploys_a_row_that_cannot_cross_the_threshold(table):
    # Pima.tr: the lowest-criterion equation predicted "No" for every row while
    # other rows of the front predicted both classes.
    t = table.assign(predicted_classes=[1, 2, 2, 2, 1])
    assert select_row(t, "best") == 3
    assert select_row(t, "accuracy") == 4  # the explicit rule is left alone
    # When no row crosses, the rule is unchanged.
    assert select_row(t.assign(predicted_classes=1), "best") == 4
    # Rows where the count is unknown (0) stay eligible.
    assert select_row(t.assign(predicted_classes=[1, 2, 2, 2, 0]), "best") == 4


def test_paired_standard_error_is_zero_for_the_reference_and_exact():
    from ecsel._fit.front import Candidate
    from ecsel._fit.sparsify import _paired_standard_errors

    rng = np.random.default_rng(1)
    shared = rng.exponential(1.0, 50)  # row difficulty common to both candidates
    best, worse = shared + 0.01 * rng.normal(size=50), shared + 0.2
    cands = [Candidate(None, float(worse.mean()), 0.9, 1),
             Candidate(None, float(best.mean()), 0.9, 5)]
    _paired_standard_errors(cands, [worse, best])
    assert cands[1].loss_se == 0.0
    gap = worse - best
    assert cands[0].loss_se == pytest.approx(gap.std(ddof=1) / np.sqrt(50), rel=1e-12)
    # Pairing removes the shared difficulty: far below the unpaired error.
    assert cands[0].loss_se < 0.1 * worse.std(ddof=1) / np.sqrt(50)


def test_regression_best_rule_ties_exact_fits():
    t = pd.DataFrame({"complexity": [0, 2, 4], "loss": [1.0, 1e-25, 1e-27],
                      "score": [0.0, 1.0, 1.0]})
    assert select_row(t, "best", task="regression") == 1
    assert select_row(t, "accuracy", task="regression") == 2
    noisy = pd.DataFrame({"complexity": [0, 2, 4], "loss": [1.0, 0.0103, 0.0100],
                          "score": [0.0, 0.9897, 0.99]})
    assert select_row(noisy, "best", task="regression") == 2  # 3 % worse: not within 2 %


def test_select_row_errors(table):
    with pytest.raises(ValueError, match="model_selection"):
        select_row(table, "score")
    with pytest.raises(ValueError, match="complexity <= -1"):
        select_row(table, "best", max_complexity=-1)


# ------------------------------------------------------------- cancellation
def test_cancellation_ratio_flags_cancelling_terms_only():
    x = np.linspace(1.0, 2.0, 50)
    plain = np.stack([3 * x, x**2], axis=1)[:, None, :]
    assert cancellation_ratio(plain, plain.sum(-1)) < 20
    # 3x - x**2 is nearly constant on [1, 2]: its terms are 60x its spread.
    almost = np.stack([3 * x, -x**2], axis=1)[:, None, :]
    assert 50 < cancellation_ratio(almost, almost.sum(-1)) < MAX_TERM_RATIO
    cancel = np.stack([1e5 + x, -1e5 + 0 * x], axis=1)[:, None, :]
    assert cancellation_ratio(cancel, cancel.sum(-1)) > MAX_TERM_RATIO
    assert cancellation_ratio(np.zeros((5, 1, 0)), np.zeros((5, 1))) == 0.0


# --------------------------------------------------------------- the path
def test_sparsity_path_keeps_the_informative_factor_and_drops_noise_levels():
    rng = np.random.default_rng(0)
    n = 600
    frame = pd.DataFrame({"x": rng.uniform(0.5, 4.0, n), "noise": rng.uniform(1, 3, n),
                          "c": rng.choice(list("abcde"), n)})
    t = PositivityTransform.fit(frame)
    log_u = torch.as_tensor(t.log_features(t.encode(frame)))
    p = 1 / (1 + np.exp(-(2.0 * np.log(frame["x"].to_numpy()) - 1.0)))
    y = torch.as_tensor((rng.uniform(size=n) < p).astype(float))
    data = engine.Data(log_u, y, torch.ones(n, dtype=torch.float64))
    m = log_u.shape[1]
    start = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
                          torch.ones(1, 1, 1, dtype=torch.float64),
                          torch.full((1, 1, 1, m), 0.3, dtype=torch.float64))
    groups = sparsify.feature_groups(t.feature_maps)
    assert groups == [[0], [1], [2, 3, 4, 5]]
    path = sparsify.sparsity_path(start, data, "binary", groups)
    complexities = [sparsify._complexity(q) for q in path]
    assert complexities == sorted(complexities, reverse=True)
    assert len(set(complexities)) == len(complexities) and complexities[-1] == 0
    last = next(q for q in path if sparsify._complexity(q) == 1)
    assert last.expo[0, 0, 0, 0] != 0  # x survives alone


# ---------------------------------------------------------- the estimators
@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(1)
    n = 500
    X = pd.DataFrame({
        "a": rng.uniform(0.5, 3.0, n), "b": rng.uniform(1.0, 2.0, n),
        "z": rng.normal(size=n), "c": rng.choice(["p", "q", "r"], n),
    })
    logit = 1.5 * np.log(X["a"]) - 0.8 * (X["c"] == "q") + 0.3 * X["z"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return ECSELClassifier(**FAST).fit(X, y), X, y


def _evaluate_sympy(expr, X: pd.DataFrame) -> np.ndarray:
    values = {}
    for sym in expr.free_symbols:
        name = str(sym)
        if name.endswith("]") and "[" in name:
            col, level = name[:-1].split("[", 1)
            values[sym] = (X[col].astype(str) == level).to_numpy(float)
        else:
            values[sym] = X[name].to_numpy(float)
    syms = sorted(values, key=str)
    out = sp.lambdify(syms, expr, "numpy")(*(values[s] for s in syms))
    return np.broadcast_to(np.asarray(out, dtype=float), (len(X),))


def test_front_is_monotone_and_holds_the_selected_equation(fitted):
    est, X, _ = fitted
    front = est.equations_
    assert len(front) >= 3
    assert (np.diff(front["complexity"]) > 0).all()
    assert (np.diff(front["loss"]) < 0).all()
    assert list(front["complexity"]) == [signomial_complexity(s) for s in front["signomial"]]
    assert est.signomial_ is front.loc[est.selected_index_, "signomial"]
    assert est.n_terms_ == front.loc[est.selected_index_, "n_terms"]
    assert front.loc[0, "complexity"] == 0


def test_every_row_sympy_reproduces_its_own_decision_function(fitted):
    est, X, _ = fitted
    for i in est.equations_.index:
        expected = est.decision_function(X, index=i)
        np.testing.assert_allclose(_evaluate_sympy(est.sympy(index=i), X), expected,
                                   rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(
            _evaluate_sympy(est.equations_.loc[i, "sympy_format"], X), expected,
            rtol=1e-9, atol=1e-9)
    assert isinstance(est.latex(index=1), str)


def test_rows_differ_and_index_does_not_change_the_estimator(fitted):
    est, X, _ = fitted
    selected = est.selected_index_
    default = est.decision_function(X)
    other = 0 if selected != 0 else 1
    assert not np.allclose(est.decision_function(X, index=other), default)
    np.testing.assert_array_equal(est.decision_function(X), default)
    assert est.selected_index_ == selected
    p = est.predict_proba(X, index=other)
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-est.decision_function(X, index=other))))
    e = est.explain(X.iloc[:4], index=other)
    np.testing.assert_allclose(e.values.sum(-1) + e.base_values,
                               est.decision_function(X.iloc[:4], index=other), atol=1e-8)


def test_select_and_json_round_trip_of_a_non_default_row(fitted):
    est, X, _ = fitted
    import copy

    est = copy.deepcopy(est)
    default = est.selected_index_
    other = 1 if default != 1 else 2
    expected = est.equations_.loc[other, "signomial"].evaluate(X)[:, 0]
    assert est.select(other) is est
    assert est.selected_index_ == other
    np.testing.assert_array_equal(est.decision_function(X), expected)
    loaded = ecsel.load_json(est.to_json())
    np.testing.assert_array_equal(loaded.decision_function(X), expected)
    assert loaded.signomial_ == est.equations_.loc[other, "signomial"]
    # Back to the rule's choice.
    assert est.select(model_selection=est.model_selection).selected_index_ == default
    assert est.select(model_selection="accuracy").selected_index_ == \
        int(est.equations_["loss"].idxmin())
    assert est.select(max_complexity=1).equations_.loc[est.selected_index_, "complexity"] <= 1
    with pytest.raises(ValueError, match="index"):
        est.select(len(est.equations_) + 5)
    with pytest.raises(ValueError, match="either index or a selection rule"):
        est.select(0, model_selection="best")
    # a loaded model's front is its one deployed row (ECSELRegressor.from_signomial)
    assert len(loaded.equations_) == 1 and loaded.select(0).signomial_ == loaded.signomial_
    with pytest.raises(ValueError, match="index"):
        loaded.select(1)


def test_fitted_rows_respect_the_cancellation_rule(fitted):
    est, X, _ = fitted
    for sig in est.equations_["signomial"]:
        terms = sig.term_values(X)
        assert cancellation_ratio(terms, terms.sum(-1)) <= MAX_TERM_RATIO


def test_max_complexity_and_accuracy_parameters(fitted):
    _, X, y = fitted
    small = ECSELClassifier(max_complexity=1, **FAST).fit(X, y)
    assert small.equations_.loc[small.selected_index_, "complexity"] <= 1
    acc = ECSELClassifier(model_selection="accuracy", **FAST).fit(X, y)
    assert acc.selected_index_ == int(acc.equations_["loss"].idxmin())


@pytest.mark.parametrize("params, match", [
    ({"model_selection": "score"}, "model_selection"),
    ({"max_complexity": -1}, "max_complexity"),
    ({"max_complexity": 2.5}, "max_complexity"),
])
def test_bad_selection_parameters_raise(params, match):
    X = np.random.default_rng(0).uniform(1, 2, (40, 2))
    y = np.arange(40) % 2
    with pytest.raises(ValueError, match=match):
        ECSELClassifier(**params).fit(X, y)
    with pytest.raises(ValueError, match=match):
        ECSELRegressor(**params).fit(X, X[:, 0])


def test_regressor_front_selects_the_exact_law():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"m": rng.uniform(1, 5, 300), "v": rng.uniform(1, 5, 300),
                      "w": rng.uniform(1, 5, 300)})
    y = 0.5 * X["m"] * X["v"] ** 2
    est = ECSELRegressor(random_state=0, n_restarts=8, max_iter=200).fit(X, y)
    front = est.equations_
    assert (np.diff(front["complexity"]) > 0).all() and (np.diff(front["loss"]) < 0).all()
    assert str(est.sympy(precision=3)) == "0.5*m*v**2"
    assert front.loc[est.selected_index_, "complexity"] == 2
    for i in front.index:
        np.testing.assert_allclose(_evaluate_sympy(est.sympy(index=i), X),
                                   est.predict(X, index=i), rtol=1e-9, atol=1e-9)
    simpler = front[front["complexity"] < 2]
    assert (simpler["score"] < 0.999).all()


def test_plot_front_marks_the_selected_row(fitted):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    est, _, _ = fitted
    fig, ax = plt.subplots()
    assert est.plot_front(ax=ax) is ax
    np.testing.assert_allclose(ax.lines[0].get_xdata(), est.equations_["complexity"])
    marked = ax.collections[0].get_offsets()[0]
    row = est.equations_.loc[est.selected_index_]
    np.testing.assert_allclose(marked, [row["complexity"], row["score"]])
    plt.close(fig)


def test_weighted_auc_equals_sklearn_with_ties_and_weights():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    for trial in range(200):
        n = int(rng.integers(2, 120))
        y = rng.integers(0, 2, n)
        scores = np.round(rng.normal(size=n), int(rng.integers(0, 3)))  # many ties
        w = rng.uniform(0.1, 3.0, n) if trial % 2 else np.ones(n)
        if y.min() == y.max():
            assert np.isnan(selection.weighted_auc(y, scores, w))
            continue
        assert selection.weighted_auc(y, scores, w) == pytest.approx(
            roc_auc_score(y, scores, sample_weight=w), abs=1e-12)


def test_ovr_auc_equals_sklearn_macro_ovr():
    from scipy.special import softmax
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    for trial in range(50):
        n, k = int(rng.integers(12, 150)), int(rng.integers(3, 6))
        y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
        proba = softmax(np.round(rng.normal(size=(n, k)), 1), axis=1)
        w = rng.uniform(0.1, 3.0, n) if trial % 2 else np.ones(n)
        expected = roc_auc_score(y, proba, multi_class="ovr", sample_weight=w,
                                 labels=np.arange(k))
        assert selection.ovr_auc(y, proba, w) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(selection.ovr_auc(np.array([0, 0, 1]), np.full((3, 3), 1 / 3), np.ones(3)))


def test_regression_best_rule_uses_the_bic_bar_when_n_val_is_known():
    table = pd.DataFrame({"complexity": [0, 6, 7, 9], "loss": [772.0, 0.0809, 0.0804, 0.0792],
                          "score": [0.0, 0.99989, 0.99990, 0.99990]})
    # 2 % alone: row 2 (0.0804 <= 1.02 * 0.0792 = 0.08078; row 1 is above).
    assert select_row(table, "best", task="regression") == 2
    # 600 validation rows: row 1 is 3 units simpler, bar 600 ** (3 / 600) = 1.0325.
    table.attrs["n_val"] = 600
    assert select_row(table, "best", task="regression") == 1
    # With 6000 rows the bar shrinks to 1.0044 and the fixed 2 % decides again.
    table.attrs["n_val"] = 6000
    assert select_row(table, "best", task="regression") == 2
    assert select_row(table, "accuracy", task="regression") == 3


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_move_losses_equal_refitting_every_moved_model(task):
    # Brute force: build every moved model in full and evaluate it. Large exponents
    # put some powers beyond the exp clamp, so the shortcut must clamp the same way.
    g = torch.Generator().manual_seed(1)
    n_out = 1 if task == "binary" else 2
    log_u = 3 * torch.randn(80, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, n_out + 1, (80,), generator=g).double()
    data = engine.Data(log_u, y, torch.rand(80, generator=g, dtype=torch.float64) + 0.5)
    expo = 4 * torch.randn(1, n_out, 3, 4, generator=g, dtype=torch.float64)
    expo[0, 0, 1, 2] = 0.0
    params = engine.Params(torch.randn(1, n_out, generator=g, dtype=torch.float64),
                           torch.randn(1, n_out, 3, generator=g, dtype=torch.float64), expo)
    assert float((log_u @ expo.reshape(-1, 4).T).abs().max()) > EXP_CLAMP
    moves = sparsify._moves(params, [[0], [1, 2], [3]])
    assert any(int(m.sum()) == 2 for m in moves)          # a grouped move is among them
    fast = sparsify.move_losses(params, moves, data, task)
    slow = torch.stack([data.loss(engine.Params(params.intercept, params.coef,
                                                params.expo * ~m), task)[0] for m in moves])
    torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12)


def test_equation_columns_are_built_on_first_read_and_survive_pickling():
    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.uniform(0.5, 3.0, 120), "b": rng.uniform(0.5, 3.0, 120)})
    y = (X.a * X.b > 2.0).astype(int)
    assert not hasattr(ECSELClassifier(), "equations_")
    est = ECSELClassifier(**FAST).fit(X, y)
    # fit leaves SymPy out: the stored table has no text columns yet
    assert "equation" not in est.__dict__["_equations"].columns
    assert est.decision_function(X.iloc[:3], index=0).shape == (3,)
    assert "equation" not in est.__dict__["_equations"].columns
    front = est.equations_
    assert list(front.columns) == ["complexity", "n_terms", "loss", "criterion", "score",
                                   "loss_se", "equation", "sympy_format", "predicted_classes",
                                   "source", "signomial"]
    for i in front.index:
        printed = front.loc[i, "signomial"].to_sympy(precision=4, reference="auto")
        assert front.loc[i, "equation"] == str(printed)
    again = pickle.loads(pickle.dumps(est))
    assert again.equations_["equation"].tolist() == front["equation"].tolist()
    # an estimator pickled when equations_ was a plain attribute still reads it
    old = ECSELClassifier(**FAST)
    old.__dict__.update({k: v for k, v in est.__dict__.items() if k != "_equations"})
    old.__dict__["equations_"] = front
    assert old.equations_ is front
    assert old.select(index=0).selected_index_ == 0


def test_sparsity_path_step_sizes_follow_the_complexity():
    # 48 factors (2 terms x 24 features): a quarter go per step above
    # BULK_COMPLEXITY, an eighth down to 16, then one at a time.
    g = torch.Generator().manual_seed(0)
    log_u = torch.randn(300, 24, generator=g, dtype=torch.float64)
    y = (log_u[:, 0] - log_u[:, 1] > 0).double()
    data = engine.Data(log_u, y, torch.ones(300, dtype=torch.float64))
    start = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
                          torch.tensor([[[1.0, -1.0]]], dtype=torch.float64),
                          0.2 + 0.1 * torch.rand(1, 1, 2, 24, generator=g, dtype=torch.float64))
    complexities = [48] + [sparsify._complexity(p)
                           for p in sparsify.sparsity_path(start, data, "binary",
                                                           [[j] for j in range(24)])]
    for before, after in zip(complexities, complexities[1:]):
        if before > sparsify.BULK_COMPLEXITY:
            assert before - after >= before // 4
        elif before >= 16:
            assert before - after >= before // 8
        else:
            assert before - after >= 1
    assert complexities[1] <= 36 and complexities[-1] == 0
    assert set(range(16)) <= set(complexities)
