"""Concatenate the per-topic results in docs/bench/*.md into docs/benchmarks.md."""

from pathlib import Path

ORDER = ["feynman", "feynman_gplearn", "classification", "front", "constraints", "scale", "explain",
         "attribution_speed", "faithfulness", "case_studies"]


def _demote(text: str) -> str:
    """Files written with a top-level ``#`` title become ``##`` sections here."""
    if not text.startswith("# "):
        return text
    lines, fenced = [], False
    for line in text.splitlines():
        fenced ^= line.startswith("```")
        lines.append("#" + line if line.startswith("#") and not fenced else line)
    return "\n".join(lines)


def main() -> None:
    root = Path(__file__).resolve().parents[1] / "docs"
    parts = sorted((root / "bench").glob("*.md"),
                   key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER), p.stem))
    header = [
        "# Benchmarks",
        "",
        "Every number here was measured by the script named in its section, on the",
        "machine named there. Regenerate with `make bench` (each script writes",
        "`docs/bench/<topic>.md`; `benchmarks/assemble_docs.py` joins them).",
        "",
    ]
    body = [_demote(p.read_text()).rstrip() + "\n" for p in parts]
    (root / "benchmarks.md").write_text("\n".join(header) + "\n" + "\n".join(body))


if __name__ == "__main__":
    main()
