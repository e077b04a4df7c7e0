"""The small tabular teacher of the compression example and benchmark: a 64-32 ReLU MLP."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["train_binary_mlp"]


def train_binary_mlp(x: Tensor, y: np.ndarray, *, epochs: int = 30, seed: int = 0) -> nn.Module:
    """A 64-32 ReLU MLP returning one logit, trained on encoded rows ``x`` and 0/1 ``y``.

    Adam (learning rate 1e-3, weight decay 1e-4), mini-batches of 256 rows, and a
    binary cross-entropy whose positive class is weighted by ``n_negative / n_positive``
    (fraud-like imbalance). ``seed`` fixes the initial weights and the batch order.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> x = torch.linspace(-1, 1, 200).reshape(-1, 1)
    >>> model = train_binary_mlp(x, (x[:, 0] > 0).numpy().astype(float), epochs=40)
    >>> model(torch.tensor([[-0.9], [0.9]]))[:, 0].sign().tolist()
    [-1.0, 1.0]
    """
    torch.manual_seed(seed)
    t = torch.tensor(y, dtype=torch.float32)
    model = nn.Sequential(nn.Linear(x.shape[1], 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    pos_weight = torch.tensor((1 - y.mean()) / y.mean())
    g = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=g).split(256):
            loss = nn.functional.binary_cross_entropy_with_logits(
                model(x[idx])[:, 0], t[idx], pos_weight=pos_weight)
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()
