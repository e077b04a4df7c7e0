"""ONNX graphs of a signomial: raw columns in, scores, probabilities or predictions out.

Needs the optional ``onnx`` package (``pip install 'ecsel[onnx]'``; onnxruntime runs
the graphs). The graph takes one input per raw column, shape ``[N, 1]``: ``double``
for a numeric column, ``string`` for a categorical or boolean one. It computes in
double precision what the estimator computes:

- a missing numeric value is NaN; it takes the column's fill value and its
  missingness indicator;
- a missing categorical value is the empty string; an unseen level counts as the
  reference level;
- a boolean is the string ``"True"`` or ``"False"`` (``"true"``/``"1"`` and
  ``"false"``/``"0"`` are read too); any other string counts as missing;
- every map's clipping, and the clamp of each term's exponent to ``[-60, 60]``.

Outputs: ``prediction`` ``[N]`` (regressor); ``label`` ``[N]``, ``probabilities``
``[N, n_classes]`` and ``scores`` (``decision_function``: ``[N]`` for two classes,
``[N, n_classes]`` otherwise) for a classifier; ``scores`` ``[N, n_outputs]`` for a
bare signomial.

:func:`register_skl2onnx` lets ``skl2onnx`` convert a scikit-learn ``Pipeline`` that
ends in an ECSEL estimator fitted on the numeric matrix its preceding steps produce.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.base import is_classifier

from ecsel.export._program import FALSE_SPELLINGS, TRUE_SPELLINGS, Program, build_program

#: Opsets of the standalone graphs (onnxruntime 1.14 or later runs them).
OPSET = 17
ML_OPSET = 3

#: Above this |z|, asinh(z) = log(2 |z|) to double precision (and z * z may overflow).
_ASINH_LARGE = 1e8


def _onnx():
    try:
        import onnx
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "ONNX export needs the onnx package: pip install 'ecsel[onnx]'"
        ) from exc
    return onnx


class _Graph:
    """Collects nodes and constants; the skl2onnx adapter overrides the three hooks."""

    def __init__(self, onnx):
        self.onnx = onnx
        self.nodes, self.initializers, self.count = [], [], 0

    def fresh(self, hint: str) -> str:
        self.count += 1
        return f"ecsel_{hint}_{self.count}"

    def const(self, array, hint: str = "c") -> str:
        name = self.fresh(hint)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op: str, inputs, hint: str = "t", domain: str = "", **attrs) -> str:
        out = self.fresh(hint)
        self.emit(op, list(inputs), [out], domain, attrs)
        return out

    def emit(self, op, inputs, outputs, domain, attrs):
        self.nodes.append(self.onnx.helper.make_node(
            op, inputs, outputs, name=self.fresh(op.lower()), domain=domain, **attrs))


def _scalar(g: _Graph, v: float) -> str:
    return g.const(np.array(v, dtype=np.float64), "k")


def _to_double(g: _Graph, name: str) -> str:
    return g.node("Cast", [name], "d", to=g.onnx.TensorProto.DOUBLE)


def _label_test(g: _Graph, text: str, keys, default: float) -> str:
    """1.0 where the string input is one of ``keys`` (``default`` elsewhere), double."""
    keys = list(keys)
    values = [1.0] * len(keys)
    out = g.node("LabelEncoder", [text], "lab", domain="ai.onnx.ml", keys_strings=keys,
                 values_floats=values, default_float=default)
    return _to_double(g, out)


class _Columns:
    """The per-column tensors a feature reads: filled value, missing flag, level tests."""

    def __init__(self, g: _Graph, program: Program, source):
        self.g, self.program, self.source = g, program, source
        self.cache: dict = {}

    def _numeric(self, name: str):
        if name in self.cache:
            return self.cache[name]
        g = self.g
        column = next(c for c in self.program.columns if c.name == name)
        raw = self.source(column)
        if column.boolean:  # a string: the spellings of True / False, anything else NaN
            keys = list(TRUE_SPELLINGS) + list(FALSE_SPELLINGS)
            raw = g.node("LabelEncoder", [raw], "bool", domain="ai.onnx.ml",
                         keys_strings=keys,
                         values_floats=[1.0] * len(TRUE_SPELLINGS)
                         + [0.0] * len(FALSE_SPELLINGS),
                         default_float=math.nan)
            raw = _to_double(g, raw)
        absent = g.node("IsNaN", [raw], "nan")
        filled = g.node("Where", [absent, _scalar(g, column.fill), raw], "filled")
        self.cache[name] = (filled, _to_double(g, absent))
        return self.cache[name]

    def filled(self, name: str) -> str:
        return self._numeric(name)[0]

    def missing(self, name: str) -> str:
        column = next(c for c in self.program.columns if c.name == name)
        if column.kind == "numeric":
            return self._numeric(name)[1]
        return _label_test(self.g, self.source(column), [""], 0.0)

    def level(self, name: str, level: str) -> str:
        column = next(c for c in self.program.columns if c.name == name)
        keys = [level]
        if column.boolean and level in ("True", "False"):
            keys = list(TRUE_SPELLINGS if level == "True" else FALSE_SPELLINGS)
        return _label_test(self.g, self.source(column), keys, 0.0)


def _asinh(g: _Graph, z: str) -> str:
    """asinh in double precision (onnxruntime has no double Asinh kernel)."""
    a = g.node("Abs", [z])
    one = _scalar(g, 1.0)
    root = g.node("Sqrt", [g.node("Add", [g.node("Mul", [a, a]), one])])
    near = g.node("Log", [g.node("Add", [a, root])])
    far = g.node("Log", [g.node("Mul", [a, _scalar(g, 2.0)])])
    large = g.node("Greater", [a, _scalar(g, _ASINH_LARGE)])
    magnitude = g.node("Where", [large, far, near])
    negative = g.node("Less", [z, _scalar(g, 0.0)])
    return g.node("Where", [negative, g.node("Neg", [magnitude]), magnitude], "asinh")


def _feature(g: _Graph, cols: _Columns, e) -> str:
    ops = {"add": "Add", "sub": "Sub", "max": "Max", "min": "Min"}
    if e.op == "const":
        return _scalar(g, e.value)
    if e.op == "filled":
        return cols.filled(e.value[0])
    if e.op == "missing":
        return cols.missing(e.value)
    if e.op == "level":
        return cols.level(*e.value)
    if e.op in ops:
        return g.node(ops[e.op], [_feature(g, cols, x) for x in e.args])
    if e.op == "ratio":  # clip(a / scale, +-bound); an overflow to inf is clipped
        scale, bound = e.value
        quotient = g.node("Div", [_feature(g, cols, e.args[0]), _scalar(g, scale)])
        return g.node("Clip", [quotient, _scalar(g, -bound), _scalar(g, bound)])
    if e.op == "log":
        return g.node("Log", [_feature(g, cols, e.args[0])])
    if e.op == "asinh":
        return _asinh(g, _feature(g, cols, e.args[0]))
    raise ValueError(f"Unknown operation {e.op!r}.")


def _scores(g: _Graph, program: Program, cols: _Columns, any_input: str) -> str:
    """Scores ``[N, n_outputs]``: ``exp(clip(L @ E)) @ C + b``."""
    n_out = len(program.terms)
    flat = [(o, coef, factors) for o, terms in enumerate(program.terms)
            for coef, factors in terms]
    bias = g.const(np.asarray(program.intercept, dtype=np.float64).reshape(1, n_out), "b")
    if not flat:  # a constant equation: N copies of the intercept
        n = g.node("Shape", [any_input], start=0, end=1)
        shape = g.node("Concat", [n, g.const(np.array([n_out], dtype=np.int64))], axis=0)
        zeros = g.node("ConstantOfShape", [shape],
                       value=g.onnx.numpy_helper.from_array(np.zeros(1, dtype=np.float64)))
        return g.node("Add", [zeros, bias], "z")
    if program.features:
        log_u = g.node("Concat", [_feature(g, cols, e) for e in program.features], axis=1)
    else:  # terms without factors only: one zero feature keeps the shapes
        n = g.node("Shape", [any_input], start=0, end=1)
        shape = g.node("Concat", [n, g.const(np.array([1], dtype=np.int64))], axis=0)
        log_u = g.node("ConstantOfShape", [shape],
                       value=g.onnx.numpy_helper.from_array(np.zeros(1, dtype=np.float64)))
    n_features = max(len(program.features), 1)
    expo = np.zeros((n_features, len(flat)))
    coef = np.zeros((len(flat), n_out))
    for t, (o, c, factors) in enumerate(flat):
        coef[t, o] = c
        for j, a in factors:
            expo[j, t] = a
    power = g.node("MatMul", [log_u, g.const(expo, "E")], "power")
    clamp = program.clamp
    power = g.node("Clip", [power, _scalar(g, -clamp), _scalar(g, clamp)], "clamped")
    terms = g.node("Exp", [power], "terms")
    return g.node("Add", [g.node("MatMul", [terms, g.const(coef, "C")]), bias], "z")


def _class_tensor(classes) -> np.ndarray:
    if all(isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=bool)
    if all(isinstance(c, int) and not isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=np.int64)
    if all(isinstance(c, (int, float)) and not isinstance(c, bool) for c in classes):
        return np.array(classes, dtype=np.float64)
    return np.array([str(c) for c in classes], dtype=object)


def _head(g: _Graph, program: Program, z: str) -> dict:
    """Output tensors by name: scores, probabilities, label (or prediction)."""
    if program.task == "scores":
        return {"scores": z}
    axis1 = g.const(np.array([1], dtype=np.int64))
    if program.task == "regression":
        return {"prediction": g.node("Squeeze", [z, axis1])}
    classes = g.const(_class_tensor(program.classes), "classes")
    if program.task == "binary":
        score = g.node("Squeeze", [z, axis1], "score")
        p = g.node("Sigmoid", [z])
        proba = g.node("Concat", [g.node("Sub", [_scalar(g, 1.0), p]), p], axis=1)
        chosen = g.node("GreaterOrEqual", [g.node("Squeeze", [p, axis1]),
                                           _scalar(g, program.threshold)])
        index = g.node("Cast", [chosen], to=g.onnx.TensorProto.INT64)
        return {"label": g.node("Gather", [classes, index], axis=0), "probabilities": proba,
                "scores": score}
    n = g.node("Shape", [z], start=0, end=1)
    shape = g.node("Concat", [n, g.const(np.array([1], dtype=np.int64))], axis=0)
    zeros = g.node("ConstantOfShape", [shape],
                   value=g.onnx.numpy_helper.from_array(np.zeros(1, dtype=np.float64)))
    scores = g.node("Concat", [zeros, z], axis=1)
    proba = g.node("Softmax", [scores], axis=1)
    index = g.node("ArgMax", [proba], axis=1, keepdims=0)
    return {"label": g.node("Gather", [classes, index], axis=0), "probabilities": proba,
            "scores": scores}


_OUTPUTS = {"scores": ("scores",), "regression": ("prediction",),
            "binary": ("label", "probabilities", "scores"),
            "multiclass": ("label", "probabilities", "scores")}


def program_to_onnx(program: Program, name: str = "ecsel"):
    """An ``onnx.ModelProto`` computing ``program`` (see the module docstring).

    Examples
    --------
    >>> from ecsel._testing import example_estimator
    >>> from ecsel.export._program import build_program
    >>> est, X = example_estimator()
    >>> model = program_to_onnx(build_program(est.signomial_, est))
    >>> [o.name for o in model.graph.output]
    ['prediction']
    """
    onnx = _onnx()
    T = onnx.TensorProto
    for column in program.columns:
        if column.kind == "categorical":
            levels = [e.value[1] for e in _walk(program.features)
                      if e.op == "level" and e.value[0] == column.name]
            if "" in levels:
                raise ValueError(
                    f"Column {column.name!r} has the empty string as a level, which ONNX "
                    "export uses for a missing value.")
    clash = sorted({c.name for c in program.inputs} & set(_OUTPUTS[program.task]))
    if clash:
        raise ValueError(f"Input column(s) {clash} have the name of a graph output; rename "
                         "them before fitting to export to ONNX.")
    g = _Graph(onnx)
    inputs = []
    for column in program.inputs:
        elem = T.STRING if column.kind == "categorical" or column.boolean else T.DOUBLE
        inputs.append(onnx.helper.make_tensor_value_info(column.name, elem, [None, 1]))
    if not inputs:
        raise ValueError("The equation has no input columns.")
    cols = _Columns(g, program, lambda column: column.name)
    z = _scores(g, program, cols, inputs[0].name)
    outputs = _head(g, program, z)
    value_infos = []
    for out, tensor in outputs.items():
        g.nodes.append(onnx.helper.make_node("Identity", [tensor], [out], name=f"out_{out}"))
        elem = T.DOUBLE
        if out == "label":
            elem = onnx.helper.np_dtype_to_tensor_dtype(_class_tensor(program.classes).dtype) \
                if _class_tensor(program.classes).dtype != object else T.STRING
        shape = [None] if out in ("label", "prediction") or (
            out == "scores" and program.task == "binary") else [None, None]
        value_infos.append(onnx.helper.make_tensor_value_info(out, elem, shape))
    graph = onnx.helper.make_graph(g.nodes, name, inputs, value_infos, g.initializers)
    model = onnx.helper.make_model(
        graph, producer_name="ecsel",
        opset_imports=[onnx.helper.make_opsetid("", OPSET),
                       onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET)])
    model.ir_version = min(model.ir_version, 8)  # readable by onnxruntime 1.14 and later
    onnx.checker.check_model(model)
    return model


def _walk(features):
    stack = list(features)
    while stack:
        e = stack.pop()
        yield e
        stack.extend(e.args)


def onnx_inputs(model, frame) -> dict:
    """The input feed of ``model`` (an ECSEL ONNX graph) for the rows of ``frame``.

    Each graph input gets its column as ``[N, 1]``: doubles (missing as NaN) or strings
    (missing as ``""``, booleans as ``"True"``/``"False"``, other values as ``str``).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> frame = pd.DataFrame({"r": [1.0, 4.0, 16.0], "c": ["a", "b", None]})
    >>> s = Signomial([0.0], [[1.0]], [[[1.0, 1.0, 0.0]]], PositivityTransform.fit(frame))
    >>> feed = onnx_inputs(s.to_onnx(), frame)
    >>> feed["r"].ravel().tolist(), feed["c"].ravel().tolist()
    ([1.0, 4.0, 16.0], ['a', 'b', ''])
    """
    onnx = _onnx()
    feed = {}
    for tensor in model.graph.input:
        series = frame[tensor.name]
        if tensor.type.tensor_type.elem_type == onnx.TensorProto.STRING:
            text = series.astype(object).astype(str).to_numpy(dtype=object)
            text[series.isna().to_numpy()] = ""
            feed[tensor.name] = text.reshape(-1, 1)
        else:
            feed[tensor.name] = series.to_numpy(dtype=np.float64, na_value=np.nan
                                                ).reshape(-1, 1)
    return feed


def signomial_to_onnx(signomial, *, estimator=None, name: str = "ecsel"):
    """An ``onnx.ModelProto`` computing ``signomial`` from the raw columns.

    With a fitted ``estimator`` (whose equation is ``signomial``) the graph returns
    the estimator's numbers (``prediction``, or ``label``, ``probabilities`` and
    ``scores``); without one, the scores. See the module docstring for the inputs.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform, Signomial
    >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
    >>> model = signomial_to_onnx(Signomial([0.5], [[3.0]], [[[-2.0]]], t))
    >>> session = ort.InferenceSession(model.SerializeToString())
    >>> session.run(None, {"r": np.array([[8.0], [np.nan]])})[0].ravel().tolist()
    [1.25, 3.5]
    """
    return program_to_onnx(build_program(signomial, estimator), name)


class _SklGraph(_Graph):
    """:class:`_Graph` writing into a skl2onnx scope and container."""

    def __init__(self, onnx, scope, container):
        super().__init__(onnx)
        self.scope, self.container = scope, container

    def fresh(self, hint: str) -> str:
        return self.scope.get_unique_variable_name(f"ecsel_{hint}")

    def const(self, array, hint: str = "c") -> str:
        name = self.fresh(hint)
        array = np.asarray(array)
        if array.dtype == object:  # strings: skl2onnx copies raw data only
            self.container.add_initializer(name, self.onnx.TensorProto.STRING,
                                           list(array.shape),
                                           [str(v).encode("utf-8") for v in array.ravel()])
        else:
            self.container.add_initializer(name, None, None,
                                           self.onnx.numpy_helper.from_array(array))
        return name

    def emit(self, op, inputs, outputs, domain, attrs):
        self.container.add_node(op, inputs, outputs, op_domain=domain,
                                name=self.scope.get_unique_operator_name(f"Ecsel{op}"),
                                **attrs)


def _skl2onnx_convert(scope, operator, container):
    """skl2onnx converter: the pipeline's feature matrix in, ECSEL's outputs out."""
    onnx = _onnx()
    est = operator.raw_operator
    program = build_program(est.signomial_, est)
    if any(c.kind == "categorical" or c.boolean for c in program.inputs):
        raise ValueError(
            "An ECSEL estimator inside a skl2onnx pipeline must be fitted on numeric "
            "columns (the matrix its preceding steps produce); export an estimator fitted "
            "on categorical columns with est.to_onnx().")
    g = _SklGraph(onnx, scope, container)
    x = operator.inputs[0].full_name
    position = {c.name: j for j, c in enumerate(program.inputs)}

    def column(c):
        picked = g.node("Gather", [x, g.const(np.array([position[c.name]], dtype=np.int64))],
                        axis=1)
        return _to_double(g, picked)

    z = _scores(g, program, _Columns(g, program, column), x)
    outputs = _head(g, program, z)
    elem = operator.outputs[-1].type.to_onnx_type().tensor_type.elem_type
    if program.task == "regression":
        shape = g.const(np.array([-1, 1], dtype=np.int64))
        value = g.node("Reshape", [outputs["prediction"], shape])
        g.emit("Cast", [value], [operator.outputs[0].full_name], "", {"to": elem})
        return
    g.emit("Identity", [outputs["label"]], [operator.outputs[0].full_name], "", {})
    g.emit("Cast", [outputs["probabilities"]], [operator.outputs[1].full_name], "",
           {"to": elem})


def _skl2onnx_regressor_shape(operator):
    from skl2onnx.common.shape_calculator import calculate_linear_regressor_output_shapes

    calculate_linear_regressor_output_shapes(operator)


def _skl2onnx_classifier_shape(operator):
    from skl2onnx.common.shape_calculator import calculate_linear_classifier_output_shapes

    calculate_linear_classifier_output_shapes(operator)


def register_skl2onnx(*estimator_types) -> None:
    """Let ``skl2onnx`` convert pipelines that end in these ECSEL estimator classes.

    Supported: a scikit-learn ``Pipeline`` (or a lone estimator) whose ECSEL step was
    fitted on the numeric matrix the preceding steps produce (no categorical or
    boolean columns at that step: encode them in the pipeline), with skl2onnx's
    ``target_opset`` 15 or later. The classifier gives skl2onnx's usual ``label`` and
    ``probabilities`` (with its ``zipmap`` option), the regressor ``variable``
    ``[N, 1]``; the ECSEL part computes in double precision whatever the input type.
    For raw tables with categories and missing values use :meth:`to_onnx` directly.

    Examples
    --------
    >>> import numpy as np
    >>> import onnxruntime as ort
    >>> from skl2onnx import to_onnx
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import MinMaxScaler
    >>> from ecsel import ECSELRegressor
    >>> register_skl2onnx(ECSELRegressor)
    >>> X = np.random.default_rng(0).uniform(1.0, 5.0, (60, 2))
    >>> pipe = make_pipeline(MinMaxScaler(feature_range=(1, 2)),
    ...                      ECSELRegressor(n_terms=1, n_restarts=1, max_iter=30))
    >>> pipe = pipe.fit(X, 3.0 * X[:, 0] ** 2 / X[:, 1])
    >>> model = to_onnx(pipe, X[:1], target_opset=17)
    >>> out = ort.InferenceSession(model.SerializeToString()).run(None, {"X": X})
    >>> bool(np.allclose(out[0].ravel(), pipe.predict(X), rtol=1e-12))
    True
    """
    _onnx()
    from skl2onnx import update_registered_converter

    for estimator_type in estimator_types:
        if is_classifier(estimator_type()):
            update_registered_converter(
                estimator_type, f"Ecsel{estimator_type.__name__}",
                _skl2onnx_classifier_shape, _skl2onnx_convert,
                options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
        else:
            update_registered_converter(
                estimator_type, f"Ecsel{estimator_type.__name__}",
                _skl2onnx_regressor_shape, _skl2onnx_convert)


__all__ = ["ML_OPSET", "OPSET", "onnx_inputs", "program_to_onnx", "register_skl2onnx",
           "signomial_to_onnx"]
