"""Small numerical helpers shared by the path methods."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

__all__ = ["CAPTUM_METHODS", "QUADRATURE_METHODS", "batch_view", "make_generator", "quadrature"]

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
    """Reshape a per-row vector ``(M,)`` to ``(M, 1, ..., 1)`` with ``ndim`` dims."""
    return values.reshape(values.shape[0], *([1] * (ndim - 1)))
