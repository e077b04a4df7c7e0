"""Safe JSON persistence (no pickle) of signomials and fitted estimators."""

from __future__ import annotations

import json

import numpy as np

from ecsel._transform import PositivityTransform

FORMAT = "ecsel.signomial"
VERSION = 1


def _signomial_dict(signomial) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "intercept": signomial.intercept.tolist(),
        "coef": signomial.coef.tolist(),
        "exponents": signomial.exponents.tolist(),
        "output_names": list(signomial.output_names),
        "transform": signomial.transform.to_dict(),
    }


def _signomial_from_dict(data: dict):
    from ecsel.signomial import Signomial

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError("Not an ECSEL signomial JSON document.")
    if data.get("version") != VERSION:
        raise ValueError(f"Unsupported ECSEL JSON version {data.get('version')!r}.")
    try:
        return Signomial(
            data["intercept"],
            data["coef"],
            data["exponents"],
            PositivityTransform.from_dict(data["transform"]),
            data["output_names"],
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Malformed ECSEL signomial JSON: {exc}") from exc


def signomial_to_json(signomial) -> str:
    """Serialise a :class:`~ecsel.Signomial` to a JSON string (full float precision).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t)
    >>> Signomial.from_json(signomial_to_json(s)) == s
    True
    """
    return json.dumps(_signomial_dict(signomial))


def signomial_from_json(text: str):
    """Inverse of :func:`signomial_to_json`; raises ``ValueError`` on bad documents."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"Invalid JSON: {exc}") from exc
    return _signomial_from_dict(data)


def estimator_to_json(estimator) -> str:
    """Serialise a fitted ECSEL estimator (its signomial and prediction settings)."""
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator)
    doc = {
        "format": "ecsel.estimator",
        "version": VERSION,
        "estimator": type(estimator).__name__,
        "params": {k: v for k, v in estimator.get_params().items() if _jsonable(v)},
        "signomial": _signomial_dict(estimator.signomial_),
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


def estimator_from_json(text: str):
    """Rebuild a fitted estimator from :func:`estimator_to_json` output."""
    from ecsel.classifier import ECSELClassifier
    from ecsel.regressor import ECSELRegressor

    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"Invalid JSON: {exc}") from exc
    if not isinstance(doc, dict) or doc.get("format") != "ecsel.estimator":
        raise ValueError("Not an ECSEL estimator JSON document.")
    kinds = {"ECSELClassifier": ECSELClassifier, "ECSELRegressor": ECSELRegressor}
    if doc.get("estimator") not in kinds:
        raise ValueError(f"Unknown estimator {doc.get('estimator')!r}.")
    try:
        estimator = kinds[doc["estimator"]]().set_params(**doc["params"])
        estimator._set_fitted(
            _signomial_from_dict(doc["signomial"]),
            n_features_in=doc["n_features_in"],
            feature_names_in=doc["feature_names_in"] or None,
            classes=np.asarray(doc["classes"]) if "classes" in doc else None,
            threshold=doc.get("threshold", 0.5),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Malformed ECSEL estimator JSON: {exc}") from exc
    return estimator
