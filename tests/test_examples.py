"""Cheap checks of the example scripts: they import, parse arguments, and one runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SCRIPTS = ["ecommerce_case_study", "fraud_case_study", "feynman_recovery", "image_attribution",
           "ood_detection", "neuron_attribution", "compression"]


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", SCRIPTS)
def test_example_has_help(name, capsys):
    module = _load(name)
    assert module.__doc__ and "Run::" in module.__doc__
    with pytest.raises(SystemExit) as exc:
        module.main(["--help"])
    assert exc.value.code == 0
    assert "--out" in capsys.readouterr().out


def test_feynman_example_recovers_one_law(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ECSEL_FEYNMAN_LAWS", "I.12.1")
    assert _load("feynman_recovery").main(["--out", str(tmp_path / "feynman")]) == 0
    table = pd.read_csv(tmp_path / "feynman" / "feynman.csv")
    assert table["law"].tolist() == ["I.12.1"]
    assert bool(table["recovered"].iloc[0]), table.to_dict("records")
    assert "Recovered 1 of 1 laws" in capsys.readouterr().out


def test_compression_example_fast(tmp_path, capsys):
    assert _load("compression").main(["--out", str(tmp_path), "--fast"]) == 0
    cnn = pd.read_csv(tmp_path / "compression_mnist.csv")
    assert cnn["beta"].tolist() == [0.0, 100.0]
    assert (cnn["accuracy"] > 0.8).all(), cnn.to_dict("records")
    eq = pd.read_csv(tmp_path / "compression_equation.csv")
    assert eq["student"].tolist() == ["plain", "tuned", "tuned"]
    tuned = eq[eq["student"] == "tuned"].set_index("beta")["rank_corr"]
    assert tuned[10.0] > tuned[0.0], eq.to_dict("records")  # matching moves the ranks
    assert "Equation student" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["ood_detection", "neuron_attribution", "compression"])
def test_missing_extra_is_one_line_not_a_traceback(name, monkeypatch, capsys):
    module = _load(name)
    monkeypatch.setattr(module, "REQUIRES", [*module.REQUIRES, "no-such-distribution-xyz"])
    assert module.main([]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no-such-distribution-xyz" in err[0] and "pip install" in err[0]
