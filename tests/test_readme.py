"""Every Python block of README.md runs as written, in order, in the `make test` set-up.

The blocks share one namespace, as they would in one session (the "what if" block uses
the quick start's ``clf`` and ``X``). Each block names its extra on its first line
(``# extras: ...``), and the README's table says how to install it. The blocks that
load a language model or fit on the full Online Shoppers data are marked ``slow``
(still part of ``make test``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"),
                    flags=re.S | re.M)
SLOW = ("load_smollm2", "load_online_shoppers", "from the quick start")
EXTRAS = {"none", "plot", "ood", "neurons", "parquet", "dask", "dev", "onnx"}


def _extras(block: str) -> set[str]:
    first = block.splitlines()[0]
    match = re.match(r"# extras: ([a-z, ]+)", first)
    return set() if match is None else {e.strip() for e in match.group(1).split(",")}


def test_readme_has_blocks_and_each_names_its_extra():
    assert len(BLOCKS) >= 7
    for i, block in enumerate(BLOCKS, 1):
        extras = _extras(block)
        assert extras and extras <= EXTRAS, f"block {i} does not name its extra: {block[:80]!r}"
    assert 'pip install "ecsel[ood]"' in README.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def session():
    return {"__name__": "__readme__"}


@pytest.mark.parametrize("index", [
    pytest.param(i, marks=pytest.mark.slow) if any(s in b for s in SLOW) else i
    for i, b in enumerate(BLOCKS)])
def test_readme_block_runs_as_written(index, session, monkeypatch, tmp_path):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = compile(BLOCKS[index], f"README.md python block {index + 1}", "exec")
    exec(code, session)  # noqa: S102 - the README is ours; running it is the test
