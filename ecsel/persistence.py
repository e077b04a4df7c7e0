"""Saving and loading fitted estimators: the one module that knows both the
estimators and the file format.

The writer is :func:`ecsel.export.json.estimator_to_json` (``est.to_json()``); the
reader, :func:`load_json`, rebuilds the right estimator class around the stored
:class:`~ecsel.Signomial`. No pickle is involved: a document is plain JSON.
"""

from __future__ import annotations

import numpy as np

from ecsel.classifier import ECSELClassifier
from ecsel.export.json import ESTIMATOR_FORMAT, parse_json
from ecsel.regressor import ECSELRegressor
from ecsel.signomial import Signomial

#: The estimator classes a document may name.
ESTIMATORS = {"ECSELClassifier": ECSELClassifier, "ECSELRegressor": ECSELRegressor}


def load_json(text: str):
    """Rebuild a fitted estimator from :meth:`ECSELClassifier.to_json` output.

    Raises ``ValueError`` on anything that is not an ECSEL estimator document.

    Examples
    --------
    >>> import numpy as np
    >>> from ecsel import ECSELRegressor, load_json
    >>> X = np.linspace(1.0, 3.0, 20).reshape(-1, 1)
    >>> est = ECSELRegressor(n_terms=1, n_restarts=1, max_iter=50).fit(X, 2.0 * X[:, 0])
    >>> again = load_json(est.to_json())
    >>> type(again).__name__, bool(np.array_equal(again.predict(X), est.predict(X)))
    ('ECSELRegressor', True)
    """
    doc = parse_json(text, ESTIMATOR_FORMAT)
    if doc.get("estimator") not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {doc.get('estimator')!r}.")
    try:
        estimator = ESTIMATORS[doc["estimator"]].from_signomial(
            Signomial.from_dict(doc["signomial"]),
            classes=np.asarray(doc["classes"]) if "classes" in doc else None,
            threshold=doc.get("threshold", 0.5),
            **doc["params"],
        )
        if doc["feature_names_in"]:  # array columns named x0, x1, ... in a DataFrame
            estimator.feature_names_in_ = np.asarray(doc["feature_names_in"], dtype=object)
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Malformed ECSEL estimator JSON: {exc}") from exc
    return estimator


__all__ = ["ESTIMATORS", "load_json"]
