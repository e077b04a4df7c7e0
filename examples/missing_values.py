"""Missing values and heavy tails, end to end, on the bundled Online Shoppers data.

The DataFrame is used exactly as loaded (14 sessions have NaN in eight columns; the
``*_Duration`` columns are signed and heavy-tailed). ECSEL fits it without ``dropna``:
every column that had NaN gets a ``col[missing]`` model feature, and the selected
equation keeps the factors ``exp(g * col[missing])`` that earn their place (the
complexity-accuracy front prunes the others; the script prints which are used and a
"where ... is missing" line for each). It explains sessions with missing entries:
their Shapley values add up exactly to the logit and the missingness factor is
attributed to its raw column.

Run: ``python examples/missing_values.py`` (about a minute on a laptop).
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from ecsel import ECSELClassifier
from ecsel.datasets import load_online_shoppers


def main() -> None:
    X, y = load_online_shoppers(return_X_y=True)
    y = np.asarray(y).astype(int)
    holes = X.isna().any(axis=1).to_numpy()
    print(f"{len(X):,} sessions, {int(holes.sum())} with missing entries in "
          f"{X.columns[X.isna().any()].tolist()}")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0)
    clf = ECSELClassifier(random_state=0).fit(X_train, y_train)
    print(clf.signomial_)  # "where ... is missing" lines: how a NaN enters the equation
    sig = clf.signomial_
    indicators = [j for j, f in enumerate(sig.feature_names) if f.endswith("[missing]")]
    used = [sig.feature_names[j] for j in indicators if np.any(sig.exponents[..., j] != 0)]
    print(f"missingness indicators: {len(indicators)}; in the selected equation: {used}")
    z = clf.decision_function(X_test)
    print(f"test ROC AUC {roc_auc_score(y_test, z):.4f} with {clf.n_terms_} term(s); "
          f"largest |logit| {np.abs(z).max():.1f}")
    rows = X[holes].head(3)
    explanation = clf.explain(rows)
    total = explanation.values.sum(axis=1) + explanation.base_values
    print("Shapley values of sessions with NaN add up to the logit:",
          np.allclose(total, clf.decision_function(rows), rtol=1e-10, atol=1e-10))


if __name__ == "__main__":
    main()
