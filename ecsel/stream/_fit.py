"""Out-of-core and data-parallel fit of the ECSEL estimators.

:func:`fit_stream` runs the estimator's own search on a table that is read in
chunks, never whole:

1. Pass A (:mod:`ecsel.stream._stats`): the positivity transform's statistics, the
   classes and their counts (the regressor: the target's mean square), and a
   background sample for ``explain``.
2. Pass B: the remaining exact statistics (geometric means of shifted columns, the
   spread of every log-feature), the number of training rows of each chunk, and two
   row-hash samples held in memory: at most ``val_rows`` held-out rows and at most
   ``polish_rows`` training rows. A row is held out by the same rule as in
   ``fit(X, y)`` (:func:`ecsel._fit.source.holdout_mask`: a hash of its row index,
   salted by ``random_state``), so a table that fits in memory gets the same split
   either way.
3. The classifier: :func:`ecsel.classifier.fit_search`, the search of
   ``fit(X, y)`` (model sizes with warm starts and early stop, pruning, L-BFGS
   polish, the sparsity path, the front ``equations_`` and its selection), with the
   validation and polish samples as its in-memory validation and training rows.
   When the polish sample holds every training row, the Adam stage runs on it as in
   memory (on every rank); otherwise :class:`StreamedRows` feeds it: minibatches of
   shuffled chunks
   (every epoch permutes the chunks, deals them ``lanes`` at a time, and a step
   takes ``batch_size / lanes`` shuffled training rows from each chunk of the group),
   or, when all training rows fit in one batch, the full batch as in memory. The
   regressor: its symbolic search (:func:`ecsel.regressor.fit_search`) on the two
   in-memory samples; the table beyond the samples is not used.

Under ``torch.distributed`` each rank reads only its share of the chunks (pass A and
B: every ``world``-th chunk; a step: the lanes ``j`` with ``j % world == rank``); the
weighted loss gradients and the total weight of each step are summed with one
all-reduce, the statistics and samples are gathered in rank order, and the seeds
are rank 0's. Every rank then runs the same search on the same samples and
installs rank 0's result.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import torch

from ecsel import classifier, regressor
from ecsel._base import atomic_fit
from ecsel._fit import engine
from ecsel._fit.classify import SMALL_DATA
from ecsel._fit.objective import penalised_grad
from ecsel._fit.source import FULL_BATCH_CHECK, holdout_mask, split_salt
from ecsel.classifier import ECSELClassifier
from ecsel.regressor import ECSELRegressor
from ecsel.stream._dist import Comm
from ecsel.stream._source import TableSource, row_uniform
from ecsel.stream._stats import TableStats, merge_stats

SALT_SAMPLE = 19


def _moments(values: np.ndarray):
    mean = values.mean(axis=0)
    return len(values), mean, ((values - mean) ** 2).sum(axis=0)


def _merge_moments(parts):
    n, mean, m2 = 0, 0.0, 0.0
    for k, mu, s in parts:
        if k == 0:
            continue
        total = n + k
        delta = mu - mean
        m2 = m2 + s + delta * delta * n * k / total
        mean = mean + delta * k / total
        n = total
    return n, mean, m2


@dataclasses.dataclass
class _Prepared:
    transform: object
    spread: np.ndarray
    classes: np.ndarray | None  # None: regression
    class_weight: np.ndarray | None
    y_scale: float
    train_counts: np.ndarray
    val: engine.Data
    polish: engine.Data


class _Reader:
    """Chunk -> (rows, encoded features, target) with the fitted transform.

    The target is the class index (classifier, ``classes`` given) or the value
    divided by ``y_scale`` (regressor).
    """

    def __init__(self, source, features, target, transform, spread, classes, class_weight):
        self.source, self.features, self.target = source, features, target
        self.transform, self.spread = transform, spread
        self.classes = None if classes is None else pd.Index(classes)
        self.class_weight = class_weight
        self.y_scale = 1.0

    def encoded(self, chunk):
        frame = self.source.read(chunk)
        enc = self.transform.encode(frame[self.features].reset_index(drop=True))
        if self.classes is None:
            y = pd.to_numeric(frame[self.target], errors="coerce").to_numpy(np.float64)
            if not np.isfinite(y).all():
                raise ValueError(f"The target column {self.target!r} has missing, "
                                 "non-numeric or infinite values.")
            return frame.index.to_numpy(), enc, y / self.y_scale
        y = self.classes.get_indexer(frame[self.target].to_numpy())
        if (y < 0).any():
            raise ValueError(f"The target column {self.target!r} changed while reading.")
        return frame.index.to_numpy(), enc, y

    def log_u(self, enc):
        return self.transform.log_features(enc) / self.spread

    def weights(self, y):
        if self.class_weight is None:
            return np.ones(len(y))
        return self.class_weight[np.asarray(y, dtype=np.int64)]


class _Schedule:
    """The minibatches of the Adam stage, identical for any number of ranks."""

    def __init__(self, reader, train_counts, holdout, *, lanes, batch_size, seed, comm,
                 device, cache_rows=1 << 20):
        self.reader, self.comm, self.device = reader, comm, device
        self.holdout = holdout
        self.lanes = lanes
        self.sub = max(1, math.ceil(batch_size / lanes))
        self.seed = seed
        self.counts = train_counts
        self.cache: dict[int, tuple] = {}
        self.cache_rows = cache_rows
        self.epoch = -1
        self._steps = iter(())

    def next_step(self) -> list[engine.Data]:
        """This rank's pieces of the next minibatch (possibly none)."""
        for _ in range(2):
            step = next(self._steps, None)
            if step is not None:
                return step
            self.epoch += 1
            self._steps = self._epoch(self.epoch)
        raise ValueError("The table has no training rows.")

    def _epoch(self, epoch):
        order = torch.randperm(len(self.counts), generator=torch.Generator().manual_seed(
            self.seed * 1_000_003 + epoch)).numpy()
        order = order[self.counts[order] > 0]
        for g in range(0, len(order), self.lanes):
            group = order[g:g + self.lanes]
            mine = [self._load(int(c), epoch) for j, c in enumerate(group)
                    if j % self.comm.world == self.comm.rank]
            n_steps = max(math.ceil(self.counts[c] / self.sub) for c in group)
            for i in range(n_steps):
                yield [engine.Data(*(t[i * self.sub:(i + 1) * self.sub] for t in lane))
                       for lane in mine if len(lane[0]) > i * self.sub]

    def training_rows(self, index: int) -> tuple:
        """The chunk's training rows in row order (log_u / spread, y, weight), float32."""
        lane = self.cache.get(index)
        if lane is None:
            rows, enc, y = self.reader.encoded(self.reader.source.chunks[index])
            train = ~self.holdout(rows)
            y = y[train]
            lane = tuple(torch.as_tensor(a, dtype=torch.float32, device=self.device) for a in
                         (self.reader.log_u(enc[train]), y, self.reader.weights(y)))
            if self.cache_rows >= len(y):
                self.cache[index] = lane
                self.cache_rows -= len(y)
        return lane

    def _load(self, index: int, epoch: int):
        """The chunk's training rows, shuffled (decoded chunks are kept up to a budget)."""
        lane = self.training_rows(index)
        gen = torch.Generator().manual_seed(
            (self.seed * 7_919 + epoch * 104_729 + index) % (2 ** 62))
        order = torch.randperm(len(lane[0]), generator=gen).to(self.device)
        return tuple(t[order] for t in lane)


class StreamedRows:
    """The row source (:mod:`ecsel._fit.source`) of a chunked, possibly distributed table.

    When all training rows fit in one batch (``batch_size``), every rank holds its
    chunks' training rows and each step is the full batch, checked every
    :data:`~ecsel._fit.source.FULL_BATCH_CHECK` steps, as in memory. Otherwise a
    step is a minibatch of :class:`_Schedule` and the validation loss is checked
    every ``eval_every`` steps. Under ``torch.distributed`` the gradient of a step is
    the weighted mean over every rank's pieces (one all-reduce).
    """

    def __init__(self, schedule: _Schedule, comm: Comm, *, batch_size: int,
                 eval_every: int):
        self.schedule, self.comm = schedule, comm
        self.steps_per_check = eval_every
        self.full = None
        if int(schedule.counts.sum()) <= batch_size:
            mine = [schedule.training_rows(c.index) for c in schedule.reader.source.chunks
                    if c.index % comm.world == comm.rank and schedule.counts[c.index] > 0]
            self.full = [engine.Data(*lane) for lane in mine]
        self.eval_every = FULL_BATCH_CHECK if self.full is not None else 1

    def epoch(self):
        if self.full is not None:
            yield self.full
            return
        for _ in range(self.steps_per_check):
            yield self.schedule.next_step()

    def gradient(self, tensors, batch, task: str, score_l2: float) -> list[torch.Tensor]:
        pieces = [p for p in batch if len(p)]
        local = pieces[0] if len(pieces) == 1 else engine.Data(
            torch.cat([p.log_u for p in pieces]), torch.cat([p.y for p in pieces]),
            torch.cat([p.weights for p in pieces])) if pieces else None
        if not self.comm.active and local is not None:
            return penalised_grad(tensors, local.log_u, local.y, local.weights, task,
                                  score_l2=score_l2)[1]
        if local is None:
            grads, weight = [torch.zeros_like(t) for t in tensors], 0.0
        else:
            grads = penalised_grad(tensors, local.log_u, local.y, local.weights, task,
                                   score_l2=score_l2)[1]
            weight = float(local.weights.sum())
            grads = [g * weight for g in grads]
        flat = torch.cat([g.reshape(-1) for g in grads] + [grads[0].new_tensor([weight])])
        self.comm.all_reduce_(flat)
        sizes = [t.numel() for t in tensors]
        return [piece.view_as(t) / flat[-1] for piece, t in
                zip(flat[:-1].split(sizes), tensors)]


def _class_weights(est, classes, counts):
    if est.class_weight == "balanced":
        return counts.sum() / (len(classes) * counts)
    if est.class_weight:
        return np.array([float(est.class_weight.get(c, 1.0)) for c in classes])
    return np.ones(len(classes))


def _prepare(est, source, features, target, comm, device, salt, *, quantile_rows,
             val_rows, polish_rows):
    is_classifier = isinstance(est, ECSELClassifier)
    mine = [c for c in source.chunks if c.index % comm.world == comm.rank]
    stats = TableStats(source.n_rows, quantile_rows)
    for chunk in mine:
        stats.update(source.read(chunk), features, target if is_classifier else None)
    stats = merge_stats(comm.all_gather(stats, "pass A (column statistics)"))
    classes = class_weight = None
    if is_classifier:
        classes = np.unique(np.array(list(stats.target_counts)))
        if len(classes) < 2:
            raise ValueError(f"The target has only one class ({classes[0]!r}); a "
                             "classifier needs samples of at least 2 classes.")
        counts = np.array([stats.target_counts[c.item() if hasattr(c, "item") else c]
                           for c in classes], dtype=np.float64)
        class_weight = _class_weights(est, classes, counts)
    transform, pending = stats.transform(features)

    # As in memory: no validation split below SMALL_DATA rows.
    vf = est.validation_fraction if source.n_rows >= SMALL_DATA else 0.0
    p_val = min(1.0, val_rows / max(source.n_rows * vf, 1.0))
    p_pol = min(1.0, polish_rows / (source.n_rows * (1 - vf)))
    reader = _Reader(source, features, target, transform, 1.0, classes, class_weight)
    moments, samples, train_counts = [], [], np.zeros(len(source.chunks), dtype=np.int64)
    square_sum = 0.0
    for chunk in mine:
        rows, enc, y = reader.encoded(chunk)
        moments.append(_moments(transform.log_features(enc)))
        if not is_classifier:
            square_sum += float(np.sum(y * y))
        held = holdout_mask(rows, vf, salt)
        u = row_uniform(rows, SALT_SAMPLE)
        pick = (held & (u < p_val)) | (~held & (u < p_pol))
        samples.append((rows[pick], enc[pick], y[pick], held[pick]))
        train_counts[chunk.index] = int((~held).sum())
    gathered = comm.all_gather((moments, samples, train_counts, square_sum),
                               "pass B (samples)")
    n, mean, m2 = _merge_moments([m for part in gathered for m in part[0]])
    train_counts = sum(part[2] for part in gathered)
    maps = list(transform.feature_maps)
    for j in pending:
        maps[j] = dataclasses.replace(maps[j], scale=float(np.exp(mean[j])))
    transform = type(transform)(maps, list(transform.input_features))
    spread = np.sqrt(m2 / n)
    spread[~(spread > 1e-12)] = 1.0
    reader.transform = transform
    y_scale = 1.0
    if not is_classifier:
        # The regressor's log-features are not standardised; its target is, by the
        # root mean square over all rows (as in memory).
        spread = np.ones_like(spread)
        y_scale = float(np.sqrt(sum(part[3] for part in gathered) / source.n_rows))
        y_scale = y_scale if y_scale > 0 else 1.0
    reader.spread = spread

    parts = [s for part in gathered for s in part[1]]
    rows = np.concatenate([s[0] for s in parts])
    order = np.argsort(rows, kind="stable")
    enc = np.concatenate([s[1] for s in parts])[order]
    y = np.concatenate([s[2] for s in parts])[order]
    y = y if is_classifier else y / y_scale
    held = np.concatenate([s[3] for s in parts])[order]
    if held.all() or not held.any():  # as in memory: one empty side, no split
        held = np.zeros_like(held)
        train_counts = np.array([c.n_rows for c in source.chunks], dtype=np.int64)
        vf = 0.0
    reader.y_scale = y_scale

    def sample(pick):
        return engine.Data(*(torch.as_tensor(a, dtype=torch.float64, device=device) for a in
                             (reader.log_u(enc[pick]), y[pick], reader.weights(y[pick]))))

    est.background_ = stats.background_frame()
    est.feature_range_ = {name: stats.columns[name].value_range() for name in features}
    val, polish = (held, ~held) if vf > 0 else (~held, ~held)
    prepared = _Prepared(transform, spread, classes, class_weight, y_scale, train_counts,
                         sample(val), sample(polish))
    return prepared, reader, (lambda r: holdout_mask(r, vf, salt))


def _agree(comm: Comm, *values):
    """Rank 0's values on every rank (seeds drawn with ``random_state=None`` differ)."""
    return comm.all_gather(values, "agreeing on the seeds")[0]


def _fit(est, source, target, features, *, quantile_rows, val_rows, polish_rows, lanes,
         eval_every):
    device, rng, generator = est._fit_setup()
    comm = Comm(device)
    salt = split_salt(rng)
    is_classifier = isinstance(est, ECSELClassifier)
    seed = int(rng.randint(np.iinfo(np.int32).max)) if is_classifier else 0
    salt, seed, generator_seed = _agree(comm, salt, seed, generator.initial_seed())
    generator.manual_seed(generator_seed)
    if target not in source.columns:
        raise ValueError(f"Target column {target!r} is not in {source.path!r} "
                         f"(columns: {source.columns}).")
    if features is None:
        features = [c for c in source.columns if c != target]
    missing = [c for c in features if c not in source.columns or c == target]
    if missing or not features:
        raise ValueError(f"Invalid feature columns {missing or features!r}.")
    features = list(features)
    prepared, reader, holdout = _prepare(
        est, source, features, target, comm, device, salt, quantile_rows=quantile_rows,
        val_rows=val_rows, polish_rows=polish_rows)
    if not len(prepared.val) or not len(prepared.polish):
        raise ValueError(f"The table has too few rows ({source.n_rows}) for a streaming "
                         "fit; fit it in memory with est.fit(X, y).")
    meta = dict(n_features_in=len(features), feature_names_in=features)
    if is_classifier:
        # When the sample holds every training row, every rank runs Adam on it as
        # in memory (the same model for any number of ranks, and the model of fit).
        rows = None
        if len(prepared.polish) < int(prepared.train_counts.sum()):
            schedule = _Schedule(reader, prepared.train_counts, holdout, lanes=lanes,
                                 batch_size=est.batch_size, seed=seed, comm=comm,
                                 device=device)
            rows = StreamedRows(schedule, comm, batch_size=est.batch_size,
                                eval_every=eval_every)
        classifier.fit_search(est, prepared.polish, prepared.val, rows=rows,
                              transform=prepared.transform, spread=prepared.spread,
                              classes=prepared.classes, generator=generator, device=device,
                              **meta)
    else:
        as_pair = lambda d: (d.log_u, d.y)  # noqa: E731
        regressor.fit_search(est, as_pair(prepared.polish), as_pair(prepared.val),
                             transform=prepared.transform, y_scale=prepared.y_scale,
                             generator=generator, rng=rng, device=device, **meta)
    # Every rank deploys rank 0's fit (bit-identical on the CPU; a GPU's reductions
    # need not be).
    state = comm.all_gather(dict(est.__dict__) if comm.rank == 0 else None,
                            "sharing the fitted model")[0]
    est.__dict__.update(state)
    return est


def fit_stream(estimator, source, *, target: str, features=None, chunk_rows: int = 1 << 17,
               quantile_rows: int = 250_000, val_rows: int = 250_000,
               polish_rows: int = 250_000, lanes: int = 4, eval_every: int = 25):
    """Fit ``estimator`` (:class:`~ecsel.ECSELClassifier` or
    :class:`~ecsel.ECSELRegressor`) on a table read in chunks.

    The hyperparameters are the estimator's own (``n_terms``, ``alpha``,
    ``n_restarts``, ``max_iter``, ``learning_rate``, ``batch_size``,
    ``class_weight``, ``validation_fraction``, ``model_selection``,
    ``max_complexity``, ``device``, ``random_state``) and the search is the one of
    ``fit(X, y)``: the result is an ordinary fitted estimator with its front
    (``equations_``, ``select``, ``signomial_``, ``predict``, ``explain``,
    ``to_json``). The validation rows are the ones ``fit(X, y)`` holds out (a hash of
    the row index), so on a table that fits in memory (and within the sample sizes
    below) both fits find the same equation. What differs on a large table: the
    medians of the transform come from a sample (error bound in
    :mod:`ecsel.stream._stats`); validation, the starting intercepts, pruning, the
    L-BFGS polish and the sparsity path use in-memory row-hash samples of at most
    about ``val_rows`` / ``polish_rows`` rows, so memory does not grow with the
    table; the classifier's Adam stage streams every training row. The regressor's
    symbolic search runs on the two samples alone (its exponent search and
    least-squares solves are in memory); rows beyond them do not change its fit.
    When a ``torch.distributed`` process group is initialised the fit is
    data-parallel (see the module docstring) and every rank returns the same model.

    Parameters
    ----------
    estimator : ECSELClassifier or ECSELRegressor
    source : str, path-like or TableSource
        Parquet file, folder of Parquet (or CSV) files, or CSV file.
    target : str
        The target column.
    features : list of str, optional
        Feature columns (default: all other columns).
    chunk_rows : int, default=131072
        Most rows read at once (when ``source`` is a path).
    quantile_rows, val_rows, polish_rows : int, default=250000
        Sizes of the median, validation and training (polish) samples.
    lanes : int, default=4
        Chunks that feed each minibatch (a multiple of the number of ranks keeps
        the ranks equally busy).
    eval_every : int, default=25
        Minibatch steps between two validation losses (early stopping); unused
        when the training rows fit in one batch.

    Returns
    -------
    estimator
        Fitted in place.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np, pandas as pd
    >>> from ecsel import ECSELClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"a": rng.lognormal(0, 0.5, 4000), "b": rng.lognormal(0, 0.5, 4000)})
    >>> X["y"] = (rng.random(4000) < 1 / (1 + np.exp(-(3 * X.a - 3)))).astype(int)
    >>> path = os.path.join(tempfile.mkdtemp(), "t.parquet")
    >>> X.to_parquet(path, row_group_size=1000)
    >>> clf = fit_stream(ECSELClassifier(n_terms=1, max_iter=200, random_state=0),
    ...                  path, target="y")
    >>> clf.classes_.tolist(), clf.score(X[["a", "b"]], X.y) > 0.6
    ([0, 1], True)
    >>> memory = ECSELClassifier(n_terms=1, max_iter=200, random_state=0).fit(X[["a", "b"]], X.y)
    >>> list(clf.equations_.complexity) == list(memory.equations_.complexity)
    True
    """
    if not isinstance(estimator, (ECSELClassifier, ECSELRegressor)):
        raise ValueError(
            "fit_stream fits an ECSELClassifier or an ECSELRegressor, got "
            f"{type(estimator).__name__}."
        )
    for name, value in (("quantile_rows", quantile_rows), ("val_rows", val_rows),
                        ("polish_rows", polish_rows), ("lanes", lanes),
                        ("eval_every", eval_every)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    estimator._validate_params()
    own = not isinstance(source, TableSource)
    is_classifier = isinstance(estimator, ECSELClassifier)
    table = TableSource(source, chunk_rows=chunk_rows,
                        int_columns=[target] if is_classifier else ()) if own else source
    try:
        run = atomic_fit(lambda est: _fit(
            est, table, target, features, quantile_rows=quantile_rows, val_rows=val_rows,
            polish_rows=polish_rows, lanes=lanes, eval_every=eval_every))
        return run(estimator)
    finally:
        if own:
            table.close()
