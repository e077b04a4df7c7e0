"""The forward_func adapter: torch, callables, sklearn, ECSEL-like estimators, inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression

from attribution.metrics import completeness_error, deletion, insertion
from attribution.metrics._adapter import ForwardAdapter, to_tensor


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = (X @ np.array([2.0, -1.0, 0.5]) > 0).astype(int)
    return X, y


def test_sklearn_predict_proba_and_decision_function() -> None:
    X, y = _data()
    clf = LogisticRegression().fit(X, y)
    x = X[:5]
    a = x * clf.coef_[0]
    res = insertion(clf, x, a, target=1, n_steps=3, return_curves=True)
    proba_full = clf.predict_proba(x)[:, 1]
    np.testing.assert_allclose(res.curves[:, -1].numpy(), proba_full, rtol=1e-6)
    raw = deletion(clf, pd.DataFrame(x), a, target=1, softmax=False, return_curves=True)
    np.testing.assert_allclose(raw.curves[:, 0].numpy(), clf.decision_function(x), rtol=1e-5)
    np.testing.assert_allclose(raw.curves[:, -1].numpy(), clf.intercept_[0], rtol=1e-5)
    neg = deletion(clf, x, a, target=0, softmax=False, return_curves=True)  # -decision
    np.testing.assert_allclose(neg.curves[:, 0].numpy(), -clf.decision_function(x), rtol=1e-5)
    p0 = deletion(clf, x, a, target=0, return_curves=True)
    np.testing.assert_allclose(p0.curves[:, 0].numpy(), clf.predict_proba(x)[:, 0], rtol=1e-6)
    with pytest.raises(ValueError, match="out of range"):
        deletion(clf, x, a, target=2)


def test_unfitted_estimator_is_rejected() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        ForwardAdapter(LogisticRegression())


class FakeECSEL(ClassifierMixin, BaseEstimator):
    """Stands in for ECSELClassifier: a fitted estimator exposing ``to_torch``."""

    def fit(self, X, y):
        self.coef_ = np.array([1.0, 2.0, -1.0])
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, X):
        return np.asarray(X) @ self.coef_

    def to_torch(self):
        coef = torch.tensor(self.coef_, dtype=torch.float64)

        class Logit(torch.nn.Module):
            def forward(self, x):
                return x.double() @ coef

        return Logit()


def test_ecsel_like_estimator_goes_through_to_torch() -> None:
    est = FakeECSEL()
    with pytest.raises(ValueError, match="not fitted"):
        ForwardAdapter(est)
    est.fit(None, None)
    f = ForwardAdapter(est)
    assert f.differentiable and f.module is not None
    x = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, 1.0]])
    res = deletion(est, x, x * est.coef_, softmax=False, return_curves=True)
    # single logit: target None explains z itself; deletion order by attribution
    assert res.curves[0].tolist() == [2.0, 0.0, -1.0, 0.0]
    probs = deletion(est, x, x * est.coef_, target=0, return_curves=True)
    z = torch.tensor([2.0, 0.0, -1.0, 0.0])
    torch.testing.assert_close(probs.curves[0].double(), (1 - torch.sigmoid(z)).double(),
                               atol=1e-6, rtol=0)


def test_plain_callable_and_dtype_follow_the_module() -> None:
    lin = torch.nn.Linear(3, 2).double()
    f = ForwardAdapter(lin)
    out = f(torch.ones(2, 3))  # float32 inputs are cast to the module's float64
    assert out.dtype == torch.float32 and out.shape == (2, 2)
    g = ForwardAdapter(lambda x: x[:, :2] * 2)
    torch.testing.assert_close(g(torch.ones(1, 3)), torch.full((1, 2), 2.0))
    with pytest.raises(TypeError, match="forward_func"):
        ForwardAdapter(42)


def test_warns_for_dropout_left_in_training_mode() -> None:
    model = torch.nn.Sequential(torch.nn.Linear(3, 2), torch.nn.Dropout(0.5))
    with pytest.warns(UserWarning, match="training mode"):
        ForwardAdapter(model)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ForwardAdapter(model.eval())
        ForwardAdapter(torch.nn.Linear(3, 2))  # no dropout / batch norm: no warning


@pytest.mark.slow
def test_real_ecsel_shapley_values_are_complete_through_to_torch() -> None:
    ecsel = pytest.importorskip("ecsel")
    est_cls = getattr(ecsel, "ECSELClassifier", None)
    if est_cls is None or not hasattr(est_cls, "explain") or not hasattr(est_cls, "to_torch"):
        pytest.skip("ECSELClassifier.explain / to_torch not available")
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(0.5, 3.0, size=(200, 3)), columns=["a", "b", "c"])
    y = (X.a * X.b**0.5 / X.c > 1.2).astype(int)
    est = est_cls(n_terms=1, n_restarts=1, max_iter=60, random_state=0).fit(X, y)
    base = X.median().to_frame().T
    rows = X.iloc[:10]
    values = est.explain(rows, background=base).values
    err = completeness_error(est, rows, values, baselines=base.to_numpy(), softmax=False,
                             relative=True)
    assert err.max().item() < 1e-9  # DataFrames stay float64 end to end
    z = ForwardAdapter(est)(to_tensor(rows)).squeeze(1)
    np.testing.assert_allclose(z.numpy(), est.decision_function(rows), rtol=1e-10, atol=1e-10)
