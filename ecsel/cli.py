"""The ``ecsel`` command: fit, predict, explain and the bundled demos.

Examples
--------
.. code-block:: console

    $ ecsel fit sessions.csv --target Revenue --out model.json
    $ ecsel predict model.json new_sessions.csv --out predictions.csv
    $ ecsel explain model.json new_sessions.csv --out attributions.csv
    $ ecsel demo shoppers --out report/

Bad input (a missing file or column, a non-numeric regression target, an unreadable
model) gives a one-line ``ecsel: error: ...`` on stderr and exit status 2. Every
output file is written to a temporary file and renamed into place, so an interrupted
or failed run never leaves a half-written file behind. Set ``ECSEL_DEBUG=1`` to get
the traceback of an unexpected error.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

USAGE_ERROR = 2
INTERNAL_ERROR = 1


class CLIError(Exception):
    """A user error: reported as one line on stderr with exit status 2."""


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are one line and raise :class:`CLIError`."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise CLIError(f"{message} (see '{self.prog} --help')")


# ----------------------------------------------------------------------- helpers
def _read_csv(path: str):
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such file: {path}")
    if p.is_dir():
        raise CLIError(f"{path} is a folder, not a CSV file")
    try:
        frame = pd.read_csv(p)
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        UnicodeDecodeError,
        ValueError,
        OSError,
    ) as exc:
        raise CLIError(f"cannot read {path} as CSV: {_one_line(exc)}") from exc
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise CLIError(f"{path} has no data rows")
    return frame


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 300 else text[:297] + "..."


def _load_model(path: str):
    from ecsel import load_json

    p = Path(path)
    if not p.exists():
        raise CLIError(f"no such file: {path}")
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read model {path}: {_one_line(exc)}") from exc
    try:
        return load_json(text)
    except (ValueError, TypeError, KeyError) as exc:
        raise CLIError(f"{path} is not a valid ecsel model: {_one_line(exc)}") from exc


def _check_columns(model, frame, path: str):
    """The model's input columns from ``frame`` (extra columns are ignored)."""
    columns = list(model.signomial_.input_features)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        shown = ", ".join(repr(c) for c in missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise CLIError(f"{path} lacks {len(missing)} column(s) the model needs: {shown}")
    X = frame[columns]
    _check_missing(X, path)
    return X


def _check_missing(X, path: str) -> None:
    bad = X.columns[X.isna().any()].tolist()
    if bad:
        n = int(X.isna().any(axis=1).sum())
        raise CLIError(
            f"{path} has missing values in {n} row(s) (columns: "
            f"{', '.join(map(str, bad[:6]))}); drop or impute them first, or "
            "pass --dropna to 'ecsel fit'"
        )


def _write_csv(frame, out: str | None, index: bool = False) -> None:
    buffer = io.StringIO()
    frame.to_csv(buffer, index=index)
    if out is None or out == "-":
        sys.stdout.write(buffer.getvalue())
    else:
        _save_text(out, buffer.getvalue())
        print(f"wrote {Path(out).resolve()}", file=sys.stderr)


def _save_text(out: str, text: str) -> None:
    """Atomic write; an OS error (no such folder, no permission, disk full) is a CLIError."""
    from ecsel._report import atomic_write_text

    try:
        atomic_write_text(out, text)
    except OSError as exc:
        raise CLIError(f"cannot write {out}: {_one_line(exc)}") from exc


def _guess_task(y) -> str:
    import pandas as pd

    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        return "classify"
    values = y.dropna().unique()
    integral = bool(pd.Series(values).eq(pd.Series(values).round()).all())
    return "classify" if integral and len(values) <= 20 else "regress"


# -------------------------------------------------------------------------- fit
def _cmd_fit(args) -> int:
    import numpy as np
    import pandas as pd
    from sklearn import metrics
    from sklearn.model_selection import train_test_split

    from ecsel import ECSELClassifier, ECSELRegressor

    if not 0.0 < args.test_size < 1.0:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    frame = _read_csv(args.data)
    if args.target not in frame.columns:
        raise CLIError(
            f"target column {args.target!r} not in {args.data} (columns: "
            f"{', '.join(map(str, frame.columns[:10]))}"
            f"{' ...' if frame.shape[1] > 10 else ''})"
        )
    features = [c for c in frame.columns if c != args.target and c not in (args.drop or [])]
    if not features:
        raise CLIError(f"{args.data} has no feature columns besides the target")
    if args.dropna:
        before = len(frame)
        frame = frame.dropna(subset=[*features, args.target]).reset_index(drop=True)
        if len(frame) < before:
            print(f"dropped {before - len(frame)} row(s) with missing values", file=sys.stderr)
    y = frame[args.target]
    if y.isna().any():
        raise CLIError(
            f"target column {args.target!r} has {int(y.isna().sum())} missing "
            "value(s); pass --dropna to drop those rows"
        )
    X = frame[features]
    _check_missing(X, args.data)
    task = args.task or _guess_task(y)
    if task == "regress":
        if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
            raise CLIError(
                f"--task regress needs a numeric target, but {args.target!r} has "
                f"dtype {y.dtype} (e.g. {y.iloc[0]!r})"
            )
        y = y.astype(float)
    elif y.nunique() < 2:
        raise CLIError(f"target column {args.target!r} has a single class")
    stratify = None
    if task == "classify" and y.value_counts().min() >= 2:
        stratify = y
    try:
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=args.test_size, random_state=args.random_state, stratify=stratify
        )
    except ValueError as exc:
        raise CLIError(
            f"cannot split {len(y)} rows with --test-size {args.test_size}: {_one_line(exc)}"
        ) from exc
    params = {"random_state": args.random_state, "verbose": not args.quiet}
    if args.n_terms is not None:
        params["n_terms"] = args.n_terms
    if args.n_restarts is not None:
        params["n_restarts"] = args.n_restarts
    if args.max_iter is not None:
        params["max_iter"] = args.max_iter
    est = (ECSELClassifier if task == "classify" else ECSELRegressor)(**params)
    start = time.perf_counter()
    try:
        est.fit(X_tr, y_tr)
    except ValueError as exc:
        raise CLIError(f"cannot fit {args.data}: {_one_line(exc)}") from exc
    seconds = time.perf_counter() - start

    name = "score" if task == "classify" else args.target
    print(
        f"ecsel fit: {len(X_tr):,} training rows, {len(X_te):,} test rows, "
        f"{len(features)} features, {task} ({seconds:.1f} s)"
    )
    print(f"\nequation ({est.n_terms_} term(s)):")
    if task == "classify" and len(est.classes_) == 2:
        print(f"logit P({args.target} = {est.classes_[1]}) = {est.sympy(precision=4)}")
    elif task == "classify":
        exprs = est.sympy(precision=4)
        for label, expr in zip(est.classes_[1:], exprs):
            print(f"score[{label}] - score[{est.classes_[0]}] = {expr}")
    else:
        print(f"{name} = {est.sympy(precision=4)}")

    rows = []
    if task == "classify":
        pred = est.predict(X_te)
        rows += [
            ("accuracy", metrics.accuracy_score(y_te, pred)),
            ("balanced_accuracy", metrics.balanced_accuracy_score(y_te, pred)),
        ]
        proba = est.predict_proba(X_te)
        if len(est.classes_) == 2:
            positive = y_te.to_numpy() == est.classes_[1]
            rows += [
                ("roc_auc", metrics.roc_auc_score(positive, proba[:, 1])),
                ("pr_auc", metrics.average_precision_score(positive, proba[:, 1])),
                ("f1", metrics.f1_score(positive, pred == est.classes_[1])),
            ]
        rows.append(("log_loss", metrics.log_loss(y_te, proba, labels=est.classes_)))
    else:
        pred = est.predict(X_te)
        rows += [
            ("r2", metrics.r2_score(y_te, pred)),
            ("rmse", float(np.sqrt(metrics.mean_squared_error(y_te, pred)))),
            ("mae", metrics.mean_absolute_error(y_te, pred)),
        ]
    print(f"\nheld-out metrics ({len(X_te):,} rows, test-size {args.test_size}):")
    for key, value in rows:
        print(f"  {key:<18} {value:.4f}")

    importance = _importance(est, X_te, X_tr)
    print(
        "\ntop features (mean |attribution| on the test rows, relative to the median "
        "training row, largest 1 % trimmed):"
    )
    for feature, value in importance.head(args.top).items():
        print(f"  {feature:<28} {value:.4g}")

    if args.out:
        _save_text(args.out, est.to_json())
        print(f"\nsaved the model (fitted on the training rows) to {Path(args.out).resolve()}")
    return 0


def _attributions(est, X, background):
    """Attribution frame (one column per input feature) and its base values."""
    import numpy as np
    import pandas as pd

    exp = est.explain(X, background=background)
    values = np.asarray(exp.values, dtype=float)
    base = np.broadcast_to(np.asarray(exp.base_values, dtype=float), values.shape[:-1]).copy()
    names = list(exp.feature_names)
    if values.ndim == 2:
        return pd.DataFrame(values, columns=names), pd.DataFrame({"base_value": base})
    outputs = [str(c) for c in est.classes_]
    frame = pd.DataFrame(
        values.reshape(len(X), -1), columns=[f"{o}:{f}" for o in outputs for f in names]
    )
    bases = pd.DataFrame(base.reshape(len(X), -1), columns=[f"{o}:base_value" for o in outputs])
    return frame, bases


def _importance(est, X, background):
    """1 %-trimmed mean |attribution| per input column (summed over classes)."""
    from ecsel._casestudy_explain import median_row, robust_importance

    frame, _ = _attributions(est, X.iloc[:2000], median_row(background))
    if ":" in str(frame.columns[0]):
        frame = frame.abs().T.groupby(lambda c: c.split(":", 1)[1]).sum().T
    return robust_importance(frame)


# ---------------------------------------------------------------- predict/explain
def _cmd_predict(args) -> int:
    import pandas as pd

    est = _load_model(args.model)
    X = _check_columns(est, _read_csv(args.data), args.data)
    try:
        out = pd.DataFrame({"prediction": est.predict(X)})
        if hasattr(est, "classes_"):
            proba = est.predict_proba(X)
            for j, c in enumerate(est.classes_):
                out[f"proba_{c}"] = proba[:, j]
    except ValueError as exc:
        raise CLIError(f"cannot apply the model to {args.data}: {_one_line(exc)}") from exc
    _write_csv(out, args.out)
    return 0


def _cmd_explain(args) -> int:
    import pandas as pd

    from ecsel._casestudy_explain import median_row

    est = _load_model(args.model)
    X = _check_columns(est, _read_csv(args.data), args.data)
    background = None
    if args.background is not None:
        background = _check_columns(est, _read_csv(args.background), args.background)
    try:
        bg = background if background is not None else median_row(X)
        frame, bases = _attributions(est, X, bg)
        pred = est.decision_function(X) if hasattr(est, "classes_") else est.predict(X)
    except ValueError as exc:
        raise CLIError(f"cannot explain {args.data}: {_one_line(exc)}") from exc
    out = pd.concat([frame, bases], axis=1)
    if getattr(pred, "ndim", 1) == 1:
        out["score"] = pred
    _write_csv(out, args.out)
    return 0


# ------------------------------------------------------------------------- demo
def _cmd_demo(args) -> int:
    import importlib.util

    from ecsel._casestudy import FAST_ECSEL_PARAMS
    from ecsel._report import default_out_dir, run_case_study

    if args.case != "feynman" and importlib.util.find_spec("matplotlib") is None:
        raise CLIError(
            "'ecsel demo' draws its plots with matplotlib, which is not "
            "installed: pip install 'ecsel[plot]'"
        )

    out = Path(args.out) if args.out else default_out_dir(args.case)
    params = dict(FAST_ECSEL_PARAMS) if args.fast else None
    if args.case == "feynman":
        params = {"n_restarts": 8, "max_iter": 200} if args.fast else None
    laws = args.laws.split(",") if args.laws else None
    start = time.perf_counter()
    try:
        result = run_case_study(
            args.case, out, ecsel_params=params, progress=not args.quiet, feynman_laws=laws
        )
    except OSError as exc:
        raise CLIError(f"cannot write the report to {out}: {_one_line(exc)}") from exc
    print(result.summary)
    print(f"\nreport: {result.report}  ({time.perf_counter() - start:.1f} s)")
    return 0


# ------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``ecsel`` command."""
    import ecsel

    parser = _Parser(
        prog="ecsel",
        description="Explainable classification and regression with signomial equations (ECSEL).",
    )
    parser.add_argument("--version", action="version", version=f"ecsel {ecsel.__version__}")
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
    fit.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=_cmd_fit)

    pred = sub.add_parser(
        "predict",
        help="predict with a saved model",
        description="Predictions (and class probabilities) as CSV.",
    )
    pred.add_argument("model", metavar="model.json")
    pred.add_argument("data", metavar="DATA.csv")
    pred.add_argument("--out", metavar="predictions.csv", help="default: standard output")
    pred.set_defaults(func=_cmd_predict)

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
    exp.set_defaults(func=_cmd_explain)

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
    demo.set_defaults(func=_cmd_demo)
    return parser


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
            f"ecsel: error: unexpected {type(exc).__name__}: {_one_line(exc)} "
            "(set ECSEL_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return INTERNAL_ERROR


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


__all__ = ["CLIError", "build_parser", "main"]
