"""ECSELClassifier: classification with one signomial score per class."""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit, softmax
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ecsel._base import ECSELBase, atomic_fit, classifier_link
from ecsel._fit import engine, sparsify
from ecsel._fit.classify import SMALL_DATA, ClassifierSearch
from ecsel._fit.front import FrontMixin
from ecsel._fit.primitives import thread_budget
from ecsel._fit.source import holdout_mask, split_salt
from ecsel.explain._mixin import ExplainMixin
from ecsel.signomial import Signomial


class ECSELClassifier(FrontMixin, ExplainMixin, ECSELBase, ClassifierMixin, BaseEstimator):
    """Signomial classifier: ``z_c(x) = b_c + sum_k c_ck * prod_j x_j ** a_ckj``.

    Binary problems use one score and a sigmoid. Multiclass problems use a softmax
    with ``classes_[0]`` as the reference class (its score is fixed at 0), which
    makes the model identifiable; every other class has its own intercept and terms.

    Fitting, per model size: one Adam stage (``max_iter`` steps) on the
    cross-entropy with a proximal (soft-threshold) L1 step on the exponents, the
    restarts batched on one tensor (each with its own L1 strength around
    ``alpha``) and early-stopped on a validation split; then the best
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
        Share of the rows held out for early stopping and the front's choice. A row
        is held out when a hash of its position (salted by ``random_state``) falls
        below it, so :func:`ecsel.stream.fit_stream` holds out the same rows of the
        same table.
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
        salt = split_salt(rng)
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
        # Unit-variance log-features make one L1 strength fair to every feature;
        # the exponents are mapped back to the original log scale afterwards.
        spread = log_u.std(axis=0)
        spread[~(spread > 1e-12)] = 1.0
        held = holdout_mask(np.arange(len(y_index)), self.validation_fraction, salt)
        train, val = self._split(log_u / spread, y_index, weights, held, device)
        return fit_search(self, train, val, transform=transform, spread=spread,
                          classes=classes, generator=generator, device=device,
                          n_features_in=self.n_features_in_,
                          feature_names_in=getattr(self, "feature_names_in_", None))

    @staticmethod
    def _split(log_u, y_index, weights, held, device):
        """Training and validation rows (``held``: the rows of :func:`holdout_mask`).

        Below ``SMALL_DATA`` rows, or when the hash leaves one side empty, both are
        all rows (the search then chooses the size by BIC).
        """
        def data(idx):
            return engine.Data(
                torch.as_tensor(log_u[idx], dtype=torch.float64, device=device),
                torch.as_tensor(y_index[idx], dtype=torch.float64, device=device),
                torch.as_tensor(weights[idx], dtype=torch.float64, device=device),
            )

        index = np.arange(len(y_index))
        if len(index) < SMALL_DATA or held.all() or not held.any():
            return data(index), data(index)
        return data(index[~held]), data(index[held])

    def _search_sizes(self, train, val, task, n_out, generator, spread=None, rows=None):
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
            small=len(train) == len(val) < SMALL_DATA, rows=rows,
        )
        search.run(self.n_terms)
        self.n_iter_ = search.n_iter
        self._candidates = [(c.params, c.n_terms, c.val_loss) for c in search.candidates]
        return search

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


def fit_search(estimator: ECSELClassifier, train: engine.Data, val: engine.Data, *,
               transform, spread: np.ndarray, classes: np.ndarray,
               generator: torch.Generator, device: torch.device, n_features_in: int,
               feature_names_in=None, rows=None) -> ECSELClassifier:
    """The classifier's search, sparsity path and install: the one pipeline of every fit.

    ``ECSELClassifier.fit`` and :func:`ecsel.stream.fit_stream` (one process or
    distributed) both end here. ``train`` and ``val`` are the training and validation
    rows in memory as unit-variance log-features (``log_u / spread``; for a streamed
    fit, row-hash samples of them), ``rows`` the row source of the Adam stage
    (:mod:`ecsel._fit.source`; None: ``train`` itself). The model sizes
    (:class:`~ecsel._fit.classify.ClassifierSearch`), the front
    (:func:`~ecsel._fit.sparsify.classifier_candidates`) and the selected row are
    installed on ``estimator`` through its one door; returns it.
    """
    task = "binary" if len(classes) == 2 else "multiclass"
    names = [str(c) for c in classes[1:]]

    def to_signomial(params):
        intercept, coef, expo = params.numpy(0)
        return Signomial(intercept, coef, expo / spread, transform, names,
                         **classifier_link(classes))

    with thread_budget(train.log_u.numel() * estimator.n_restarts, device):
        search = estimator._search_sizes(train, val, task, len(classes) - 1, generator,
                                         spread=spread, rows=rows)
        candidates = sparsify.classifier_candidates(
            search.fits, train, val, task, to_signomial,
            sparsify.feature_groups(transform.feature_maps), l1=estimator.alpha / 10,
            generator=generator, expo_bound=search.expo_bound)
    return estimator._install_fit(candidates, n_features_in=n_features_in,
                                  feature_names_in=feature_names_in, classes=classes)
