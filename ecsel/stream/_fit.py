"""Out-of-core and data-parallel fit of :class:`ecsel.ECSELClassifier`.

:func:`fit_stream` runs the estimator's own fit on a table that is read in
chunks, never whole:

1. Pass A (:mod:`ecsel.stream._stats`): the positivity transform's statistics, the
   classes and their counts, and a background sample for ``explain``.
2. Pass B: the remaining exact statistics (geometric means of shifted columns, the
   spread of every log-feature), the number of training rows of each chunk, and two
   row-hash samples held in memory: ``val_rows`` held-out rows (early stopping,
   choice of restart, pruning) and ``polish_rows`` training rows (initial intercept,
   L-BFGS polish). Whether a row is held out is decided by a hash of its row index
   (share ``validation_fraction``), so the same file gives the same model.
3. The Adam stage streams minibatches: every epoch permutes the chunks, deals them
   ``lanes`` at a time, and a step takes ``batch_size / lanes`` shuffled training rows
   from each chunk of the group. The loss and proximal step are the engine's
   (``batched_scores``, ``data_loss``, ``soft_threshold_``).
4. Pruning and polish are the estimator's own (``_prune``, the engine's L-BFGS) on the
   in-memory samples.

Under ``torch.distributed`` each rank reads only its share of the chunks (pass A and
B: every ``world``-th chunk; a step: the lanes ``j`` with ``j % world == rank``); the
weighted loss gradients and the total weight of each step are summed with one
all-reduce, the statistics and samples are gathered in rank order. Steps therefore
see the same rows whatever the number of ranks, every rank holds the same
parameters, and the model equals the one-process model up to float rounding.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import torch

from ecsel._base import atomic_fit
from ecsel._fit import engine, primitives
from ecsel._fit.classify import LINEAR_LR_FACTOR
from ecsel.classifier import AUTO_TERMS, ECSELClassifier
from ecsel.signomial import Signomial
from ecsel.stream._dist import Comm
from ecsel.stream._source import TableSource, row_uniform
from ecsel.stream._stats import TableStats, merge_stats

SALT_VALIDATION = 17
SALT_SAMPLE = 19
SALT_EPOCH = 23


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
    classes: np.ndarray
    class_weight: np.ndarray
    train_counts: np.ndarray
    val: engine.Data
    polish: engine.Data


class _Reader:
    """Chunk -> (rows, log_u / spread, class index, weight) with the fitted transform."""

    def __init__(self, source, features, target, transform, spread, classes, class_weight):
        self.source, self.features, self.target = source, features, target
        self.transform, self.spread = transform, spread
        self.classes = pd.Index(classes)
        self.class_weight = class_weight

    def encoded(self, chunk):
        frame = self.source.read(chunk)
        enc = self.transform.encode(frame[self.features].reset_index(drop=True))
        y = self.classes.get_indexer(frame[self.target].to_numpy())
        if (y < 0).any():
            raise ValueError(f"The target column {self.target!r} changed while reading.")
        return frame.index.to_numpy(), enc, y

    def log_u(self, enc):
        return self.transform.log_features(enc) / self.spread


class _Schedule:
    """The minibatches of the Adam stages, identical for any number of ranks."""

    def __init__(self, reader, prepared, *, lanes, batch_size, validation_fraction, seed,
                 comm, device, cache_rows=1 << 20):
        self.reader, self.comm, self.device = reader, comm, device
        self.lanes = lanes
        self.sub = max(1, math.ceil(batch_size / lanes))
        self.vf = validation_fraction
        self.seed = seed
        self.counts = prepared.train_counts
        self.cache: dict[int, tuple] = {}
        self.cache_rows = cache_rows
        self.epoch = -1
        self._steps = iter(())

    def next_step(self) -> list[engine.Data]:
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

    def _load(self, index: int, epoch: int):
        """The chunk's training rows, shuffled (decoded chunks are kept up to a budget)."""
        lane = self.cache.get(index)
        if lane is None:
            rows, enc, y = self.reader.encoded(self.reader.source.chunks[index])
            train = row_uniform(rows, SALT_VALIDATION) >= self.vf
            y = y[train]
            lane = tuple(torch.as_tensor(a, dtype=torch.float32, device=self.device) for a in
                         (self.reader.log_u(enc[train]), y, self.reader.class_weight[y]))
            if self.cache_rows >= len(y):
                self.cache[index] = lane
                self.cache_rows -= len(y)
        gen = torch.Generator().manual_seed(
            (self.seed * 7_919 + epoch * 104_729 + index) % (2 ** 62))
        order = torch.randperm(len(lane[0]), generator=gen).to(self.device)
        return tuple(t[order] for t in lane)


def _adam_stream(params, schedule, val, task, *, l1, lr, max_iter, eval_every, patience,
                 comm):
    """The engine's Adam + proximal L1 stage on streamed minibatches (all-reduced).

    As in memory, the intercept and coefficients step ``LINEAR_LR_FACTOR`` times
    faster than the exponents.
    """
    work = engine.Params(*(t.detach().clone().requires_grad_(True) for t in params.tensors()))
    optimizer = torch.optim.Adam([
        {"params": [work.intercept, work.coef], "lr": lr * LINEAR_LR_FACTOR},
        {"params": [work.expo], "lr": lr}])
    with torch.no_grad():
        best_val = val.loss(work, task)
    best = work.detach()
    since_best = torch.zeros_like(best_val)
    tensors = work.tensors()
    steps = 0
    while steps < max_iter:
        pieces = schedule.next_step()
        weight = sum(float(p.weights.sum()) for p in pieces)
        if pieces:
            loss = sum(engine.data_loss(
                engine.batched_scores(p.log_u, work.intercept, work.coef, work.expo),
                p.y, p.weights, task) * p.weights.sum() for p in pieces)
            grads = torch.autograd.grad(loss.sum(), tensors)
        else:
            grads = [torch.zeros_like(t) for t in tensors]
        flat = torch.cat([g.reshape(-1) for g in grads] + [grads[0].new_tensor([weight])])
        comm.all_reduce_(flat)
        offset = 0
        for t in tensors:
            t.grad = (flat[offset:offset + t.numel()] / flat[-1]).view_as(t).clone()
            offset += t.numel()
        torch.nn.utils.clip_grad_norm_(tensors, max_norm=10.0)
        optimizer.step()
        with torch.no_grad():
            primitives.soft_threshold_(work.expo, lr * l1)
        steps += 1
        if steps % eval_every and steps < max_iter:
            continue
        with torch.no_grad():
            current = val.loss(work, task)
            improved = current < best_val - 1e-7 * best_val.abs().clamp(min=1e-12)
            for mine, theirs in zip(best.tensors(), tensors):
                mine[improved] = theirs.detach()[improved]
            best_val = torch.where(improved, current, best_val)
            since_best = torch.where(improved, torch.zeros_like(since_best), since_best + 1)
        if bool((since_best >= patience).all()):
            break
    return best, best_val, steps


def _prepare(est, source, features, target, comm, device, *, quantile_rows, val_rows,
             polish_rows):
    mine = [c for c in source.chunks if c.index % comm.world == comm.rank]
    stats = TableStats(source.n_rows, quantile_rows)
    for chunk in mine:
        stats.update(source.read(chunk), features, target)
    stats = merge_stats(comm.all_gather(stats, "pass A (column statistics)"))
    classes = np.unique(np.array(list(stats.target_counts)))
    if len(classes) < 2:
        raise ValueError(f"The target has only one class ({classes[0]!r}); a classifier "
                         "needs samples of at least 2 classes.")
    counts = np.array([stats.target_counts[c.item() if hasattr(c, "item") else c]
                       for c in classes], dtype=np.float64)
    if est.class_weight == "balanced":
        class_weight = counts.sum() / (len(classes) * counts)
    elif est.class_weight:
        class_weight = np.array([float(est.class_weight.get(c, 1.0)) for c in classes])
    else:
        class_weight = np.ones(len(classes))
    transform, pending = stats.transform(features)

    vf = est.validation_fraction
    p_val = min(1.0, val_rows / (source.n_rows * vf))
    p_pol = min(1.0, polish_rows / (source.n_rows * (1 - vf)))
    reader = _Reader(source, features, target, transform, 1.0, classes, class_weight)
    moments, samples, train_counts = [], [], np.zeros(len(source.chunks), dtype=np.int64)
    for chunk in mine:
        rows, enc, y = reader.encoded(chunk)
        moments.append(_moments(transform.log_features(enc)))
        held = row_uniform(rows, SALT_VALIDATION) < vf
        u = row_uniform(rows, SALT_SAMPLE)
        pick_val, pick_pol = held & (u < p_val), ~held & (u < p_pol)
        samples.append((rows[pick_val], enc[pick_val], y[pick_val],
                        rows[pick_pol], enc[pick_pol], y[pick_pol]))
        train_counts[chunk.index] = int((~held).sum())
    gathered = comm.all_gather((moments, samples, train_counts), "pass B (samples)")
    n, mean, m2 = _merge_moments([m for part in gathered for m in part[0]])
    train_counts = sum(part[2] for part in gathered)
    maps = list(transform.feature_maps)
    for j in pending:
        maps[j] = dataclasses.replace(maps[j], scale=float(np.exp(mean[j])))
    transform = type(transform)(maps, list(transform.input_features))
    spread = np.sqrt(m2 / n)
    spread[~(spread > 1e-12)] = 1.0
    reader.transform, reader.spread = transform, spread

    def sample(k):
        parts = [s for part in gathered for s in part[1]]
        rows = np.concatenate([s[k] for s in parts])
        order = np.argsort(rows, kind="stable")
        enc = np.concatenate([s[k + 1] for s in parts])[order]
        y = np.concatenate([s[k + 2] for s in parts])[order]
        if len(y) == 0:
            raise ValueError(
                f"The table has too few rows ({source.n_rows}) for a streaming fit; "
                "fit it in memory with est.fit(X, y)."
            )
        return engine.Data(*(torch.as_tensor(a, dtype=torch.float64, device=device) for a in
                             (reader.log_u(enc), y, class_weight[y])))

    est.background_ = stats.background_frame()
    est.feature_range_ = {name: stats.columns[name].value_range() for name in features}
    prepared = _Prepared(transform, spread, classes, class_weight, train_counts,
                         sample(0), sample(3))
    return prepared, reader


def _fit(est, source, target, features, *, quantile_rows, val_rows, polish_rows, lanes,
         eval_every):
    device, rng, generator = est._fit_setup()
    comm = Comm(device)
    if target not in source.columns:
        raise ValueError(f"Target column {target!r} is not in {source.path!r} "
                         f"(columns: {source.columns}).")
    if features is None:
        features = [c for c in source.columns if c != target]
    missing = [c for c in features if c not in source.columns or c == target]
    if missing or not features:
        raise ValueError(f"Invalid feature columns {missing or features!r}.")
    prepared, reader = _prepare(est, source, list(features), target, comm, device,
                                quantile_rows=quantile_rows, val_rows=val_rows,
                                polish_rows=polish_rows)
    classes = prepared.classes
    task = "binary" if len(classes) == 2 else "multiclass"
    n_out = len(classes) - 1
    schedule = _Schedule(reader, prepared, lanes=lanes, batch_size=est.batch_size,
                         validation_fraction=est.validation_fraction,
                         seed=int(rng.randint(np.iinfo(np.int32).max)), comm=comm,
                         device=device)
    val, polish = prepared.val, prepared.polish
    val32 = val.to(torch.float32)
    sizes = AUTO_TERMS if est.n_terms == "auto" else (est.n_terms,)
    best, best_loss = None, np.inf
    est.n_iter_ = 0
    progress = est._progress(len(sizes), "ECSEL model sizes") if comm.rank == 0 else None
    with primitives.thread_budget(est.batch_size * len(features) * est.n_restarts, device):
        for size in sizes:
            params = est._init_params(polish, task, n_out, size, generator).to(torch.float32)
            path = est._l1_path(val32.log_u)
            params, val_loss, steps = _adam_stream(
                params, schedule, val32, task, l1=path, lr=est.learning_rate,
                max_iter=est.max_iter, eval_every=eval_every, patience=20, comm=comm)
            r = int(torch.argmin(val_loss))
            one = engine.Params(*(t[r:r + 1].detach().clone() for t in params.tensors()))
            est.n_iter_ += steps
            candidate, loss = est._prune(one.to(torch.float64), polish, val, task,
                                         float(path[r]))
            if progress is not None:
                progress.update(1)
            if loss < best_loss * (1 - 5e-3):
                best, best_loss = candidate, loss
    if progress is not None:
        progress.close()
    for tensor in best.tensors():  # every rank deploys rank 0's parameters
        comm.broadcast_(tensor)
    intercept, coef, expo = best.numpy(0)
    signomial = Signomial(intercept, coef, expo / prepared.spread, prepared.transform,
                          [str(c) for c in classes[1:]])
    return est._set_fitted(signomial, n_features_in=len(features),
                           feature_names_in=list(features), classes=classes)


def fit_stream(estimator, source, *, target: str, features=None, chunk_rows: int = 1 << 17,
               quantile_rows: int = 250_000, val_rows: int = 250_000,
               polish_rows: int = 250_000, lanes: int = 4, eval_every: int = 25):
    """Fit ``estimator`` (an :class:`~ecsel.ECSELClassifier`) on a table read in chunks.

    The hyperparameters are the estimator's own (``n_terms``, ``alpha``,
    ``n_restarts``, ``max_iter``, ``learning_rate``, ``batch_size``,
    ``class_weight``, ``validation_fraction``, ``device``, ``random_state``), the
    stages are those of ``fit(X, y)``, and the result is an ordinary fitted estimator
    (``signomial_``, ``predict``, ``explain``, ``to_json``). Differences from
    ``fit(X, y)``: the held-out rows are chosen by a hash of the row index (not a
    stratified shuffle), the medians of the transform come from a sample (error
    bound in :mod:`ecsel.stream._stats`), and pruning, polish and validation use
    in-memory row-hash samples of at most about ``polish_rows`` / ``val_rows`` rows,
    so memory does not grow with the table. When a ``torch.distributed`` process
    group is initialised the fit is data-parallel (see the module docstring) and
    every rank returns the same model.

    Parameters
    ----------
    estimator : ECSELClassifier
    source : str, path-like or TableSource
        Parquet file, folder of Parquet (or CSV) files, or CSV file.
    target : str
        The target column.
    features : list of str, optional
        Feature columns (default: all other columns).
    chunk_rows : int, default=131072
        Most rows read at once (when ``source`` is a path).
    quantile_rows, val_rows, polish_rows : int, default=250000
        Sizes of the median, validation and polish samples.
    lanes : int, default=4
        Chunks that feed each minibatch (a multiple of the number of ranks keeps
        the ranks equally busy).
    eval_every : int, default=25
        Adam steps between two validation losses (early stopping).

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
    """
    if not isinstance(estimator, ECSELClassifier):
        raise ValueError(
            f"fit_stream fits an ECSELClassifier, got {type(estimator).__name__}; fit "
            "an ECSELRegressor in memory (on a sample of the rows if needed)."
        )
    for name, value in (("quantile_rows", quantile_rows), ("val_rows", val_rows),
                        ("polish_rows", polish_rows), ("lanes", lanes),
                        ("eval_every", eval_every)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}.")
    estimator._validate_params()
    own = not isinstance(source, TableSource)
    table = TableSource(source, chunk_rows=chunk_rows, int_columns=[target]) if own \
        else source
    try:
        run = atomic_fit(lambda est: _fit(
            est, table, target, features, quantile_rows=quantile_rows, val_rows=val_rows,
            polish_rows=polish_rows, lanes=lanes, eval_every=eval_every))
        return run(estimator)
    finally:
        if own:
            table.close()
