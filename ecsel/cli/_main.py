"""The parser and the entry point of the ``ecsel`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ecsel import __version__
from ecsel.cli._commands import cmd_demo, cmd_explain, cmd_fit, cmd_predict
from ecsel.cli._io import INTERNAL_ERROR, USAGE_ERROR, CLIError, one_line
from ecsel.cli._stream import parse_bytes, stream_explain, stream_fit, stream_predict, streaming


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
        "--drop", action="append", metavar="COL", help="ignore this column (repeatable)"
    )
    fit.add_argument("--dropna", action="store_true", help="drop rows with missing values")
    fit.add_argument(
        "--top", type=_positive_int, default=10, metavar="N", help="number of top features to print"
    )
    fit.add_argument("--out", metavar="model.json", help="save the fitted model as JSON")
    fit.add_argument(
        "--intervals", action="store_true",
        help="print 90%% bootstrap intervals of every parameter (200 resamples of the "
        "training rows, structure fixed) and save them with --out",
    )
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _stream_options(fit, timeout=True)
    fit.set_defaults(func=streaming(cmd_fit, stream_fit))

    pred = sub.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predictions (and class probabilities) as CSV.",
    )
    pred.add_argument("model", metavar="model.json")
    pred.add_argument("data", metavar="DATA.csv")
    pred.add_argument("--out", metavar="predictions.csv", help="default: standard output")
    _stream_options(pred)
    pred.set_defaults(func=streaming(cmd_predict, stream_predict))

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
    exp.set_defaults(func=streaming(cmd_explain, stream_explain))

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
    demo.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)
    return parser


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
        return parse_bytes(text)
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

