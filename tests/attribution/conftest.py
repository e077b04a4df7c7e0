"""Fixtures of the attribution-method tests: a digits CNN trained once per worker."""

from __future__ import annotations

import pytest
import torch

from attribution.testing import DigitsCNN, train_digits_cnn


@pytest.fixture()
def single_thread():
    """Run a test on one intra-op thread (restored afterwards).

    The test models are tiny: thread hand-offs cost more than they save, and
    on a loaded 2-core machine multi-threaded runs become erratic.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def digits_cnn_and_data() -> tuple[DigitsCNN, torch.Tensor, torch.Tensor]:
    """A :class:`DigitsCNN` trained in about two seconds, plus the digits data."""
    return train_digits_cnn(n_epochs=10, random_state=0)


@pytest.fixture()
def digits_cnn(digits_cnn_and_data) -> DigitsCNN:
    return digits_cnn_and_data[0]


@pytest.fixture()
def digits_batch(digits_cnn_and_data) -> tuple[torch.Tensor, torch.Tensor]:
    """Twelve digits (two per class 0-5) and their labels."""
    _, images, labels = digits_cnn_and_data
    picks = torch.cat([torch.nonzero(labels == c).squeeze(1)[:2] for c in range(6)])
    return images[picks].clone(), labels[picks].clone()
