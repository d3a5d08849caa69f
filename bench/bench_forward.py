"""Forward speed of the lecture's LeNet-5: cnnkit versus the same network written in torch.nn.

Run: python3 bench/bench_forward.py  (2 threads; prints images/s and the ratio per batch size)
Both models get identical weights; cnnkit takes channels-last (N, 32, 32, 1) images as its
users do, the hand-written model takes PyTorch's (N, 1, 32, 32). Runs are interleaved and the
median of each is reported.
"""

from __future__ import annotations

import statistics
import time

import torch
from torch import nn

import cnnkit


class HandWrittenLeNet5(nn.Module):
    """LeNet-5 as a PyTorch user writes it (NCHW, torch.nn layers)."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = nn.Conv2d(1, 6, 5), nn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)  # channels-last order, as Keras' Flatten
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return torch.softmax(self.fc3(x), dim=1)


def copy_weights(source: cnnkit.Sequential, target: HandWrittenLeNet5) -> None:
    convs = [layer for layer in source.layers if isinstance(layer, cnnkit.layers.Conv2D)]
    denses = [layer for layer in source.layers if isinstance(layer, cnnkit.layers.Dense)]
    with torch.no_grad():
        for ours, theirs in zip(
            convs + denses, [target.conv1, target.conv2, target.fc1, target.fc2, target.fc3]
        ):
            theirs.weight.copy_(ours.weight)
            theirs.bias.copy_(ours.bias)


def time_once(model, x, repeats: int) -> float:
    with torch.inference_mode():
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
        return time.perf_counter() - start


def main() -> None:
    torch.set_num_threads(2)
    ours = cnnkit.zoo.get("lenet5").eval()
    theirs = HandWrittenLeNet5().eval()
    copy_weights(ours, theirs)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    print(f"{'batch':>6} {'cnnkit img/s':>14} {'torch.nn img/s':>15} {'ratio':>7}")
    for batch in (1, 32, 128, 1024):
        x_last = torch.rand(batch, 32, 32, 1)
        x_first = x_last.permute(0, 3, 1, 2).contiguous()
        torch.testing.assert_close(ours(x_last), theirs(x_first))
        repeats = max(3, 4096 // batch)
        for _ in range(2):  # warm-up
            time_once(ours, x_last, repeats), time_once(theirs, x_first, repeats)
        ours_times, theirs_times = [], []
        for _ in range(7):
            ours_times.append(time_once(ours, x_last, repeats))
            theirs_times.append(time_once(theirs, x_first, repeats))
        ours_rate = batch * repeats / statistics.median(ours_times)
        theirs_rate = batch * repeats / statistics.median(theirs_times)
        print(
            f"{batch:>6} {ours_rate:>14,.0f} {theirs_rate:>15,.0f} {ours_rate / theirs_rate:>7.2f}"
        )


if __name__ == "__main__":
    main()
