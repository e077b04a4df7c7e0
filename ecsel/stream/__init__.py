"""Data beyond one machine: out-of-core and data-parallel fits, chunked scoring, Dask.

- :func:`fit_stream` fits an :class:`~ecsel.ECSELClassifier` or an
  :class:`~ecsel.ECSELRegressor` on a Parquet file, a folder of Parquet files or a CSV
  read in chunks (``pyarrow``, the ``parquet`` extra), on one process or data-parallel
  under ``torch.distributed``, with the search of ``fit(X, y)``.
- :func:`predict_stream` writes predictions, probabilities, scores or attributions of
  a fitted estimator for such a table, chunk by chunk, atomically.
- :mod:`ecsel.stream.dask` scores Dask dataframes partition by partition (the
  ``dask`` extra).
"""

from ecsel.stream._dist import DistributedFitError, init_from_env
from ecsel.stream._fit import fit_stream
from ecsel.stream._predict import predict_stream, sample_frame, write_stream
from ecsel.stream._source import InputError, TableSource

__all__ = [
    "DistributedFitError", "InputError", "TableSource", "fit_stream", "init_from_env",
    "predict_stream", "sample_frame", "write_stream",
]
