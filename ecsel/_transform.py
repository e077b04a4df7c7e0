"""The positivity transform: raw features -> log-features the signomial is built on.

A signomial ``c * prod_j u_j ** a_j`` needs strictly positive inputs ``u_j``. Each raw
column is mapped to one or more *model features* and the engine only ever sees
``log u``. Three documented maps cover every column type:

``power``
    Numeric columns. ``u = (x + shift) / scale`` with ``scale`` the geometric mean
    of ``x + shift`` on the training data. ``shift = 0`` when the column is strictly
    positive, so the exponent ``a`` is the elasticity of the score in ``x`` itself.
    Non-negative columns that contain zeros (counts, durations) get ``shift`` equal to
    the median of their positive training values, so the factor is
    ``(x + shift) ** a`` and ``x = 0`` is a neutral, finite point. Values are clipped
    below at ``lower`` (a tenth of the training minimum for positive columns, the
    training minimum otherwise) so unseen small or negative values never give NaN.
``linear``
    Columns with negative values: ``log u = (x - center) / scale`` (median and
    standard deviation), so the factor is ``exp(g * x)`` up to a constant that is
    folded into the coefficient: a log-linear effect.
``indicator``
    Binary numeric or boolean columns and one-hot levels of categorical / string
    columns: ``log u = b`` with ``b`` in {0, 1}, so the factor is the multiplicative
    switch ``exp(g * b)``. The most frequent level of a categorical column is the
    reference (no indicator); unseen levels at predict time map to the reference.

Constant columns become ``constant`` features with ``log u = 0``: they never affect
the score. In the engine the exponent argument ``log u @ a`` is clamped to
``[-EXP_CLAMP, EXP_CLAMP]`` so extrapolation never overflows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

EXP_CLAMP = 60.0
MAX_CATEGORIES = 64

_KINDS = ("power", "linear", "indicator", "constant")


@dataclass(frozen=True)
class FeatureMap:
    """How one model feature is computed from one raw input column.

    Attributes
    ----------
    name : str
        Display name of the model feature (the column name, or ``col[level]``).
    source : str
        Name of the raw input column.
    kind : {"power", "linear", "indicator", "constant"}
        The map applied; see the module docstring.
    scale, shift, center, lower : float
        Parameters of the map (unused ones are 0).
    level : str or None
        For a one-hot indicator, the category level it tests for.
    high : float
        For a binary numeric indicator, the value that maps to ``b = 1``.
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

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> FeatureMap:
        if data.get("kind") not in _KINDS:
            raise ValueError(f"Unknown feature map kind {data.get('kind')!r}.")
        return cls(**data)

    def log_feature(self, values: np.ndarray) -> np.ndarray:
        """``log u`` for the encoded numeric ``values`` of this feature (numpy)."""
        v = np.asarray(values, dtype=np.float64)
        if self.kind == "power":
            return np.log((np.maximum(v, self.lower) + self.shift) / self.scale)
        if self.kind == "linear":
            return (v - self.center) / self.scale
        if self.kind == "indicator":
            return np.clip((v - self.center) / self.scale, 0.0, 1.0)
        return np.zeros_like(v)

    def log_feature_torch(self, values):
        """Differentiable ``log u`` of a torch tensor of encoded values."""
        import torch

        if self.kind == "power":
            return torch.log((torch.clamp(values, min=self.lower) + self.shift) / self.scale)
        if self.kind == "linear":
            return (values - self.center) / self.scale
        if self.kind == "indicator":
            return torch.clamp((values - self.center) / self.scale, 0.0, 1.0)
        return torch.zeros_like(values)


def _is_categorical(series: pd.Series) -> bool:
    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def _numeric_maps(name: str, values: np.ndarray) -> list[FeatureMap]:
    uniques = np.unique(values)
    if uniques.size == 1:
        return [FeatureMap(name, name, "constant")]
    lo, hi = float(uniques[0]), float(uniques[-1])
    if uniques.size == 2:
        return [FeatureMap(name, name, "indicator", scale=hi - lo, center=lo, high=hi)]
    if lo > 0:
        scale = float(np.exp(np.mean(np.log(values))))
        return [FeatureMap(name, name, "power", scale=scale, lower=lo / 10.0)]
    if lo == 0:
        shift = float(np.median(values[values > 0]))
        scale = float(np.exp(np.mean(np.log(values + shift))))
        return [FeatureMap(name, name, "power", scale=scale, shift=shift, lower=0.0)]
    scale = float(np.std(values))
    return [FeatureMap(name, name, "linear", scale=scale, center=float(np.median(values)))]


def _categorical_maps(name: str, series: pd.Series) -> list[FeatureMap]:
    if series.isna().any():
        raise ValueError(f"Input X contains NaN in categorical column {name!r}.")
    labels = series.astype(str)
    counts = labels.value_counts(sort=True)
    if len(counts) > MAX_CATEGORIES:
        raise ValueError(
            f"Column {name!r} has {len(counts)} distinct non-numeric values; at most "
            f"{MAX_CATEGORIES} categories can be one-hot encoded. Encode it numerically "
            "or drop it."
        )
    if len(counts) == 1:
        return [FeatureMap(name, name, "constant")]
    # Most frequent level first (the reference); ties broken by label for determinism.
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [
        FeatureMap(f"{name}[{level}]", name, "indicator", level=str(level))
        for level, _ in ordered[1:]
    ]


def _numeric_column(name: str, series: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise ValueError(
            f"Column {name!r} has dtype {series.dtype}, which ECSEL cannot interpret; "
            "use numeric, boolean, categorical or string columns."
        )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isnan(values).any():
        raise ValueError(f"Input X contains NaN in column {name!r}.")
    if np.isinf(values).any():
        raise ValueError(f"Input X contains infinity in column {name!r}.")
    return values


class PositivityTransform:
    """Fitted map from raw columns to model features (see the module docstring).

    Parameters
    ----------
    feature_maps : list of FeatureMap
    input_features : list of str
        Raw column names in order.
    """

    def __init__(self, feature_maps: list[FeatureMap], input_features: list[str]):
        self.feature_maps = tuple(feature_maps)
        self.input_features = tuple(input_features)

    @classmethod
    def fit(cls, frame: pd.DataFrame) -> PositivityTransform:
        maps: list[FeatureMap] = []
        for name in frame.columns:
            series = frame[name]
            if _is_categorical(series):
                maps.extend(_categorical_maps(str(name), series))
            else:
                maps.extend(_numeric_maps(str(name), _numeric_column(str(name), series)))
        return cls(maps, [str(c) for c in frame.columns])

    @property
    def feature_names(self) -> list[str]:
        return [m.name for m in self.feature_maps]

    @property
    def categorical_inputs(self) -> bool:
        return any(m.level is not None for m in self.feature_maps)

    def encode(self, frame: pd.DataFrame) -> np.ndarray:
        """Numeric matrix (n, n_model_features): raw values, or 0/1 for level indicators."""
        columns = []
        for fmap in self.feature_maps:
            series = frame[fmap.source]
            if fmap.level is not None:
                columns.append((series.astype(str) == fmap.level).to_numpy(np.float64))
            elif fmap.kind == "constant" and _is_categorical(series):
                columns.append(np.zeros(len(series)))
            elif _is_categorical(series):
                raise ValueError(
                    f"Column {fmap.source!r} was numeric during fit but is not numeric now."
                )
            else:
                columns.append(_numeric_column(fmap.source, series))
        if not columns:
            return np.zeros((len(frame), 0))
        return np.column_stack(columns)

    def log_features(self, encoded: np.ndarray) -> np.ndarray:
        """``log u`` (n, n_model_features) from the encoded matrix."""
        if not self.feature_maps:
            return np.zeros((encoded.shape[0], 0))
        return np.column_stack(
            [fmap.log_feature(encoded[:, j]) for j, fmap in enumerate(self.feature_maps)]
        )

    def to_dict(self) -> dict:
        return {
            "input_features": list(self.input_features),
            "feature_maps": [m.to_dict() for m in self.feature_maps],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PositivityTransform:
        return cls([FeatureMap.from_dict(m) for m in data["feature_maps"]], data["input_features"])
