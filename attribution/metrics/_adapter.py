"""One ``forward_func`` adapter shared by every metric, plus input conversion and batching.

Targets, baselines and chunks are formatted by :mod:`attribution._utils` in its
``"metric"`` style (the methods use the same code in its ``"method"`` style).

Every metric calls a model through :class:`ForwardAdapter`, whatever the user passed:

* a :class:`torch.nn.Module` or any callable ``f(tensor) -> tensor`` (logits / raw scores);
* a fitted ECSEL estimator, used through its ``to_torch()`` module;
* a scikit-learn classifier with ``predict_proba`` (perturbation metrics need no gradients).

Inputs may be tensors, numpy arrays or pandas DataFrames. Tensors keep their device; the
adapter never moves a torch model, so the device follows the inputs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted
from torch import Tensor

from .._utils import (
    format_baselines,
    format_target,
    make_generator,  # noqa: F401 - the metrics' generator factory
    row_chunks,
    to_tensor,
)

__all__ = ["ForwardAdapter", "as_forward_func", "to_tensor"]

ArrayLike = Any  # Tensor | np.ndarray | pandas.DataFrame | sequence


def _is_fitted_sklearn(obj: object) -> bool:
    try:
        check_is_fitted(obj)
    except NotFittedError:
        return False
    except TypeError:  # not an estimator at all
        return False
    return True


class ForwardAdapter:
    """Callable wrapper that turns any supported model into ``f(x) -> scores``.

    Parameters
    ----------
    model : nn.Module, callable, ECSEL estimator or scikit-learn classifier
        The model to evaluate.

    Attributes
    ----------
    module : torch.nn.Module or callable
        The torch-side callable, or ``None`` for scikit-learn models.
    outputs_probabilities : bool
        ``True`` when the raw outputs are already probabilities (``predict_proba``).
    differentiable : bool
        Whether gradients can flow through :meth:`__call__`.

    Examples
    --------
    >>> import torch
    >>> f = ForwardAdapter(torch.nn.Linear(3, 2))
    >>> f.scores(torch.zeros(4, 3), torch.tensor([0, 1, 0, 1]), softmax=True).shape
    torch.Size([4])
    """

    def __init__(self, model: object) -> None:
        if isinstance(model, ForwardAdapter):
            self.__dict__.update(model.__dict__)
            return
        self.model = model
        self.estimator = None
        self.outputs_probabilities = False
        if isinstance(model, torch.nn.Module):
            self.module: Callable[[Tensor], Tensor] | None = model
        elif hasattr(model, "to_torch"):
            if not _is_fitted_sklearn(model):
                raise ValueError(f"{type(model).__name__} is not fitted; call fit() first.")
            self.module = model.to_torch()
            if isinstance(self.module, torch.nn.Module):
                self.module.eval()
        elif hasattr(model, "predict_proba") or hasattr(model, "decision_function"):
            if not _is_fitted_sklearn(model):
                raise ValueError(f"{type(model).__name__} is not fitted; call fit() first.")
            self.module = None
            self.estimator = model
            self.outputs_probabilities = hasattr(model, "predict_proba")
        elif callable(model):
            self.module = model
        else:
            raise TypeError(
                "forward_func must be a torch.nn.Module, a callable, a fitted ECSEL estimator "
                f"(with to_torch) or a fitted scikit-learn classifier; got {type(model)}"
            )
        self.differentiable = self.module is not None
        self.single_output = False
        if _stochastic_in_training(self.module):
            warnings.warn(
                f"{type(self.module).__name__} is in training mode (dropout / batch norm make "
                "scores batch-dependent); call .eval() first for reproducible metrics.",
                UserWarning,
                stacklevel=3,
            )
        self._param_dtype = _param_dtype(self.module)

    def __call__(self, x: Tensor) -> Tensor:
        """Raw model outputs (logits, scores or, for sklearn, probabilities) on ``x``."""
        if self.module is not None:
            xin = x if self._param_dtype is None else x.to(self._param_dtype)
            out = self.module(xin)
            out = out if isinstance(out, Tensor) else torch.as_tensor(out)
            return out.to(device=x.device, dtype=x.dtype)
        return self._sklearn(x, proba=self.outputs_probabilities)

    def _sklearn(self, x: Tensor, *, proba: bool) -> Tensor:
        arr = x.detach().reshape(x.shape[0], -1).cpu().numpy().astype(np.float64)
        fn = self.estimator.predict_proba if proba else self.estimator.decision_function
        out = np.asarray(fn(arr), dtype=np.float64)
        return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)

    def outputs(self, x: Tensor, *, softmax: bool) -> Tensor:
        """Outputs on the requested scale: probabilities when ``softmax`` else raw scores.

        A single-output model (shape ``(N,)`` or ``(N, 1)``) is read as a binary logit ``z``
        and expanded to two columns: ``[-z, z]`` raw, ``[1 - sigmoid(z), sigmoid(z)]`` with
        ``softmax=True``. Target ``None`` or ``1`` then selects ``z`` (or ``sigmoid(z)``).
        """
        est = self.estimator
        if est is not None and not softmax and hasattr(est, "decision_function"):
            out, is_proba = self._sklearn(x, proba=False), False
        else:
            out, is_proba = self(x), self.outputs_probabilities
        self.single_output = out.ndim == 1 or (out.ndim == 2 and out.shape[1] == 1)
        if self.single_output:
            z = out.reshape(-1)
            if is_proba:
                return torch.stack([1 - z, z], dim=1)
            if softmax:
                p = torch.sigmoid(z)
                return torch.stack([1 - p, p], dim=1)
            return torch.stack([-z, z], dim=1)
        out = out.reshape(out.shape[0], -1)
        if softmax and not is_proba:
            out = torch.softmax(out, dim=1)
        return out

    def scores(self, x: Tensor, target: Tensor, *, softmax: bool) -> Tensor:
        """The explained scalar per row of ``x``: output ``target[i]`` of row ``i``."""
        out = self.outputs(x, softmax=softmax)
        return out.gather(1, target.view(-1, 1).to(out.device)).squeeze(1)


_STOCHASTIC = (torch.nn.modules.dropout._DropoutNd, torch.nn.modules.batchnorm._BatchNorm)


def _stochastic_in_training(module: object) -> bool:
    """Does ``module`` hold dropout or batch-norm layers left in training mode?"""
    if not isinstance(module, torch.nn.Module):
        return False
    return any(m.training and isinstance(m, _STOCHASTIC) for m in module.modules())


def _param_dtype(module: object) -> torch.dtype | None:
    if isinstance(module, torch.nn.Module):
        for p in module.parameters():
            if p.is_floating_point():
                return p.dtype
    return None


def as_forward_func(model: object) -> ForwardAdapter:
    """Wrap ``model`` in a :class:`ForwardAdapter` (idempotent).

    Examples
    --------
    >>> import torch
    >>> f = as_forward_func(torch.nn.Linear(2, 3))
    >>> f(torch.zeros(5, 2)).shape
    torch.Size([5, 3])
    """
    return model if isinstance(model, ForwardAdapter) else ForwardAdapter(model)


def prepare(
    forward_func: object,
    inputs: ArrayLike,
    target: object,
    *,
    softmax: bool,
    batch_size: int | None,
) -> tuple[ForwardAdapter, Tensor, Tensor, Tensor]:
    """Shared front matter: adapter, tensor inputs, validated targets, clean scores.

    ``target=None`` selects the class predicted on the clean inputs (the MFABA/ISA
    protocol); for a single-output (binary logit) model it selects that output.

    Returns
    -------
    (adapter, inputs, target, clean_scores)
    """
    f = as_forward_func(forward_func)
    x = to_tensor(inputs)
    if x.ndim < 2 or x.shape[0] == 0:
        raise ValueError(f"`inputs` must have shape (n_samples, ...), got {tuple(x.shape)}")
    with torch.no_grad():
        out = torch.cat([f.outputs(c, softmax=softmax) for c in chunks(x, batch_size)])
    t = format_target(target, out, single_output=f.single_output).to(x.device)
    clean = out.gather(1, t.view(-1, 1).to(out.device)).squeeze(1)
    return f, x, t, clean


def check_attributions(attributions: ArrayLike, inputs: Tensor) -> Tensor:
    """Convert attributions to a tensor on the inputs' device and check the shape."""
    a = to_tensor(attributions, device=inputs.device, dtype=inputs.dtype, name="attributions")
    if a.shape != inputs.shape:
        raise ValueError(
            f"`attributions` must have the same shape as `inputs`: got {tuple(a.shape)} "
            f"for inputs of shape {tuple(inputs.shape)}."
        )
    if not torch.isfinite(a).all():
        raise ValueError("`attributions` contain NaN or infinite values.")
    return a


def broadcast_baselines(baselines: ArrayLike, inputs: Tensor) -> Tensor:
    """Broadcast a scalar, per-feature or per-sample baseline to ``inputs``' shape.

    Examples
    --------
    >>> import torch
    >>> broadcast_baselines(0, torch.ones(2, 3)).tolist()
    [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
    """
    return format_baselines(baselines, inputs)


#: Input elements per forward call when ``batch_size`` is None in metrics that
#: multiply the batch (curve points, random subsets, perturbations): about 16 MB of float32.
AUTO_CHUNK_ELEMENTS = 2**22


def auto_rows(size: int | None, inputs: Tensor) -> int:
    """``size`` if given, else as many rows as fit in :data:`AUTO_CHUNK_ELEMENTS`."""
    if size is not None:
        return size
    per_row = max(1, inputs[0].numel())
    return max(1, AUTO_CHUNK_ELEMENTS // per_row)


def chunks(x: Tensor, size: int | None) -> Iterator[Tensor]:
    """Split ``x`` along dim 0 into pieces of at most ``size`` rows (all of it if ``None``)."""
    for rows in row_chunks(len(x), size, name="batch_size"):
        yield x[rows]
