"""Helpers shared by the attribution methods and the metrics.

Numerics of the path methods (:func:`quadrature`), the one ``torch.Generator``
factory (:func:`make_generator`), and the one formatter of Captum-shaped
arguments: :func:`format_target`, :func:`format_baselines`, :func:`row_chunks`
(and :func:`to_tensor`, which the metrics use to accept numpy and pandas data).

The methods and the metrics follow one rule (``docs/architecture.md``, "Conventions"):

* a target is ``None`` (the predicted class), an int, or an array-like / tensor of
  class indices; floats are accepted when they hold whole numbers (a label vector
  read as floats), a Python ``bool`` and fractional or complex values are rejected;
* a baseline is ``None`` (zeros), a number, or an array-like / tensor that
  broadcasts to the inputs (a full batch, one example, a batch of one, ...);
* a batch knob below 1 is an error that names the knob.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, Union  # Union: aliases must run on Python 3.10

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "CAPTUM_METHODS",
    "QUADRATURE_METHODS",
    "BaselineType",
    "TargetType",
    "batch_view",
    "DOC_FRAGMENTS",
    "FilledDocstrings",
    "check_inputs",
    "fill_doc",
    "format_baselines",
    "format_target",
    "make_generator",
    "quadrature",
    "row_chunks",
    "to_tensor",
]

TargetType = Union[None, int, Sequence[int], Tensor]  # noqa: UP007
BaselineType = Union[None, int, float, Tensor]  # noqa: UP007

#: Method names with Captum's meaning (``IntegratedGradients.attribute(method=...)``).
CAPTUM_METHODS = (
    "riemann_left",
    "riemann_right",
    "riemann_middle",
    "riemann_trapezoid",
    "gausslegendre",
)
#: All fixed rules: Captum's plus ``"trapezoid"``, the composite trapezoid rule
#: whose weights sum to one (Captum's ``"riemann_trapezoid"`` weights sum to
#: ``1 - 1/n``, see :func:`quadrature`).
QUADRATURE_METHODS = (*CAPTUM_METHODS, "trapezoid")


#: Numpydoc text that every method documents the same way, written once here and
#: filled into docstrings by :func:`fill_doc` (a line holding only ``%(name)s``).
DOC_FRAGMENTS = {
    "forward_func": (
        "forward_func : callable\n"
        "    Model returning ``(N, C)`` class scores or ``(N,)`` scores."
    ),
    "target": (
        "target : int, sequence of int or Tensor, optional\n"
        "    Explained class per example; ``None`` means the predicted class."
    ),
    "additional_forward_args": (
        "additional_forward_args : optional\n"
        "    Extra positional arguments for ``forward_func``."
    ),
    "batch_size": (
        "batch_size : int, optional\n"
        "    Most perturbed inputs per forward call (bounds memory). ``None``: chunks of\n"
        "    about 4M input elements (``AUTO_CHUNK_ELEMENTS``)."
    ),
    "detector_model": (
        "model : nn.Module\n"
        "    Classifier returning logits ``(N, C)``."
    ),
    "detector_batch_size": (
        "batch_size : int, default 256\n"
        "    Rows per forward/backward pass.  Scores do not depend on it."
    ),
    "returns_attributions": (
        "Returns\n-------\nTensor\n    Attributions shaped like ``inputs``."
    ),
    "returns_attributions_and_delta": (
        "Returns\n-------\n"
        "attributions : Tensor\n    Shaped like ``inputs``.\n"
        "delta : Tensor, optional\n    ``(N,)``, when ``return_convergence_delta``."
    ),
}

_Documented = TypeVar("_Documented", bound=Callable[..., Any])
_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)%\((?P<name>\w+)\)s[ \t]*$", re.MULTILINE)


def fill_doc(obj: _Documented) -> _Documented:
    """Fill the ``%(name)s`` lines of ``obj.__doc__`` from :data:`DOC_FRAGMENTS`.

    For a class, the docstrings of the functions it defines are filled too.  A
    placeholder stands alone on its line; every line of the fragment gets that
    line's indentation.  Only whole-line placeholders are replaced, so other ``%``
    signs in a docstring stay as they are.

    Examples
    --------
    >>> def f():
    ...     '''Do nothing.
    ...
    ...     Parameters
    ...     ----------
    ...     %(target)s
    ...     '''
    >>> print(fill_doc(f).__doc__.splitlines()[4].strip())
    target : int, sequence of int or Tensor, optional
    >>> fill_doc(type("Odd", (), {"__doc__": "%(unknown)s"}))
    Traceback (most recent call last):
    ...
    KeyError: "no docstring fragment 'unknown'"
    """

    def fragment(match: re.Match[str]) -> str:
        name = match["name"]
        if name not in DOC_FRAGMENTS:
            raise KeyError(f"no docstring fragment {name!r}")
        return "\n".join(match["indent"] + line for line in DOC_FRAGMENTS[name].splitlines())

    if obj.__doc__:
        obj.__doc__ = _PLACEHOLDER.sub(fragment, obj.__doc__)
    if isinstance(obj, type):  # and the docstrings of the functions the class defines
        for member in vars(obj).values():
            if inspect.isfunction(member):
                fill_doc(member)
    return obj


class FilledDocstrings:
    """Mixin whose subclasses get their docstrings filled by :func:`fill_doc` when defined.

    The base classes of the methods and of the detectors derive from it, so a method's
    or a detector's docstrings may use the :data:`DOC_FRAGMENTS` placeholders.

    Examples
    --------
    >>> class Explainer(FilledDocstrings):
    ...     '''Explain something.
    ...
    ...     Parameters
    ...     ----------
    ...     %(forward_func)s
    ...     '''
    >>> Explainer.__doc__.splitlines()[4].strip()
    'forward_func : callable'
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        fill_doc(cls)


def quadrature(method: str, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes ``alphas`` in [0, 1] and weights of a rule for integrals over [0, 1].

    Parameters
    ----------
    method : str
        One of :data:`QUADRATURE_METHODS`.
    n_steps : int
        Number of nodes.

    Returns
    -------
    alphas, weights : ndarray of float64, shape (n_steps,)

    Notes
    -----
    ``"riemann_trapezoid"`` reproduces Captum exactly: nodes ``linspace(0, 1, n)``
    (spacing ``1/(n-1)``) with weights ``1/n`` and both ends halved, so the
    weights sum to ``1 - 1/n`` and a constant integrand is under-counted by
    ``1/n``.  The MFABA/ISA reference numbers were produced with it.  Use
    ``"trapezoid"`` for the textbook composite rule (weights ``1/(n-1)``, ends
    halved), which is exact for integrands linear in ``alpha``.

    Examples
    --------
    >>> alphas, weights = quadrature("riemann_middle", 4)
    >>> alphas.tolist(), float(weights.sum())
    ([0.125, 0.375, 0.625, 0.875], 1.0)
    """
    if method not in QUADRATURE_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {QUADRATURE_METHODS}")
    minimum = 1 if method == "gausslegendre" else 2
    if int(n_steps) != n_steps or n_steps < minimum:
        raise ValueError(f"n_steps must be an integer >= {minimum} for {method!r}, got {n_steps}")
    n = int(n_steps)
    if method == "gausslegendre":
        nodes, weights = np.polynomial.legendre.leggauss(n)
        return 0.5 * (1.0 + nodes), 0.5 * weights
    weights = np.full(n, 1.0 / n)
    if method == "riemann_left":
        return np.linspace(0.0, 1.0 - 1.0 / n, n), weights
    if method == "riemann_right":
        return np.linspace(1.0 / n, 1.0, n), weights
    if method == "riemann_middle":
        return (np.arange(n) + 0.5) / n, weights
    if method == "trapezoid":
        weights = np.full(n, 1.0 / (n - 1))
    weights[0] /= 2
    weights[-1] /= 2
    return np.linspace(0.0, 1.0, n), weights


def make_generator(
    random_state: int | torch.Generator | None, device: torch.device | str
) -> torch.Generator:
    """The one ``torch.Generator`` factory of the methods and the metrics.

    An int seeds a new generator on ``device``; a generator is returned as is;
    ``None`` seeds a new generator from torch's global RNG, so ``torch.manual_seed``
    makes a ``random_state=None`` run reproducible.

    Examples
    --------
    >>> import torch
    >>> a = torch.rand(2, generator=make_generator(0, "cpu"))
    >>> bool(torch.equal(a, torch.rand(2, generator=make_generator(0, "cpu"))))
    True
    >>> _ = torch.manual_seed(1); b = torch.rand(2, generator=make_generator(None, "cpu"))
    >>> _ = torch.manual_seed(1); c = torch.rand(2, generator=make_generator(None, "cpu"))
    >>> bool(torch.equal(b, c))
    True
    """
    if isinstance(random_state, torch.Generator):
        return random_state
    if random_state is None:
        random_state = int(torch.randint(0, 2**62, (1,)).item())
    generator = torch.Generator(device=device)
    generator.manual_seed(int(random_state))
    return generator


def batch_view(values: Tensor, ndim: int) -> Tensor:
    """Reshape a per-row vector ``(M,)`` to ``(M, 1, ..., 1)`` with ``ndim`` dims.

    Examples
    --------
    >>> import torch
    >>> batch_view(torch.tensor([1.0, 2.0]), 4).shape
    torch.Size([2, 1, 1, 1])
    """
    return values.reshape(values.shape[0], *([1] * (ndim - 1)))


# --------------------------------------------------------------- Captum-shaped arguments
def check_inputs(inputs: Tensor) -> Tensor:
    """A non-empty floating batch tensor, detached from the caller's graph.

    The input check of the methods and the detectors (they differentiate or perturb
    their own copy, never the caller's tensor).

    Examples
    --------
    >>> check_inputs(torch.ones(2, 3)).shape
    torch.Size([2, 3])
    >>> check_inputs(torch.ones(2, 3, dtype=torch.long))
    Traceback (most recent call last):
    ...
    ValueError: inputs must be floating point, got dtype torch.int64
    """
    if not isinstance(inputs, Tensor):
        raise ValueError(
            f"inputs must be a torch.Tensor with a leading batch dimension, "
            f"got {type(inputs).__name__}"
        )
    if inputs.dim() < 1 or inputs.shape[0] == 0:
        raise ValueError(
            f"inputs needs a non-empty batch dimension, got shape {tuple(inputs.shape)}"
        )
    if not inputs.is_floating_point():
        raise ValueError(f"inputs must be floating point, got dtype {inputs.dtype}")
    # Never differentiate through, or write into, the caller's tensor.
    return inputs.detach()


def to_tensor(
    data: Any,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
    name: str = "inputs",
) -> Tensor:
    """Convert a tensor, numpy array, DataFrame or nested sequence to a floating tensor.

    Parameters
    ----------
    data : Tensor, ndarray, DataFrame or sequence
        The data. DataFrames are converted through ``to_numpy(dtype=float)``.
    device : torch.device or str, optional
        Target device. Tensors keep their own device when ``None``.
    dtype : torch.dtype, optional
        Target floating dtype. Defaults to the data's own floating dtype (so float64
        numpy arrays and DataFrames stay float64: exact scores of closed-form models),
        else ``torch.get_default_dtype()``.
    name : str, default "inputs"
        Name used in error messages.

    Returns
    -------
    Tensor
        A floating tensor (never requires grad).

    Raises
    ------
    ValueError
        For data that is not real numbers (``None``, strings, objects, complex).

    Examples
    --------
    >>> import numpy as np
    >>> to_tensor(np.ones((2, 3))).dtype
    torch.float64
    >>> to_tensor([[1, 2]]).dtype
    torch.float32
    >>> to_tensor(None, name="baselines")
    Traceback (most recent call last):
    ...
    ValueError: baselines must be numeric array-like, got <class 'NoneType'>
    """
    if isinstance(data, Tensor):
        out = data.detach()
    else:
        if hasattr(data, "to_numpy"):  # pandas DataFrame / Series
            data = data.to_numpy(dtype=float)
        try:
            arr = np.asarray(data)
            if arr.dtype.kind not in "biuf":  # None, strings, objects, complex
                raise TypeError(f"dtype {arr.dtype}")
            if arr.dtype.kind != "f":  # ints / bools: float64 arrays, default-dtype lists
                is_array = isinstance(data, np.ndarray)
                arr = arr.astype(np.float64 if is_array else _numpy_default_float())
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name} must be numeric array-like, got {type(data)}") from exc
        out = torch.tensor(arr)
    if dtype is None:
        dtype = out.dtype if out.is_floating_point() else torch.get_default_dtype()
    return out.to(device=device if device is not None else out.device, dtype=dtype)


def _numpy_default_float() -> np.dtype:
    return np.dtype(str(torch.get_default_dtype()).removeprefix("torch."))


def format_target(
    target: TargetType | np.ndarray,
    outputs: Tensor,
    *,
    single_output: bool | None = None,
) -> Tensor:
    """One class index per example, as a ``LongTensor`` of shape ``(N,)``.

    Parameters
    ----------
    target : None, int, array-like of ints or Tensor
        ``None`` selects the predicted class (``argmax``) of each example, or the
        last output column for a single-output model (see ``single_output``).  An
        int, or a sequence / tensor with one entry, is broadcast to all examples.
        Floats holding whole numbers are class indices; a ``bool`` is rejected.
    outputs : Tensor of shape (N,) or (N, C)
        Model outputs on the clean inputs, in the caller's column space.  Only their
        shape is used unless ``target`` is ``None``.
    single_output : bool, optional
        Whether the model has one score per example.  ``None`` infers it from
        ``outputs`` (one column).  The metrics pass ``True`` for a binary logit
        ``z`` that they expand to two columns ``[-z, z]``: ``None`` then selects
        column 1, the logit itself.

    Returns
    -------
    LongTensor of shape (N,)
        On ``outputs.device``; never a view of the caller's ``target``.

    Raises
    ------
    ValueError
        Wrong dtype, wrong number of entries, or a class index out of range.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    >>> format_target(None, scores).tolist()
    [1, 0, 1]
    >>> format_target(0, scores).tolist()
    [0, 0, 0]
    >>> format_target([1.0, 0.0, 1.0], scores).tolist()
    [1, 0, 1]
    >>> format_target(2, scores)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: target out of range: got class indices in [2, 2] but the model returns 2 ...
    """
    n_examples = outputs.shape[0]
    n_outputs = 1 if outputs.dim() == 1 else outputs.shape[1]
    if single_output is None:
        single_output = n_outputs == 1
    if target is None:
        if single_output:
            t = torch.full((n_examples,), n_outputs - 1, dtype=torch.long, device=outputs.device)
        else:
            t = outputs.argmax(dim=1)
        return t.clone()
    if isinstance(target, (bool, np.bool_)):
        raise ValueError("target must be an int, an array-like of ints or a tensor, not bool")
    try:
        t = target if isinstance(target, Tensor) else torch.as_tensor(np.asarray(target))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise ValueError(f"target must hold integer class indices, got {target!r}") from exc
    if t.is_complex() or t.dtype == torch.bool or (
        t.is_floating_point() and not torch.equal(t, t.round())
    ):
        raise ValueError(f"target must hold integer class indices, got {t.dtype}")
    t = t.long().reshape(-1)
    if t.numel() == 1:
        t = t.expand(n_examples)
    if t.numel() != n_examples:
        raise ValueError(f"target has {t.numel()} entries but inputs have {n_examples} examples")
    low, high = int(t.min()), int(t.max())
    if low < 0 or high >= n_outputs:
        raise ValueError(
            f"target out of range: got class indices in [{low}, {high}] but the model "
            f"returns {n_outputs} output(s) per example"
        )
    return t.to(outputs.device).clone()


def format_baselines(baselines: Any, inputs: Tensor) -> Tensor:
    """Baselines broadcast to ``inputs.shape``, on the inputs' device and dtype.

    Parameters
    ----------
    baselines : None, number, array-like or Tensor
        ``None`` means zeros; anything else is converted by :func:`to_tensor` and
        must broadcast to ``inputs.shape`` (a full batch, one example of shape
        ``inputs.shape[1:]``, a batch of one, a scalar, ...).
    inputs : Tensor
        The batch the baselines belong to.

    Returns
    -------
    Tensor
        Of shape ``inputs.shape`` (a read-only broadcast view).

    Examples
    --------
    >>> import torch
    >>> x = torch.zeros(2, 3)
    >>> format_baselines(0.5, x).tolist()
    [[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]]
    >>> format_baselines(torch.tensor([1.0, 2.0, 3.0]), x)[1].tolist()
    [1.0, 2.0, 3.0]
    >>> format_baselines([[1.0], [2.0]], x).tolist()
    [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]]
    """
    if baselines is None:
        return torch.zeros_like(inputs)
    b = to_tensor(baselines, device=inputs.device, dtype=inputs.dtype, name="baselines")
    try:
        return torch.broadcast_to(b, inputs.shape)
    except RuntimeError as exc:
        raise ValueError(
            f"baselines of shape {tuple(b.shape)} cannot broadcast to inputs of shape "
            f"{tuple(inputs.shape)}: use a number, a tensor of that shape, or one example "
            f"of shape {tuple(inputs.shape[1:])}"
        ) from exc


def row_chunks(n_rows: int, size: int | None, *, name: str = "batch_size") -> list[slice]:
    """Consecutive slices of ``range(n_rows)`` of at most ``size`` rows each.

    ``size=None`` (or ``size >= n_rows``) gives one slice of all rows, even when
    ``n_rows`` is 0.  ``name`` (the caller's batch knob) only shapes the error.

    Raises
    ------
    ValueError
        When ``size`` is not ``None`` and below 1.

    Examples
    --------
    >>> row_chunks(5, 2)
    [slice(0, 2, None), slice(2, 4, None), slice(4, 5, None)]
    >>> row_chunks(5, None)
    [slice(0, 5, None)]
    >>> row_chunks(5, 0, name="internal_batch_size")
    Traceback (most recent call last):
    ...
    ValueError: internal_batch_size must be a positive int, got 0
    """
    if size is not None and (isinstance(size, bool) or int(size) != size or size < 1):
        raise ValueError(f"{name} must be a positive int, got {size!r}")
    if size is None or size >= n_rows:
        return [slice(0, n_rows)]
    return [slice(start, min(start + size, n_rows)) for start in range(0, n_rows, size)]
