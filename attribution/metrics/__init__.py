"""Faithfulness metrics that score closed-form (ECSEL) and neural attributions alike.

Every metric is a function ``metric(forward_func, inputs, attributions, target, ...)``
returning one score per sample, with a class form (``Metric(forward_func, **options)``,
``update``/``compute``) that shares the implementation. Each class states
``higher_is_better`` and ``data_applicability``.

=========================  ===============  ===========================
metric                     better           data
=========================  ===============  ===========================
insertion                  higher           image, tabular, time series
deletion                   lower            image, tabular, time series
pixel_flipping (MoRF)      lower            image, tabular, time series
region_perturbation (MoRF) higher (AOPC)    image
faithfulness_correlation   higher           image, tabular, time series
infidelity                 lower            image, tabular, time series
sensitivity_max            lower            image, tabular, time series
completeness_error         lower            image, tabular, time series
monotonicity               higher (True)    image, tabular, time series
=========================  ===============  ===========================
"""

from ._base import Metric
from ._curves import CurveResult
from .completeness import CompletenessError, completeness_error
from .faithfulness_correlation import FaithfulnessCorrelation, faithfulness_correlation
from .infidelity import Infidelity, infidelity
from .insertion_deletion import Deletion, Insertion, deletion, insertion
from .monotonicity import Monotonicity, monotonicity
from .pixel_flipping import PixelFlipping, RegionPerturbation, pixel_flipping, region_perturbation
from .sensitivity import SensitivityMax, sensitivity_max

__all__ = [
    "CompletenessError",
    "CurveResult",
    "Deletion",
    "FaithfulnessCorrelation",
    "Infidelity",
    "Insertion",
    "Metric",
    "Monotonicity",
    "PixelFlipping",
    "RegionPerturbation",
    "SensitivityMax",
    "completeness_error",
    "deletion",
    "faithfulness_correlation",
    "infidelity",
    "insertion",
    "monotonicity",
    "pixel_flipping",
    "region_perturbation",
    "sensitivity_max",
]
