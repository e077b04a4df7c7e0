"""The ``ecsel`` sub-commands: fit, predict, explain, export and demo."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics
from sklearn.model_selection import train_test_split

from ecsel import ECSELClassifier, ECSELRegressor
from ecsel.casestudies import (
    FAST_ECSEL_PARAMS,
    default_out_dir,
    median_row,
    robust_importance,
    run_case_study,
    write_html_report,
)
from ecsel.cli._io import (
    CLIError,
    check_columns,
    guess_task,
    load_model,
    one_line,
    one_line_warnings,
    read_csv,
    save_bytes,
    save_text,
    split_columns,
    write_csv,
)


def cmd_fit(args) -> int:
    if not 0.0 < args.test_size < 1.0:
        raise CLIError(f"--test-size must be in (0, 1), got {args.test_size}")
    frame = read_csv(args.data)
    if args.target not in frame.columns:
        raise CLIError(
            f"target column {args.target!r} not in {args.data} (columns: "
            f"{', '.join(map(str, frame.columns[:10]))}"
            f"{' ...' if frame.shape[1] > 10 else ''})"
        )
    dropped = split_columns(args.drop)
    unknown = [c for c in dropped if c not in frame.columns]
    if unknown:
        raise CLIError(f"--drop: no column {unknown[0]!r} in {args.data}")
    features = [c for c in frame.columns if c != args.target and c not in dropped]
    if not features:
        raise CLIError(f"{args.data} has no feature columns besides the target")
    if args.dropna:
        before = len(frame)
        frame = frame.dropna(subset=[*features, args.target]).reset_index(drop=True)
        if len(frame) < before:
            print(f"dropped {before - len(frame)} row(s) with missing values", file=sys.stderr)
    unlabelled = frame[args.target].isna()
    if unlabelled.any():
        # a row without a label cannot be fitted or scored; missing features are fine
        frame = frame[~unlabelled].reset_index(drop=True)
        print(f"ecsel: note: dropped {int(unlabelled.sum())} row(s) whose target "
              f"{args.target!r} is missing", file=sys.stderr)
        if frame.empty:
            raise CLIError(f"every row of {args.data} lacks the target {args.target!r}")
    y = frame[args.target]
    X = frame[features]
    task = args.task or guess_task(y)
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
            f"cannot split {len(y)} rows with --test-size {args.test_size}: {one_line(exc)}"
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
        with one_line_warnings():
            est.fit(X_tr, y_tr)
    except ValueError as exc:
        raise CLIError(f"cannot fit {args.data}: {one_line(exc)}") from exc
    seconds = time.perf_counter() - start

    print(
        f"ecsel fit: {len(X_tr):,} training rows, {len(X_te):,} test rows, "
        f"{len(features)} features, {task} ({seconds:.1f} s)"
    )
    print(f"\nequation ({est.n_terms_} term(s); y is the column {args.target!r}):")
    print(est.signomial_)
    if getattr(est, "equations_", None) is not None:
        print("\nfront of candidate equations (validation split; * = deployed):")
        print(est.front_summary(width=90))

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
        save_text(args.out, est.to_json())
        print(f"\nsaved the model (fitted on the training rows) to {Path(args.out).resolve()}")
    return 0


def attribution_table(est, X, background):
    """Attribution frame (one column per input feature) and its base values."""
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
    frame, _ = attribution_table(est, X.iloc[:2000], median_row(background))
    if ":" in str(frame.columns[0]):
        frame = frame.abs().T.groupby(lambda c: c.split(":", 1)[1]).sum().T
    return robust_importance(frame)


def cmd_predict(args) -> int:
    est = load_model(args.model)
    X = check_columns(est, read_csv(args.data), args.data)
    try:
        with one_line_warnings():
            out = pd.DataFrame({"prediction": est.predict(X)})
            if hasattr(est, "classes_"):
                proba = est.predict_proba(X)
                for j, c in enumerate(est.classes_):
                    out[f"proba_{c}"] = proba[:, j]
    except ValueError as exc:
        raise CLIError(f"cannot apply the model to {args.data}: {one_line(exc)}") from exc
    write_csv(out, args.out)
    return 0


def cmd_explain(args) -> int:
    est = load_model(args.model)
    X = check_columns(est, read_csv(args.data), args.data)
    background = None
    if args.background is not None:
        background = check_columns(est, read_csv(args.background), args.background)
    try:
        with one_line_warnings():
            bg = background if background is not None else median_row(X)
            frame, bases = attribution_table(est, X, bg)
            pred = est.decision_function(X) if hasattr(est, "classes_") else est.predict(X)
    except ValueError as exc:
        raise CLIError(f"cannot explain {args.data}: {one_line(exc)}") from exc
    out = pd.concat([frame, bases], axis=1)
    if getattr(pred, "ndim", 1) == 1:
        out["score"] = pred
    write_csv(out, args.out)
    return 0


def cmd_export(args) -> int:
    """Write the model as an ONNX graph, one SQL SELECT or a Python function."""
    if args.dialect is not None and args.format != "sql":
        raise CLIError("--dialect applies to --format sql only")
    if args.format == "onnx" and args.out in (None, "-"):
        raise CLIError("--format onnx writes a binary file: give --out FILE")
    est = load_model(args.model)
    try:
        if args.format == "onnx":
            payload = est.to_onnx().SerializeToString()
        elif args.format == "sql":
            payload = est.to_sql(args.table, dialect=args.dialect or "sqlite",
                                 keep=args.keep or ())
        else:
            payload = est.to_python(name=args.name)
    except ImportError as exc:
        raise CLIError(one_line(exc)) from exc
    except ValueError as exc:
        raise CLIError(f"cannot export {args.model}: {one_line(exc)}") from exc
    if args.out in (None, "-"):
        sys.stdout.write(payload)
        return 0
    (save_bytes if isinstance(payload, bytes) else save_text)(args.out, payload)
    print(f"wrote {Path(args.out).resolve()}", file=sys.stderr)
    return 0


def cmd_report(args) -> int:
    est = load_model(args.model)
    X = check_columns(est, read_csv(args.data), args.data)
    title = args.title or f"ECSEL model {Path(args.model).name}"
    try:
        with one_line_warnings():
            path = write_html_report(est, X, args.out, title=title)
    except ValueError as exc:
        raise CLIError(f"cannot report on {args.data}: {one_line(exc)}") from exc
    except OSError as exc:
        raise CLIError(f"cannot write {args.out}: {one_line(exc)}") from exc
    print(f"wrote {path.resolve()} ({path.stat().st_size / 1e6:.2f} MB)")
    return 0


def cmd_demo(args) -> int:
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
        raise CLIError(f"cannot write the report to {out}: {one_line(exc)}") from exc
    print(result.summary)
    if args.html and result.comparison is not None:
        est = result.comparison.models["ECSEL"]
        page = out / "report.html"
        try:
            write_html_report(est, result.comparison.split.X_test, page,
                              title=f"ECSEL demo: {args.case}")
        except OSError as exc:
            raise CLIError(f"cannot write {page}: {one_line(exc)}") from exc
        print(f"interactive report: {page}")
    elif args.html:
        print("--html: the feynman case has no single model to report on", file=sys.stderr)
    print(f"\nreport: {result.report}  ({time.perf_counter() - start:.1f} s)")
    return 0

