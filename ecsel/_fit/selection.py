"""How a classifier's front row is chosen and scored: the penalised validation
log-loss, the threshold guard (see :func:`ecsel._fit.front.select_row`) and the
validation ROC AUC (``validation_score``, weighted and one-vs-rest).

``COMPLEXITY_PENALTY`` is the log-loss, summed over the validation rows, that one
factor must buy to be deployed.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from scipy.special import softmax

from ecsel._fit import engine

COMPLEXITY_PENALTY = 0.05
#: The regressor's "best": the simplest row whose validation MSE is within this share
#: of the lowest (see :func:`ecsel._fit.front.select_row`).
BEST_MSE_TOLERANCE = 0.02


def selection_criterion(table: pd.DataFrame) -> pd.Series:
    """Classifiers' penalised validation log-loss, the quantity ``"best"`` minimises.

    ``loss + COMPLEXITY_PENALTY * complexity / n_val`` with ``n_val`` the number
    of validation rows (``table.attrs["n_val"]``; without it the penalty is 0).
    A factor must lower the validation log-loss, summed over the validation
    rows, by ``COMPLEXITY_PENALTY`` nats to be worth its reading cost. The
    penalty is small on purpose: on the small validation splits of real data
    (attrition: 235 rows) larger ones deployed 7-factor equations 0.07 test ROC
    AUC below the most accurate row, whose validation loss they could not tell apart.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [0, 4], "loss": [0.60, 0.50]})
    >>> t.attrs["n_val"] = 2
    >>> selection_criterion(t).round(3).tolist()
    [0.6, 0.6]
    """
    n_val = table.attrs.get("n_val")
    penalty = COMPLEXITY_PENALTY / float(n_val) if n_val else 0.0
    return table["loss"] + penalty * table["complexity"]


def threshold_crossing(table: pd.DataFrame) -> pd.DataFrame:
    """The rows whose validation predictions cross the decision threshold, when any do.

    A row that predicts one class on every validation row (column
    ``predicted_classes`` equal to 1) is dropped while another row predicts at
    least two: such an equation answers "majority class" for everyone, whatever
    its ranking quality (MASS ``Pima.tr``: ROC AUC 0.88, every test row "No").
    Rows where the count was not recorded (0) are kept.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [1, 3], "predicted_classes": [1, 2]})
    >>> threshold_crossing(t).index.tolist()
    [1]
    """
    if "predicted_classes" not in table:
        return table
    counts = table["predicted_classes"]
    if not bool((counts >= 2).any()):
        return table
    return table[(counts >= 2) | (counts == 0)]


def predicted_classes(params: engine.Params, val: engine.Data, task: str) -> int:
    """How many classes the model predicts on the validation rows (probability 0.5
    for binary, the largest score for multiclass).

    Examples
    --------
    >>> val = engine.Data(torch.tensor([[-1.0], [1.0]], dtype=torch.float64),
    ...                   torch.tensor([0.0, 1.0], dtype=torch.float64), torch.ones(2))
    >>> p = engine.Params(torch.zeros(1, 1, dtype=torch.float64),
    ...                   torch.ones(1, 1, 1, dtype=torch.float64),
    ...                   torch.ones(1, 1, 1, 1, dtype=torch.float64))
    >>> predicted_classes(p, val, "binary")  # scores e**-1 and e: both positive
    1
    >>> predicted_classes(engine.Params(p.intercept - 1.0, p.coef, p.expo), val, "binary")
    2
    """
    with torch.no_grad():
        scores = engine.batched_scores(val.log_u, *params.tensors())[0]
        if task == "binary":
            labels = scores[:, 0] >= 0
        else:
            logits = torch.cat([scores.new_zeros((scores.shape[0], 1)), scores], dim=1)
            labels = logits.argmax(dim=1)
    return int(torch.unique(labels).numel())


def weighted_auc(y: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> float:
    """Binary ROC AUC with sample weights, ties counted one half (NaN with one class).

    The weighted Mann-Whitney statistic, equal to the area under the weighted ROC
    curve that ``sklearn.metrics.roc_auc_score`` integrates, in one sort. The
    front scores every candidate, and sklearn's input validation cost more than
    the statistic on the small validation splits.

    Examples
    --------
    >>> weighted_auc(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]), np.ones(4))
    0.75
    >>> weighted_auc(np.array([0, 1]), np.array([0.5, 0.5]), np.ones(2))
    0.5
    """
    positive = y == 1
    total_pos, total_neg = weights[positive].sum(), weights[~positive].sum()
    if not (total_pos > 0 and total_neg > 0):
        return float("nan")
    levels, group = np.unique(scores, return_inverse=True)
    pos = np.bincount(group, weights=np.where(positive, weights, 0.0), minlength=len(levels))
    neg = np.bincount(group, weights=np.where(positive, 0.0, weights), minlength=len(levels))
    below = np.cumsum(neg) - neg
    return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


def validation_score(params: engine.Params, val: engine.Data, task: str) -> float:
    """ROC AUC on the validation rows (one-vs-rest macro for multiclass; NaN if undefined)."""

    with torch.no_grad():
        scores = engine.batched_scores(val.log_u, *params.tensors())[0].cpu().numpy()
    y = val.y.cpu().numpy().astype(int)
    w = val.weights.cpu().numpy()
    try:
        if task == "binary":
            return weighted_auc(y, scores[:, 0], w)
        logits = np.hstack([np.zeros((len(y), 1)), scores])
        return ovr_auc(y, softmax(logits, axis=1), w)
    except ValueError:
        return float("nan")


def ovr_auc(y: np.ndarray, proba: np.ndarray, weights: np.ndarray) -> float:
    """One-vs-rest macro ROC AUC, as ``roc_auc_score(multi_class="ovr")`` computes it.

    Written out because sklearn's argument validation cost more than the sort on
    the sparsity path's small validation splits (31 calls: 0.16 s of a 0.9 s wine
    fit). NaN when a class is absent from ``y``.

    Examples
    --------
    >>> y = np.array([0, 1, 2, 2])
    >>> proba = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    >>> ovr_auc(y, proba, np.ones(4))
    1.0
    """
    return float(np.mean([weighted_auc((y == c).astype(int), proba[:, c], weights)
                          for c in range(proba.shape[1])]))


def choice_sentence(table: pd.DataFrame, selected: int, rule: str,
                    max_complexity: int | None, task: str = "classification") -> str:
    """One sentence that explains why the selected row was chosen.

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"complexity": [0, 2, 5], "loss": [0.6, 0.31, 0.3],
    ...                   "score": [0.5, 0.90, 0.902]})
    >>> print(choice_sentence(t, 1, "best", None))  # doctest: +NORMALIZE_WHITESPACE
    Selected the complexity-2 equation (validation score 0.9000): the lowest penalised
    validation log-loss (log-loss 0.3100 + 0.05 x complexity / validation rows; column
    criterion).
    """
    row = table.loc[selected]
    if table["loss"].isna().all():
        return ("The equation was installed without a validation split "
                "(from_signomial): it is the only row.")
    head = (f"Selected the complexity-{int(row['complexity'])} equation "
            f"(validation score {row['score']:.4f})")
    limit = "" if max_complexity is None else f" among those with complexity <= {max_complexity}"
    if rule == "accuracy":
        return f"{head}: the lowest validation loss{limit}."
    eligible = table if max_complexity is None else table[table["complexity"] <= max_complexity]
    top = eligible.loc[eligible["loss"].idxmin()]
    ref = f"the most accurate ({top['score']:.4f}, complexity {int(top['complexity'])})"
    if task == "regression":
        return (f"{head}: the simplest whose validation MSE is within "
                f"{BEST_MSE_TOLERANCE:.0%} of {ref}{limit}.")
    return (f"{head}: the lowest penalised validation log-loss\n"
            f"(log-loss {row['loss']:.4f} + {COMPLEXITY_PENALTY} x complexity / validation "
            f"rows; column\ncriterion){limit}.")
