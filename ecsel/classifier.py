"""ECSELClassifier: classification with one signomial score per class."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ecsel._base import ECSELBase, atomic_fit
from ecsel._fit import engine, resample, sparsify
from ecsel._fit.classify import (
    MAX_AUTO_TERMS,
    PRUNE_THRESHOLDS,
    PRUNE_TOLERANCE,
    SMALL_DATA,
    ClassifierSearch,
    l1_path,
)
from ecsel._fit.front import FrontMixin
from ecsel._fit.primitives import thread_budget
from ecsel.explain._mixin import ExplainMixin
from ecsel.signomial import Signomial
from ecsel.uncertainty import UncertaintyMixin

AUTO_TERMS = tuple(range(1, MAX_AUTO_TERMS + 1))


class ECSELClassifier(FrontMixin, ExplainMixin, UncertaintyMixin, ECSELBase, ClassifierMixin,
                      BaseEstimator):
    """Signomial classifier: ``z_c(x) = b_c + sum_k c_ck * prod_j x_j ** a_ckj``.

    Binary problems use one score and a sigmoid. Multiclass problems use a softmax
    with ``classes_[0]`` as the reference class (its score is fixed at 0), which
    makes the model identifiable; every other class has its own intercept and terms.

    Fitting, per model size: one Adam stage (``max_iter`` steps) on the
    cross-entropy with a proximal (soft-threshold) L1 step on the exponents, the
    restarts batched on one tensor (each with its own L1 strength around
    ``alpha``) and early-stopped on a stratified validation split; then the best
    restart's small exponents are pruned (thresholds 0.2, 0.05, 0.01 on
    unit-variance log-features) and the rest polished with L-BFGS-B. A sparsity
    path of refitted, simpler equations forms the front ``equations_``. The
    printed equation is exactly the deployed model.

    Parameters
    ----------
    n_terms : int or "auto", default="auto"
        Terms per class score; ``"auto"`` grows the model from 1 term (each size
        warm-started from the previous one) and stops when one more term lowers the
        validation log-loss by less than 0.5 %, at most 3 terms. Below 20 rows
        (no validation split) the size is chosen by BIC and a warning is raised.
    alpha : float, default=1e-2
        Centre of the L1 strengths on the exponents: restart ``r`` uses ``alpha``
        times 1, 1/4, 4, 1/16, 16, ... and validation loss picks among them.
    n_restarts : int, default=8
    max_iter : int, default=150
        Adam steps per model size (the L-BFGS polish that follows finishes the fit).
    learning_rate : float, default=0.1
        Adam's step size for the exponents (twice that for the coefficients).
    batch_size : int, default=8192
        Minibatch size for large data (full batch below it), which bounds memory.
    class_weight : dict, "balanced" or None, default=None
    validation_fraction : float, default=0.2
    model_selection : {"best", "accuracy"}, default="best"
        Which equation of the front ``equations_`` is deployed: ``"best"`` is the
        simplest whose validation ROC AUC is within 0.01 (and log-loss within one
        standard error) of the most accurate one, ``"accuracy"`` the lowest validation log-loss
        (see :mod:`ecsel._fit.front`).
    max_complexity : int or None, default=None
        Only equations with at most this many factors can be selected.
    device : str, default="auto"
    random_state : int, RandomState or None, default=None
    verbose : bool, default=False

    Attributes
    ----------
    classes_ : ndarray
    signomial_ : Signomial
        One output per non-reference class: the selected row of ``equations_``.
    equations_ : DataFrame
        The complexity-accuracy front: every model size's fit and its sparsity path
        (factors removed one or a categorical column at a time, refitted), Pareto
        filtered; columns ``complexity``, ``n_terms``, ``loss``, ``score``
        (validation ROC AUC), ``equation``, ``sympy_format``, ``source``,
        ``signomial``.
    selected_index_ : int
        Row of ``equations_`` held by ``signomial_``.
    n_terms_ : int
    n_iter_ : int
        Adam steps taken over all model sizes and stages.
    n_features_in_ : int
    feature_names_in_ : ndarray of str

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> clf = ECSELClassifier(n_terms=1, random_state=0).fit(X, y)
    >>> clf.score(X, y) > 0.9
    True
    """

    def __init__(self, n_terms="auto", *, alpha=1e-2, n_restarts=8, max_iter=150,
                 learning_rate=0.1, batch_size=8192, class_weight=None,
                 validation_fraction=0.2, model_selection="best", max_complexity=None,
                 device="auto", random_state=None, verbose=False):
        self.n_terms = n_terms
        self.alpha = alpha
        self.n_restarts = n_restarts
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.class_weight = class_weight
        self.validation_fraction = validation_fraction
        self.model_selection = model_selection
        self.max_complexity = max_complexity
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ---------------------------------------------------------------- fit
    @atomic_fit
    def fit(self, X, y):
        """Fit one signomial score per non-reference class.

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> X = pd.DataFrame({"x": np.linspace(0.5, 4.0, 60)})
        >>> y = (X.x > 2.0).astype(int)
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=100, random_state=0)
        >>> clf.fit(X, y).classes_.tolist(), clf.signomial_.n_terms
        ([0, 1], 1)
        """
        device, rng, generator = self._fit_setup()
        frame, y = self._validate_fit_input(X, y, y_numeric=False)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"The target has only one class ({classes[0]!r}); a classifier needs "
                "samples of at least 2 classes."
            )
        weights = compute_sample_weight(self.class_weight, y) if self.class_weight else \
            np.ones(len(y))
        transform, log_u = self._fit_transform(frame)
        task = "binary" if len(classes) == 2 else "multiclass"
        # Unit-variance log-features make one L1 strength fair to every feature;
        # the exponents are mapped back to the original log scale afterwards.
        spread = log_u.std(axis=0)
        spread[~(spread > 1e-12)] = 1.0
        train, val = self._split(log_u / spread, y_index, weights, rng, device)
        names = [str(c) for c in classes[1:]]

        def to_signomial(params):
            intercept, coef, expo = params.numpy(0)
            return Signomial(intercept, coef, expo / spread, transform, names)

        with thread_budget(log_u.size * self.n_restarts, device):
            search = self._search_sizes(train, val, task, len(classes) - 1, generator,
                                        spread=spread)
            candidates = sparsify.classifier_candidates(
                search.fits, train, val, task, to_signomial,
                sparsify.feature_groups(transform.feature_maps), l1=self.alpha / 10,
                generator=generator, expo_bound=search.expo_bound,
                refit=lambda p: resample.unpenalised(p, train, task, expo_bound=search.expo_bound))
        signomial = self._install_front(candidates)
        return self._set_fitted(signomial, n_features_in=self.n_features_in_,
                                feature_names_in=getattr(self, "feature_names_in_", None),
                                classes=classes)

    def _split(self, log_u, y_index, weights, rng, device):
        def data(idx):
            return engine.Data(
                torch.as_tensor(log_u[idx], dtype=torch.float64, device=device),
                torch.as_tensor(y_index[idx], dtype=torch.float64, device=device),
                torch.as_tensor(weights[idx], dtype=torch.float64, device=device),
            )

        index = np.arange(len(y_index))
        if len(index) < 20:
            return data(index), data(index)
        counts = np.bincount(y_index)
        stratify = y_index if counts.min() >= 2 else None
        train_idx, val_idx = train_test_split(
            index, test_size=self.validation_fraction, stratify=stratify,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
        return data(train_idx), data(val_idx)

    def _search_sizes(self, train, val, task, n_out, generator, spread=None):
        """Grow the model (see :mod:`ecsel._fit.classify`); record every candidate.

        ``_candidates`` lists ``(params, n_terms, validation loss)`` for each pruned
        and polished model tried, in the working units (exponents times ``spread``).
        Returns the finished :class:`ClassifierSearch` (its ``fits``: the chosen
        model of every size tried; its ``expo_bound``: the exponents' box).
        """
        spread = np.ones(train.log_u.shape[1]) if spread is None else spread
        search = ClassifierSearch(
            train, val, task, n_out, spread, n_restarts=self.n_restarts, alpha=self.alpha,
            max_iter=self.max_iter, learning_rate=self.learning_rate,
            batch_size=self.batch_size, generator=generator,
            small=len(train) == len(val) < SMALL_DATA,
        )
        search.run(self.n_terms)
        self.n_iter_ = search.n_iter
        self._candidates = [(c.params, c.n_terms, c.val_loss) for c in search.candidates]
        return search

    def _init_params(self, train, task, n_out, n_terms, generator):
        shape = (self.n_restarts, n_out, n_terms)
        m = train.log_u.shape[1]
        y = train.y.cpu().numpy().astype(int)
        prior = np.bincount(y, minlength=n_out + 1) + 1.0
        base = np.log(prior[1:] / prior[0])
        intercept = torch.as_tensor(base, dtype=torch.float64).expand(self.n_restarts, n_out)
        coef = 0.3 * torch.randn(shape, generator=generator, dtype=torch.float64)
        expo = 0.5 * torch.randn(shape + (m,), generator=generator, dtype=torch.float64)
        expo = expo * (torch.rand(shape + (m,), generator=generator) < 0.5)
        device = train.log_u.device
        return engine.Params(intercept.clone().to(device), coef.to(device), expo.to(device))

    def _prune(self, params, train, val, task, l1):
        """Drop small exponents and polish; keep the sparsest model that costs < 0.5 %.

        Log-features have unit variance here, so an exponent's size is its effect:
        exponents below each threshold are zeroed, the rest polished with L-BFGS, and
        the largest threshold whose validation loss is within 0.5 % of the best wins.
        """
        scale = float(params.coef.abs().max().clamp(min=1e-12))
        candidates = []
        for threshold in PRUNE_THRESHOLDS:
            masks = engine.active_masks(params, threshold, 1e-6 * scale)
            pruned = engine.apply_masks(params, masks)
            polished = engine.lbfgs_polish(pruned, train, task, masks=masks, l1=l1 / 10,
                                           max_iter=50)
            for candidate in (pruned, polished):
                candidates.append((threshold, candidate, float(val.loss(candidate, task)[0])))
        best_loss = min(loss for _, _, loss in candidates)
        for _, candidate, loss in candidates:
            if loss <= best_loss * (1 + PRUNE_TOLERANCE):
                return candidate, loss
        raise AssertionError("unreachable: the best candidate is within tolerance")

    def _l1_path(self, log_u):
        """One L1 strength per restart (shared with the search: ``classify.l1_path``)."""
        return l1_path(self.alpha, self.n_restarts, log_u)

    # ------------------------------------------------------------ predict
    def decision_function(self, X, index=None):
        """Class scores: shape (n,) for binary, (n, n_classes) for multiclass.

        ``index`` picks a row of ``equations_`` (default: the selected equation).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> X = pd.DataFrame({"x": np.linspace(0.5, 4.0, 60)})
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=100, random_state=0)
        >>> z = clf.fit(X, (X.x > 2.0).astype(int)).decision_function(X)
        >>> z.shape, bool(np.allclose(z, clf.signomial_.evaluate(X)[:, 0]))
        ((60,), True)
        """
        scores = self._scores(X, index)
        if len(self.classes_) == 2:
            return scores[:, 0]
        return np.hstack([np.zeros((scores.shape[0], 1)), scores])

    def predict_proba(self, X, index=None):
        """Class probabilities (sigmoid for binary, softmax otherwise).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> from scipy.special import expit
        >>> X = pd.DataFrame({"x": np.linspace(0.5, 4.0, 60)})
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=100, random_state=0)
        >>> p = clf.fit(X, (X.x > 2.0).astype(int)).predict_proba(X)
        >>> z = clf.decision_function(X)
        >>> bool(np.allclose(p.sum(1), 1)), bool(np.allclose(p[:, 1], expit(z)))
        (True, True)
        """
        scores = self.decision_function(X, index)
        if len(self.classes_) == 2:
            p = expit(scores)
            return np.column_stack([1 - p, p])
        return softmax(scores, axis=1)

    def predict(self, X, index=None):
        """Most probable class (binary: ``p >= threshold_``, 0.5 by default).

        Examples
        --------
        >>> import numpy as np, pandas as pd
        >>> X = pd.DataFrame({"x": np.linspace(0.5, 4.0, 60)})
        >>> y = np.where(X.x > 2.0, "yes", "no")
        >>> clf = ECSELClassifier(n_terms=1, n_restarts=2, max_iter=100, random_state=0).fit(X, y)
        >>> clf.predict(pd.DataFrame({"x": [0.6, 3.9]})).tolist()
        ['no', 'yes']
        """
        check_is_fitted(self)
        proba = self.predict_proba(X, index)
        if len(self.classes_) == 2:
            return self.classes_[(proba[:, 1] >= self.threshold_).astype(int)]
        return self.classes_[np.argmax(proba, axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        return tags
