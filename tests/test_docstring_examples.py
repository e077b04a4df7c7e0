"""Every public name of ``ecsel`` and ``attribution`` has a numpydoc ``Examples`` section.

Public names: everything in the ``__all__`` of each public package and module (no
private path component), plus the public methods that a public class defines itself.
``--doctest-modules`` (``make test``) runs the examples; this test makes sure they exist.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator
from types import ModuleType

PACKAGES = ("ecsel", "attribution")

#: Names allowed to lack an example (none now); a public name without one fails.
PENDING: frozenset[str] = frozenset()


def _public_modules(package: str) -> Iterator[ModuleType]:
    root = importlib.import_module(package)
    yield root
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        parts = info.name.split(".")[1:]
        if any(p.startswith("_") for p in parts):  # private modules, __main__
            continue
        yield importlib.import_module(info.name)


def _methods(cls: type) -> Iterator[tuple[str, object]]:
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member):
            yield name, member


def public_names() -> dict[str, object]:
    """``{first public dotted name: object}`` of every public class, function and method.

    Module-level names come first, so a function that a class also holds (a metric
    class's ``function``) is named by its module.
    """
    found: dict[int, tuple[str, object]] = {}
    for package in PACKAGES:
        for module in _public_modules(package):
            for name in getattr(module, "__all__", ()):
                obj = getattr(module, name)
                if inspect.isclass(obj) or inspect.isfunction(obj):
                    found.setdefault(id(obj), (f"{module.__name__}.{name}", obj))
    for qualified, obj in list(found.values()):
        if inspect.isclass(obj):
            for method_name, method in _methods(obj):
                found.setdefault(id(method), (f"{qualified}.{method_name}", method))
    return dict(found.values())


def has_examples(obj: object) -> bool:
    return "\nExamples\n--------\n" in "\n" + (inspect.getdoc(obj) or "") + "\n"


def test_the_scan_sees_public_classes_functions_and_methods() -> None:
    names = public_names()
    for expected in (
        "ecsel.ECSELClassifier",
        "ecsel.Explanation.to_frame",
        "attribution.IntegratedGradients.attribute",
        "attribution.metrics.insertion",
        "attribution.metrics.Metric.compute",
        "attribution.ood.OODMetrics.update",
    ):
        assert expected in names
    assert not any(part.startswith("_") for name in names for part in name.split(".")[1:-1])
    assert len(names) > 200


def test_has_examples_reads_the_numpydoc_heading() -> None:
    def with_examples() -> None:
        """Summary.

        Examples
        --------
        >>> 1 + 1
        2
        """

    def mentions_examples() -> None:
        """See the Examples of another function."""

    assert has_examples(with_examples)
    assert not has_examples(mentions_examples)


def test_every_public_name_has_an_examples_section() -> None:
    missing = sorted(n for n, obj in public_names().items() if not has_examples(obj))
    new = [name for name in missing if name not in PENDING]
    assert not new, f"public names without a numpydoc Examples section: {new}"


def _root_conftest():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_examples_needing_a_missing_optional_wheel_skip_and_nothing_else_does():
    missing = _root_conftest()._missing_optional
    assert missing(ModuleNotFoundError("No module named 'matplotlib'", name="matplotlib")) \
        == "package matplotlib"
    assert missing(ModuleNotFoundError("x", name="pyarrow.parquet")) == "package pyarrow"
    ours = ImportError("Reading Parquet needs pyarrow: pip install 'ecsel[parquet]'.")
    assert missing(ours) == "wheel (pip install ecsel[parquet])"
    wrapped = ValueError("cannot read")
    wrapped.__cause__ = ModuleNotFoundError("x", name="skimage")
    assert missing(wrapped) == "package skimage"
    # a required package, or any other error, still fails the example
    assert missing(ModuleNotFoundError("No module named 'numpy'", name="numpy")) is None
    assert missing(ImportError("cannot import name 'frobnicate' from 'ecsel'")) is None
    assert missing(ValueError("pip install matplotlib")) is None
    assert missing(None) is None
    # a third-party message that names a missing optional module (pandas' Parquet engines)
    pandas_says = ImportError("Unable to find a usable engine; tried using: 'fastparquet'.")
    import importlib.util

    if importlib.util.find_spec("fastparquet") is None:
        assert missing(pandas_says) == "package fastparquet"
    assert missing(ImportError("Unable to find a usable engine; tried using: 'numpy'.")) is None
