"""Start-up: the command line answers ``--help``/``--version`` without torch or scikit-learn,
and ``import ecsel`` loads them only when a name that needs them is used (PEP 562)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("torch", "sklearn")


def _loaded_after(code: str) -> dict[str, bool]:
    probe = f"{code}\nimport sys\nprint(*[m in sys.modules for m in {HEAVY!r}])"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    flags = done.stdout.strip().splitlines()[-1].split()
    return dict(zip(HEAVY, (flag == "True" for flag in flags)))


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["fit", "--help"]])
def test_help_and_version_load_neither_torch_nor_sklearn(argv):
    code = f"from ecsel.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert _loaded_after(code) == {"torch": False, "sklearn": False}


def test_import_ecsel_defers_torch_until_a_name_needs_it():
    assert _loaded_after("import ecsel; ecsel.__version__") == {"torch": False, "sklearn": False}
    assert _loaded_after("from ecsel import ECSELClassifier") == {"torch": True, "sklearn": True}


def test_the_lazy_names_are_the_real_objects():
    import ecsel
    from ecsel.classifier import ECSELClassifier

    assert ecsel.ECSELClassifier is ECSELClassifier
    assert set(ecsel.__all__) <= set(dir(ecsel))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ecsel.nope  # noqa: B018
