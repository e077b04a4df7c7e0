"""Streaming input errors are input errors: the file and row group named, exit 2."""

import numpy as np
import pandas as pd
import pytest

pq = pytest.importorskip("pyarrow.parquet")

from ecsel import ECSELClassifier  # noqa: E402
from ecsel.cli import main  # noqa: E402
from ecsel.stream import InputError, TableSource  # noqa: E402


def _frame(n=200, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"x": rng.uniform(1, 5, n), "y": rng.integers(0, 2, n)})


@pytest.fixture
def corrupt(tmp_path):
    """A Parquet file whose third row group has a corrupted page header."""
    good = tmp_path / "good.parquet"
    _frame().to_parquet(good, row_group_size=50)
    column = pq.ParquetFile(good).metadata.row_group(2).column(0)
    start = column.dictionary_page_offset or column.data_page_offset
    raw = bytearray(good.read_bytes())
    raw[start:start + 12] = b"\xff" * 12
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(bytes(raw))
    return bad


def test_corrupt_page_header_names_the_file_and_row_group(corrupt):
    with TableSource(corrupt) as source:
        source.read(source.chunks[0])
        with pytest.raises(InputError, match=r"row group 2 of '.*bad\.parquet'"):
            source.read(source.chunks[2])


def test_predict_on_a_corrupt_file_blames_the_input_not_the_output(corrupt, tmp_path, capsys):
    model = tmp_path / "m.json"
    X = _frame()
    model.write_text(ECSELClassifier(n_terms=1, n_restarts=2, max_iter=20, random_state=0)
                     .fit(X[["x"]], X.y).to_json())
    out = tmp_path / "scores.csv"
    assert main(["predict", str(model), str(corrupt), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(f"ecsel: error: cannot read {corrupt}") and "row group 2" in err
    assert "scores.csv" not in err and not out.exists()


def test_target_type_differing_between_files_is_an_input_error(tmp_path, capsys):
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().to_parquet(folder / "a.parquet")
    other = _frame(seed=1)
    other["y"] = other.y.astype(str)
    other.to_parquet(folder / "b.parquet")
    with pytest.raises(InputError, match=r"'y' is .*string in '.*b\.parquet' but int64"):
        TableSource(folder)
    assert main(["fit", str(folder), "--target", "y"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "b.parquet" in err


def test_integer_and_float_files_still_mix(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    _frame().to_parquet(folder / "a.parquet")
    other = _frame(seed=1)
    other["x"] = other.x.round().astype(int)
    other.to_parquet(folder / "b.parquet")
    with TableSource(folder) as source:
        assert source.n_rows == 400
