"""Neural attribution methods and faithfulness metrics with a Captum-style API."""

from ._base import GradientAttribution
from .agi import AGI
from .big import BIG
from .guided_ig import GuidedIG
from .input_x_gradient import InputXGradient
from .integrated_gradients import IntegratedGradients
from .isa import ISA
from .mfaba import MFABA
from .saliency import Saliency
from .smoothgrad import SmoothGrad

__all__ = [
    "AGI",
    "BIG",
    "GradientAttribution",
    "GuidedIG",
    "ISA",
    "InputXGradient",
    "IntegratedGradients",
    "MFABA",
    "Saliency",
    "SmoothGrad",
]

# Faithfulness metrics (``attribution.metrics``) and the evaluation harness.
from . import metrics  # noqa: E402
from .evaluate import evaluate  # noqa: E402

__all__ += ["evaluate", "metrics"]
