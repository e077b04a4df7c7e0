"""What restarts cost: the engine batches them, so R restarts cost far less than R fits.

Times the Adam stage of ``adam_prox`` (fixed 300 steps, no early stopping) on the
breast-cancer log-features for R = 1, 8, 32 restarts, K = 2 terms, medians of 3 runs.
Usage: ``python benchmarks/restarts.py``
"""

import time

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer

from ecsel._fit import engine
from ecsel._transform import PositivityTransform


def time_restarts(n_restarts: int, data: engine.Data) -> float:
    generator = torch.Generator().manual_seed(0)
    m = data.log_u.shape[1]
    params = engine.Params(
        torch.zeros(n_restarts, 1, dtype=torch.float64),
        0.3 * torch.randn(n_restarts, 1, 2, generator=generator, dtype=torch.float64),
        0.1 * torch.randn(n_restarts, 1, 2, m, generator=generator, dtype=torch.float64),
    )
    start = time.perf_counter()
    engine.adam_prox(
        params,
        data,
        data,
        "binary",
        l1=1e-3,
        lr=0.05,
        max_iter=300,
        batch_size=10**6,
        patience=10**6,
        generator=generator,
    )
    return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(1)
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    transform = PositivityTransform.fit(X)
    log_u = transform.log_features(transform.encode(X))
    data = engine.Data(
        torch.tensor(log_u / log_u.std(0)),
        torch.tensor(y.to_numpy(), dtype=torch.float64),
        torch.ones(len(y), dtype=torch.float64),
    )
    base = None
    for n_restarts in (1, 8, 32):
        seconds = float(np.median([time_restarts(n_restarts, data) for _ in range(3)]))
        base = base or seconds
        print(
            f"R={n_restarts:3d}: {seconds:.2f} s for 300 Adam steps "
            f"({seconds / base:.2f}x the time of one restart)"
        )


if __name__ == "__main__":
    main()
