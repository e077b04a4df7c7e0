"""Saving and loading fitted estimators: the one module that knows both the
estimators and the file format.

The writer is :func:`ecsel.export.json.estimator_to_json` (``est.to_json()``); the
reader, :func:`load_json`, rebuilds the right estimator class around the stored
:class:`~ecsel.Signomial`. No pickle is involved: a document is plain JSON.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ecsel.classifier import ECSELClassifier
from ecsel.export.json import ESTIMATOR_FORMAT, estimator_to_json, parse_json
from ecsel.regressor import ECSELRegressor
from ecsel.signomial import Signomial

#: The estimator classes a document may name.
ESTIMATORS = {"ECSELClassifier": ECSELClassifier, "ECSELRegressor": ECSELRegressor}


def _document_text(source) -> str:
    """The JSON text of ``source``: the text itself, or the file a path names."""
    if isinstance(source, (bytes, bytearray)):
        return source.decode("utf-8")
    if isinstance(source, str) and source.lstrip().startswith(("{", "[")):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise ValueError(f"{str(source)[:200]!r} is neither ECSEL JSON text nor a file.")
        return path.read_text(encoding="utf-8")
    raise TypeError(f"load_json takes JSON text or a path, got {type(source).__name__}.")


def load_json(source):
    """Rebuild a fitted estimator from :meth:`ECSELClassifier.to_json` output.

    Parameters
    ----------
    source : str or path-like
        The JSON text, or the path of a file that holds it (``"model.json"``,
        a :class:`pathlib.Path`).

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
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> _ = path.write_text(est.to_json())
    >>> load_json(path).n_terms_, load_json(str(path)).n_terms_
    (1, 1)
    """
    doc = parse_json(_document_text(source), ESTIMATOR_FORMAT)
    if doc.get("estimator") not in ESTIMATORS:
        raise ValueError(f"Unknown estimator {doc.get('estimator')!r}.")
    try:
        estimator = ESTIMATORS[doc["estimator"]]().set_params(**doc["params"])
        estimator._set_fitted(
            Signomial.from_dict(doc["signomial"]),
            n_features_in=doc["n_features_in"],
            feature_names_in=doc["feature_names_in"] or None,
            classes=np.asarray(doc["classes"]) if "classes" in doc else None,
            threshold=doc.get("threshold", 0.5),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"Malformed ECSEL estimator JSON: {exc}") from exc
    return estimator


#: The old name (:mod:`ecsel.export.json` used to hold the reader).
estimator_from_json = load_json

__all__ = ["ESTIMATORS", "estimator_from_json", "estimator_to_json", "load_json"]
