"""JSON writers (no pickle) of signomials and fitted estimators.

This module only writes: it never imports an estimator or the signomial type. The
readers live with the types they rebuild: :meth:`ecsel.Signomial.from_json` for a
signomial and :func:`ecsel.load_json` (:mod:`ecsel.persistence`) for an estimator.
"""

from __future__ import annotations

import json

from sklearn.utils.validation import check_is_fitted

#: ``format`` / ``version`` of the two documents.
SIGNOMIAL_FORMAT = "ecsel.signomial"
ESTIMATOR_FORMAT = "ecsel.estimator"
VERSION = 1


def signomial_to_dict(signomial) -> dict:
    """The JSON-ready dictionary of a :class:`~ecsel.Signomial`.

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> doc = signomial_to_dict(Signomial([0.5], [[3.0]], [[[-2.0]]], t))
    >>> doc["format"], doc["coef"]
    ('ecsel.signomial', [[3.0]])
    """
    return {
        "format": SIGNOMIAL_FORMAT,
        "version": VERSION,
        "intercept": signomial.intercept.tolist(),
        "coef": signomial.coef.tolist(),
        "exponents": signomial.exponents.tolist(),
        "output_names": list(signomial.output_names),
        "link": signomial.link,
        "reference_class": signomial.reference_class,
        "transform": signomial.transform.to_dict(),
    }


def signomial_to_json(signomial) -> str:
    """Serialise a :class:`~ecsel.Signomial` to a JSON string (full float precision).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t)
    >>> Signomial.from_json(signomial_to_json(s)) == s
    True
    """
    return json.dumps(signomial_to_dict(signomial))


def estimator_to_json(estimator) -> str:
    """Serialise a fitted ECSEL estimator (its signomial and prediction settings).

    Examples
    --------
    >>> import numpy as np
    >>> from ecsel import ECSELRegressor, load_json
    >>> X = np.linspace(1.0, 3.0, 20).reshape(-1, 1)
    >>> est = ECSELRegressor(n_terms=1, n_restarts=1, max_iter=50).fit(X, 2.0 * X[:, 0])
    >>> text = estimator_to_json(est)
    >>> bool(np.allclose(load_json(text).predict(X), est.predict(X)))
    True
    """
    check_is_fitted(estimator)
    doc = {
        "format": ESTIMATOR_FORMAT,
        "version": VERSION,
        "estimator": type(estimator).__name__,
        "params": {k: v for k, v in estimator.get_params().items() if _jsonable(v)},
        "signomial": signomial_to_dict(estimator.signomial_),
        "n_features_in": int(estimator.n_features_in_),
        "feature_names_in": [str(c) for c in getattr(estimator, "feature_names_in_", [])],
    }
    if hasattr(estimator, "classes_"):
        doc["classes"] = estimator.classes_.tolist()
        doc["threshold"] = float(getattr(estimator, "threshold_", 0.5))
    if hasattr(estimator, "y_scale_"):
        doc["y_scale"] = float(estimator.y_scale_)
    return json.dumps(doc)


def _jsonable(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def parse_json(text: str, expected_format: str) -> dict:
    """Parse ``text`` and check its ``format`` tag; ``ValueError`` on a bad document.

    Examples
    --------
    >>> parse_json('{"format": "ecsel.signomial", "version": 1}', SIGNOMIAL_FORMAT)["version"]
    1
    >>> parse_json("[1, 2]", SIGNOMIAL_FORMAT)
    Traceback (most recent call last):
    ...
    ValueError: Not an ECSEL signomial JSON document.
    """
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"Invalid JSON: {exc}") from exc
    except RecursionError as exc:  # json's parser recurses once per nesting level
        raise ValueError("Invalid JSON: nested too deeply.") from exc
    if not isinstance(doc, dict) or doc.get("format") != expected_format:
        kind = expected_format.split(".", 1)[1]
        raise ValueError(f"Not an ECSEL {kind} JSON document.")
    return doc


__all__ = [
    "ESTIMATOR_FORMAT",
    "SIGNOMIAL_FORMAT",
    "VERSION",
    "estimator_to_json",
    "parse_json",
    "signomial_to_dict",
    "signomial_to_json",
]
