"""A tiny CNN for scikit-learn's 8x8 digits, trained in seconds (exact unit tests)."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import Tensor, nn

__all__ = ["DigitsCNN", "load_digits_images", "train_digits_cnn"]


class DigitsCNN(nn.Module):
    """Tiny CNN for sklearn's 8x8 digits (``(N, 1, 8, 8)`` in [0, 1], 10 logits).

    Parameters
    ----------
    smooth : bool, default True
        SiLU activations and average pooling (a smooth score along any path),
        or ReLU and max pooling (piecewise linear, with kinks that make path
        integrals converge more slowly).

    Examples
    --------
    >>> import torch
    >>> from attribution.testing import DigitsCNN
    >>> model = DigitsCNN(smooth=False)
    >>> type(model.features[1]).__name__, sum(p.numel() for p in model.parameters())
    ('ReLU', 9802)
    """

    def __init__(self, smooth: bool = True) -> None:
        super().__init__()
        activation = nn.SiLU if smooth else nn.ReLU
        pool = nn.AvgPool2d(2) if smooth else nn.MaxPool2d(2)
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            activation(),
            nn.Conv2d(8, 16, 3, padding=1),
            activation(),
            pool,
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 4 * 4, 32), activation(), nn.Linear(32, 10)
        )

    def forward(self, x: Tensor) -> Tensor:
        """Logits ``(N, 10)`` of images ``(N, 1, 8, 8)``.

        Examples
        --------
        >>> import torch
        >>> from attribution.testing import DigitsCNN
        >>> model = DigitsCNN()
        >>> x = torch.rand(4, 1, 8, 8)
        >>> logits = model(x)
        >>> logits.shape, torch.equal(logits, model.classifier(model.features(x)))
        (torch.Size([4, 10]), True)
        """
        return self.classifier(self.features(x))


def load_digits_images() -> tuple[Tensor, Tensor]:
    """sklearn's bundled digits as ``(1797, 1, 8, 8)`` float32 in [0, 1] and labels.

    Examples
    --------
    >>> from attribution.testing import load_digits_images
    >>> images, labels = load_digits_images()
    >>> tuple(images.shape), float(images.min()), float(images.max()), labels[:5].tolist()
    ((1797, 1, 8, 8), 0.0, 1.0, [0, 1, 2, 3, 4])
    """
    digits = load_digits()
    images = torch.as_tensor(np.asarray(digits.images, dtype=np.float32) / 16.0).unsqueeze(1)
    return images, torch.as_tensor(digits.target, dtype=torch.long)


def train_digits_cnn(
    n_epochs: int = 10, batch_size: int = 64, random_state: int = 0, smooth: bool = True
) -> tuple[DigitsCNN, Tensor, Tensor]:
    """Train :class:`DigitsCNN` on sklearn's digits in a few seconds on a CPU.

    Training uses its own forked RNG, so the global torch RNG is untouched
    and the result is deterministic for a given ``random_state``.

    Returns
    -------
    model : DigitsCNN
        Trained, in eval mode.
    images, labels : Tensor
        The full digits data set (``(1797, 1, 8, 8)`` in [0, 1], and labels).

    Examples
    --------
    >>> from attribution.testing import train_digits_cnn
    >>> model, images, labels = train_digits_cnn(n_epochs=1)
    >>> model(images[:3]).shape
    torch.Size([3, 10])
    """
    images, labels = load_digits_images()
    threads = torch.get_num_threads()
    # One thread: for a model this small, thread hand-offs cost more than they
    # save, and a loaded shared machine makes multi-threaded runs erratic.
    torch.set_num_threads(1)
    try:
        model = _fit(images, labels, n_epochs, batch_size, random_state, smooth)
    finally:
        torch.set_num_threads(threads)
    return model, images, labels


def _fit(
    images: Tensor, labels: Tensor, n_epochs: int, batch_size: int, random_state: int, smooth: bool
) -> DigitsCNN:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        model = DigitsCNN(smooth)
        optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
        for _ in range(n_epochs):
            order = torch.randperm(len(images))
            for start in range(0, len(images), batch_size):
                batch = order[start : start + batch_size]
                loss = nn.functional.cross_entropy(model(images[batch]), labels[batch])
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    model.zero_grad(set_to_none=True)
    return model.eval()
