"""Case studies shared by ``ecsel demo``, the example scripts and the benchmarks.

Everything a case study computes lives here, so the command-line demo and the
example scripts print and plot exactly the same numbers. The rooms:

* data (:func:`load_case`, :func:`split_case`, :func:`make_toy_case`): the bundled data
  sets, prepared, the 70/30 stratified split with a validation part for threshold
  tuning, and a small synthetic case for examples;
* models (:func:`compare_classifiers`, :func:`make_logistic`, :func:`make_hgb`,
  :func:`run_feynman`, :func:`headline_auc`): ECSEL against the two baselines;
* findings (:func:`explain_classifier`): attributions, importance, elasticities, a
  counterfactual for a rejected case, and what the equation reveals;
* report and figures (:func:`run_case_study`): console summary, Markdown, PNG plots,
  written atomically; :func:`write_html_report`: one self-contained interactive HTML
  page of any fitted classifier or regressor.

Explanations come from the estimator's own exact methods (:mod:`ecsel.explain`).

Examples
--------
>>> from ecsel.casestudies import CASES, FAST_ECSEL_PARAMS
>>> CASES
('shoppers', 'fraud', 'feynman')
>>> FAST_ECSEL_PARAMS["n_terms"]
2
"""

from ecsel.casestudies._data import (
    CASES,
    DEFAULT_ECSEL_PARAMS,
    DEMO_FEYNMAN_LAWS,
    FAST_ECSEL_PARAMS,
    CaseData,
    Split,
    is_level_column,
    load_case,
    make_toy_case,
    split_case,
)
from ecsel.casestudies._findings import (
    CaseExplanation,
    explain_classifier,
    median_row,
    robust_importance,
)
from ecsel.casestudies._html import html_report, model_description, write_html_report
from ecsel.casestudies._models import (
    Comparison,
    as_model_input,
    categorical_columns,
    compare_classifiers,
    headline_auc,
    make_hgb,
    make_logistic,
    run_feynman,
    score_model,
    tune_threshold,
)
from ecsel.casestudies._report import CaseStudyResult, default_out_dir, run_case_study

__all__ = [
    "CASES",
    "DEFAULT_ECSEL_PARAMS",
    "DEMO_FEYNMAN_LAWS",
    "FAST_ECSEL_PARAMS",
    "CaseData",
    "CaseExplanation",
    "CaseStudyResult",
    "Comparison",
    "Split",
    "as_model_input",
    "categorical_columns",
    "compare_classifiers",
    "default_out_dir",
    "explain_classifier",
    "headline_auc",
    "html_report",
    "is_level_column",
    "load_case",
    "make_hgb",
    "make_logistic",
    "make_toy_case",
    "model_description",
    "median_row",
    "robust_importance",
    "run_case_study",
    "run_feynman",
    "score_model",
    "split_case",
    "tune_threshold",
    "write_html_report",
]
