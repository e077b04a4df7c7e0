"""Where the classifier's Adam stage gets its training rows, and the shared row split.

The search (:class:`ecsel._fit.classify.ClassifierSearch`) is the same whatever holds
the data; only the Adam stage touches every training row, through a *row source*:

- ``epoch()`` yields the batches between two validation checks, and
- ``gradient(tensors, batch, task, score_l2)`` returns the gradient of the weighted
  mean training loss of one batch (same shapes as ``tensors``), and
- ``eval_every`` is the number of ``epoch()`` calls between two validation checks.

:class:`InMemoryRows` serves tensors held in memory (``ECSELClassifier.fit``);
:mod:`ecsel.stream` serves chunks of a Parquet table, all-reduced across
``torch.distributed`` ranks, through the same three members.

Both fits hold out the same rows: :func:`holdout_mask` decides per row *index*, with
a hash (:func:`row_uniform`) salted by the estimator's ``random_state``, so a table
streamed in chunks and the same table in memory have the same validation split.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from ecsel._fit.objective import penalised_grad

# Full-batch data check the validation loss every FULL_BATCH_CHECK Adam steps (one
# step per epoch), minibatched data after every epoch.
FULL_BATCH_CHECK = 10

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


def row_uniform(rows: np.ndarray, salt: int) -> np.ndarray:
    """A uniform number in [0, 1) per global row index (splitmix64 of index and salt).

    The same row always gets the same number, in any process and for any chunking,
    which makes the held-out split and every sample deterministic per row.

    Examples
    --------
    >>> u = row_uniform(np.arange(5), salt=1)
    >>> bool(((0 <= u) & (u < 1)).all()), bool((u == row_uniform(np.arange(5), 1)).all())
    (True, True)
    """
    with np.errstate(over="ignore"):
        x = np.asarray(rows, dtype=np.uint64) ^ np.uint64((salt * 0x632BE59BD9B4E019)
                                                          & 0xFFFFFFFFFFFFFFFF)
        x = x + _GOLDEN
        x = (x ^ (x >> np.uint64(30))) * _MIX1
        x = (x ^ (x >> np.uint64(27))) * _MIX2
        x = x ^ (x >> np.uint64(31))
    return (x >> np.uint64(11)).astype(np.float64) * 2.0 ** -53


def split_salt(rng: np.random.RandomState) -> int:
    """The salt of :func:`holdout_mask`, drawn from the fit's random state.

    Both fits draw it at the same point (right after the seeds of
    ``ECSELBase._fit_setup``), so one ``random_state`` gives one split.

    Examples
    --------
    >>> split_salt(np.random.RandomState(0)) == split_salt(np.random.RandomState(0))
    True
    """
    return int(rng.randint(np.iinfo(np.int32).max))


def holdout_mask(rows: np.ndarray, fraction: float, salt: int) -> np.ndarray:
    """True for the rows (global row indices) held out for validation.

    A row is held out when its hash is below ``fraction``: about ``fraction`` of
    the rows, the same ones in memory and streamed.

    Examples
    --------
    >>> held = holdout_mask(np.arange(10_000), 0.2, salt=7)
    >>> bool(abs(held.mean() - 0.2) < 0.02)
    True
    >>> bool((held == holdout_mask(np.arange(10_000), 0.2, salt=7)).all())
    True
    """
    return row_uniform(rows, salt) < fraction


class InMemoryRows:
    """Training rows held as tensors: full batch, or shuffled minibatches each epoch.

    Examples
    --------
    >>> from ecsel._fit.engine import Data
    >>> data = Data(torch.zeros(5, 2), torch.zeros(5), torch.ones(5))
    >>> rows = InMemoryRows(data, batch_size=2, generator=torch.Generator().manual_seed(0))
    >>> [len(b) for b in rows.epoch()], rows.eval_every
    ([2, 2, 1], 1)
    >>> InMemoryRows(data, batch_size=8, generator=None).eval_every
    10
    """

    def __init__(self, data, batch_size: int, generator: torch.Generator | None):
        self.data, self.batch_size, self.generator = data, batch_size, generator
        self.eval_every = FULL_BATCH_CHECK if len(data) <= batch_size else 1

    def epoch(self) -> Iterator:
        if len(self.data) <= self.batch_size:
            yield self.data
            return
        # The generator lives on the CPU (same draws on every device); indices move over.
        order = torch.randperm(len(self.data), generator=self.generator)
        for index in order.to(self.data.log_u.device).split(self.batch_size):
            yield self.data.rows(index)

    def gradient(self, tensors, batch, task: str, score_l2: float) -> list[torch.Tensor]:
        return penalised_grad(tensors, batch.log_u, batch.y, batch.weights, task,
                              score_l2=score_l2)[1]
