"""Compress a network without deforming its explanations.

* :class:`AttributionMatchingLoss`: the weighted collapsed attribution matching
  regulariser of Park, Yang, Hwang and Yang (NeurIPS 2020), by double backprop.
* :func:`distill`: knowledge distillation plus the regulariser.
* :func:`prune_and_finetune`: magnitude pruning (global unstructured or by filters,
  one-shot or iterative) through ``torch.nn.utils.prune``, with fine-tuning.
* :func:`attribution_agreement`: teacher-student agreement of Grad-CAM, input x
  gradient and integrated-gradient maps, pointing game and faithfulness.
* :class:`EquationStudent`: distil a tabular network into an ECSEL signomial that
  matches the network's logits *and* its attributions (the teacher's integrated
  gradients against the student's exact, differentiable Shapley values).

The regulariser preserves the matched layer's map; input-level maps (input x
gradient, integrated gradients) move much less (see ``docs/bench/compression.md``).
"""

from ._agreement import (
    attribution_agreement,
    cosine_similarity,
    pointing_game,
    spearman,
    top_k_iou,
)
from ._equation import EquationStudent, teacher_attributions
from ._loss import AttributionMatchingLoss
from ._maps import collapsed_map, normalized_distance, resolve_layer
from ._train import distill, kd_loss, prune_and_finetune, sparsity

__all__ = [
    "AttributionMatchingLoss",
    "EquationStudent",
    "teacher_attributions",
    "attribution_agreement",
    "collapsed_map",
    "cosine_similarity",
    "distill",
    "kd_loss",
    "normalized_distance",
    "pointing_game",
    "prune_and_finetune",
    "resolve_layer",
    "sparsity",
    "spearman",
    "top_k_iou",
]
