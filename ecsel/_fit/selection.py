"""How a classifier's front row is chosen: the penalised validation log-loss and
the threshold guard (see :func:`ecsel._fit.front.select_row`).

``COMPLEXITY_PENALTY`` is the log-loss, summed over the validation rows, that one
factor must buy to be deployed.
"""

from __future__ import annotations

import pandas as pd
import torch

from ecsel._fit import engine

COMPLEXITY_PENALTY = 0.05


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
