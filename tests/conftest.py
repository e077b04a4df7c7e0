"""Suite-wide settings: one torch thread per test worker.

``make test`` runs two pytest workers on a 2-core machine; OpenMP threads on top of
that oversubscribe the cores and make small tensor ops tens of times slower.
"""

import torch

torch.set_num_threads(1)
