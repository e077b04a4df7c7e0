"""The positivity transform: raw features -> log-features the signomial is built on.

A signomial ``c * prod_j u_j ** a_j`` needs strictly positive inputs ``u_j``. Each raw
column is mapped to one or more *model features* and the engine only ever sees
``log u``. The documented maps:

``power``
    Non-negative numeric columns. ``u = (x + shift) / scale`` with ``scale`` the
    geometric mean of ``x + shift`` on the training data. ``shift = 0`` when the
    column is strictly positive, so the exponent ``a`` is the elasticity of the score
    in ``x`` itself. Non-negative columns that contain zeros (counts, durations) get
    ``shift`` equal to the median of their positive training values, so the factor
    is ``(x + shift) ** a`` and ``x = 0`` is a neutral, finite point. Values are
    clipped below at ``lower`` (a tenth of the training minimum for positive
    columns, the training minimum otherwise) so unseen small or negative values
    never give NaN.
``signed``
    Columns with negative values (signed, often heavy-tailed: PCA scores, returns,
    balances). ``log u = asinh((clip(x, lower, upper) - center) / scale)`` with
    ``center`` the training median, ``scale`` a robust spread (the interquartile
    range / 1.349, the standard deviation if that is 0) and ``[lower, upper]`` the
    training range. The factor ``exp(g * asinh(z)) = (z + sqrt(1 + z**2)) ** g`` is
    log-linear near the centre and a power law ``|2 z| ** +-g`` in the tails, and the
    clip bounds it on held-out rows: a value 30 spreads out multiplies the score by
    about ``60 ** g``, not ``exp(30 g)``.
``linear``
    The former signed map, ``log u = (x - center) / scale``: kept so that models
    saved before the ``signed`` map existed load and predict unchanged.
``indicator``
    Binary numeric or boolean columns and one-hot levels of categorical / string
    columns: ``log u = b`` with ``b`` in {0, 1}, so the factor is the multiplicative
    switch ``exp(g * b)``. The most frequent level of a categorical column is the
    reference (no indicator); unseen levels at predict time map to the reference.

Constant columns become ``constant`` features with ``log u = 0``: they never affect
the score. In the engine the exponent argument ``log u @ a`` is clamped to
``[-EXP_CLAMP, EXP_CLAMP]`` so extrapolation never overflows.

Missing values
--------------
A numeric (or boolean) column with missing values (NaN, None, ``pd.NA``) in the
training data gets a second model feature, the **missingness indicator**
``col[missing]`` (``missing=True``): ``log u = 1`` where ``x`` is missing and 0
elsewhere, so the factor is ``exp(g * col[missing])`` with a learned ``g``. A missing
``x`` is replaced by the column's **fill value**, the point where its own factor is
neutral (``log u = 0``): ``scale - shift`` (the geometric mean) for ``power``,
``center`` (the median) for ``signed`` / ``linear``, the reference value for a binary
indicator. So at a row where ``x`` is missing the term is exactly
``exp(g)`` times its value at a typical ``x``. A categorical, string or boolean-object
column treats missing as its own level ``col[missing]`` (never the reference). NaN
at predict time in a column that had none in training gets the fill value (the
reference level for a categorical column) and a :class:`MissingValueWarning`.
Infinity is always a ``ValueError``.

Examples
--------
>>> import numpy as np
>>> import pandas as pd
>>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 4.0, np.nan, 16.0]}))
>>> t.feature_names
['x', 'x[missing]']
>>> t.log_features(t.encode(pd.DataFrame({"x": [4.0, np.nan]})))
array([[0., 0.],
       [0., 1.]])
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import torch

from ecsel import _document

EXP_CLAMP = 60.0
MAX_STANDARDISED = 1e150
"""Clip of a standardised value ``(x - center) / scale``: finite for any finite ``x``."""
MAX_CATEGORIES = 64
MISSING = "missing"
"""Label of the missingness indicator: the model feature ``col[missing]``."""

_KINDS = ("power", "signed", "linear", "indicator", "constant")


class MissingValueWarning(UserWarning):
    """NaN at predict time in a column that had no missing values in training."""


@dataclass(frozen=True)
class FeatureMap:
    """How one model feature is computed from one raw input column.

    Attributes
    ----------
    name : str
        Display name of the model feature (the column name, ``col[level]``, or
        ``col[missing]`` for a missingness indicator).
    source : str
        Name of the raw input column.
    kind : {"power", "signed", "linear", "indicator", "constant"}
        The map applied; see the module docstring.
    scale, shift, center, lower : float
        Parameters of the map (unused ones are 0).
    level : str or None
        For a one-hot indicator, the category level it tests for.
    high : float
        For a binary numeric indicator, the value that maps to ``b = 1``.
    upper : float or None
        Upper clip of a ``signed`` map (the training maximum).
    missing : bool
        True for the missingness indicator of ``source``.

    Examples
    --------
    >>> f = FeatureMap("x", "x", "signed", scale=2.0, center=1.0, lower=-9.0, upper=5.0)
    >>> f.fill, f.log_feature(np.array([1.0, 99.0])).round(4).tolist()
    (1.0, [0.0, 1.4436])
    """

    name: str
    source: str
    kind: str
    scale: float = 1.0
    shift: float = 0.0
    center: float = 0.0
    lower: float = 0.0
    level: str | None = None
    high: float = 1.0
    upper: float | None = None
    missing: bool = False

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict, field: str = "feature_map") -> FeatureMap:
        """Inverse of :meth:`to_dict`, every field checked (``ValueError`` naming it;
        see :func:`ecsel._document.feature_map_fields`).

        Examples
        --------
        >>> f = FeatureMap("x", "x", "power", scale=2.0, lower=0.1)
        >>> FeatureMap.from_dict(f.to_dict()) == f
        True
        >>> FeatureMap.from_dict({**f.to_dict(), "scale": -5})
        Traceback (most recent call last):
        ...
        ValueError: Invalid model field 'feature_map.scale': must be > 0, got -5.
        """
        return cls(**_document.feature_map_fields(data, field, _KINDS))

    @property
    def fill(self) -> float:
        """The value a missing entry takes: where this feature's ``log u`` is 0."""
        if self.kind == "power":
            return self.scale - self.shift
        if self.kind in ("signed", "linear", "indicator"):
            return self.center
        return 0.0

    def _clip_signed(self, v, lib):
        upper = np.inf if self.upper is None else self.upper
        if lib is np:
            return np.clip(v, self.lower, upper)
        return lib.clamp(v, min=self.lower, max=upper)

    def log_feature(self, values: np.ndarray) -> np.ndarray:
        """``log u`` for the encoded numeric ``values`` of this feature (numpy).

        Finite for every finite input (``u`` clipped to the positive float range,
        standardised values to ``+-MAX_STANDARDISED``: ``|log u| <= 1e150``), so a
        term never computes ``0 * inf``; ordinary values are unchanged by the clips.

        >>> FeatureMap("x", "x", "power", scale=0.5).log_feature(np.array([1e308])).round(2)
        array([709.78])
        """
        v = np.asarray(values, dtype=np.float64)
        with np.errstate(over="ignore"):
            if self.kind == "power":
                u = (np.maximum(v, self.lower) + self.shift) / self.scale
                return np.log(np.clip(u, _FLOAT_TINY, _FLOAT_MAX))
            if self.kind == "signed":
                return np.arcsinh(_standardise(self._clip_signed(v, np), self))
            if self.kind == "linear":
                return _standardise(v, self)
            if self.kind == "indicator":
                return np.clip(_standardise(v, self), 0.0, 1.0)
        return np.zeros_like(v)

    def log_feature_torch(self, values):
        """Differentiable ``log u`` of a torch tensor of encoded values (clipped as numpy's)."""
        if self.kind == "power":
            u = (torch.clamp(values, min=self.lower) + self.shift) / self.scale
            return torch.log(u.clamp(min=_FLOAT_TINY, max=_FLOAT_MAX))
        if self.kind == "signed":
            return torch.asinh(_standardise(self._clip_signed(values, torch), self))
        if self.kind == "linear":
            return _standardise(values, self)
        if self.kind == "indicator":
            return torch.clamp(_standardise(values, self), 0.0, 1.0)
        return torch.zeros_like(values)


_FLOAT_MAX = float(np.finfo(np.float64).max)
_FLOAT_TINY = float(np.finfo(np.float64).smallest_subnormal)  # (x + shift) / scale >= it


def _standardise(v, fmap: FeatureMap):
    """``(v - center) / scale`` clipped to ``+-MAX_STANDARDISED`` (never infinite)."""
    z = (v - fmap.center) / fmap.scale
    if isinstance(z, torch.Tensor):
        return z.clamp(-MAX_STANDARDISED, MAX_STANDARDISED)
    return np.clip(z, -MAX_STANDARDISED, MAX_STANDARDISED)


def is_categorical(series: pd.Series) -> bool:
    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def _robust_scale(values: np.ndarray) -> float:
    """The interquartile range / 1.349 (the standard deviation where that is 0),
    computed on ``values / max|values|`` for extreme magnitudes (no underflow at
    ``|x| < 1e-154``, no overflow at ``+-1e300``); an IQR counts as 0 only relative
    to the quartiles, so a few huge outliers never replace it.

    >>> bool(_robust_scale(np.array([1e-300, -2e-305, 3e-302])) > 0)
    True
    """
    size = float(np.max(np.abs(values)))
    size = 1.0 if 1e-100 < size < 1e100 else size
    unit = values / size
    q1, q3 = np.percentile(unit, [25.0, 75.0])
    scale = float(q3 - q1) / 1.349
    if not scale > 1e-12 * max(abs(float(q1)), abs(float(q3))):
        scale = float(np.std(unit))
    return float(np.clip(scale * size, _FLOAT_TINY, _FLOAT_MAX))


def _numeric_maps(name: str, values: np.ndarray) -> list[FeatureMap]:
    observed = values[~np.isnan(values)]
    maps = _observed_maps(name, observed)
    if observed.size < values.size:
        maps.append(FeatureMap(f"{name}[{MISSING}]", name, "indicator", missing=True))
    return maps


def _observed_maps(name: str, values: np.ndarray) -> list[FeatureMap]:
    uniques = np.unique(values)
    if uniques.size <= 1:
        return [FeatureMap(name, name, "constant")]
    lo, hi = float(uniques[0]), float(uniques[-1])
    if uniques.size == 2:
        spread = min(hi - lo, _FLOAT_MAX)  # -1e308 and 1e308: hi - lo overflows
        return [FeatureMap(name, name, "indicator", scale=spread, center=lo, high=hi)]
    if lo > 0:
        scale = float(np.exp(np.mean(np.log(values))))
        # a tenth of a subnormal minimum can round to 0, where log u is -inf
        lower = lo / 10.0 if lo / 10.0 > 0 else lo
        return [FeatureMap(name, name, "power", scale=scale, lower=lower)]
    if lo == 0:
        shift = float(np.median(values[values > 0]))
        scale = float(np.exp(np.mean(np.log(values + shift))))
        return [FeatureMap(name, name, "power", scale=scale, shift=shift, lower=0.0)]
    return [FeatureMap(name, name, "signed", scale=_robust_scale(values),
                       center=float(np.median(values)), lower=lo, upper=hi)]


def _missing_label(levels) -> str:
    """``"missing"``, made unique against the column's own level labels."""
    label = MISSING
    while label in levels:
        label = f"{label}_"
    return label


def _labels(series: pd.Series) -> np.ndarray:
    """String labels of a categorical column (missing entries stay None)."""
    out = series.astype(object).to_numpy()
    present = ~pd.isna(out)
    out = out.copy()
    out[present] = [str(v) for v in out[present]]
    out[~present] = None
    return out


def _categorical_maps(name: str, series: pd.Series) -> list[FeatureMap]:
    labels = _labels(series)
    present = labels[labels != None]  # noqa: E711 (elementwise)
    counts = pd.Series(present, dtype=object).value_counts(sort=True)
    if len(counts) > MAX_CATEGORIES:
        raise ValueError(
            f"Column {name!r} has {len(counts)} distinct non-numeric values; at most "
            f"{MAX_CATEGORIES} categories can be one-hot encoded. Encode it numerically "
            "or drop it."
        )
    # Most frequent level first (the reference); ties broken by label for determinism.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    maps = [
        FeatureMap(f"{name}[{level}]", name, "indicator", level=str(level))
        for level, _ in ordered[1:]
    ]
    if present.size < labels.size:
        label = _missing_label(set(counts.index))
        maps.append(FeatureMap(f"{name}[{label}]", name, "indicator", level=label,
                               missing=True))
    return maps or [FeatureMap(name, name, "constant")]


def _numeric_column(name: str, series: pd.Series) -> np.ndarray:
    """Float values of a numeric or boolean column (missing entries as NaN).

    Raises ``ValueError`` for infinity and for dtypes ECSEL cannot interpret.
    """
    if not (pd.api.types.is_bool_dtype(series.dtype)
            or pd.api.types.is_numeric_dtype(series.dtype)):
        raise ValueError(
            f"Column {name!r} has dtype {series.dtype}, which ECSEL cannot interpret; "
            "use numeric, boolean, categorical or string columns."
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(f"Input X contains infinity in column {name!r}.")
    return values


def _numeric_objects(name: str, series: pd.Series) -> pd.Series:
    """An object column of numbers / booleans (bools with a None) as float64, or ValueError."""
    present = series[~pd.isna(series)]
    if not all(isinstance(v, (bool, np.bool_, int, float, np.number)) for v in present):
        raise ValueError(f"Column {name!r} was numeric during fit but is not numeric now.")
    values = np.full(len(series), np.nan)
    values[~pd.isna(series).to_numpy()] = present.to_numpy(dtype=np.float64)
    return pd.Series(values, index=series.index)


def _warn_unseen_missing(name: str, n: int, replacement: str) -> None:
    warnings.warn(
        f"Column {name!r} has {n} missing value(s) but had none in training; they are "
        f"replaced by {replacement}.", MissingValueWarning, stacklevel=4)


class PositivityTransform:
    """Fitted map from raw columns to model features (see the module docstring).

    Parameters
    ----------
    feature_maps : list of FeatureMap
    input_features : list of str
        Raw column names in order.
    boolean_inputs : sequence of str, optional
        Raw columns that held booleans in training (a bool dtype, or True/False with
        missing entries). The maps do not need it; exporters do, because a database
        stores such a column as a ``BOOLEAN`` rather than a number or a label.

    Examples
    --------
    >>> frame = pd.DataFrame({"r": [1.0, 2.0, 4.0], "c": ["a", None, "a"]})
    >>> PositivityTransform.fit(frame).feature_names
    ['r', 'c[missing]']
    """

    def __init__(self, feature_maps: list[FeatureMap], input_features: list[str],
                 boolean_inputs=()):
        self.feature_maps = tuple(feature_maps)
        self.input_features = tuple(input_features)
        self.boolean_inputs = tuple(str(c) for c in boolean_inputs)

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> PositivityTransform:
        """Choose each column's map (see the module docstring) from the training ``frame``.

        Raises ``ValueError`` for infinity, for dtypes ECSEL cannot interpret and for a
        categorical column with more than ``MAX_CATEGORIES`` levels.

        Examples
        --------
        >>> frame = pd.DataFrame({"x": [1.0, 4.0, 16.0], "d": [-1.0, 0.0, 5.0],
        ...                       "b": [0, 1, 1], "c": ["a", "b", "a"]})
        >>> t = PositivityTransform.fit(frame)
        >>> [(m.name, m.kind) for m in t.feature_maps]
        [('x', 'power'), ('d', 'signed'), ('b', 'indicator'), ('c[b]', 'indicator')]
        >>> x = t.feature_maps[0]  # scale: geometric mean of 1, 4, 16; lower: a tenth of 1
        >>> round(x.scale, 12), x.lower
        (4.0, 0.1)
        >>> PositivityTransform.fit(pd.DataFrame({"x": [1.0, np.inf]}))
        Traceback (most recent call last):
        ...
        ValueError: Input X contains infinity in column 'x'.
        """
        maps: list[FeatureMap] = []
        for name in frame.columns:
            series = frame[name]
            if is_categorical(series):
                maps.extend(_categorical_maps(str(name), series))
            else:
                maps.extend(_numeric_maps(str(name), _numeric_column(str(name), series)))
        boolean = [str(c) for c in frame.columns
                   if pd.api.types.infer_dtype(frame[c], skipna=True) == "boolean"]
        return cls(maps, [str(c) for c in frame.columns], boolean)

    @property
    def feature_names(self) -> list[str]:
        return [m.name for m in self.feature_maps]

    @property
    def categorical_inputs(self) -> bool:
        return any(m.level is not None for m in self.feature_maps)

    def has_missing_indicator(self, column: str) -> bool:
        """Whether ``column`` had missing values in training (so it has ``col[missing]``).

        Examples
        --------
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, None, 3.0],
        ...                                           "y": [1.0, 2.0, 3.0]}))
        >>> t.has_missing_indicator("x"), t.has_missing_indicator("y")
        (True, False)
        >>> t.feature_names
        ['x', 'x[missing]', 'y']
        """
        return any(m.missing and m.source == column for m in self.feature_maps)

    def fill_values(self) -> dict[str, float]:
        """``{column: fill value}`` of every numeric column (what a missing entry becomes).

        Examples
        --------
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 4.0, None, 16.0]}))
        >>> t.fill_values()
        {'x': 4.0}
        """
        return {m.source: float(m.fill) for m in self.feature_maps
                if m.level is None and not m.missing and m.kind != "constant"}

    def missing_notes(self, precision: int | None = 4, columns=None) -> list[str]:
        """One line per missingness indicator: how a missing entry enters the equation.

        ``columns`` restricts the notes to those raw columns (default: all).

        Examples
        --------
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 4.0, None, 16.0]}))
        >>> t.missing_notes()
        ['where x is missing: x = 4 and x[missing] = 1 (else x[missing] = 0)']
        """
        fills = self.fill_values()
        notes = []
        for fmap in self.feature_maps:
            if not fmap.missing or (columns is not None and fmap.source not in columns):
                continue
            if fmap.source in fills:
                value = fills[fmap.source]
                shown = f"{value:.{precision}g}" if precision is not None else repr(value)
                notes.append(f"where {fmap.source} is missing: {fmap.source} = {shown} and "
                             f"{fmap.name} = 1 (else {fmap.name} = 0)")
            else:
                notes.append(f"where {fmap.source} is missing: {fmap.name} = 1 and every "
                             f"other {fmap.source}[level] = 0 (else {fmap.name} = 0)")
        return notes

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Numeric matrix (n, n_model_features), finite everywhere.

        Raw values of numeric columns (a missing entry takes the fill value), 0/1 for
        level indicators and for missingness indicators.

        Examples
        --------
        A missing ``x`` takes the fill value 4 (the geometric mean of 1, 16 and 4) and
        sets ``x[missing]``; the unseen level ``"z"`` maps to the reference ``"a"``:

        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, None, 16.0, 4.0],
        ...                                           "c": ["a", "b", "a", "a"]}))
        >>> t.feature_names
        ['x', 'x[missing]', 'c[b]']
        >>> t.encode(pd.DataFrame({"x": [None, 2.0], "c": ["b", "z"]}))
        array([[4., 1., 1.],
               [2., 0., 0.]])
        """
        columns = []
        labels: dict[str, np.ndarray] = {}
        numeric: dict[str, np.ndarray] = {}
        for fmap in self.feature_maps:
            series = frame[fmap.source]
            if fmap.level is not None or (fmap.kind == "constant" and is_categorical(series)):
                if fmap.source not in labels:
                    labels[fmap.source] = _labels(series)
                    n_missing = int(np.sum(labels[fmap.source] == None))  # noqa: E711
                    if n_missing and not self.has_missing_indicator(fmap.source):
                        _warn_unseen_missing(fmap.source, n_missing, "the reference level")
                values = labels[fmap.source]
                if fmap.missing:
                    columns.append((values == None).astype(np.float64))  # noqa: E711
                elif fmap.level is not None:
                    columns.append((values == fmap.level).astype(np.float64))
                else:
                    columns.append(np.zeros(len(series)))
                continue
            if is_categorical(series):
                series = _numeric_objects(fmap.source, series)
            if fmap.source not in numeric:
                numeric[fmap.source] = _numeric_column(fmap.source, series)
            values = numeric[fmap.source]
            absent = np.isnan(values)
            if fmap.missing:
                columns.append(absent.astype(np.float64))
                continue
            if absent.any():
                if not self.has_missing_indicator(fmap.source):
                    _warn_unseen_missing(fmap.source, int(absent.sum()),
                                         f"the fill value {fmap.fill:.6g}")
                values = np.where(absent, fmap.fill, values)
            columns.append(values)
        if not columns:
            return np.zeros((len(frame), 0))
        return np.column_stack(columns)

    def log_features(self, encoded: np.ndarray) -> np.ndarray:
        """``log u`` (n, n_model_features) from the encoded matrix.

        Examples
        --------
        For a power feature ``log u = log(max(x, lower) / scale)``; here ``scale = 4``
        and ``lower = 0.1``, so 8 gives ``log 2`` and the unseen -3 the finite
        ``log(0.1 / 4)``:

        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 4.0, 16.0]}))
        >>> log_u = t.log_features(np.array([[8.0], [-3.0]]))
        >>> bool(np.allclose(log_u, np.log([[2.0], [0.1 / 4.0]])))
        True
        """
        if not self.feature_maps:
            return np.zeros((encoded.shape[0], 0))
        return np.column_stack(
            [fmap.log_feature(encoded[:, j]) for j, fmap in enumerate(self.feature_maps)]
        )

    def to_dict(self) -> dict:
        """A JSON-ready dictionary of the transform; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> import json
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 4.0, 16.0],
        ...                                           "c": ["a", "b", "a"]}))
        >>> d = t.to_dict()
        >>> d["input_features"], [(m["name"], m["kind"]) for m in d["feature_maps"]]
        (['x', 'c'], [('x', 'power'), ('c[b]', 'indicator')])
        >>> json.loads(json.dumps(d)) == d
        True
        """
        doc = {
            "input_features": list(self.input_features),
            "feature_maps": [m.to_dict() for m in self.feature_maps],
        }
        if self.boolean_inputs:  # documents without booleans stay as they were
            doc["boolean_inputs"] = list(self.boolean_inputs)
        return doc

    @classmethod
    def from_dict(cls, data: dict, field: str = "transform") -> PositivityTransform:
        """Inverse of :meth:`to_dict`; ``ValueError`` on an unknown kind or a malformed document.

        Examples
        --------
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, None, 3.0]}))
        >>> back = PositivityTransform.from_dict(t.to_dict())
        >>> back.feature_names, back.to_dict() == t.to_dict()
        (['x', 'x[missing]'], True)
        >>> bad = {"input_features": ["x"],
        ...        "feature_maps": [{"name": "x", "source": "x", "kind": "log"}]}
        >>> PositivityTransform.from_dict(bad)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Invalid model field 'transform.feature_maps[0]...
        >>> PositivityTransform.from_dict({})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Invalid model field 'transform.input_features': missing (a model file ...
        """
        data = _document.mapping(data, field, required=("input_features", "feature_maps"),
                                  optional=("boolean_inputs",))
        inputs = _document.string_list(data["input_features"], f"{field}.input_features")
        if not isinstance(data["feature_maps"], list):
            _document.fail(f"{field}.feature_maps", "expected a list")
        maps = [FeatureMap.from_dict(m, f"{field}.feature_maps[{i}]")
                for i, m in enumerate(data["feature_maps"])]
        _document.check_sources(inputs, maps, field)
        booleans = _document.string_list(data.get("boolean_inputs", []),
                                         f"{field}.boolean_inputs")
        if not set(booleans) <= set(inputs):
            _document.fail(f"{field}.boolean_inputs", "names a column that is not an input")
        return cls(maps, inputs, booleans)
