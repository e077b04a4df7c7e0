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
from ecsel._fit import constraints as cst
from ecsel._fit import engine, resample, sparsify
from ecsel._fit.classify import (
    SEARCH_ROWS,
    SLOPE_L2,
    SMALL_DATA,
    ClassifierSearch,
    class_subsample,
)
from ecsel._fit.front import FrontMixin, install_fit
from ecsel._fit.primitives import thread_budget
from ecsel._fit.source import holdout_mask, split_salt
from ecsel.explain._mixin import ExplainMixin
from ecsel.signomial import Signomial
from ecsel.uncertainty import UncertaintyMixin


class ECSELClassifier(FrontMixin, ExplainMixin, UncertaintyMixin, ECSELBase, ClassifierMixin,
                      BaseEstimator):
    """Signomial classifier: ``z_c(x) = b_c + sum_k c_ck * prod_j x_j ** a_ckj``.

    Binary problems use one score and a sigmoid. Multiclass problems use a softmax
    with ``classes_[0]`` as the reference class (its score is fixed at 0), which
    makes the model identifiable; every other class has its own intercept and terms.

    Fitting, per model size: one Adam stage (``max_iter`` steps) on the
    cross-entropy with a proximal (soft-threshold) L1 step on the exponents, the
    restarts batched on one tensor (each with its own L1 strength around
    ``alpha``) and early-stopped on a validation split; then the best
    restart's small exponents are pruned (thresholds 0.2, 0.05, 0.01 on
    unit-variance log-features) and the rest polished with L-BFGS-B. With
    ``n_terms="auto"`` the best multiplicative model then gets one single-feature
    power term ``c_j * x_j ** a_j`` per model feature (a signomial GAM beside the
    interaction terms), fitted with an L2 penalty on every term's slope (the
    analogue of LogisticRegression's ``C=1``). A sparsity path of refitted,
    simpler equations from the most accurate fit forms the front ``equations_``.
    The printed equation is exactly the deployed model.

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
        Which equation of the front ``equations_`` is deployed: ``"best"`` has the
        lowest penalised validation log-loss (column ``criterion``: log-loss plus
        0.05 times the complexity over the number of validation rows) among the
        rows whose validation predictions cross the decision threshold (when any
        do); ``"accuracy"`` the lowest validation log-loss (see
        :mod:`ecsel._fit.front`).
    max_complexity : int or None, default=None
        Only equations with at most this many factors can be selected.
    monotonic_cst : array-like of int, dict or None, default=None
        scikit-learn's convention (as in ``HistGradientBoostingClassifier``): -1, 0
        or +1 per feature, or ``{feature name: sign}``; +1 makes the score (and the
        probability of the positive class) non-decreasing in that feature
        everywhere, outside the training range too. Every term of every row of
        ``equations_`` obeys ``sign * c_k * a_kj >= 0``, kept by every step of the
        search, and :meth:`monotonicity` certifies it from the closed form. A
        constrained feature must be numeric; its missingness indicator is held at
        exponent 0 (a missing value scores as the fill value). Binary problems only.
    exponent_bounds : (low, high), dict or None, default=None
        A box for the exponents (original log units of each feature): one pair for
        every feature or ``{feature name: (low, high)}``, with ``low <= 0 <= high``.
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
        filtered; columns ``complexity``, ``n_terms``, ``loss`` (validation
        log-loss), ``criterion`` (the penalised log-loss ``"best"`` minimises),
        ``score`` (validation ROC AUC), ``loss_se``, ``equation``,
        ``sympy_format``, ``predicted_classes`` (classes predicted on the
        validation rows), ``source``, ``signomial``.
    selected_index_ : int
        Row of ``equations_`` held by ``signomial_``.
    n_terms_ : int
    constraints_ : dict
        The constraints the fit obeyed: ``monotonic`` ({column: sign}) and
        ``exponent_bounds`` ({column: [low, high]}). Stored in the JSON document.
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
                 monotonic_cst=None, exponent_bounds=None,
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
        self.monotonic_cst = monotonic_cst
        self.exponent_bounds = exponent_bounds
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

    def _refit_selected(self, spread, train, val, task, to_signomial, search):
        """Refit the selected equation's non-zero parameters on every training row
        (early-stopped on every validation row) and deploy the refit."""
        signomial = self.signomial_
        expo = np.asarray(signomial.exponents) * spread
        params = engine.Params(*(torch.as_tensor(np.asarray(a)[None], dtype=torch.float64,
                                                 device=train.log_u.device)
                                 for a in (signomial.intercept, signomial.coef, expo)))
        with thread_budget(0, train.log_u.device):
            refit = sparsify.polish(params, train, task, l1=self.alpha / 10, val=val,
                                    expo_bound=search.expo_bound,
                                    slope_l2=SLOPE_L2 / len(train), constraint=search.constraint)
        signomial = to_signomial(refit).canonical()
        # The front keeps the subsample's validation scores; its row holds the refit.
        self.__dict__["_equations"].at[self.selected_index_, "signomial"] = signomial
        self.signomial_ = signomial

    def _search_sizes(self, train, val, task, n_out, generator, spread=None, rows=None,
                      constraint=None):
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
            small=len(train) == len(val) < SMALL_DATA, rows=rows, constraint=constraint,
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

    # Large data: the structure is searched on a class-stratified subsample (rare
    # classes kept whole, rows reweighted), and only the deployed equation is refitted
    # on every row. A streamed fit's ``train``/``val`` are row-hash samples already.
    constraints = cst.build(transform, estimator.monotonic_cst, estimator.exponent_bounds)
    if constraints.columns["monotonic"] and task == "multiclass":
        raise ValueError("monotonic_cst is not supported for multiclass classification.")
    engine_constraint = constraints.scaled(spread) if constraints.active else None
    search_train, search_val = train, val
    if rows is None:
        search_train = class_subsample(train, SEARCH_ROWS, generator)
        search_val = class_subsample(val, SEARCH_ROWS // 4, generator)
    refit = None
    if engine_constraint is None:
        # Every front row gets an unpenalised maximum-likelihood refit of its
        # structure (zero pattern and exponent box kept), so the deployed parameters
        # are not shrunk by the search's penalties. With monotonic constraints the
        # penalised, sign-preserving fit is kept: the refit does not hold the signs.
        def refit(params):
            return resample.unpenalised(params, search_train, task,
                                        expo_bound=search.expo_bound)
    with thread_budget(search_train.log_u.numel() * estimator.n_restarts, device):
        search = estimator._search_sizes(search_train, search_val, task, len(classes) - 1,
                                         generator, spread=spread, rows=rows,
                                         constraint=engine_constraint)
        candidates = sparsify.classifier_candidates(
            search.fits, search_train, search_val, task, to_signomial,
            sparsify.feature_groups(transform.feature_maps), l1=estimator.alpha / 10,
            generator=generator, expo_bound=search.expo_bound, slope_l2=search.slope_l2,
            constraint=engine_constraint, refit=refit)
    cst.check_front(candidates, constraints)
    estimator.constraints_ = dict(constraints.columns)
    install_fit(estimator, candidates, n_features_in=n_features_in,
                feature_names_in=feature_names_in, classes=classes, n_val=len(search_val))
    if len(search_train) < len(train):
        estimator._refit_selected(spread, train, val, task, to_signomial, search)
    return estimator
