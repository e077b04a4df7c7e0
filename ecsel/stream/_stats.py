"""The positivity transform fitted in a streaming pass (chunk by chunk, over ranks).

The transform's own :meth:`~ecsel._transform.PositivityTransform.fit` is run on a
*summary sample* of the table, then every statistic that a streaming pass can give
exactly is overwritten with its exact full-table value:

- The summary sample is a deterministic row-hash sample of about ``quantile_rows``
  rows, plus, for every column, the rows that hold its minimum, its maximum, its
  three smallest distinct values, a missing value (if any) and every categorical
  level. The choice of map (constant, indicator, power with or without a shift,
  signed/linear, missingness indicator, the set of levels) depends only on those, so
  it is the same as on the whole table.
- Exact, from streamed sums and merged variances: the geometric mean ``scale`` of a
  positive column, its ``lower`` clip (a tenth of the minimum), the clip range
  ``lower``/``upper`` of a signed column, the standard deviation ``scale`` of a
  linear one, and the reference level (most frequent) of a categorical column. The
  geometric mean of a shifted column is exact too, but measured in the second pass
  (it needs the shift), see ``_fit``.
- From the sample (quantiles): the ``shift`` (median of the positive values), the
  ``center`` (median) and the robust ``scale`` (interquartile range / 1.349) of a
  signed column, and the fill value of missing entries. By the
  Dvoretzky-Kiefer-Wolfowitz inequality every sample quantile of ``s`` rows lies
  between the population's ``q - eps`` and ``q + eps`` quantiles with probability at
  least ``1 - delta``, ``eps = sqrt(log(2 / delta) / (2 s))``: ``eps = 0.0039`` for
  ``s = 250,000`` and ``delta = 0.001`` (:func:`median_rank_error`).

With ``quantile_rows`` at least the number of rows, the sample is the whole table and
the transform equals the in-memory one.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd

from ecsel._transform import PositivityTransform
from ecsel.stream._source import row_uniform

SALT_QUANTILE = 11
SALT_BACKGROUND = 13
BACKGROUND_ROWS = 100


def median_rank_error(sample_rows: int, delta: float = 1e-3) -> float:
    """DKW bound on the rank error of a sample quantile (see the module docstring).

    Examples
    --------
    >>> round(median_rank_error(250_000), 4)
    0.0039
    """
    return math.sqrt(math.log(2.0 / delta) / (2.0 * sample_rows))


def is_categorical(series: pd.Series) -> bool:
    return (
        isinstance(series.dtype, pd.CategoricalDtype)
        or pd.api.types.is_object_dtype(series.dtype)
        or pd.api.types.is_string_dtype(series.dtype)
    )


def numeric_values(name: str, series: pd.Series) -> np.ndarray:
    """Float64 values of a numeric or boolean column (NaN kept; infinity is an error)."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(series.dtype):
        raise ValueError(f"Column {name!r} has dtype {series.dtype}, which ECSEL cannot "
                         "interpret; use numeric, boolean, categorical or string columns.")
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)
    if np.isinf(values).any():
        raise ValueError(f"Input X contains infinity in column {name!r}.")
    return values


class ColumnStats:
    """Exact running statistics of one column, mergeable over chunks and ranks."""

    def __init__(self, name: str, categorical: bool):
        self.name = name
        self.categorical = categorical
        self.counts: dict[str, int] = {}
        self.n = 0
        self.lo, self.hi = np.inf, -np.inf
        self.mean = 0.0
        self.m2 = 0.0
        self.sum_log = 0.0
        # Rows the summary sample must contain: {tag: (value, row index)}.
        self.special: dict = {}

    def _keep(self, tag, value, row, better) -> None:
        old = self.special.get(tag)
        if old is None or better(value, old[0]):
            self.special[tag] = (value, row)

    def update(self, series: pd.Series) -> None:
        rows = series.index.to_numpy()
        if self.categorical:
            labels = series.astype(object)
            present = labels.notna().to_numpy()
            if not present.all():
                self._keep("nan", 0, int(rows[~present][0]), lambda a, b: False)
            text = labels[present].astype(str)
            first = text.groupby(text, sort=False).head(1)
            for level, row in zip(first.to_numpy(), first.index.to_numpy()):
                self._keep(("level", level), 0, int(row), lambda a, b: False)
            for level, count in text.value_counts().items():
                self.counts[level] = self.counts.get(level, 0) + int(count)
            return
        values = numeric_values(self.name, series)
        observed = ~np.isnan(values)
        if not observed.all():
            self._keep("nan", 0, int(rows[~observed][0]), lambda a, b: False)
        values, rows = values[observed], rows[observed]
        if values.size == 0:
            return
        uniques, first = np.unique(values, return_index=True)
        for value, i in zip(uniques[:3], first[:3]):
            self._keep(("distinct", float(value)), float(value), int(rows[i]),
                       lambda a, b: False)
        distinct = sorted(k for k in self.special if isinstance(k, tuple)
                          and k[0] == "distinct")
        for key in distinct[3:]:
            del self.special[key]
        self._keep("max", float(uniques[-1]), int(rows[first[-1]]), lambda a, b: a > b)
        mean = values.mean()
        self._merge(values.size, float(uniques[0]), float(uniques[-1]), mean,
                    float(((values - mean) ** 2).sum()),
                    float(np.log(values).sum()) if uniques[0] > 0 else np.nan)

    def _merge(self, n, lo, hi, mean, m2, sum_log) -> None:
        total = self.n + n
        delta = mean - self.mean
        self.m2 += m2 + delta * delta * self.n * n / total
        self.mean += delta * n / total
        self.n = total
        self.lo, self.hi = min(self.lo, lo), max(self.hi, hi)
        self.sum_log += sum_log

    def merge(self, other: ColumnStats) -> None:
        for tag, (value, row) in other.special.items():
            if tag == "max":
                self._keep(tag, value, row, lambda a, b: a > b)
            else:
                self._keep(tag, value, row, lambda a, b: False)
        if self.categorical:
            for level, count in other.counts.items():
                self.counts[level] = self.counts.get(level, 0) + count
            return
        distinct = sorted(k for k in self.special if isinstance(k, tuple)
                          and k[0] == "distinct")
        for key in distinct[3:]:
            del self.special[key]
        if other.n:
            self._merge(other.n, other.lo, other.hi, other.mean, other.m2, other.sum_log)

    def special_rows(self) -> set[int]:
        return {row for _, row in self.special.values()}

    def exact(self, fmap):
        """``fmap`` with the statistics that are exact on the full table filled in.

        Returns the map and whether its ``scale`` is still pending (a shifted power
        map: the geometric mean of ``x + shift`` is measured in the second pass).
        """
        if fmap.level is not None or fmap.missing or self.categorical or self.n == 0:
            return fmap, False
        if fmap.kind == "power" and fmap.shift == 0:
            return dataclasses.replace(fmap, scale=float(np.exp(self.sum_log / self.n)),
                                       lower=self.lo / 10.0), False
        if fmap.kind == "power":
            return dataclasses.replace(fmap, scale=1.0), True
        if fmap.kind == "linear":
            return dataclasses.replace(fmap, scale=float(np.sqrt(self.m2 / self.n))), False
        if fmap.kind == "signed":
            return dataclasses.replace(fmap, lower=self.lo, upper=self.hi), False
        return fmap, False

    def value_range(self):
        if self.categorical:
            return tuple(sorted(self.counts))
        return (self.lo, self.hi)


class TableStats:
    """Pass A of a streaming fit: column statistics, target classes, samples."""

    def __init__(self, n_rows: int, quantile_rows: int):
        self.quantile_rate = min(1.0, quantile_rows / max(n_rows, 1))
        self.columns: dict[str, ColumnStats] = {}
        self.target_counts: dict = {}
        self.sample: list[pd.DataFrame] = []
        self.background: pd.DataFrame | None = None
        self._special: pd.DataFrame | None = None

    def update(self, frame: pd.DataFrame, features: list[str], target: str | None) -> None:
        rows = frame.index.to_numpy()
        for name in features:
            if name not in self.columns:
                self.columns[name] = ColumnStats(name, is_categorical(frame[name]))
            self.columns[name].update(frame[name])
        if target is not None:
            y = frame[target]
            if y.isna().any():
                raise ValueError(f"The target column {target!r} contains missing values.")
            for label, count in y.value_counts().items():
                key = label.item() if hasattr(label, "item") else label
                self.target_counts[key] = self.target_counts.get(key, 0) + int(count)
        self.sample.append(frame.loc[row_uniform(rows, SALT_QUANTILE) < self.quantile_rate,
                                     features])
        wanted = set().union(*(c.special_rows() for c in self.columns.values()))
        here = frame.loc[frame.index.isin(list(wanted)), features]
        self._add_special(here)
        key = pd.Series(row_uniform(rows, SALT_BACKGROUND), index=frame.index)
        chosen = frame.loc[key.nsmallest(BACKGROUND_ROWS).index, features].assign(_key=key)
        self._keep_background(chosen)

    def _add_special(self, rows: pd.DataFrame) -> None:
        both = rows if self._special is None else pd.concat([self._special, rows])
        wanted = set().union(*(c.special_rows() for c in self.columns.values()))
        both = both[~both.index.duplicated()]
        self._special = both.loc[both.index.isin(list(wanted))]

    def _keep_background(self, rows: pd.DataFrame) -> None:
        both = rows if self.background is None else pd.concat([self.background, rows])
        self.background = both.nsmallest(BACKGROUND_ROWS, "_key")

    def merge(self, other: TableStats) -> None:
        for name, stats in other.columns.items():
            if name in self.columns:
                self.columns[name].merge(stats)
            else:
                self.columns[name] = stats
        for label, count in other.target_counts.items():
            self.target_counts[label] = self.target_counts.get(label, 0) + count
        self.sample.extend(other.sample)
        if other._special is not None:
            self._add_special(other._special)
        if other.background is not None:
            self._keep_background(other.background)

    def summary_sample(self, features: list[str]) -> pd.DataFrame:
        """The hash sample plus the rows every column's choice of map depends on."""
        parts = [p for p in self.sample if len(p)]
        if self._special is not None:
            parts.append(self._special)
        both = pd.concat(parts)
        both = both[~both.index.duplicated()].sort_index()
        return both[features].reset_index(drop=True)

    def transform(self, features: list[str]) -> tuple[PositivityTransform, list[int]]:
        """The provisional transform and the indices of maps whose scale is pending."""
        fitted = PositivityTransform.fit(self.summary_sample(features))
        maps, pending = [], []
        for fmap in fitted.feature_maps:
            column = self.columns[fmap.source]
            fmap, needs_scale = column.exact(fmap)
            if needs_scale:
                pending.append(len(maps))
            maps.append(fmap)
        maps = self._exact_references(maps)
        return PositivityTransform(maps, list(features)), pending

    def _exact_references(self, maps):
        """Re-order one-hot levels by their exact counts (the reference is the mode)."""
        out = list(maps)
        for name, column in self.columns.items():
            if not column.categorical:
                continue
            slots = [j for j, m in enumerate(out)
                     if m.source == name and m.level is not None and not m.missing]
            if not slots:
                continue
            ordered = sorted(column.counts.items(), key=lambda item: (-item[1], item[0]))
            template = out[slots[0]]
            levels = [str(level) for level, _ in ordered[1:]]
            for j, level in zip(slots, levels):
                out[j] = dataclasses.replace(template, name=f"{name}[{level}]", level=level)
        return out

    def background_frame(self) -> pd.DataFrame:
        frame = self.background.sort_index().drop(columns="_key")
        return frame.reset_index(drop=True)


def merge_stats(parts: list[TableStats]) -> TableStats:
    """Combine the per-rank statistics in rank order (same result on every rank)."""
    total = parts[0]
    for part in parts[1:]:
        total.merge(part)
    return total
