"""Saving and loading fitted estimators: the one module that knows both the
estimators and the file format.

The writer is :func:`ecsel.export.json.estimator_to_json` (``est.to_json()``); the
reader, :func:`load_json`, rebuilds the right estimator class around the stored
:class:`~ecsel.Signomial`. No pickle is involved: a document is plain JSON.
"""

from __future__ import annotations

import numpy as np

from ecsel._fit.constraints import parameters_from_document
from ecsel.classifier import ECSELClassifier
from ecsel.export.json import ESTIMATOR_FORMAT, estimator_to_json, parse_json
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
        estimator = ESTIMATORS[doc["estimator"]]().set_params(**doc["params"])
        if "constraints" in doc:
            estimator.set_params(**parameters_from_document(doc["constraints"]))
            estimator.constraints_ = doc["constraints"]
        estimator._set_fitted(
            Signomial.from_dict(doc["signomial"]),
            n_features_in=doc["n_features_in"],
            feature_names_in=doc["feature_names_in"] or None,
            classes=np.asarray(doc["classes"]) if "classes" in doc else None,
            threshold=doc.get("threshold", 0.5),
        )
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"Malformed ECSEL estimator JSON: {exc}") from exc
    return estimator


#: The old name (:mod:`ecsel.export.json` used to hold the reader).
estimator_from_json = load_json

__all__ = ["ESTIMATORS", "estimator_from_json", "estimator_to_json", "load_json"]
