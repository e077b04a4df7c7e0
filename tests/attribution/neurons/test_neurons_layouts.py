"""Module-layout adapters: tiny random Llama, GPT-2 and BERT (built from configs, nothing
downloaded), plain convolutions, and the pretrained ccexam MNIST CNN."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from attribution.neurons import NeuronAttribution, ablate, edit_neurons, neuron_deletion
from attribution.neurons._layout import norm_sigma

transformers = pytest.importorskip("transformers")


def _frozen_norm(norm: nn.Module, x_clean: torch.Tensor):
    """Forward hook: the norm at the sigma of its clean input (affine in its input)."""
    sigma = norm_sigma(norm, x_clean)
    layer = "LayerNorm" in type(norm).__name__

    gain = norm.weight + 1 if type(norm).__name__.startswith("Gemma") else norm.weight

    def hook(module, args, out):
        h = args[0]
        if layer:
            return gain * (h - h.mean(-1, keepdim=True)) / sigma + module.bias
        return gain * h / sigma

    return norm.register_forward_hook(hook)


def _grab_input(module: nn.Module, ids) -> tuple[torch.Tensor, torch.Tensor]:
    store = {}
    h = module.register_forward_pre_hook(lambda m, a: store.__setitem__("x", a[0].detach()))
    return store, h


#: The size of every tiny Llama-style decoder here (2 layers of 16 units, grouped-query).
TINY_DECODER = {
    "hidden_size": 16,
    "intermediate_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_key_value_heads": 1,
    "max_position_embeddings": 32,
}


def _tiny(kind: str):
    torch.manual_seed(0)
    if kind == "llama":
        cfg = transformers.LlamaConfig(vocab_size=50, tie_word_embeddings=True, **TINY_DECODER)
        model = transformers.LlamaForCausalLM(cfg)
        with torch.no_grad():
            model.model.norm.weight.uniform_(0.5, 1.5)
        return model.eval(), model.model.norm
    cfg = transformers.GPT2Config(vocab_size=50, n_embd=16, n_layer=2, n_head=2, n_positions=32)
    model = transformers.GPT2LMHeadModel(cfg)
    with torch.no_grad():
        model.transformer.ln_f.weight.uniform_(0.5, 1.5)
        model.transformer.ln_f.bias.uniform_(-0.2, 0.2)
    return model.eval(), model.transformer.ln_f


@pytest.mark.parametrize("kind", ["llama", "gpt2"])
def test_causal_lm_layouts_direct_score_is_exact_at_fixed_sigma(kind, single_thread):
    model, final_norm = _tiny(kind)
    na = NeuronAttribution(model)  # layers="mlp", readout="unembedding"
    assert na.layout.family == kind and na.n_layers == 2
    assert na.n_neurons == (24 if kind == "llama" else 64)
    ids = torch.tensor([[3, 7, 1, 9, 4], [5, 2, 8, 8, 1]])
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])  # row 2 explains position 2
    inputs = {"input_ids": ids, "attention_mask": mask}
    target = torch.tensor([11, 30])
    scores = na.attribute(inputs, target=target)
    store, h = _grab_input(final_norm, ids)
    with torch.no_grad():
        out = model(**inputs).logits
    h.remove()
    rows, pos = torch.arange(2), torch.tensor([4, 2])
    clean = out[rows, pos, target]
    hook = _frozen_norm(final_norm, store["x"])
    try:
        for k in range(0, na.n_neurons, 5):
            with torch.no_grad(), ablate(model, [(1, k)]):
                changed = model(**inputs).logits[rows, pos, target]
            torch.testing.assert_close(scores[:, 1, k], clean - changed, rtol=1e-4, atol=1e-5)
    finally:
        hook.remove()
    # a string-free per-row target and the gradient methods run on the same layout
    g = NeuronAttribution(model, method="grad_x_act").attribute(inputs, target=target)
    assert g.shape == scores.shape and bool(torch.isfinite(g).all())


def test_gpt2_edit_undo_is_bit_exact(single_thread):
    model, _ = _tiny("gpt2")
    na = NeuronAttribution(model)
    w = model.transformer.h[1].mlp.c_proj.weight.detach().clone()
    ids = torch.tensor([[3, 7, 1, 9]])
    before = model(ids).logits[0, -1]
    handle = edit_neurons(na, [(1, 0), (1, 5)], old=3, new=4, signs=torch.tensor([1.0, -1.0]))
    after = model(ids).logits[0, -1]
    assert not torch.equal(before, after)
    handle.undo()
    assert torch.equal(model.transformer.h[1].mlp.c_proj.weight, w)
    assert torch.equal(model(ids).logits[0, -1], before)


def test_bert_post_ln_chain_and_probe_readout(single_thread):
    torch.manual_seed(0)
    cfg = transformers.BertConfig(
        vocab_size=40,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=20,
        max_position_embeddings=16,
    )
    model = transformers.BertModel(cfg).eval()
    with pytest.raises(ValueError, match="BERT-style"):
        NeuronAttribution(model)
    probe = torch.randn(16)
    na = NeuronAttribution(model, readout=probe)
    assert na.layout.family == "bert" and len(na.layout.layers[0].norms) == 3
    ids = torch.tensor([[2, 5, 9, 3]])
    scores = na.attribute(ids, target=0)  # one direction: target unused
    last_ln = model.encoder.layer[1].output.LayerNorm
    store, h = _grab_input(last_ln, ids)
    with torch.no_grad():
        clean = model(ids).last_hidden_state[0, -1] @ probe
    h.remove()
    hook = _frozen_norm(last_ln, store["x"])
    try:
        for k in range(20):
            with torch.no_grad(), ablate(na, [(1, k)]):
                changed = model(ids).last_hidden_state[0, -1] @ probe
            torch.testing.assert_close(scores[1, k], clean - changed, rtol=1e-4, atol=1e-5)
    finally:
        hook.remove()
    # the gradient methods explain the same scalar <probe, last hidden state>
    grad = NeuronAttribution(model, readout=probe, method="gradient").attribute(ids, target=0)
    eps = 1e-3
    with torch.no_grad():
        d = model.encoder.layer[1].output.dense

        def bump(m, a):
            x = a[0].clone()
            x[0, -1, 3] += eps
            return (x,)

        hh = d.register_forward_pre_hook(bump)
        up = model(ids).last_hidden_state[0, -1] @ probe
        hh.remove()
    torch.testing.assert_close(grad[1, 3], (up - clean) / eps, rtol=2e-2, atol=2e-3)


class TinyCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(4, 3, 3, padding=1)
        self.head = nn.Linear(3, 2)

    def forward(self, x):
        h = torch.relu(self.conv1(x))
        h = torch.relu(self.conv2(h))
        return self.head(h.mean((2, 3)))


def test_conv_channels_match_captum_and_direct_is_exact(single_thread):
    captum = pytest.importorskip("captum.attr")
    torch.manual_seed(0)
    net = TinyCNN().double().eval()
    x = torch.rand(3, 1, 6, 6, dtype=torch.float64)
    gxa = NeuronAttribution(net, layers=[net.conv2], method="grad_x_act").attribute(x, target=1)
    ref = captum.LayerGradientXActivation(net, net.conv2).attribute(
        x, target=1, attribute_to_layer_input=True
    )
    torch.testing.assert_close(gxa[:, 0], ref.sum((2, 3)))
    ig = NeuronAttribution(
        net, layers=[net.conv2], method="integrated_gradients", n_steps=6
    ).attribute(x, target=1)
    ref_ig = captum.LayerIntegratedGradients(net, net.conv2).attribute(
        x, baselines=torch.zeros_like(x), target=1, attribute_to_layer_input=True, n_steps=6
    )
    torch.testing.assert_close(ig[:, 0], ref_ig.sum((2, 3)), rtol=1e-7, atol=1e-9)
    # direct with a readout over conv2's output channels: exact change of <R, conv2(a)>
    r = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64)
    na = NeuronAttribution(net, layers=[net.conv2], readout=r)
    direct = na.attribute(x, target=0)
    store, h = _grab_input(net.conv2, x)
    net(x)
    h.remove()
    a = store["x"]

    def read(inp):
        return (net.conv2._conv_forward(inp, net.conv2.weight, None) * r.view(1, 3, 1, 1)).sum(
            (1, 2, 3)
        )

    for k in range(4):
        off = a.clone()
        off[:, k] = 0
        torch.testing.assert_close(direct[:, 0, k], read(a) - read(off))
    with pytest.raises(ValueError, match="convolution"):
        NeuronAttribution(net, layers=[net.conv2]).attribute(x, target=0)


def test_mnist_cnn_hidden_units_direct_is_exact_logit_change(single_thread):
    from attribution.testing import load_mnist_cnn

    model = load_mnist_cnn()
    head = model[1].classifier[2]
    na = NeuronAttribution(model, layers=[head])  # the layer output is the logits
    torch.manual_seed(0)
    x = torch.rand(4, 1, 28, 28)
    scores = na.attribute(x, target=torch.tensor([0, 3, 5, 9]))
    assert scores.shape == (4, 1, head.in_features)
    with torch.no_grad():
        clean = model(x)[torch.arange(4), torch.tensor([0, 3, 5, 9])]
        for k in (0, 7, 42, 127):
            with ablate(na, [(0, k)]):
                changed = model(x)[torch.arange(4), torch.tensor([0, 3, 5, 9])]
            torch.testing.assert_close(scores[:, 0, k], clean - changed, rtol=1e-4, atol=1e-5)
    # deleting the top direct units lowers the logit faster than deleting by activation
    target = torch.tensor([0, 3, 5, 9])
    d_auc = neuron_deletion(na, x, target=target, n_steps=8, n_ranked=32, score="logit")
    act = NeuronAttribution(model, layers=[head], method="activation").attribute(
        x, target=target, keep_batch=True
    )
    a_auc = neuron_deletion(na, x, act, target=target, n_steps=8, n_ranked=32, score="logit")
    assert bool((d_auc < a_auc).all())


def test_gemma2_post_feedforward_norm_is_folded(single_thread):
    """Gemma-2 norms the MLP output again (gain 1 + weight) before the residual sum."""
    torch.manual_seed(0)
    cfg = transformers.Gemma2Config(
        vocab_size=40,
        head_dim=8,
        final_logit_softcapping=None,
        attn_logit_softcapping=None,
        **TINY_DECODER,
    )
    model = transformers.Gemma2ForCausalLM(cfg).eval()
    with torch.no_grad():
        for n, p in model.named_parameters():
            if n.endswith("layernorm.weight") or n.endswith("norm.weight"):
                p.uniform_(-0.5, 0.5)
    na = NeuronAttribution(model)
    post = model.model.layers[1].post_feedforward_layernorm
    assert na.layout.layers[1].norms == (post, model.model.norm)
    ids = torch.tensor([[3, 7, 1, 9]])
    scores = na.attribute(ids, target=5)
    s_post, h1 = _grab_input(post, ids)
    s_fin, h2 = _grab_input(model.model.norm, ids)
    with torch.no_grad():
        clean = model(ids).logits[0, -1, 5]
    h1.remove()
    h2.remove()
    hooks = [_frozen_norm(post, s_post["x"]), _frozen_norm(model.model.norm, s_fin["x"])]
    try:
        for k in range(0, 24, 4):
            with torch.no_grad(), ablate(model, [(1, k)]):
                changed = model(ids).logits[0, -1, 5]
            torch.testing.assert_close(scores[1, k], clean - changed, rtol=1e-4, atol=1e-5)
    finally:
        for h in hooks:
            h.remove()
