"""Explanations: cnnkit.explain against Captum on the same model and batches, side by side.

small_cnn (untrained, seeded, float32, eval mode) on Fashion-MNIST test images (random images
where the files are absent). Both sides get the same explicit targets (the predicted classes,
computed once beforehand) so neither pays for a prediction pass the other skips.

- Grad-CAM: ``--gradcam-images`` images (default 1,000) in batches of ``--batch``; cnnkit's
  ``grad_cam`` against Captum's ``LayerGradCam`` (ReLU) plus ``LayerAttribution.interpolate``
  on the same layer, read channels-first through an ``nn.Identity`` probe (Captum's layer
  methods assume channels-first).
- Occlusion: ``--occlusion-images`` images (default 100), a 4x4 window with stride 2 (169
  patches per image); cnnkit's ``occlusion`` against Captum's ``Occlusion`` with its default
  ``perturbations_per_eval=1`` and with 16.

Rounds alternate the order of the runs; the table gives each run's median seconds and its
ratio to cnnkit (> 1: cnnkit is faster).

    python bench/bench_explain.py [--rounds 5] [--threads 2]
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's cnnkit

from captum.attr import LayerAttribution, LayerGradCam, Occlusion  # noqa: E402

from cnnkit import explain, zoo  # noqa: E402
from cnnkit.utils import set_random_seed  # noqa: E402

DATA = Path("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")


def load_images(n: int) -> np.ndarray:
    """(n, 28, 28, 1) float32 images in [0, 1]: Fashion-MNIST's test set, else random."""
    if DATA.exists():
        with gzip.open(DATA) as stream:
            pixels = np.frombuffer(stream.read(), dtype=np.uint8, offset=16)
        return (pixels.reshape(-1, 28, 28, 1)[:n] / 255).astype(np.float32)
    return np.random.default_rng(0).random((n, 28, 28, 1), dtype=np.float32)


@contextlib.contextmanager
def channels_first_probe(layer: nn.Module):
    """An ``nn.Identity`` that sees ``layer``'s output channels-first, for Captum."""
    probe = nn.Identity()
    handle = layer.register_forward_hook(
        lambda module, inputs, output: probe(output.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    )
    try:
        yield probe
    finally:
        handle.remove()


def captum_grad_cam(model, layer, images, targets, batch) -> np.ndarray:
    """Captum's Grad-CAM of every image, ``batch`` images per call."""
    forward = lambda x: model(x.permute(0, 2, 3, 1))  # noqa: E731
    maps = []
    with channels_first_probe(layer) as probe:
        method = LayerGradCam(forward, probe)
        for start in range(0, len(images), batch):
            x = torch.as_tensor(images[start : start + batch]).permute(0, 3, 1, 2)
            cam = method.attribute(x, target=targets[start : start + batch], relu_attributions=True)
            maps.append(LayerAttribution.interpolate(cam, (28, 28), "bilinear")[:, 0].detach())
    return torch.cat(maps).numpy()


def captum_occlusion(model, images, targets, per_eval) -> np.ndarray:
    """Captum's occlusion maps (4x4 window, stride 2, baseline 0) of every image."""
    occluder = Occlusion(lambda x: model(x.permute(0, 2, 3, 1)))
    x = torch.as_tensor(images).permute(0, 3, 1, 2)
    attributions = occluder.attribute(
        x, sliding_window_shapes=(1, 4, 4), strides=(1, 2, 2), baselines=0.0,
        target=targets, perturbations_per_eval=per_eval,
    )  # fmt: skip
    return attributions[:, 0].detach().numpy()


def timed(runs: dict[str, Callable[[], np.ndarray]], rounds: int) -> dict[str, list[float]]:
    """Seconds per run over ``rounds`` rounds, reversing the order every other round."""
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for name in names:  # warm up, and check the two sides agree
        runs[name]()
    for round_index in range(rounds):
        for name in names if round_index % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            runs[name]()
            seconds[name].append(time.perf_counter() - start)
    return seconds


def report(title: str, seconds: dict[str, list[float]]) -> None:
    """A markdown table: median seconds and the ratio to the first (cnnkit) run."""
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    reference = next(iter(medians.values()))
    print(f"\n{title}\n\n| run | median s | ratio to cnnkit |\n|---|---:|---:|")
    for name, median in medians.items():
        print(f"| {name} | {median:.3f} | {median / reference:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=250)
    parser.add_argument("--gradcam-images", type=int, default=1000)
    parser.add_argument("--occlusion-images", type=int, default=100)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    set_random_seed(0)
    model = zoo.get("small_cnn").eval()
    images = load_images(max(args.gradcam_images, args.occlusion_images))
    with torch.no_grad():
        targets = model(torch.as_tensor(images)).argmax(dim=1)
    layer = model.get_layer("activation_1")  # grad_cam's default layer for small_cnn

    cam_images, cam_targets = images[: args.gradcam_images], targets[: args.gradcam_images]
    ours = explain.grad_cam(model, cam_images, target=cam_targets, batch_size=args.batch)
    theirs = captum_grad_cam(model, layer, cam_images, cam_targets, args.batch)
    print(f"Grad-CAM max difference: {np.abs(ours - theirs).max():.2e} (max {theirs.max():.2e})")
    report(
        f"Grad-CAM, {len(cam_images)} images of 28x28, batches of {args.batch}",
        timed(
            {
                "cnnkit grad_cam": lambda: explain.grad_cam(
                    model, cam_images, target=cam_targets, batch_size=args.batch
                ),
                "Captum LayerGradCam + interpolate": lambda: captum_grad_cam(
                    model, layer, cam_images, cam_targets, args.batch
                ),
            },
            args.rounds,
        ),
    )

    occ_images, occ_targets = images[: args.occlusion_images], targets[: args.occlusion_images]
    ours = explain.occlusion(model, occ_images, target=occ_targets, window=4, stride=2)
    theirs = captum_occlusion(model, occ_images, occ_targets, 1)
    print(f"\nOcclusion max difference: {np.abs(ours - theirs).max():.2e}")
    report(
        f"Occlusion, {len(occ_images)} images, 4x4 window, stride 2 (169 patches per image)",
        timed(
            {
                "cnnkit occlusion": lambda: explain.occlusion(
                    model, occ_images, target=occ_targets, window=4, stride=2
                ),
                "Captum Occlusion (perturbations_per_eval=1)": lambda: captum_occlusion(
                    model, occ_images, occ_targets, 1
                ),
                "Captum Occlusion (perturbations_per_eval=16)": lambda: captum_occlusion(
                    model, occ_images, occ_targets, 16
                ),
            },
            args.rounds,
        ),
    )


if __name__ == "__main__":
    main()
