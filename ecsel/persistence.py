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

from ecsel import _document
from ecsel._fit.constraints import parameters_from_document
from ecsel.classifier import ECSELClassifier
from ecsel.export.json import ESTIMATOR_FORMAT, VERSION, parse_json
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
    raise ValueError(f"load_json takes JSON text or a path, got {type(source).__name__}.")


def load_json(source):
    """Rebuild a fitted estimator from :meth:`ECSELClassifier.to_json` output.

    Parameters
    ----------
    source : str or path-like
        The JSON text, or the path of a file that holds it (``"model.json"``,
        a :class:`pathlib.Path`).

    Raises ``ValueError`` on anything that is not an ECSEL estimator document, and on
    a document whose fields do not describe a valid model: every field is checked for
    type, shape, range and consistency (a hand-edited ``"scale": -5``, a threshold
    of 7, one class, an unknown parameter), and the message names the field.

    Examples
    --------
    >>> import numpy as np
    >>> from ecsel import ECSELRegressor, load_json
    >>> X = np.linspace(1.0, 3.0, 20).reshape(-1, 1)
    >>> est = ECSELRegressor(n_terms=1, n_restarts=1, max_iter=50).fit(X, 2.0 * X[:, 0])
    >>> again = load_json(est.to_json())
    >>> type(again).__name__, bool(np.array_equal(again.predict(X), est.predict(X)))
    ('ECSELRegressor', True)
    >>> load_json(est.to_json().replace('"version": 1', '"version": 99'))
    Traceback (most recent call last):
    ...
    ValueError: Unsupported ECSEL JSON version 99 (this ecsel reads version 1).
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "model.json"
    >>> _ = path.write_text(est.to_json())
    >>> load_json(path).n_terms_, load_json(str(path)).n_terms_
    (1, 1)
    """
    doc = parse_json(_document_text(source), ESTIMATOR_FORMAT)
    version = doc.get("version")
    if isinstance(version, bool) or version != VERSION:
        raise ValueError(f"Unsupported ECSEL JSON version {version!r} (this ecsel reads "
                         f"version {VERSION}).")
    name = doc.get("estimator")
    if not isinstance(name, str) or name not in ESTIMATORS:
        _document.fail("estimator", f"expected one of {sorted(ESTIMATORS)}, got {name!r}")
    is_classifier = name == "ECSELClassifier"
    _document.mapping(doc, "model", required=_FIELDS[name], optional=_OPTIONAL[name])
    estimator = _with_params(ESTIMATORS[name](), doc["params"])
    signomial = Signomial.from_dict(doc["signomial"], "signomial")
    inputs = signomial.input_features
    n_features_in = _document.integer(doc["n_features_in"], "n_features_in", low=1)
    if n_features_in != len(inputs):
        _document.fail("n_features_in", f"{n_features_in} but the signomial reads "
                       f"{len(inputs)} column(s)")
    names = _document.string_list(doc["feature_names_in"], "feature_names_in")
    if names and names != inputs:
        _document.fail("feature_names_in", f"{names} differ from the signomial's inputs "
                       f"{inputs}")
    classes, threshold = None, 0.5
    if is_classifier:
        classes = _classes(doc["classes"], signomial.n_outputs)
        threshold = _document.finite_number(doc["threshold"], "threshold", low=0.0, high=1.0)
    elif signomial.n_outputs != 1:
        _document.fail("signomial.intercept", f"a regressor has one output, got "
                       f"{signomial.n_outputs}")
    if "constraints" in doc:  # the fit's constraints: parameters and certificate
        _check_constraints(doc["constraints"], signomial.transform.input_features)
        try:
            estimator.set_params(**parameters_from_document(doc["constraints"]))
            estimator._validate_params()
        except ValueError as exc:
            _document.fail("constraints", str(exc).rstrip("."))
    if "intervals" in doc:
        _check_intervals(doc["intervals"])
    # The one door that sets every fitted attribute (a one-row front included).
    loaded = ESTIMATORS[name].from_signomial(signomial, classes=classes, threshold=threshold,
                                             **estimator.get_params())
    if names:  # array columns named x0, x1, ... in a DataFrame
        loaded.feature_names_in_ = np.asarray(names, dtype=object)
    if "constraints" in doc:
        loaded.constraints_ = doc["constraints"]
    if "y_scale" in doc:  # kept so that the document round-trips exactly
        loaded.y_scale_ = _document.finite_number(doc["y_scale"], "y_scale", low=0.0,
                                                  low_open=True)
    return loaded


_COMMON = ("format", "version", "estimator", "params", "signomial", "n_features_in",
           "feature_names_in")
_FIELDS = {"ECSELClassifier": _COMMON + ("classes", "threshold"),
           "ECSELRegressor": _COMMON}
_OPTIONAL = {"ECSELClassifier": ("constraints", "intervals"),
             "ECSELRegressor": ("y_scale", "constraints", "intervals")}


def _column_map(value, field: str, columns) -> dict:
    """An object whose keys are input columns."""
    if not isinstance(value, dict):
        _document.fail(field, f"expected an object, got {_document.json_type(value)}")
    for key in value:
        if key not in columns:
            _document.fail(f"{field}.{key}", f"not an input column (expected one of {columns})")
    return value


def _check_constraints(value, columns) -> None:
    """The ``constraints`` record: monotonic signs, exponent boxes, units."""
    _document.mapping(value, "constraints",
                      optional=("monotonic", "exponent_bounds", "units", "target_units"))
    for column, sign in _column_map(value.get("monotonic", {}), "constraints.monotonic",
                                    columns).items():
        if isinstance(sign, bool) or sign not in (-1, 0, 1):
            _document.fail(f"constraints.monotonic.{column}", f"expected -1, 0 or 1, got "
                           f"{_document.json_type(sign)} {sign!r}"[:200])
    for column, box in _column_map(value.get("exponent_bounds", {}),
                                   "constraints.exponent_bounds", columns).items():
        field = f"constraints.exponent_bounds.{column}"
        if not isinstance(box, list) or len(box) != 2:
            _document.fail(field, "expected [low, high] (null for no bound)")
        low, high = (None if b is None else _document.finite_number(b, field) for b in box)
        if (low is not None and low > 0) or (high is not None and high < 0):
            _document.fail(field, f"the box [{low}, {high}] must contain 0")
    if ("units" in value) != ("target_units" in value):
        _document.fail("constraints.units", "units and target_units come together")
    if "units" in value:
        for column, dims in _column_map(value["units"], "constraints.units", columns).items():
            _dimensions(dims, f"constraints.units.{column}")
        _dimensions(value["target_units"], "constraints.target_units")


def _dimensions(value, field: str) -> None:
    if not isinstance(value, dict):
        _document.fail(field, f"expected an object, got {_document.json_type(value)}")
    for base, power in value.items():
        _document.finite_number(power, f"{field}.{base}")


def _check_intervals(value) -> None:
    """The optional ``intervals`` record of :meth:`confidence_intervals` (not used to
    predict; checked so that a loaded file holds what it says)."""
    _document.mapping(value, "intervals", required=("level", "n_resamples", "method",
                                                    "parameters"))
    _document.finite_number(value["level"], "intervals.level", low=0.0, high=1.0)
    _document.integer(value["n_resamples"], "intervals.n_resamples", low=0)
    _document.string(value["method"], "intervals.method")
    if not isinstance(value["parameters"], list):
        _document.fail("intervals.parameters", "expected a list")
    for i, row in enumerate(value["parameters"]):
        field = f"intervals.parameters[{i}]"
        _document.mapping(row, field, required=("parameter", "estimate", "lower", "upper"))
        _document.string(row["parameter"], f"{field}.parameter")
        for key in ("estimate", "lower", "upper"):
            _document.finite_number(row[key], f"{field}.{key}")


def _with_params(estimator, params):
    """``estimator`` with the document's parameters, each checked as ``fit`` checks it."""
    if not isinstance(params, dict):
        _document.fail("params", f"expected an object, got {_document.json_type(params)}")
    known = estimator.get_params()
    for key, value in params.items():
        if key not in known:
            _document.fail(f"params.{key}", f"not a parameter of {type(estimator).__name__}")
        if not (value is None or isinstance(value, (bool, str))):
            _document.finite_number(value, f"params.{key}")
    estimator.set_params(**params)
    try:
        estimator._validate_params()  # scikit-learn's checks, from _parameter_constraints
    except ValueError as exc:
        _document.fail("params", str(exc).rstrip("."))
    return estimator


def _classes(value, n_outputs: int) -> np.ndarray:
    """The class labels: 2 or more, unique, all strings or all numbers, one per output + 1."""
    if not isinstance(value, list):
        _document.fail("classes", f"expected a list, got {_document.json_type(value)}")
    if len(value) < 2:
        _document.fail("classes", f"a classifier has at least 2 classes, got {value!r}")
    if all(isinstance(c, str) for c in value):
        labels = _document.string_list(value, "classes")
    elif all(isinstance(c, bool) for c in value):
        labels = value if value == [False, True] else _document.fail(
            "classes", f"boolean classes must be [false, true], got {value!r}")
    else:
        labels = [_document.finite_number(c, f"classes[{i}]") for i, c in enumerate(value)]
        if len(set(labels)) != len(labels):
            _document.fail("classes", f"duplicate labels in {value!r}")
        if all(isinstance(c, int) and not isinstance(c, bool) for c in value):
            labels = [int(c) for c in value]
    if len(labels) != n_outputs + 1:
        _document.fail("classes", f"{len(labels)} classes but the signomial has "
                       f"{n_outputs} output(s) (expected {n_outputs + 1} classes)")
    classes = np.asarray(labels)
    if not np.all(classes[:-1] < classes[1:]):  # fit stores np.unique's sorted labels
        _document.fail("classes", f"not in sorted order: {value!r}")
    return classes


__all__ = ["ESTIMATORS", "load_json"]
