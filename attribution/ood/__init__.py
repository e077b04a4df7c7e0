"""Out-of-distribution detection: GAIA and the standard post-hoc baselines.

Every detector scores a batch with ``score(x) -> Tensor (N,)``, **higher = more
out-of-distribution** (pytorch-ood's convention); detectors that need in-distribution
statistics (:class:`ReAct`, :class:`RankFusion`) have ``fit(x_id)``.

>>> import torch
>>> from attribution.ood import Energy, ood_metrics
>>> model = torch.nn.Identity()
>>> s_id = Energy(model).score(torch.tensor([[5.0, 0.0], [0.0, 6.0]]))
>>> s_ood = Energy(model).score(torch.tensor([[0.1, 0.0], [0.0, 0.2]]))
>>> ood_metrics(s_id, s_ood)["auroc"]
1.0
"""

from ._base import OODDetector
from .energy import Energy
from .evaluate import evaluate_ood, plot_ood_roc, plot_ood_scores
from .fusion import RankFusion
from .gaia import GAIA
from .gradnorm import GradNorm
from .max_logit import MaxLogit
from .metrics import OODMetrics, ood_metrics, roc_curve_ood
from .msp import MSP
from .odin import ODIN
from .react import ReAct

__all__ = [
    "GAIA",
    "MSP",
    "ODIN",
    "Energy",
    "GradNorm",
    "MaxLogit",
    "OODDetector",
    "OODMetrics",
    "RankFusion",
    "ReAct",
    "evaluate_ood",
    "ood_metrics",
    "plot_ood_roc",
    "plot_ood_scores",
    "roc_curve_ood",
]
