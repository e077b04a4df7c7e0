"""Distil a network into an ECSEL signomial that keeps the network's attributions.

The student is fitted in two steps, through ``ecsel``'s public API only:

1. ``ECSELRegressor`` fits a signomial to the teacher's logits (fidelity only);
2. its intercept, coefficients and exponents are fine-tuned in torch on

   ``mean (z_S - z_T)^2 / var(z_T) + beta * mean_{n,j} (phi_S/|phi_S| - A_T/|A_T|)^2``

   where ``A_T`` are the teacher's attributions per raw column (integrated gradients
   from every background row, averaged: the path-method counterpart of the
   interventional game) and ``phi_S`` are the student's *exact* interventional
   Shapley values against the same background, in closed form and differentiable
   (:func:`ecsel.explain.signomial_shapley_torch`); ``z_S`` is
   :func:`ecsel.export.signomial_scores_torch` (the deployed clamp included).

The tuned equation becomes a new estimator through
:meth:`ecsel.ECSELRegressor.from_signomial`; the initial fit is never modified.

It lives in ``attribution.compress`` because it needs ``attribution``'s integrated
gradients of the teacher and ``ecsel``'s closed form: ``attribution`` may import
``ecsel``'s public API, ``ecsel`` never imports ``attribution``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from numbers import Integral, Real

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from ecsel import ECSELRegressor, Signomial
from ecsel.explain import column_index, signomial_shapley_torch
from ecsel.export import signomial_scores_torch

from ..integrated_gradients import IntegratedGradients
from ._maps import normalized_distance

__all__ = ["EquationStudent", "teacher_attributions"]


def teacher_attributions(
    teacher: Callable[[Tensor], Tensor],
    x: Tensor,
    background: Tensor,
    groups: Sequence[int] | Tensor,
    n_columns: int,
    *,
    target: int | None = None,
    n_steps: int = 32,
    batch_size: int = 8192,
) -> Tensor:
    """Integrated gradients of the teacher from every background row, averaged, per column.

    ``A_j(x) = mean_r sum_{i in column j} IG_i(x; baseline r)``; completeness gives
    ``A.sum(-1) = F(x) - mean_r F(r)``, the same total as the student's Shapley values.

    Parameters
    ----------
    teacher : callable
        Maps teacher inputs ``(N, d)`` to ``(N,)``, ``(N, 1)`` or ``(N, C)`` scores.
    x, background : Tensor (n, d), (B, d)
        Teacher inputs of the explained and background rows.
    groups : sequence of int (d,)
        Raw column of every teacher input (one-hot levels share their column).
    n_columns : int
    target : int, optional
        Output explained for ``(N, C)`` scores.
    n_steps : int, default 32
        Gauss-Legendre nodes of the IG integral.
    batch_size : int, default 8192
        Rows (explained row x background row) per IG call.

    Returns
    -------
    Tensor (n, n_columns)

    Examples
    --------
    >>> import torch
    >>> f = lambda z: (2.0 * z[:, 0] + z[:, 1] * z[:, 2])[:, None]
    >>> x, b = torch.ones(1, 3, dtype=torch.float64), torch.zeros(1, 3, dtype=torch.float64)
    >>> teacher_attributions(f, x, b, [0, 1, 1], 2).round(decimals=10).tolist()
    [[2.0, 1.0]]
    """
    groups = torch.as_tensor(groups, dtype=torch.long, device=x.device)
    if groups.numel() != x.shape[1]:
        raise ValueError(f"groups has {groups.numel()} entries for {x.shape[1]} teacher inputs")
    n, n_back = x.shape[0], background.shape[0]
    ig = IntegratedGradients(teacher)
    out = torch.zeros((n, n_columns), dtype=x.dtype, device=x.device)
    rows_per_call = max(1, batch_size // n_back)
    for start in range(0, n, rows_per_call):
        chunk = x[start:start + rows_per_call]
        m = chunk.shape[0]
        inputs = chunk.repeat_interleave(n_back, dim=0)
        baselines = background.repeat(m, 1)
        attr = ig.attribute(inputs, baselines=baselines, target=target, n_steps=n_steps)
        per_column = torch.zeros((m * n_back, n_columns), dtype=x.dtype, device=x.device)
        per_column.index_add_(1, groups, attr.detach())
        out[start:start + m] = per_column.view(m, n_back, n_columns).mean(dim=1)
    return out


def _as_frame(X: object) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        return X.reset_index(drop=True)
    array = np.asarray(X)
    if array.ndim != 2 or array.shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D array or DataFrame, got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])


class EquationStudent(RegressorMixin, BaseEstimator):
    """A signomial surrogate of a network that matches its outputs and attributions.

    Parameters
    ----------
    teacher : callable
        The network: teacher inputs ``(N, d)`` -> scores ``(N,)``, ``(N, 1)`` or
        ``(N, C)``; the explained output is its logit (``target`` for ``C > 1``).
    encoder : callable, optional
        Maps the raw rows (a DataFrame) to the teacher's input tensor. Default: the
        numeric values as float32.
    groups : sequence of str, optional
        The raw column of every teacher input (for one-hot encoders); default: the
        teacher's inputs are the raw columns.
    target : int, optional
        Explained output of a multi-output teacher.
    beta : float, default 10.0
        Weight of the attribution-matching term (0: fidelity-only fine-tuning).
    n_background : int, default 32
        Background rows (a seeded sample of ``X``) of both attributions.
    ig_steps : int, default 32
    epochs : int, default 150
        Passes of Adam over ``X`` in the fine-tuning.
    lr : float, default 0.01
    batch_size : int, default 512
    regressor : ECSELRegressor, optional
        The initial fit (cloned); default ``ECSELRegressor(random_state=random_state)``.
    prefit : bool, default False
        Use ``regressor`` as the initial fit as it is (it must already be fitted to the
        teacher's logit on these columns) instead of fitting a clone: several students
        (say, ``beta = 0`` and ``beta > 0``) can then start from one fit.
    fine_tune : {"all", "support"}, default "all"
        Fine-tune every exponent, or only those that are non-zero after the initial fit.
    random_state : int, optional
    verbose : bool, default False

    Attributes
    ----------
    estimator_ : ECSELRegressor
        The fine-tuned student (its ``signomial_`` is the deployed equation).
    initial_estimator_ : ECSELRegressor
        The plain fidelity fit it started from.
    signomial_ : Signomial
    background_ : DataFrame
    history_ : list of dict
        Per-epoch fidelity and attribution terms.

    Examples
    --------
    >>> import numpy as np, pandas as pd, torch
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame(rng.uniform(1, 3, (200, 2)), columns=["a", "b"])
    >>> teacher = lambda z: torch.log(z[:, :1]) + 0.5 * z[:, 1:]
    >>> est = ECSELRegressor(n_terms=1, n_restarts=2, max_iter=20, random_state=0)
    >>> s = EquationStudent(teacher, regressor=est, epochs=5, n_background=8,
    ...                     random_state=0).fit(X)
    >>> s.predict(X.iloc[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "teacher": [callable],
        "encoder": [callable, None],
        "groups": ["array-like", None],
        "target": [Integral, None],
        "beta": [Interval(Real, 0, None, closed="left")],
        "n_background": [Interval(Integral, 1, None, closed="left")],
        "ig_steps": [Interval(Integral, 1, None, closed="left")],
        "epochs": [Interval(Integral, 0, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "regressor": [ECSELRegressor, None],
        "prefit": ["boolean"],
        "fine_tune": [StrOptions({"all", "support"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, teacher, encoder=None, groups=None, target=None, beta=10.0,
                 n_background=32, ig_steps=32, epochs=150, lr=0.01, batch_size=512,
                 regressor=None, prefit=False, fine_tune="all", random_state=None,
                 verbose=False):
        self.teacher = teacher
        self.encoder = encoder
        self.groups = groups
        self.target = target
        self.beta = beta
        self.n_background = n_background
        self.ig_steps = ig_steps
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.regressor = regressor
        self.prefit = prefit
        self.fine_tune = fine_tune
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------- teacher
    def _encode(self, frame: pd.DataFrame) -> Tensor:
        if self.encoder is not None:
            encoded = self.encoder(frame)
            if not isinstance(encoded, Tensor):
                encoded = torch.as_tensor(np.asarray(encoded, dtype=np.float32))
        else:
            try:
                encoded = torch.tensor(frame.to_numpy(dtype=np.float32))
            except (TypeError, ValueError) as error:
                raise ValueError(
                    "X has non-numeric columns: pass an encoder that maps them to the "
                    "teacher's inputs") from error
        if encoded.dim() != 2 or encoded.shape[0] != len(frame):
            raise ValueError(f"the encoder must return (n_samples, d), got {tuple(encoded.shape)}")
        return encoded.detach()

    def teacher_logit(self, X) -> np.ndarray:
        """The teacher's explained logit for raw rows ``X``.

        Examples
        --------
        >>> import numpy as np, torch
        >>> s = EquationStudent(lambda z: 2.0 * z)
        >>> s.teacher_logit(np.ones((2, 1))).tolist()
        [2.0, 2.0]
        """
        frame = _as_frame(X)
        with torch.no_grad():
            out = self.teacher(self._encode(frame))
        return _select(out, self.target).double().cpu().numpy()

    def _teacher_groups(self, frame: pd.DataFrame, d: int) -> list[int]:
        columns = [str(c) for c in frame.columns]
        if self.groups is None:
            if d != len(columns):
                raise ValueError(
                    f"the teacher takes {d} inputs for {len(columns)} columns: pass groups "
                    "(the raw column of every teacher input)")
            return list(range(d))
        groups = [str(g) for g in self.groups]
        unknown = sorted(set(groups) - set(columns))
        if len(groups) != d or unknown:
            raise ValueError(f"groups must name one of the columns {columns} for each of the "
                             f"{d} teacher inputs (unknown: {unknown})")
        return [columns.index(g) for g in groups]

    # ----------------------------------------------------------------- fit
    def _check_params(self) -> None:
        self._validate_params()  # scikit-learn's, from _parameter_constraints
        if not np.isfinite(self.beta):
            raise ValueError(f"beta must be a finite non-negative number, got {self.beta!r}")
        if self.prefit:
            if self.regressor is None:
                raise ValueError("prefit=True needs a fitted regressor")
            try:
                check_is_fitted(self.regressor)
            except NotFittedError as error:
                raise ValueError("prefit=True needs a fitted regressor; this one is not "
                                 "fitted") from error

    def fit(self, X, y=None):
        """Fit the equation to the teacher on the raw rows ``X`` (``y`` is ignored).

        Examples
        --------
        >>> import numpy as np, pandas as pd, torch
        >>> from ecsel import ECSELRegressor
        >>> X = pd.DataFrame(np.random.default_rng(0).uniform(1, 3, (60, 2)), columns=["a", "b"])
        >>> est = ECSELRegressor(n_terms=1, n_restarts=1, max_iter=5, random_state=0)
        >>> s = EquationStudent(lambda z: z[:, :1] * z[:, 1:], regressor=est, epochs=2,
        ...                     n_background=4, ig_steps=4, random_state=0)
        >>> len(s.fit(X).history_)
        2
        """
        self._check_params()
        frame = _as_frame(X)
        rng = np.random.default_rng(self.random_state)
        encoded = self._encode(frame)
        with torch.no_grad():
            z_teacher = _select(self.teacher(encoded), self.target).double()
        if not torch.isfinite(z_teacher).all():
            raise ValueError("the teacher returned non-finite scores")
        groups = self._teacher_groups(frame, encoded.shape[1])
        n_cols = frame.shape[1]
        back_rows = np.sort(rng.choice(len(frame), min(self.n_background, len(frame)),
                                       replace=False))
        self.background_ = frame.iloc[back_rows].reset_index(drop=True)
        attr_teacher = teacher_attributions(
            self.teacher, encoded, encoded[back_rows], groups, n_cols, target=self.target,
            n_steps=self.ig_steps).double()
        if self.prefit:
            names = [str(c) for c in self.regressor.signomial_.input_features]
            if names != [str(c) for c in frame.columns]:
                raise ValueError(f"the prefit regressor was fitted on the columns {names}, "
                                 f"X has {[str(c) for c in frame.columns]}")
            self.initial_estimator_ = copy.deepcopy(self.regressor)
        else:
            regressor = clone(self.regressor) if self.regressor is not None else \
                ECSELRegressor(random_state=self.random_state)
            self.initial_estimator_ = regressor.fit(frame, z_teacher.cpu().numpy())
        self.estimator_, self.history_ = self._fine_tune(
            self.initial_estimator_, frame, z_teacher.cpu(), attr_teacher.cpu(), rng)
        self.signomial_ = self.estimator_.signomial_
        self.n_features_in_ = n_cols
        self.feature_names_in_ = np.asarray([str(c) for c in frame.columns], dtype=object)
        return self

    def _fine_tune(self, initial: ECSELRegressor, frame: pd.DataFrame, z_teacher: Tensor,
                   attr_teacher: Tensor, rng: np.random.Generator):
        sig = initial.signomial_
        as64 = lambda a: torch.tensor(np.asarray(a), dtype=torch.float64)  # noqa: E731
        log_u = as64(sig.log_features(frame))
        log_b = as64(sig.log_features(self.background_))
        groups = torch.as_tensor(column_index(sig))
        n_cols = len(sig.input_features)
        intercept = as64(sig.intercept).requires_grad_()
        coef = as64(sig.coef).requires_grad_()
        exponents = as64(sig.exponents).requires_grad_()
        support = as64(sig.exponents != 0) if self.fine_tune == "support" else None
        optimizer = torch.optim.Adam([intercept, coef, exponents], lr=self.lr)
        variance = z_teacher.var().clamp_min(1e-12)
        generator = torch.Generator().manual_seed(int(rng.integers(2**31)))
        history = []
        progress = None
        if self.verbose:
            from tqdm.auto import tqdm

            progress = tqdm(total=self.epochs, desc="equation student", leave=False)
        for _ in range(self.epochs):
            sums, n_seen = {"fidelity": 0.0, "attribution": 0.0}, 0
            for idx in torch.randperm(len(frame), generator=generator).split(self.batch_size):
                expo = exponents if support is None else exponents * support
                z = signomial_scores_torch(log_u[idx], intercept, coef, expo)
                fidelity = (z[:, 0] - z_teacher[idx]).pow(2).mean() / variance
                loss = fidelity
                attr = torch.zeros(())
                if self.beta > 0:
                    phi = signomial_shapley_torch(coef, expo, log_u[idx], log_b, groups, n_cols)
                    attr = normalized_distance(attr_teacher[idx], phi[:, 0])
                    loss = loss + self.beta * attr
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                sums["fidelity"] += fidelity.item() * len(idx)
                sums["attribution"] += attr.item() * len(idx)
                n_seen += len(idx)
            history.append({k: v / n_seen for k, v in sums.items()})
            if progress is not None:
                progress.update(1)
        if progress is not None:
            progress.close()
        with torch.no_grad():
            expo = exponents if support is None else exponents * support
            tuned = Signomial(intercept.numpy(), coef.numpy(), expo.numpy(), sig.transform,
                              sig.output_names)
        estimator = ECSELRegressor.from_signomial(tuned, frame, **initial.get_params())
        return estimator, history

    # ------------------------------------------------------------- predict
    def predict(self, X) -> np.ndarray:
        """The student's logit (the fine-tuned equation) at ``X``.

        Examples
        --------
        >>> from attribution.testing import example_student
        >>> s, X = example_student()
        >>> s.predict(X.iloc[:4]).shape
        (4,)
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def explain(self, X, background=None):
        """Exact Shapley values of the student (``background`` default: ``background_``).

        Examples
        --------
        >>> from attribution.testing import example_student
        >>> s, X = example_student()
        >>> e = s.explain(X.iloc[:3])
        >>> bool(np.allclose(e.values.sum(-1) + e.base_values, s.predict(X.iloc[:3])))
        True
        """
        check_is_fitted(self)
        return self.estimator_.explain(X, background=self.background_ if background is None
                                       else background)

    def teacher_attribution(self, X) -> np.ndarray:
        """The teacher's attributions per raw column for ``X`` against ``background_``.

        Examples
        --------
        >>> from attribution.testing import example_student
        >>> s, X = example_student()
        >>> s.teacher_attribution(X.iloc[:3]).shape
        (3, 2)
        """
        check_is_fitted(self)
        frame = _as_frame(X)
        encoded = self._encode(frame)
        groups = self._teacher_groups(frame, encoded.shape[1])
        back = self._encode(self.background_)
        return teacher_attributions(self.teacher, encoded, back, groups, frame.shape[1],
                                    target=self.target,
                                    n_steps=self.ig_steps).double().cpu().numpy()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags


def _select(out: Tensor, target: int | None) -> Tensor:
    if out.dim() == 1:
        return out
    if out.dim() == 2 and out.shape[1] == 1:
        return out[:, 0]
    if out.dim() == 2 and target is not None:
        return out[:, int(target)]
    raise ValueError(f"teacher returned shape {tuple(out.shape)}: pass target= for (N, C) scores")
