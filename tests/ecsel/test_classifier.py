"""ECSELClassifier behaviour on binary, multiclass and mixed-type data."""

import numpy as np
import pandas as pd
import pytest
import sympy as sp
from scipy.special import expit, softmax
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ecsel import ECSELClassifier


def _mixed_frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "price": rng.lognormal(3, 0.5, n),
        "visits": rng.poisson(2, n).astype(float),
        "delta": rng.normal(0, 1, n),
        "member": rng.random(n) < 0.3,
        "channel": pd.Categorical(rng.choice(["web", "app", "shop"], n, p=[0.5, 0.3, 0.2])),
        "region": rng.choice(["north", "south"], n).astype(object),
    })
    logit = (1.5 * X.member - 1.0 * (X.channel == "shop") + 0.8 * X.delta
             - 2 * np.log(X.price / 20) + 0.3 * X.visits - 0.5)
    y = (rng.random(n) < expit(logit)).astype(int)
    return X, y


def test_binary_probabilities_match_the_sympy_equation():
    X, y = _mixed_frame()
    clf = ECSELClassifier(random_state=0, max_iter=200).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_allclose(proba[:, 1], expit(clf.decision_function(X)))
    # Every indicator / power factor of the printed equation reproduces the score.
    expr = clf.sympy()
    encoded = clf.signomial_.encode(X)
    names = clf.signomial_.feature_names
    symbols = {str(s): s for s in expr.free_symbols}
    values = {symbols[n]: encoded[:, j] for j, n in enumerate(names)
              if n in symbols or clf.signomial_.transform.feature_maps[j].source in symbols}
    for j, fmap in enumerate(clf.signomial_.transform.feature_maps):
        if fmap.level is None and fmap.source in symbols:
            values[symbols[fmap.source]] = encoded[:, j]
    f = sp.lambdify(list(values), expr, "numpy")
    np.testing.assert_allclose(f(*values.values()) * np.ones(len(X)),
                               clf.decision_function(X), rtol=1e-9, atol=1e-9)
    # Within 0.02 of the AUC of the true logit that generated the labels (0.806).
    true_logit = (1.5 * X.member - 1.0 * (X.channel == "shop") + 0.8 * X.delta
                  - 2 * np.log(X.price / 20) + 0.3 * X.visits)
    assert roc_auc_score(y, proba[:, 1]) > roc_auc_score(y, true_logit) - 0.02


def test_categorical_levels_become_indicator_factors():
    X, y = _mixed_frame()
    clf = ECSELClassifier(random_state=0, max_iter=200).fit(X, y)
    names = clf.signomial_.feature_names
    # Most frequent level is the reference; the others are indicators.
    assert "channel[app]" in names and "channel[shop]" in names
    assert "channel[web]" not in names
    kinds = {m.name: m.kind for m in clf.signomial_.transform.feature_maps}
    assert kinds["member"] == "indicator" and kinds["price"] == "power"
    assert kinds["delta"] == "signed"
    unseen = X.head(3).copy()
    unseen["channel"] = pd.Categorical(["kiosk"] * 3)
    reference = unseen.copy()
    reference["channel"] = pd.Categorical(["web"] * 3)
    np.testing.assert_allclose(clf.decision_function(unseen), clf.decision_function(reference))


def test_multiclass_reference_class_and_shapes():
    X, y = load_iris(return_X_y=True, as_frame=True)
    clf = ECSELClassifier(random_state=0, max_iter=300).fit(X, y)
    scores = clf.decision_function(X)
    assert scores.shape == (150, 3)
    np.testing.assert_array_equal(scores[:, 0], 0.0)
    np.testing.assert_allclose(clf.predict_proba(X), softmax(scores, axis=1))
    exprs = clf.sympy()
    assert isinstance(exprs, list) and len(exprs) == 2
    assert clf.score(X, y) > 0.9


def test_string_labels_are_preserved():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = ECSELClassifier(n_terms=1, random_state=0, max_iter=200).fit(X, labels)
    assert set(clf.predict(X)) <= set(labels)
    assert list(clf.classes_) == list(labels[[0, 50, 100]])


def test_class_weight_balanced_raises_minority_recall():
    rng = np.random.default_rng(0)
    n = 2000
    X = pd.DataFrame({"a": rng.lognormal(0, 1, n), "b": rng.lognormal(0, 1, n)})
    y = (rng.random(n) < expit(1.2 * np.log(X.a) - 4)).astype(int)
    plain = ECSELClassifier(n_terms=1, random_state=0, max_iter=200).fit(X, y)
    balanced = ECSELClassifier(n_terms=1, class_weight="balanced", random_state=0,
                               max_iter=200).fit(X, y)
    recall = lambda c: (c.predict(X)[y == 1] == 1).mean()  # noqa: E731
    assert recall(balanced) > recall(plain) + 0.2


def test_competitive_on_breast_cancer():
    # Averaged over five splits: one split's 171 test rows (and 80 validation rows
    # that choose the row) move the AUC of a single fit by about 0.01.
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    default, accurate = [], []
    for seed in range(5):
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, stratify=y,
                                              random_state=seed)
        clf = ECSELClassifier(random_state=seed).fit(Xtr, ytr)
        assert clf.n_terms_ <= 3
        default.append(roc_auc_score(yte, clf.predict_proba(Xte)[:, 1]))
        best = clf.equations_["loss"].idxmin()
        accurate.append(roc_auc_score(yte, clf.predict_proba(Xte, index=best)[:, 1]))
    assert np.mean(default) > 0.985 and min(default) > 0.97
    assert np.mean(accurate) > 0.98


@pytest.mark.parametrize("n_terms", [1, 2])
def test_fixed_number_of_terms_is_an_upper_bound(n_terms):
    X, y = _mixed_frame(n=300)
    clf = ECSELClassifier(n_terms=n_terms, random_state=0, max_iter=100).fit(X, y)
    # the sparsity path folds terms whose coefficient is zero, so a front row may
    # hold fewer terms than asked for, never more
    assert clf.signomial_.coef.shape[0] == 1
    assert 1 <= clf.n_terms_ == clf.signomial_.coef.shape[1] <= n_terms


def test_minibatch_path_matches_quality_and_is_deterministic():
    X, y = _mixed_frame(n=1500, seed=3)
    fits = [ECSELClassifier(n_terms=1, batch_size=256, max_iter=120, random_state=0).fit(X, y)
            for _ in range(2)]
    assert fits[0].signomial_ == fits[1].signomial_
    full = ECSELClassifier(n_terms=1, max_iter=120, random_state=0).fit(X, y)
    auc = [roc_auc_score(y, est.decision_function(X)) for est in (fits[0], full)]
    assert auc[0] > auc[1] - 0.02
