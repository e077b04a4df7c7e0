"""The complexity-accuracy front of candidate equations and the rules that pick one.

Every candidate found during ``fit`` (each model size, each step of the sparsity
path) is a complete :class:`~ecsel.Signomial`. This module counts its complexity,
keeps the Pareto-optimal ones and chooses the deployed equation.

Complexity
    The number of *factors*: every non-zero exponent of a numeric feature and
    every non-zero weight of an indicator (a binary column or one level of a
    categorical column) in a term with a non-zero coefficient counts one. A
    term's coefficient and the intercept are not counted. ``b + c * x**2 * y``
    has complexity 2; ``b + c1 * x + c2 * exp(g * Month[Nov])`` has complexity 2.
    Regressors also count one for a free intercept beside other terms and one
    more for every exponent that is not a simple rational (a fitted number):
    ``b + c * x**1.156`` has complexity 3, ``c * x**2`` 1 (see
    :func:`ecsel._fit.sparsify._symbolic_complexity`).

Front
    Candidates are sorted by complexity; a candidate stays only when its
    validation loss is strictly lower than that of every simpler candidate, so
    along the front complexity goes up and validation loss goes down.

Selection (``model_selection``)
    ``"accuracy"``: the row with the lowest validation loss (the *most accurate*
    row). ``"best"`` (default): the simplest row that is within a tolerance of the
    most accurate one. Classifiers: validation ROC AUC at most
    ``BEST_AUC_TOLERANCE`` (0.01) below the most accurate row's, and validation
    log-loss at most one standard error above it (the "one standard error rule"
    of CART and of glmnet's ``lambda.1se``). The error is *paired*: the standard
    deviation over the validation rows of the row's per-row loss minus the most
    accurate row's, over the square root of the number of rows (column
    ``loss_se``). Pairing removes the difficulty the rows share, so the rule asks
    whether the split can tell the two equations apart. The unpaired error of one
    mean loss is several times larger; with it, breast_cancer (80 validation rows)
    deployed a 2-factor equation with 30 % more validation log-loss than the most
    accurate one, test ROC AUC 0.978 against 0.992, and the mean test AUC of
    breast_cancer, wine, iris and Online Shoppers fell from 0.980 to 0.976 (see
    ``docs/bench/fit_speed.md``). Regressors: validation MSE at most
    ``1 + BEST_MSE_TOLERANCE`` (1.02) times the lowest, i.e. ``1 - R^2`` within 2 %
    of the most accurate row's, plus ``MSE_ATOL`` (1e-10) times the largest loss on
    the front so that exact fits tie. When the table records its number of
    validation rows ``n`` (``table.attrs["n_val"]``, set by the regressor), the
    2 % are measured from the row of lowest BIC on the validation split,
    ``n log MSE + complexity log n``, instead of the most accurate row (never a
    simpler row of worse BIC than a more complex one). A fixed 2 % is stricter
    than that bar on noisy data, where the most accurate row's extra terms fit
    noise: at 1 % noise on AI Feynman I.13.4 it deployed
    ``0.5 m u^2 + 0.5 m v^2 + 0.5 m w^2 + 0.017`` (validation MSE 2.2 % above a
    4-term row with a spurious ``v^6/u^2``; the law without the constant was 2.16 %
    above it). ``max_complexity`` removes more complex rows
    from the choice (they stay in the table).

Readable terms (no cancellation)
    A candidate is rejected when one of its terms is a fragile cancellation: with
    ``T_k`` the median over the training rows of ``|c_k t_k(x)|`` and ``S`` the
    standard deviation of the score over the same rows, every term must satisfy
    ``T_k <= MAX_TERM_RATIO * S`` (``MAX_TERM_RATIO = 1000``). A term whose typical
    size is three orders of magnitude above the score's spread can only be
    cancelled by another term or the intercept.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from sklearn.utils.validation import check_is_fitted

from ecsel._fit.printing import add_text_columns, short_table
from ecsel._fit.selection import (
    BEST_MSE_TOLERANCE,
    choice_sentence,
    selection_criterion,
    threshold_crossing,
)

BEST_AUC_TOLERANCE = 0.01
MSE_ATOL = 1e-10
MAX_TERM_RATIO = 1000.0
SELECTION_RULES = ("best", "accuracy")


def complexity_of(exponents: np.ndarray, coef: np.ndarray) -> int:
    """Number of factors: non-zero exponents in terms with a non-zero coefficient.

    Parameters
    ----------
    exponents : array of shape (n_outputs, n_terms, n_features)
    coef : array of shape (n_outputs, n_terms)

    Returns
    -------
    int

    Examples
    --------
    >>> import numpy as np
    >>> complexity_of(np.array([[[2.0, 1.0, 0.0], [0.0, 0.5, 0.0]]]), np.array([[3.0, 0.0]]))
    2
    """
    exponents = np.asarray(exponents, dtype=np.float64)
    active = np.asarray(coef, dtype=np.float64) != 0
    return int(np.count_nonzero((exponents != 0) & active[..., None]))


def signomial_complexity(signomial) -> int:
    """:func:`complexity_of` a :class:`~ecsel.Signomial` (constant features not counted).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 4.0], "y": [1.0, 3.0, 9.0]}))
    >>> signomial_complexity(Signomial([0.5], [[2.0]], [[[2.0, 1.0]]], t))
    2
    """
    expo = np.array(signomial.exponents)
    for j, fmap in enumerate(signomial.transform.feature_maps):
        if fmap.kind == "constant":
            expo[..., j] = 0.0
    return complexity_of(expo, signomial.coef)


def cancellation_ratio(term_values: np.ndarray, scores: np.ndarray) -> float:
    """Largest ``median |term| / std(score)`` over terms and outputs (0 without terms).

    Parameters
    ----------
    term_values : array of shape (n_samples, n_outputs, n_terms)
    scores : array of shape (n_samples, n_outputs)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(1.0, 2.0, 5)
    >>> terms = np.stack([1e6 + x, -1e6 + 0 * x], axis=1)[:, None, :]  # cancelling pair
    >>> cancellation_ratio(terms, terms.sum(-1)) > 1e5
    True
    """
    if term_values.size == 0 or term_values.shape[-1] == 0:
        return 0.0
    typical = np.median(np.abs(term_values), axis=0)  # (n_outputs, n_terms)
    spread = np.std(scores, axis=0)  # (n_outputs,)
    active = typical > 0
    if not active.any():
        return 0.0
    ratio = typical / np.maximum(spread, 1e-300)[:, None]
    return float(ratio[active].max())


@dataclass
class Candidate:
    """One candidate equation with its validation loss and score."""

    signomial: object
    loss: float
    score: float
    complexity: int
    source: str = ""
    loss_se: float = float("nan")  # paired standard error of the gap to the lowest loss
    # Classes the candidate predicts on the validation rows (0: not recorded): a
    # model that predicts one class everywhere never crosses the decision threshold.
    predicted_classes: int = 0


def pareto_front(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Candidates whose validation loss beats every simpler (or equal) one.

    Sorted by complexity; ties in complexity keep the lowest loss. Candidates
    with a non-finite loss are dropped.

    Examples
    --------
    >>> cands = [Candidate(None, 0.5, 0.8, 3), Candidate(None, 0.6, 0.7, 1),
    ...          Candidate(None, 0.55, 0.75, 4), Candidate(None, 0.4, 0.9, 6)]
    >>> [(c.complexity, c.loss) for c in pareto_front(cands)]
    [(1, 0.6), (3, 0.5), (6, 0.4)]
    """
    finite = [c for c in candidates if np.isfinite(c.loss)]
    ordered = sorted(finite, key=lambda c: (c.complexity, c.loss))
    front: list[Candidate] = []
    for cand in ordered:
        if not front or cand.loss < front[-1].loss:
            if front and front[-1].complexity == cand.complexity:
                continue
            front.append(cand)
    return front


def select_row(table: pd.DataFrame, rule: str = "best", max_complexity: int | None = None,
               *, task: str = "classification") -> int:
    """Index of the row that ``rule`` picks from a front table.

    Parameters
    ----------
    table : DataFrame
        With columns ``complexity``, ``loss`` and ``score``, sorted by complexity,
        and optionally ``loss_se`` (classifiers: without it, or where it is NaN,
        only the ROC AUC condition of ``"best"`` applies).
    rule : {"best", "accuracy"}
        See the module docstring.
    max_complexity : int, optional
        Only rows with at most this complexity are eligible.
    task : {"classification", "regression"}
        Chooses the tolerance of ``"best"``.

    Returns
    -------
    int
        The label of the chosen row.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [0, 2, 5, 9], "loss": [0.6, 0.35, 0.3, 0.29],
    ...                   "score": [0.5, 0.90, 0.918, 0.92]})
    >>> select_row(t, "accuracy"), select_row(t, "best"), select_row(t, "accuracy", 5)
    (3, 3, 2)
    >>> t.attrs["n_val"] = 1  # one validation row: a factor costs 0.05 of log-loss
    >>> select_row(t, "best")
    1
    >>> select_row(t, "best", 4)  # only rows 0 and 1 are eligible
    1
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"model_selection must be one of {SELECTION_RULES}, got {rule!r}.")
    eligible = table
    if max_complexity is not None:
        eligible = table[table["complexity"] <= max_complexity]
    if eligible.empty:
        raise ValueError(
            f"No equation on the front has complexity <= {max_complexity}; the simplest "
            f"has {int(table['complexity'].min())}."
        )
    if eligible["loss"].isna().all():  # no validation split (``from_signomial``)
        return int(eligible.index[0])
    most_accurate = eligible.loc[eligible["loss"].idxmin()]
    if rule == "accuracy":
        return int(most_accurate.name)
    if task == "regression":
        atol = MSE_ATOL * float(table["loss"].max())
        reference = most_accurate
        n_val = table.attrs.get("n_val")
        if n_val:
            # The reference is the row of lowest validation BIC (n log MSE + d log n):
            # measuring simpler rows against the most accurate row alone let a
            # constant pass the bar of a 61-factor row on 60 validation rows while a
            # 3-factor row had 40 % less error.
            with np.errstate(divide="ignore"):
                bic = (n_val * np.log(eligible["loss"].to_numpy(dtype=float) + atol)
                       + eligible["complexity"].to_numpy(dtype=float) * np.log(n_val))
            reference = eligible.iloc[int(np.argmin(bic))]
        ok = (eligible["loss"] <= reference["loss"] * (1 + BEST_MSE_TOLERANCE) + atol) & (
            eligible["complexity"] <= reference["complexity"])
    else:
        crossing = threshold_crossing(eligible)
        criterion = selection_criterion(crossing)
        return int(criterion.index[int(np.argmin(criterion.to_numpy()))])
    chosen = eligible[ok]
    if chosen.empty:
        return int(most_accurate.name)
    return int(chosen.sort_values(["complexity", "loss"], kind="stable").index[0])


def front_table(front: Sequence[Candidate], precision: int = 4, *,
                text: bool = True) -> pd.DataFrame:
    """The ``equations_`` DataFrame of a front (one row per candidate).

    Columns: ``complexity``, ``n_terms``, ``loss`` (validation loss: log-loss for
    classifiers, MSE for regressors), ``score`` (validation ROC AUC or R^2),
    ``loss_se`` (paired standard error of the row's validation log-loss gap to the
    most accurate candidate; NaN for regressors), ``predicted_classes`` (classes
    the row predicts on the validation rows; 0 where not recorded),
    ``equation`` (rounded to ``precision`` significant digits), ``sympy_format``
    (full precision, the deployed model), ``source`` (where the candidate came
    from) and ``signomial``. With ``text=False`` the two SymPy columns are left
    out (:func:`add_text_columns` adds them later).

    Examples
    --------
    >>> import pandas as pd
    >>> from ecsel import Signomial
    >>> from ecsel._transform import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 4.0]}))
    >>> s = Signomial([0.5], [[2.0]], [[[1.0]]], t)
    >>> front_table([Candidate(s, 0.1, 0.9, 1)])[["complexity", "n_terms", "equation"]]
       complexity  n_terms     equation
    0           1        1  1.0*x + 0.5
    >>> list(front_table([Candidate(s, 0.1, 0.9, 1)], text=False).columns)[4:]
    ['loss_se', 'predicted_classes', 'source', 'signomial']
    """
    rows = [{
        "complexity": int(cand.complexity),
        "n_terms": int(cand.signomial.n_terms),
        "loss": float(cand.loss),
        "score": float(cand.score),
        "loss_se": float(cand.loss_se),
        "predicted_classes": int(cand.predicted_classes),
        "source": cand.source,
        "signomial": cand.signomial,
    } for cand in front]
    table = pd.DataFrame(rows, columns=["complexity", "n_terms", "loss", "score", "loss_se",
                                        "predicted_classes", "source", "signomial"])
    return add_text_columns(table, precision) if text else table


def install_fit(estimator, candidates: Sequence[Candidate], **fitted):
    """The one door of every fit (``fit``, ``fit_stream``): see ``FrontMixin._install_fit``."""
    return estimator._install_fit(candidates, **fitted)


class FrontMixin:
    """``equations_``, ``select`` and row choice (``index``) for the ECSEL estimators.

    PySR's conventions where they fit scikit-learn: ``equations_`` is the front
    (one row per candidate, sorted by complexity), ``model_selection`` and
    ``max_complexity`` choose a row during ``fit``, ``select(...)`` chooses another
    one afterwards, and ``sympy(index)``, ``latex(index)``, ``predict(X, index)``,
    ``decision_function(X, index)`` and ``explain(X, index=...)`` use row ``index``
    without changing the estimator. The selected row is ``signomial_`` and is
    what ``to_json`` exports.

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ecsel import ECSELRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 100), "v": rng.uniform(1, 5, 100)})
    >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v**2)
    >>> est.equations_[["complexity", "n_terms", "equation"]]
       complexity  n_terms    equation
    0           0        0       17.90
    1           2        1  0.5*m*v**2
    >>> bool(np.allclose(est.predict(X, index=1), est.equations_.signomial[1].evaluate(X)[:, 0]))
    True
    """

    _front_task = "classification"

    # ---------------------------------------------------------------- fit
    def _install_fit(self, candidates: Sequence[Candidate], *, n_features_in: int,
                     feature_names_in=None, classes=None, n_val: int | None = None,
                     **fitted):
        """The one door of every fit: install the front, the selected row and all else.

        ``fit``, ``fit_stream`` (one process or distributed) and every fit built on
        them end here: ``equations_`` is built from the candidates, a row is selected
        (``model_selection``, ``max_complexity``), and ``signomial_``,
        ``selected_index_``, ``n_terms_``, ``n_features_in_``, ``feature_names_in_``,
        ``classes_``/``threshold_`` and the ``fitted`` attributes (``n_iter_``,
        ``y_scale_``) are set together. ``n_val`` (the regressor's validation rows)
        enables the BIC bar of ``"best"``. Returns the estimator.
        """
        # Restarts that reach one equation list its terms in different orders; a
        # canonical order keeps ulp-level loss ties from changing the fitted model.
        candidates = [replace(c, signomial=c.signomial.canonical()) for c in candidates]
        table = front_table(pareto_front(candidates), text=False)
        if n_val:
            table.attrs["n_val"] = int(n_val)
        if self._front_task == "classification":
            table.insert(table.columns.get_loc("loss") + 1, "criterion",
                         selection_criterion(table))
        self.equations_ = table
        self.selected_index_ = select_row(table, self.model_selection,
                                          self.max_complexity, task=self._front_task)
        for name, value in fitted.items():
            setattr(self, name, value)
        return self._set_fitted(table.loc[self.selected_index_, "signomial"],
                                n_features_in=n_features_in,
                                feature_names_in=feature_names_in, classes=classes)

    @property
    def equations_(self) -> pd.DataFrame | None:
        """The complexity-accuracy front (see the estimator's ``Attributes``).

        Its ``equation`` and ``sympy_format`` columns are built on first access
        (:func:`add_text_columns`): a fit inside a grid search never pays for SymPy.
        """
        state = self.__dict__
        if "_equations" not in state:
            if "equations_" in state:  # pickled before the columns were lazy
                return state["equations_"]
            raise AttributeError(f"{type(self).__name__!r} object has no attribute "
                                 "'equations_' (not fitted)")
        table = state["_equations"]
        return None if table is None else add_text_columns(table)

    @equations_.setter
    def equations_(self, table: pd.DataFrame | None) -> None:
        self.__dict__["_equations"] = table

    # -------------------------------------------------------------- rows
    def _front(self) -> pd.DataFrame:
        """The front table, without building its SymPy columns."""
        check_is_fitted(self)
        front = self.__dict__.get("_equations", self.__dict__.get("equations_"))
        if front is None:
            raise ValueError(
                "This estimator has no equations_ front (it was loaded from JSON); only "
                "its selected equation is available."
            )
        return front

    def _row_signomial(self, index=None):
        check_is_fitted(self)
        if index is None:
            return self.signomial_
        front = self._front()
        if isinstance(index, bool) or not isinstance(index, numbers.Integral) \
                or index not in front.index:
            raise ValueError(
                f"index must be a row label of equations_ (0 to {len(front) - 1}), "
                f"got {index!r}."
            )
        return front.loc[int(index), "signomial"]

    def _at(self, index):
        """A shallow copy whose ``signomial_`` is row ``index`` (self when None)."""
        if index is None:
            return self
        signomial = self._row_signomial(index)
        other = copy.copy(self)
        other.signomial_ = signomial
        other.n_terms_ = signomial.n_terms
        other.selected_index_ = int(index)
        return other

    def select(self, index: int | None = None, *, model_selection: str | None = None,
               max_complexity: int | None = None):
        """Deploy another row of ``equations_``: by ``index``, or by a selection rule.

        Parameters
        ----------
        index : int, optional
            Row label of ``equations_``.
        model_selection : {"best", "accuracy"}, optional
            Apply this rule instead (default: the estimator's ``model_selection``
            when ``index`` is None).
        max_complexity : int, optional
            Only rows with at most this complexity are eligible for the rule.

        Returns
        -------
        self
            ``signomial_``, ``n_terms_`` and ``selected_index_`` now describe the
            chosen row (``to_json`` exports it).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 100), "v": rng.uniform(1, 5, 100)})
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> est.selected_index_, est.select(max_complexity=1).selected_index_
        (1, 0)
        >>> est.select(1).sympy(precision=3)
        0.5*m*v**2
        """
        front = self._front()
        if index is not None:
            if model_selection is not None or max_complexity is not None:
                raise ValueError("Pass either index or a selection rule, not both.")
            signomial = self._row_signomial(index)
            chosen = int(index)
        else:
            rule = self.model_selection if model_selection is None else model_selection
            chosen = select_row(front, rule, max_complexity, task=self._front_task)
            signomial = front.loc[chosen, "signomial"]
        self.signomial_ = signomial
        self.n_terms_ = signomial.n_terms
        self.selected_index_ = chosen
        return self

    # ----------------------------------------------------------- exports
    def sympy(self, precision: int | None = None, index: int | None = None,
              reference: bool | str = False):
        """The equation of row ``index`` (default: the selected one) as SymPy.

        Symbols are the DataFrame's column names (``x0, x1, ...`` for arrays);
        one-hot levels appear as indicator factors ``exp(g * col[level])``. A
        classifier's expression is the right-hand side of
        ``logit P(y = classes_[1]) = ...`` (``str(est.signomial_)`` prints both
        sides); a multiclass classifier returns one expression per non-reference
        class, the log-odds against ``classes_[0]``. ``reference=True`` (or
        ``"auto"``: only where needed) writes terms as ``c * (x / x_ref) ** a``
        with ``c`` the term's value at a typical row; it evaluates to the same score.

        Examples
        --------
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> est.sympy(precision=3)
        0.5*m*v**2
        """
        return self._row_signomial(index).to_sympy(precision=precision, reference=reference)

    def latex(self, precision: int | None = 4, index: int | None = None) -> str:
        """The equation of row ``index`` (default: the selected one) as LaTeX.

        Examples
        --------
        >>> from ecsel._testing import example_estimator
        >>> est, X = example_estimator()
        >>> est.latex(precision=3)
        'y = 0.5 m v^{2}'
        """
        return self._row_signomial(index).to_latex(precision=precision)

    def _scores(self, X, index: int | None = None) -> np.ndarray:
        frame = self._validate_predict_input(X)
        return self._row_signomial(index).evaluate(frame)

    def explain(self, X, background=None, method: str = "shapley", index: int | None = None):
        """Exact attributions (:meth:`ExplainMixin.explain`) of the equation of row
        ``index`` of ``equations_`` (default: the selected equation).

        Returns
        -------
        Explanation
            ``values`` (n_samples, n_features), (n_samples, n_classes, n_features) if
            multiclass; ``values.sum(-1) + base_values == decision_function(X)``
            (``predict`` for a regressor), in ``score_name`` units (log-odds).

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 100), "v": rng.uniform(1, 5, 100)})
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> e = est.explain(X.iloc[:3], index=0)  # the constant model: nothing to attribute
        >>> constant = est.predict(X, index=0)[0]
        >>> bool(np.allclose(e.values, 0) and np.allclose(e.base_values, constant))
        True
        """
        target = self._at(index)
        return super(FrontMixin, target).explain(X, background=background, method=method)

    def front_summary(self, width: int = 80) -> str:
        """The front's short table (complexity, validation score, equation) and the choice.

        The selected row is marked with ``*``; the last line is one sentence on why
        it was chosen.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import ECSELRegressor
        >>> rng = np.random.default_rng(0)
        >>> X = pd.DataFrame({"m": rng.uniform(1, 5, 100), "v": rng.uniform(1, 5, 100)})
        >>> est = ECSELRegressor(n_restarts=4, random_state=0).fit(X, 0.5 * X.m * X.v**2)
        >>> print(est.front_summary())  # doctest: +NORMALIZE_WHITESPACE
          complexity  val R^2  equation
                   0  -0.1192  17.90
        *          2   1.0000  0.5*m*v**2
        Selected the complexity-2 equation (validation score 1.0000): the simplest whose
        validation MSE is within 2% of the most accurate (1.0000, complexity 2).
        """
        front = add_text_columns(self._front())
        name = "val R^2" if self._front_task == "regression" else "val AUC"
        rule = self.model_selection if self.selected_index_ == select_row(
            front, self.model_selection, self.max_complexity, task=self._front_task) else None
        if rule is None:
            sentence = (f"Row {self.selected_index_} was selected by hand "
                        "(select(index)).")
        else:
            sentence = choice_sentence(front, self.selected_index_, rule,
                                       self.max_complexity, task=self._front_task)
        return short_table(front, self.selected_index_, name, width=width) + "\n" + sentence
