"""The explanation methods as a newcomer calls them: labelled frames, scikit-learn's
argument order, short errors."""

import matplotlib
import numpy as np
import pandas as pd
import pytest

from ecsel._testing import example_estimator

matplotlib.use("Agg")


def test_partial_dependence_takes_sklearns_order_and_the_feature_first():
    est, X = example_estimator()
    sklearn_order = est.partial_dependence(X, "m", values=[1.0, 2.0])
    feature_first = est.partial_dependence("m", values=[1.0, 2.0], background=X)
    pd.testing.assert_frame_equal(sklearn_order, feature_first)
    ax = est.plot_partial_dependence(X, "v", values=[1.0, 2.0, 3.0])
    y = ax.lines[0].get_ydata()
    np.testing.assert_allclose(y / y[0], [1.0, 4.0, 9.0], rtol=1e-12)


def test_a_frame_in_the_feature_slot_gives_a_short_error():
    est, X = example_estimator()
    big = pd.concat([X] * 50, ignore_index=True)
    with pytest.raises(ValueError) as info:
        est.partial_dependence(big, big)
    message = str(info.value)
    assert "got a DataFrame" in message and len(message) < 200


def test_elasticities_are_labelled_and_plot_terms_needs_no_rows():
    est, X = example_estimator()
    rows = X.iloc[[3, 7]]
    el = est.elasticities(rows)
    assert list(el.index) == [3, 7] and list(el.columns) == ["m", "v"]
    np.testing.assert_allclose(el.to_numpy(), [[1.0, 2.0], [1.0, 2.0]], rtol=1e-12)
    ax = est.plot_terms()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["0.5*m*v**2"]
