"""Collapsed attribution maps of a layer: the quantity that the regulariser matches.

For a feature map ``A`` of shape ``(N, K, *spatial)`` at a chosen layer and a target
class ``c`` per example,

* ``"sensitivity"`` weighting (the authors' ``swa``): ``w_k = sum_ij dz_c / dA_kij`` and
  ``M = ReLU(sum_k w_k A_k)``; this is Grad-CAM times the number of spatial positions;
* ``"equal"`` weighting (``ewa``, attention-transfer style): ``M = mean_k A_k ** 2``.

Layers are given as modules or as dotted names (``"1.features"``), resolved with
:meth:`torch.nn.Module.get_submodule`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Union

import torch
from torch import Tensor, nn

__all__ = ["LayerType", "collapsed_map", "layer_activations", "resolve_layer"]

LayerType = Union[str, nn.Module]  # noqa: UP007
WEIGHTINGS = ("sensitivity", "equal")


def resolve_layer(model: nn.Module, layer: LayerType) -> nn.Module:
    """The submodule ``layer`` of ``model`` (a module of ``model`` or a dotted name).

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())
    >>> resolve_layer(net, "0") is net[0]
    True
    """
    if not isinstance(model, nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer)
        except AttributeError as error:
            names = [name for name, _ in model.named_modules() if name][:12]
            raise ValueError(
                f"model has no submodule {layer!r}; some of its submodules: {names}"
            ) from error
    if isinstance(layer, nn.Module):
        if not any(module is layer for module in model.modules()):
            raise ValueError(f"layer {type(layer).__name__} is not a submodule of the model")
        return layer
    raise ValueError(f"layer must be a module or a dotted name, got {type(layer).__name__}")


def layer_activations(
    model: nn.Module, layer: nn.Module, x: Tensor
) -> tuple[Tensor, Tensor]:
    """Run ``model(x)`` and return ``(outputs, activations of layer)``.

    A forward hook keeps the layer's output tensor inside the autograd graph, so
    gradients of the outputs with respect to it can be taken (and differentiated
    again); when nothing below the layer requires grad (a frozen teacher), the
    output is made a leaf that does. The hook is removed before returning.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.Flatten())
    >>> out, act = layer_activations(net, net[0], torch.zeros(4, 1, 5, 5))
    >>> tuple(out.shape), tuple(act.shape)
    ((4, 18), (4, 2, 3, 3))
    """
    store: list[Tensor] = []

    def hook(_module: nn.Module, _inputs: object, output: object) -> Tensor:
        if not isinstance(output, Tensor):
            raise ValueError(
                f"layer {type(_module).__name__} returns {type(output).__name__}; the matched "
                "layer must return one tensor"
            )
        if not output.requires_grad:
            # Frozen layers below (no parameter needs grad): make the map a leaf, so the
            # gradient of the scores with respect to it still exists.
            output = output.detach().requires_grad_()
        store.append(output)
        return output

    handle = layer.register_forward_hook(hook)
    try:
        outputs = model(x)
    finally:
        handle.remove()
    if not store:
        raise ValueError(f"layer {type(layer).__name__} was not called by the model's forward")
    if len(store) > 1:
        raise ValueError(
            f"layer {type(layer).__name__} was called {len(store)} times in one forward pass; "
            "match a layer that runs once"
        )
    if not isinstance(outputs, Tensor) or outputs.dim() != 2:
        shape = tuple(outputs.shape) if isinstance(outputs, Tensor) else type(outputs).__name__
        raise ValueError(f"the model must return class scores of shape (N, C), got {shape}")
    activation = store[0]
    if activation.dim() < 3:
        raise ValueError(
            f"the matched layer returns shape {tuple(activation.shape)}; a collapsed map needs "
            "a feature map (N, K, *spatial) with at least one spatial dimension"
        )
    return outputs, activation


def _channel_keep(
    shape: tuple[int, int], drop: float, generator: torch.Generator | None, device: torch.device
) -> Tensor:
    """0/1 mask (N, K) that zeroes ``round(drop * K)`` random channels per example."""
    n, k = shape
    n_drop = int(round(drop * k))
    scores = torch.rand((n, k), generator=generator)
    keep = torch.ones((n, k))
    if n_drop:
        keep.scatter_(1, scores.argsort(dim=1)[:, :n_drop], 0.0)
    return keep.to(device)


def collapsed_map(
    model: nn.Module,
    layer: LayerType,
    x: Tensor,
    target: Tensor | None = None,
    *,
    weighting: str = "sensitivity",
    create_graph: bool = False,
    channel_drop: float = 0.0,
    generator: torch.Generator | None = None,
) -> tuple[Tensor, Tensor]:
    r"""The collapsed map of ``layer`` and the explained class per example.

    .. math:: M = \mathrm{ReLU}\Big(\sum_k w_k A_k\Big),\quad
              w_k = \sum_{ij} \frac{\partial z_c}{\partial A_{k,ij}}

    for ``weighting="sensitivity"``, and :math:`M = \mathrm{mean}_k A_k^2` for
    ``"equal"``.

    Parameters
    ----------
    model : nn.Module
        Returns class scores ``(N, C)``.
    layer : nn.Module or str
        The matched layer (a submodule or its dotted name); its output is ``A``.
    x : Tensor
        ``(N, ...)`` inputs.
    target : Tensor, optional
        Class per example; ``None`` takes the model's argmax.
    weighting : {"sensitivity", "equal"}, default "sensitivity"
    create_graph : bool, default False
        Keep the graph of the gradient (double backprop), so that the map can be
        differentiated with respect to the model's parameters.
    channel_drop : float, default 0.0
        Fraction of channels zeroed at random per example before collapsing
        (stochastic matching; drawn from ``generator``).
    generator : torch.Generator, optional
        CPU generator for ``channel_drop``.

    Returns
    -------
    (Tensor, Tensor)
        The maps ``(N, *spatial)`` and the targets ``(N,)``.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Conv2d(1, 3, 3), torch.nn.Flatten(),
    ...                           torch.nn.Linear(27, 2))
    >>> maps, target = collapsed_map(net, "0", torch.rand(4, 1, 5, 5))
    >>> tuple(maps.shape), bool((maps >= 0).all())
    ((4, 3, 3), True)
    """
    if weighting not in WEIGHTINGS:
        raise ValueError(f"weighting must be one of {WEIGHTINGS}, got {weighting!r}")
    if not 0.0 <= channel_drop < 1.0:
        raise ValueError(f"channel_drop must be in [0, 1), got {channel_drop!r}")
    module = resolve_layer(model, layer)
    with torch.enable_grad():
        outputs, activation = layer_activations(model, module, x)
        if target is None:
            target = outputs.detach().argmax(dim=1)
        target = target.to(outputs.device).long().view(-1)
        if channel_drop > 0:
            keep = _channel_keep(activation.shape[:2], channel_drop, generator, activation.device)
            activation_used = activation * keep.view(*keep.shape, *[1] * (activation.dim() - 2))
        else:
            activation_used = activation
        if weighting == "equal":
            return activation_used.pow(2).mean(dim=1), target
        score = outputs.gather(1, target.view(-1, 1)).sum()
        (grads,) = torch.autograd.grad(score, activation, create_graph=create_graph)
        spatial = tuple(range(2, activation.dim()))
        weights = grads.sum(dim=spatial, keepdim=True)
        maps = torch.relu((weights * activation_used).sum(dim=1))
    return maps, target


def normalized_distance(teacher_maps: Tensor, student_maps: Tensor) -> Tensor:
    """Mean squared difference of the per-example L2-normalised flattened maps.

    This is the authors' ``cal_l2loss``: ``F.normalize`` on flattened maps, then the
    mean of the squared difference over examples and positions. All-zero maps stay
    zero (``F.normalize``'s epsilon).

    Examples
    --------
    >>> import torch
    >>> a = torch.rand(2, 3, 3)
    >>> round(float(normalized_distance(a, 5.0 * a)), 12)
    0.0
    """
    if teacher_maps.shape[0] != student_maps.shape[0]:
        raise ValueError("teacher and student maps need the same number of examples")
    t = nn.functional.normalize(teacher_maps.flatten(1), dim=1)
    s = nn.functional.normalize(student_maps.flatten(1), dim=1)
    if t.shape != s.shape:
        raise ValueError(
            f"teacher maps {tuple(teacher_maps.shape)} and student maps "
            f"{tuple(student_maps.shape)} have different sizes: match layers with the "
            "same spatial resolution"
        )
    return (t - s).pow(2).mean()


MapFn = Callable[..., tuple[Tensor, Tensor]]
