"""Field checks for reading JSON documents (model files) back: type, shape and range.

A model file may have been edited by hand or come from elsewhere. Every reader
(:meth:`ecsel.FeatureMap.from_dict`, :meth:`ecsel.Signomial.from_dict`,
:func:`ecsel.load_json`) checks each field it uses with these helpers, so that a bad
document raises a :class:`ValueError` naming the field (``"signomial.coef[0][1]"``)
instead of a ``TypeError`` later or, worse, a model that silently predicts NaN.

Examples
--------
>>> finite_number(2, "threshold")
2.0
>>> finite_number(float("nan"), "threshold")
Traceback (most recent call last):
...
ValueError: Invalid model field 'threshold': expected a finite number, got nan.
>>> numeric_array([[1, 2]], 2, "coef").shape
(1, 2)
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np

#: Longest string (a name or a level) a document may hold.
MAX_STRING = 10_000


def fail(field: str, problem: str):
    """Raise the one error type of a bad document, naming ``field``."""
    raise ValueError(f"Invalid model field {field!r}: {problem}.")


def json_type(value) -> str:
    """The JSON name of a parsed value's type (what the user sees in the file)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), "a value")


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def mapping(value, field: str, *, required=(), optional=()) -> dict:
    """``value`` as a dict with all ``required`` keys and no key outside both sets.

    Examples
    --------
    >>> mapping({"a": 1, "b": 2}, "doc", required=["a"])
    Traceback (most recent call last):
    ...
    ValueError: Invalid model field 'doc.b': unknown field (expected one of ['a']).
    """
    if not isinstance(value, dict):
        fail(field, f"expected an object, got {json_type(value)}")
    missing = [k for k in required if k not in value]
    if missing:
        fail(f"{field}.{missing[0]}", "missing (a model file must state every field)")
    known = list(required) + list(optional)
    for key in value:
        if key not in known:
            fail(f"{field}.{key}", f"unknown field (expected one of {sorted(known)})")
    return value


def finite_number(value, field: str, *, low=None, high=None, low_open=False) -> float:
    """A finite real (not a bool, not a string) in ``[low, high]`` (``(low, ...`` if open)."""
    if isinstance(value, bool) or not isinstance(value, Real):
        fail(field, f"expected a finite number, got {_shown(value)}")
    try:
        number = float(value)
    except OverflowError:
        fail(field, f"expected a finite number, got an integer of {len(str(value))} digits")
    if not math.isfinite(number):
        fail(field, f"expected a finite number, got {_shown(value)}")
    if low is not None and (number < low or (low_open and number == low)):
        fail(field, f"must be {'>' if low_open else '>='} {low:g}, got {_shown(value)}")
    if high is not None and number > high:
        fail(field, f"must be <= {high:g}, got {_shown(value)}")
    return number


def integer(value, field: str, *, low=None) -> int:
    """An integer (not a bool) ``>= low``."""
    if isinstance(value, bool) or not isinstance(value, Integral):
        fail(field, f"expected an integer, got {_shown(value)}")
    if low is not None and value < low:
        fail(field, f"must be >= {low}, got {_shown(value)}")
    return int(value)


def string(value, field: str) -> str:
    """A string of at most ``MAX_STRING`` characters."""
    if not isinstance(value, str):
        fail(field, f"expected a string, got {_shown(value)}")
    if len(value) > MAX_STRING:
        fail(field, f"longer than {MAX_STRING} characters")
    return value


def boolean(value, field: str) -> bool:
    if not isinstance(value, bool):
        fail(field, f"expected true or false, got {_shown(value)}")
    return value


def string_list(value, field: str, *, unique: bool = True) -> list[str]:
    """A list of strings (unique unless ``unique=False``).

    Examples
    --------
    >>> string_list(["a", "a"], "names")
    Traceback (most recent call last):
    ...
    ValueError: Invalid model field 'names': duplicate entry 'a'.
    """
    if not isinstance(value, list):
        fail(field, f"expected a list, got {json_type(value)}")
    out = [string(v, f"{field}[{i}]") for i, v in enumerate(value)]
    if unique and len(set(out)) != len(out):
        seen = set()
        for v in out:
            if v in seen:
                fail(field, f"duplicate entry {_shown(v)}")
            seen.add(v)
    return out


def numeric_array(value, ndim: int, field: str) -> np.ndarray:
    """A rectangular nested list of finite numbers with ``ndim`` levels, as float64.

    An empty list stands for any number of zero-length trailing axes (``[[]]`` is a
    (1, 0) or a (1, 0, m) array): the caller reshapes it.
    """
    def walk(node, depth, path):
        if depth == ndim:
            finite_number(node, path)
            return
        if not isinstance(node, list):
            fail(path, f"expected a list nested {ndim} deep, got {_shown(node)}")
        for i, child in enumerate(node):
            walk(child, depth + 1, f"{path}[{i}]")

    walk(value, 0, field)
    try:
        array = np.array(value, dtype=np.float64)
    except ValueError:
        fail(field, "rows of different lengths")
    if array.ndim != ndim and array.size:
        fail(field, f"rows of different lengths (shape {array.shape})")
    return array


# ------------------------------------------------------------ the input transform
_MAP_FIELDS = ("name", "source", "kind", "scale", "shift", "center", "lower", "level", "high")


def feature_map_fields(data, field: str, kinds) -> dict:
    """The checked keyword arguments of a ``FeatureMap`` document.

    Every field is required, except ``upper`` (absent in documents written before
    the ``signed`` map; allowed only for other kinds) and ``missing`` (absent before
    missingness indicators existed, where it is false).
    """
    data = mapping(data, field, required=_MAP_FIELDS, optional=("upper", "missing"))
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in kinds:
        fail(f"{field}.kind", f"unknown kind {_shown(kind)} (expected one of {list(kinds)})")
    level = data["level"]
    if level is not None:
        string(level, f"{field}.level")
        if kind != "indicator":
            fail(f"{field}.level", f"a {kind} map has no level, got {_shown(level)}")
    if "upper" not in data and kind == "signed":
        fail(f"{field}.upper", "missing (a signed map must state its upper clip)")
    power = kind == "power"
    out = {
        "name": string(data["name"], f"{field}.name"),
        "source": string(data["source"], f"{field}.source"),
        "kind": kind,
        "scale": finite_number(data["scale"], f"{field}.scale", low=0.0, low_open=True),
        "shift": finite_number(data["shift"], f"{field}.shift", low=0.0 if power else None),
        "center": finite_number(data["center"], f"{field}.center"),
        "lower": finite_number(data["lower"], f"{field}.lower", low=0.0 if power else None),
        "level": level,
        "high": finite_number(data["high"], f"{field}.high"),
        "upper": None if data.get("upper") is None
        else finite_number(data["upper"], f"{field}.upper"),
        "missing": boolean(data.get("missing", False), f"{field}.missing"),
    }
    if power and not out["lower"] + out["shift"] > 0:
        fail(f"{field}.lower", "a power map needs lower + shift > 0 (log u would be -infinity)")
    if out["upper"] is not None and out["upper"] < out["lower"]:
        fail(f"{field}.upper", f"below lower ({out['upper']!r} < {out['lower']!r})")
    if out["missing"] and kind != "indicator":
        fail(f"{field}.missing", f"only an indicator marks missing values, not a {kind} map")
    return out


def check_sources(inputs: list[str], maps, field: str) -> None:
    """Feature maps consistent with the input columns: each column has its maps, all
    one-hot levels or all numeric, at most one missingness indicator."""
    for i, fmap in enumerate(maps):
        if fmap.source not in inputs:
            fail(f"{field}.feature_maps[{i}].source",
                 f"{fmap.source!r} is not one of the input_features")
    for name in inputs:
        own = [m for m in maps if m.source == name]
        if not own:
            fail(f"{field}.input_features", f"column {name!r} has no feature map")
        labelled = [m.level is not None for m in own]
        if any(labelled) and not all(labelled):
            fail(f"{field}.feature_maps", f"column {name!r} mixes one-hot levels with "
                 "numeric maps")
        if sum(m.missing for m in own) > 1:
            fail(f"{field}.feature_maps", f"column {name!r} has two missingness indicators")
