"""The parser and the entry point of the ``ecsel`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

import ecsel.cli as package  # its commands and streams load when a command runs
from ecsel import __version__
from ecsel.cli._errors import INTERNAL_ERROR, USAGE_ERROR, CLIError, one_line


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and raise :class:`CLIError`."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise CLIError(f"{message} (see '{self.prog} --help')")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecsel`` command.

    Examples
    --------
    >>> args = build_parser().parse_args(["fit", "data.csv", "--target", "y", "--n-terms", "3"])
    >>> args.command, args.data, args.target, args.n_terms, args.test_size
    ('fit', 'data.csv', 'y', 3, 0.25)
    """
    parser = _Parser(
        prog="ecsel",
        description="Explainable classification and regression with signomial equations (ECSEL).",
    )
    parser.add_argument("--version", action="version", version=f"ecsel {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    fit = sub.add_parser(
        "fit",
        help="fit an equation to a CSV file and save it as JSON",
        description="Fit ECSEL on a train part of DATA, print the equation, "
        "held-out metrics and top features, and save the model.",
    )
    fit.add_argument("data", metavar="DATA.csv")
    fit.add_argument("--target", required=True, metavar="COL", help="column to predict")
    fit.add_argument(
        "--task",
        choices=("classify", "regress"),
        help="default: classify for a non-numeric or integer target with at "
        "most 20 values, regress otherwise",
    )
    fit.add_argument(
        "--n-terms",
        type=_n_terms,
        default=None,
        metavar="K",
        help="number of terms (1-16) or 'auto' (default)",
    )
    fit.add_argument("--n-restarts", type=_positive_int, default=None, metavar="N")
    fit.add_argument("--max-iter", type=_positive_int, default=None, metavar="N")
    fit.add_argument(
        "--test-size",
        type=float,
        default=0.25,
        metavar="F",
        help="held-out share of the rows (default 0.25)",
    )
    fit.add_argument("--random-state", type=int, default=0, metavar="N")
    fit.add_argument(
        "--drop", action="append", metavar="COL[,COL...]",
        help="ignore these columns (comma-separated, repeatable), e.g. row ids or names",
    )
    fit.add_argument(
        "--dropna", action="store_true",
        help="drop rows with a missing value (by default a missing value is read as the "
        "library reads it: a 'col[missing]' indicator and a neutral fill value)",
    )
    fit.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="number of top features to print"
    )
    fit.add_argument("--out", metavar="model.json", help="save the fitted model as JSON")
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _stream_options(fit, timeout=True)
    fit.set_defaults(func=_command("fit"))

    pred = sub.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predictions (and class probabilities) as CSV.",
    )
    pred.add_argument("model", metavar="model.json")
    pred.add_argument("data", metavar="DATA.csv")
    pred.add_argument("--out", metavar="predictions.csv", help="default: standard output")
    _stream_options(pred)
    pred.set_defaults(func=_command("predict"))

    exp = sub.add_parser(
        "explain",
        help="per-row attributions of a saved model",
        description="Exact Shapley values of the score (log-odds for a "
        "classifier), one column per feature, plus the base value and the "
        "score (CSV); each row's values add up to score - base_value.",
    )
    exp.add_argument("model", metavar="model.json")
    exp.add_argument("data", metavar="DATA.csv")
    exp.add_argument(
        "--background",
        metavar="BG.csv",
        help="reference rows (default: one typical row of DATA, the median "
        "of each numeric column and the mode of the others)",
    )
    exp.add_argument("--out", metavar="attributions.csv", help="default: standard output")
    _stream_options(exp)
    exp.set_defaults(func=_command("explain"))

    export = sub.add_parser(
        "export",
        help="write a saved model as ONNX, SQL or a Python function",
        description="Deploy the equation where the data are: an ONNX graph on the raw "
        "columns, one SQL SELECT over a table, or one dependency-free Python function. "
        "Each computes what the model computes, missing values and unseen levels included.",
    )
    export.add_argument("model", metavar="model.json")
    export.add_argument("--format", required=True, choices=("onnx", "sql", "python"))
    export.add_argument("--dialect", choices=("sqlite", "duckdb", "postgres"),
                        help="SQL dialect (default sqlite)")
    export.add_argument("--table", default="data", metavar="NAME",
                        help="SQL: the table the SELECT reads (default: data)")
    export.add_argument("--keep", action="append", metavar="COL",
                        help="SQL: a column of the table to carry into the result, such "
                        "as an id (repeatable)")
    export.add_argument("--name", default="ecsel_predict", metavar="NAME",
                        help="Python: the function's name (default ecsel_predict)")
    export.add_argument("--out", metavar="FILE",
                        help="output file (default: standard output; required for onnx)")
    export.set_defaults(func=_command("export", streams=False))

    rep = sub.add_parser(
        "report",
        help="write a self-contained interactive HTML report of a saved model",
        description="One HTML file (no external URL): the equation, a what-if panel "
        "scored in the browser from the closed form, exact Shapley values (per-row "
        "waterfall, beeswarm), feature importance, partial dependence and the front.",
    )
    rep.add_argument("model", metavar="model.json")
    rep.add_argument("data", metavar="DATA.csv", help="rows to explain (at most 200 are used)")
    rep.add_argument("--out", metavar="report.html", default="report.html",
                     help="default: report.html")
    rep.add_argument("--title", default=None, help="page title (default: the model file name)")
    rep.set_defaults(func=_command("report", streams=False))

    demo = sub.add_parser(
        "demo",
        help="run a case study on bundled data and write a report",
        description="Fit ECSEL and two baselines on bundled data and "
        "write a Markdown report with PNG plots.",
    )
    demo.add_argument(
        "case", nargs="?", default="shoppers", choices=("shoppers", "fraud", "feynman")
    )
    demo.add_argument("--out", metavar="DIR", help="report folder (default ./ecsel-report-CASE)")
    demo.add_argument(
        "--fast", action="store_true", help="lighter ECSEL settings (fixed size, fewer restarts)"
    )
    demo.add_argument("--laws", metavar="A,B,...", help="feynman: comma-separated laws")
    demo.add_argument(
        "--html", action="store_true",
        help="also write report.html, the interactive one-file report of the ECSEL model",
    )
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=_command("demo", streams=False))
    return parser


def _command(name: str, streams: bool = True):
    """Sub-command ``name``, loaded when it runs: ``cmd_<name>`` in memory, or
    ``stream_<name>`` through :mod:`ecsel.stream` for Parquet / folder / large-CSV input."""

    def run(args) -> int:
        in_memory = getattr(package.commands, f"cmd_{name}")
        if not streams:
            return in_memory(args)
        streamed = getattr(package.streams, f"stream_{name}")
        return package.streams.streaming(in_memory, streamed)(args)

    return run


def _stream_options(parser, timeout: bool = False) -> None:
    """DATA may also be a Parquet file or a folder; those are read in chunks."""
    parser.add_argument(
        "--memory-budget", type=_bytes, default="1GiB", metavar="SIZE",
        help="a CSV whose working set (about 10x its size) exceeds this is streamed in "
        "chunks; Parquet files and folders always are (default 1GiB)",
    )
    if timeout:
        parser.add_argument(
            "--timeout", type=float, default=60.0, metavar="S",
            help="under torchrun: seconds before a silent rank fails the fit (default 60)",
        )


def _bytes(text: str) -> int:
    try:
        return package.streams.parse_bytes(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _n_terms(text: str):
    if text == "auto":
        return "auto"
    value = _positive_int(text)
    if value > 16:
        raise argparse.ArgumentTypeError(f"at most 16 terms, got {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``ecsel`` command line; returns the exit status.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name (default: ``sys.argv[1:]``).

    Examples
    --------
    >>> main([])  # no command: the help on stderr, usage status 2
    2
    >>> main(["fit", "no-such-file.csv", "--target", "y"])  # "ecsel: error: no such file: ..."
    2
    """
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # --help / --version
            return int(exc.code or 0)
        if args.command is None:
            parser.print_help(sys.stderr)
            return USAGE_ERROR
        return int(args.func(args) or 0)
    except CLIError as exc:
        print(f"ecsel: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("ecsel: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - last line of defence: never a traceback
        if os.environ.get("ECSEL_DEBUG"):
            raise
        print(
            f"ecsel: error: unexpected {type(exc).__name__}: {one_line(exc)} "
            "(set ECSEL_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR

