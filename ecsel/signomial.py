"""The fitted, immutable signomial expression: the model, its exports and its JSON reader.

The writers live in :mod:`ecsel.export` (they take a signomial and never import this
module); reading a document back is the type's own job (:meth:`Signomial.from_json`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from ecsel import _document
from ecsel._transform import EXP_CLAMP, PositivityTransform
from ecsel.export.json import SIGNOMIAL_FORMAT, VERSION, parse_json, signomial_to_json
from ecsel.export.latex import signomial_to_latex
from ecsel.export.onnx import signomial_to_onnx
from ecsel.export.python import signomial_to_python
from ecsel.export.sql import signomial_to_sql
from ecsel.export.sympy import output_labels, signomial_to_sympy
from ecsel.export.torch import signomial_scores_torch

_SIGNOMIAL_FIELDS = ("format", "version", "intercept", "coef", "exponents", "output_names",
                     "transform")
_SIGNOMIAL_OPTIONAL = ("link", "reference_class")
#: Largest |exponent| a document may hold: with |log u| <= 1e150 (the transform's
#: clips) every ``log u @ a`` stays finite, so no +inf - inf = NaN. Not a plausibility
#: bound: a fit on a column of tiny relative spread (1e10 + small integers) has
#: legitimate exponents near 1e9, and its file must load.
MAX_ABS_EXPONENT = 1e150

#: What a signomial's scores are (see the ``link`` parameter of :class:`Signomial`).
LINKS = ("identity", "logit", "softmax")


def _frozen(array, ndim: int, name: str) -> np.ndarray:
    out = np.array(array, dtype=np.float64)
    if out.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {out.shape}.")
    if not np.all(np.isfinite(out)):
        raise ValueError(f"{name} contains NaN or infinity.")
    out.setflags(write=False)
    return out


class Signomial:
    """An immutable signomial score function on raw features.

    ``z_o(x) = intercept[o] + sum_k coef[o, k] * exp(clamp(log u(x) @ exponents[o, k]))``
    where ``log u(x)`` is the documented positivity transform of the raw inputs
    (see :mod:`ecsel._transform`). For a power feature ``u = (x + shift) / scale``,
    so ``exp(a * log u) = u ** a``: each term is a product of powers, and the
    exponents are elasticities.

    Parameters
    ----------
    intercept : array of shape (n_outputs,)
    coef : array of shape (n_outputs, n_terms)
    exponents : array of shape (n_outputs, n_terms, n_model_features)
    transform : PositivityTransform
        The fitted input map; it knows the raw input columns.
    output_names : sequence of str, optional
        One name per output (``"y"`` for a regressor, class labels for classifiers).
    link : {"identity", "logit", "softmax"}, default="identity"
        How the scores become predictions; it only names the printed left-hand side:
        ``y = ...`` (identity), ``logit P(y = <class>) = ...`` (a binary classifier,
        one output) or ``log P(y = <class>)/P(y = <reference>) = ...`` (a multiclass
        classifier: one output per non-reference class, the softmax over the scores
        with the reference class's score fixed at 0).
    reference_class : str, optional
        The multiclass reference class (``link="softmax"`` only).

    Examples
    --------
    >>> import numpy as np
    >>> import pandas as pd
    >>> from ecsel import PositivityTransform
    >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0], "a": [1.0, 3.0, 9.0]}))
    >>> s = Signomial([0.0], [[2.0]], [[[1.0, 1.0]]], t)
    >>> z = s.evaluate(pd.DataFrame({"m": [2.0], "a": [3.0]}))  # 2 * (m/2) * (a/3)
    >>> round(float(z[0, 0]), 12)
    2.0
    """

    def __init__(self, intercept, coef, exponents, transform, output_names=None, *,
                 link: str = "identity", reference_class: str | None = None):
        self.intercept = _frozen(intercept, 1, "intercept")
        self.coef = _frozen(coef, 2, "coef")
        self.exponents = _frozen(exponents, 3, "exponents")
        n_out, n_terms = self.coef.shape
        expected = (n_out, n_terms, len(transform.feature_maps))
        if self.intercept.shape != (n_out,) or self.exponents.shape != expected:
            raise ValueError(
                f"Inconsistent shapes: intercept {self.intercept.shape}, coef "
                f"{self.coef.shape}, exponents {self.exponents.shape} (expected {expected})."
            )
        self.transform = transform
        names = output_names if output_names is not None else [f"z{o}" for o in range(n_out)]
        self.output_names = tuple(str(n) for n in names)
        if len(self.output_names) != n_out:
            raise ValueError("output_names must have one entry per output.")
        if link not in LINKS:
            raise ValueError(f"link must be one of {LINKS}, got {link!r}.")
        self.link = link
        self.reference_class = None if reference_class is None else str(reference_class)

    def with_link(self, link: str, reference_class: str | None = None) -> Signomial:
        """The same equation with another ``link`` (what its printed left-hand side says).

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> print(Signomial([0.5], [[3.0]], [[[-2.0]]], t, ["yes"]).with_link("logit"))
        logit P(y = yes) = 0.5 + 48.0/r**2
        """
        return Signomial(self.intercept, self.coef, self.exponents, self.transform,
                         self.output_names, link=link, reference_class=reference_class)

    def __setattr__(self, key, value):
        if key in self.__dict__:
            raise AttributeError("Signomial is immutable.")
        super().__setattr__(key, value)

    def __reduce__(self):
        return (
            _rebuild,
            (self.intercept, self.coef, self.exponents, self.transform.to_dict(),
             self.output_names, self.link, self.reference_class),
        )

    # ------------------------------------------------------------------ shape
    @property
    def n_outputs(self) -> int:
        return self.coef.shape[0]

    @property
    def n_terms(self) -> int:
        """Number of terms with a non-zero coefficient in any output."""
        return int(np.count_nonzero(np.any(self.coef != 0, axis=0)))

    @property
    def input_features(self) -> list[str]:
        return list(self.transform.input_features)

    @property
    def feature_names(self) -> list[str]:
        """Names of the model features (one-hot levels expanded)."""
        return self.transform.feature_names

    def canonical(self) -> Signomial:
        """The same equation with its terms in a fixed order.

        Terms are sorted by their exponent rows (largest first, feature by feature),
        terms without a non-zero coefficient last. Two fits that found the same
        equation through different restarts then compare equal, whatever order the
        search happened to produce the terms in.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
        >>> s = Signomial([0.0], [[1.0, 2.0]], [[[1.0], [2.0]]], t)
        >>> s.canonical().exponents[0, :, 0].tolist()
        [2.0, 1.0]
        >>> s.canonical() == Signomial([0.0], [[2.0, 1.0]], [[[2.0], [1.0]]], t)
        True
        """
        n_out, n_terms = self.coef.shape
        keys = [
            (not np.any(self.coef[:, k] != 0),
             tuple(-self.exponents[:, k, :].ravel()),
             tuple(-self.coef[:, k]))
            for k in range(n_terms)
        ]
        order = sorted(range(n_terms), key=keys.__getitem__)
        return Signomial(self.intercept, self.coef[:, order], self.exponents[:, order, :],
                         self.transform, self.output_names, link=self.link,
                         reference_class=self.reference_class)

    # ------------------------------------------------------------- evaluation
    def _as_frame(self, X) -> pd.DataFrame:
        if isinstance(X, pd.DataFrame):
            missing = [c for c in self.input_features if c not in X.columns]
            if missing:
                raise ValueError(f"X is missing the columns {missing}.")
            return X
        array = np.asarray(X)
        if array.ndim != 2 or array.shape[1] != len(self.input_features):
            raise ValueError(
                f"X must be 2-D with {len(self.input_features)} columns, got shape {array.shape}."
            )
        return pd.DataFrame(array, columns=self.input_features)

    def encode(self, X) -> np.ndarray:
        """Numeric model-feature matrix (one-hot levels as 0/1) for raw ``X``.

        ``X`` is a DataFrame (columns matched by name) or an array with the input
        columns in order.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "g": ["a", "b", "a"]}))
        >>> s = Signomial([0.0], [[1.0]], [[[1.0, 0.5]]], t)
        >>> s.feature_names
        ['m', 'g[b]']
        >>> s.encode(pd.DataFrame({"g": ["b", "a"], "m": [3.0, 5.0]}))
        array([[3., 1.],
               [5., 0.]])
        >>> s.encode(np.ones((2, 3)))
        Traceback (most recent call last):
        ...
        ValueError: X must be 2-D with 2 columns, got shape (2, 3).
        """
        return self.transform.encode(self._as_frame(X))

    def log_features(self, X) -> np.ndarray:
        """``log u`` of shape (n_samples, n_model_features) for raw ``X``.

        Examples
        --------
        ``m`` is a power feature with scale 2 (the geometric mean of 1, 2, 4), so
        ``log u = log(m / 2)``; the indicator ``g[b]`` gives 1 for ``"b"``, else 0:

        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "g": ["a", "b", "a"]}))
        >>> s = Signomial([0.0], [[1.0]], [[[1.0, 0.5]]], t)
        >>> log_u = s.log_features(pd.DataFrame({"m": [4.0, 1.0], "g": ["b", "a"]}))
        >>> bool(np.allclose(log_u, [[np.log(2.0), 1.0], [np.log(0.5), 0.0]]))
        True
        """
        return self.transform.log_features(self.encode(X))

    def term_values(self, X) -> np.ndarray:
        """Per-term values ``coef * prod u ** a`` of shape (n_samples, n_outputs, n_terms).

        Examples
        --------
        ``z = 1 + 2 (m / 2) - (a / 3) ** 2`` (2 and 3 are the geometric means of the
        training columns); at ``m = 4, a = 6`` the terms are ``2 * 2 = 4`` and
        ``-(2 ** 2) = -4``:

        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "a": [1.0, 3.0, 9.0]}))
        >>> s = Signomial([1.0], [[2.0, -1.0]], [[[1.0, 0.0], [0.0, 2.0]]], t)
        >>> s.term_values(pd.DataFrame({"m": [4.0], "a": [6.0]})).round(12)
        array([[[ 4., -4.]]])
        """
        return self.term_values_from_log(self.log_features(X))

    def term_values_from_log(self, log_u: np.ndarray) -> np.ndarray:
        """:meth:`term_values` from ``log u`` (n_samples, n_model_features) directly.

        The exponent argument ``log u @ a`` is clamped to ``[-EXP_CLAMP, EXP_CLAMP]``
        (60), so extrapolation never overflows.

        Examples
        --------
        >>> import numpy as np
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"x": [1.0, 2.0, 3.0]}))
        >>> s = Signomial([0.0], [[1.0]], [[[1.0]]], t)  # z = u
        >>> v = s.term_values_from_log(np.array([[0.0], [np.log(8.0)], [1000.0]]))
        >>> v.shape, v[:2, 0, 0].round(12).tolist(), bool(v[2, 0, 0] == np.exp(60.0))
        ((3, 1, 1), [1.0, 8.0], True)
        """
        power = np.einsum("nm,okm->nok", log_u, self.exponents)
        return self.coef[None] * np.exp(np.clip(power, -EXP_CLAMP, EXP_CLAMP))

    def evaluate(self, X) -> np.ndarray:
        """Scores of shape (n_samples, n_outputs).

        Examples
        --------
        Two outputs, ``p = m / 2`` and ``q = 1 + 3 (a / 3) ** -1 = 1 + 9 / a``:

        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "a": [1.0, 3.0, 9.0]}))
        >>> s = Signomial([0.0, 1.0], [[1.0], [3.0]], [[[1.0, 0.0]], [[0.0, -1.0]]], t,
        ...               output_names=["p", "q"])
        >>> s.evaluate(pd.DataFrame({"m": [4.0, 1.0], "a": [9.0, 3.0]})).round(12)
        array([[2. , 2. ],
               [0.5, 4. ]])
        """
        return self.intercept[None] + self.term_values(X).sum(axis=2)

    def evaluate_encoded_torch(self, encoded):
        """Differentiable scores (n, n_outputs) from an encoded torch tensor (n, m).

        The tensor's dtype and device are kept.

        Examples
        --------
        ``z = 2 (m / 2) (a / 3) = m a / 3``, so ``dz/dm = a / 3`` and ``dz/da = m / 3``:

        >>> import pandas as pd
        >>> import torch
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "a": [1.0, 3.0, 9.0]}))
        >>> s = Signomial([0.0], [[2.0]], [[[1.0, 1.0]]], t)
        >>> x = torch.tensor([[2.0, 3.0]], dtype=torch.float64, requires_grad=True)
        >>> z = s.evaluate_encoded_torch(x)
        >>> z.sum().backward()
        >>> round(z.item(), 12), x.grad.round(decimals=6).tolist()
        (2.0, [[1.0, 0.666667]])
        """
        maps = self.transform.feature_maps
        if maps:
            log_u = torch.stack(
                [m.log_feature_torch(encoded[:, j]) for j, m in enumerate(maps)], dim=1
            )
        else:
            log_u = encoded.new_zeros((encoded.shape[0], 0))
        # Copies: the frozen numpy arrays are read-only, torch tensors must not alias them.
        expo = torch.tensor(self.exponents, dtype=encoded.dtype, device=encoded.device)
        coef = torch.tensor(self.coef, dtype=encoded.dtype, device=encoded.device)
        bias = torch.tensor(self.intercept, dtype=encoded.dtype, device=encoded.device)
        return signomial_scores_torch(log_u, bias, coef, expo)

    # ----------------------------------------------------------------- export
    def to_sympy(self, precision: int | None = None, reference: bool | str = False):
        """SymPy expression in the ORIGINAL units (a list when there are several outputs).

        ``precision`` rounds the printed constants to that many significant digits;
        ``None`` keeps full precision, so the expression is the deployed model.
        ``reference=True`` writes each term around its reference point,
        ``c * (x / x_ref) ** a`` with ``c`` the term's value at a typical row, and
        ``"auto"`` does so for the terms whose raw-unit coefficient would be
        astronomically large or small (see :func:`ecsel.export.sympy.signomial_to_sympy`);
        every form evaluates to the same score.

        Examples
        --------
        ``z = 2 (m / 2) (a / 3)`` in the original units is ``m a / 3``:

        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "a": [1.0, 3.0, 9.0]}))
        >>> s = Signomial([0.0], [[2.0]], [[[1.0, 1.0]]], t)
        >>> s.to_sympy(precision=3)
        0.333*a*m
        >>> expr = s.to_sympy()
        >>> a, m = sorted(expr.free_symbols, key=str)
        >>> round(float(expr.subs({m: 2.0, a: 3.0})), 12)
        2.0
        """
        exprs = signomial_to_sympy(self, precision=precision, reference=reference)
        return exprs[0] if len(exprs) == 1 else exprs

    def to_latex(self, precision: int | None = 4) -> str:
        """LaTeX of the printed equation (constants rounded to ``precision`` digits).

        The same form as ``str(signomial)``: the left-hand side says what the score is
        (``logit P(y = <class>)`` for a classifier) and unreadably scaled terms are
        written around their reference point.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"m": [1.0, 2.0, 4.0],
        ...                                           "a": [1.0, 3.0, 9.0]}))
        >>> s = Signomial([0.0], [[2.0]], [[[1.0, 1.0]]], t)  # z = m a / 3
        >>> print(s.to_latex())
        \\text{z0} = 0.3333 a m
        >>> print(s.with_link("logit").to_latex(precision=2))
        \\operatorname{logit} P(y = \\text{z0}) = 0.33 a m
        """
        return signomial_to_latex(self, precision=precision)

    def to_json(self) -> str:
        """A JSON document (full float precision); :meth:`from_json` reads it back.

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t, output_names=["y"])
        >>> doc = json.loads(s.to_json())
        >>> doc["format"], doc["version"], doc["exponents"], doc["output_names"]
        ('ecsel.signomial', 1, [[[-2.0]]], ['y'])
        >>> Signomial.from_json(s.to_json()) == s
        True
        """
        return signomial_to_json(self)

    def to_onnx(self):
        """An ``onnx.ModelProto`` of the scores (needs ``ecsel[onnx]``).

        One input per raw column (``[N, 1]``, double or string) and one output,
        ``scores`` ``[N, n_outputs]``; see :mod:`ecsel.export.onnx`.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> [i.name for i in Signomial([0.5], [[3.0]], [[[-2.0]]], t).to_onnx().graph.input]
        ['r']
        """
        return signomial_to_onnx(self)

    def to_sql(self, table: str, dialect: str = "sqlite", keep=()) -> str:
        """One SQL ``SELECT`` of the scores over the raw columns of ``table``.

        ``dialect`` is ``"sqlite"``, ``"duckdb"`` or ``"postgres"``; ``keep`` lists
        columns carried into the result; see :mod:`ecsel.export.sql`.

        Examples
        --------
        >>> import sqlite3
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t, ["y"])  # 0.5 + 3 (r / 4) ** -2
        >>> sqlite3.connect(":memory:").execute(s.to_sql("(SELECT 8.0 AS r)")).fetchall()
        [(1.25,)]
        """
        return signomial_to_sql(self, table, dialect, keep)

    def to_python(self, name: str = "ecsel_predict") -> str:
        """Source of a function ``name(row)`` (standard ``math`` only) giving the scores.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> namespace = {}
        >>> exec(Signomial([0.5], [[3.0]], [[[-2.0]]], t, ["y"]).to_python(), namespace)
        >>> namespace["ecsel_predict"]({"r": None})  # missing: r takes its fill value 4
        {'y': 3.5}
        """
        return signomial_to_python(self, name)

    @classmethod
    def from_dict(cls, data: dict, field: str = "signomial") -> Signomial:
        """Rebuild a signomial from :func:`ecsel.export.json.signomial_to_dict` output.

        Every field is checked for type, shape and range (a ``ValueError`` names the
        field); a signomial without terms (a constant) reads back as one.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> from ecsel.export import signomial_to_dict
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t)
        >>> doc = signomial_to_dict(s)
        >>> Signomial.from_dict(doc) == s
        True
        >>> Signomial.from_dict({**doc, "version": 99})
        Traceback (most recent call last):
        ...
        ValueError: Unsupported ECSEL JSON version 99.
        >>> Signomial.from_dict({**doc, "coef": [[3.0, 1.0]]})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: Invalid model field 'signomial': Inconsistent shapes: ... (expected (1, 2, 1)).
        """
        if not isinstance(data, dict) or data.get("format") != SIGNOMIAL_FORMAT:
            raise ValueError("Not an ECSEL signomial JSON document.")
        version = data.get("version")
        if isinstance(version, bool) or version != VERSION:
            raise ValueError(f"Unsupported ECSEL JSON version {version!r}.")
        _document.mapping(data, field, required=_SIGNOMIAL_FIELDS, optional=_SIGNOMIAL_OPTIONAL)
        transform = PositivityTransform.from_dict(data["transform"], f"{field}.transform")
        intercept = _document.numeric_array(data["intercept"], 1, f"{field}.intercept")
        coef = _document.numeric_array(data["coef"], 2, f"{field}.coef")
        exponents = _document.numeric_array(data["exponents"], 3, f"{field}.exponents")
        n_out, m = intercept.shape[0], len(transform.feature_maps)
        if n_out == 0:
            _document.fail(f"{field}.intercept", "empty (a signomial has at least one output)")
        if coef.size == 0:  # no terms: JSON writes (n_out, 0, m) arrays as [[], ...]
            coef = coef.reshape(n_out, 0)
        if exponents.size == 0:
            exponents = exponents.reshape(n_out, coef.shape[1] if coef.ndim == 2 else 0, m)
        if np.abs(exponents).max(initial=0.0) > MAX_ABS_EXPONENT:
            _document.fail(f"{field}.exponents", f"|exponent| above {MAX_ABS_EXPONENT:g}")
        names = _document.string_list(data["output_names"], f"{field}.output_names", unique=False)
        try:
            link = _document.string(data.get("link", "identity"), f"{field}.link")
            reference = data.get("reference_class")
            if reference is not None:
                reference = _document.string(reference, f"{field}.reference_class")
            return cls(intercept, coef, exponents, transform, names, link=link,
                       reference_class=reference)
        except ValueError as exc:
            _document.fail(field, str(exc).rstrip("."))

    @classmethod
    def from_json(cls, text: str) -> Signomial:
        """Inverse of :meth:`to_json`; raises ``ValueError`` on bad documents.

        Examples
        --------
        >>> import pandas as pd
        >>> from ecsel import PositivityTransform
        >>> t = PositivityTransform.fit(pd.DataFrame({"r": [1.0, 4.0, 16.0]}))
        >>> s = Signomial([0.5], [[3.0]], [[[-2.0]]], t)
        >>> Signomial.from_json(s.to_json()) == s
        True
        """
        return cls.from_dict(parse_json(text, SIGNOMIAL_FORMAT))

    def __str__(self) -> str:
        exprs = signomial_to_sympy(self, precision=4, reference="auto")
        lines = [f"{lhs} = {expr}" for lhs, expr in zip(output_labels(self), exprs)]
        if self.link == "softmax":
            lines.insert(0, f"P(y = k) = exp(z_k) / sum_j exp(z_j), z_{self.reference_class} "
                            "= 0 and, for the other classes,")
        # columns the equation uses (a note for every indicator would drown it)
        used = {m.source for j, m in enumerate(self.transform.feature_maps)
                if np.any((self.exponents[..., j] != 0) & (self.coef != 0))}
        return "\n".join(lines + self.transform.missing_notes(precision=4, columns=used))

    def __repr__(self) -> str:
        return (
            f"Signomial(n_outputs={self.n_outputs}, n_terms={self.n_terms}, "
            f"inputs={self.input_features})"
        )

    def __eq__(self, other) -> bool:
        if not isinstance(other, Signomial):
            return NotImplemented
        return (
            np.array_equal(self.intercept, other.intercept)
            and np.array_equal(self.coef, other.coef)
            and np.array_equal(self.exponents, other.exponents)
            and self.transform.to_dict() == other.transform.to_dict()
            and self.output_names == other.output_names
            and self.link == other.link
            and self.reference_class == other.reference_class
        )

    __hash__ = None


def _rebuild(intercept, coef, exponents, transform_dict, output_names, link="identity",
             reference_class=None):
    return Signomial(
        intercept, coef, exponents, PositivityTransform.from_dict(transform_dict), output_names,
        link=link, reference_class=reference_class,
    )
