"""Tiny analytic models shared by the metric tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import torch


class LinearScore(torch.nn.Module):
    """Two logits ``[0, w . x]`` (so softmax gives ``sigmoid(w . x)`` for class 1)."""

    def __init__(self, w: torch.Tensor, bias: float = 0.0) -> None:
        super().__init__()
        self.register_buffer("w", w.flatten().double())
        self.bias = bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        z = x.reshape(len(x), -1).double() @ self.w + self.bias
        return torch.stack([torch.zeros_like(z), z], dim=1).to(x.dtype)


def small_cnn(seed: int = 0, n_classes: int = 4, side: int = 4, channels: int = 1):
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(channels, 3, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(3 * side * side, n_classes),
    ).eval()

