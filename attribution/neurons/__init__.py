"""Neuron attribution (NAM-style): which hidden neurons drive an output, and editing them.

Neuron-to-output importance, as Captum's ``Layer*`` family computes it for a layer (not a
neuron's attribution to the inputs, Captum's ``Neuron*`` family):

* :class:`NeuronAttribution`: ``direct`` (NAM / Pan et al.: activation x projection of the
  neuron's output weights on the readout, one forward pass), ``activation``, ``gradient``,
  ``grad_x_act`` and ``integrated_gradients`` scores, shape ``(n_layers, n_neurons)``;
* :func:`find_concept_neurons`: top-k neurons of a concept over several prompts;
* :func:`ablate`: zero- or mean-ablation inside a ``with`` block;
* :func:`edit_neurons`: move the output weights toward another target, with a bit-exact undo;
* :func:`neuron_deletion` / :func:`neuron_insertion`: faithfulness curves over neurons.

Layouts: Llama-style ``mlp.down_proj``, GPT-2-style ``mlp.c_proj``, BERT-style
``output.dense``, plus any ``nn.Linear`` or convolution (its input features / channels).
"""

from ._attribution import NEURON_METHODS, NeuronAttribution
from ._concepts import find_concept_neurons
from ._curves import neuron_deletion, neuron_insertion
from ._intervene import EditHandle, NeuronSet, ablate, edit_neurons
from ._layout import Layout, NeuronLayer, resolve_layout

__all__ = [
    "NEURON_METHODS",
    "EditHandle",
    "Layout",
    "NeuronAttribution",
    "NeuronLayer",
    "NeuronSet",
    "ablate",
    "edit_neurons",
    "find_concept_neurons",
    "neuron_deletion",
    "neuron_insertion",
    "resolve_layout",
]
