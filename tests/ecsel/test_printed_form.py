"""One printed form: ``logit P(y = <class>) = ...`` and terms around a reference point."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from ecsel import ECSELClassifier, PositivityTransform, Signomial, load_json

NUMBER = re.compile(r"(?<![\w.])(\d+\.?\d*(?:e[+-]?\d+)?)(?![\w(])")


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "glu": rng.uniform(60, 200, n), "age": rng.uniform(20, 80, n),
        "npreg": rng.integers(0, 10, n).astype(float), "delta": rng.normal(0, 3, n),
        "VisitorType": rng.choice(["New_Visitor", "Returning", "Other"], n, p=[0.3, 0.5, 0.2]),
    })


def _steep(frame, link="logit"):
    """A Pima-like term: -0.3 (glu/g)**3.4 (age/a)**-2.7 ... (raw coefficient ~1e-8)."""
    t = PositivityTransform.fit(frame)
    m = len(t.feature_maps)
    expo = np.zeros((1, 2, m))
    expo[0, 0, :3] = [3.4, -2.7, 0.95]
    expo[0, 1, 3:] = 0.5
    return Signomial([-0.11], [[-0.3, 0.8]], expo, t, ["Yes"], link=link, reference_class="No")


def _lambdified(expr, frame):
    symbols = sorted(expr.free_symbols, key=str)
    f = sp.lambdify(symbols, expr, "numpy")
    columns = {}
    for s in symbols:
        name = str(s)
        match = re.fullmatch(r"(.+)\[(.+)\]", name)
        columns[name] = ((frame[match.group(1)] == match.group(2)).astype(float).to_numpy()
                         if match else frame[name].to_numpy(dtype=float))
    return np.broadcast_to(f(*[columns[str(s)] for s in symbols]), len(frame))


def test_printed_coefficients_are_readable_and_left_hand_side_is_the_logit():
    frame = _frame()
    sig = _steep(frame)
    raw = sig.to_sympy(precision=4)
    raw_coefs = [abs(float(c)) for c in raw.atoms(sp.Float)]
    assert max(raw_coefs) >= 1e4 or min(raw_coefs) < 1e-3  # the raw form is unreadable
    text = str(sig)
    assert text.startswith("logit P(y = Yes) = ")
    equation = text.splitlines()[0].split(" = ", 1)[1]
    # every constant that multiplies a term (not exponents, not reference points)
    printed = sig.to_sympy(precision=4, reference="auto")
    for term in sp.Add.make_args(printed):
        coefficient = abs(float(term.as_coeff_Mul()[0]))
        assert 1e-3 <= coefficient < 1e4, (term, equation)
    assert "(glu/" in equation and "(age/" in equation


@pytest.mark.parametrize("reference", [False, True, "auto"])
def test_every_printed_form_evaluates_to_the_score(reference):
    frame = _frame(200, seed=1)
    sig = _steep(frame)
    expr = sig.to_sympy(reference=reference)
    np.testing.assert_allclose(_lambdified(expr, frame), sig.evaluate(frame)[:, 0],
                               rtol=1e-12, atol=1e-12)


def test_latex_escapes_column_names_and_states_the_logit():
    frame = _frame()
    t = PositivityTransform.fit(frame)
    names = t.feature_names
    expo = np.zeros((1, 1, len(names)))
    expo[0, 0, names.index("VisitorType[New_Visitor]")] = 1.0
    expo[0, 0, 0] = 1.0
    sig = Signomial([0.5], [[2.0]], expo, t, ["1"], link="logit")
    latex = sig.to_latex()
    assert latex.startswith(r"\operatorname{logit} P(y = \text{1}) = ")
    assert r"\text{VisitorType[New\_Visitor]}" in latex
    assert "_{" not in latex


def test_classifier_prints_logit_and_softmax_and_files_keep_the_form():
    frame = _frame(120)
    z = np.log(frame["glu"] / 120) * 3 - 0.02 * (frame["age"] - 50)
    y = np.where(z > 0, "yes", "no")
    clf = ECSELClassifier(n_terms=1, n_restarts=1, max_iter=30, random_state=0)
    clf.fit(frame, y)
    assert str(clf.signomial_).startswith("logit P(y = yes) = ")
    assert str(load_json(clf.to_json()).signomial_) == str(clf.signomial_)
    # a file written before the link existed still prints the logit
    doc = json.loads(clf.to_json())
    del doc["signomial"]["link"], doc["signomial"]["reference_class"]
    assert str(load_json(json.dumps(doc)).signomial_).startswith("logit P(y = yes) = ")
    y3 = np.select([z > 0.5, z > -0.5], ["hi", "mid"], "lo")
    multi = ECSELClassifier(n_terms=1, n_restarts=1, max_iter=30, random_state=0)
    lines = str(multi.fit(frame, y3).signomial_).splitlines()
    assert lines[0].startswith("P(y = k) = exp(z_k) / sum_j exp(z_j), z_hi = 0")
    assert lines[1].startswith("log P(y = lo)/P(y = hi) = ")
    assert lines[2].startswith("log P(y = mid)/P(y = hi) = ")
