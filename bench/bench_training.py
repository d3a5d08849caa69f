"""Training and predict throughput of the lecture's LeNet-5: cnnkit vs hand-written PyTorch vs Keras 3.

Run: python3 bench/bench_training.py [--runs 6] [--train-size 20000]
Fashion-MNIST padded to 32x32, batch 128, Adam, 2 threads; one epoch per run. The three are
measured interleaved in one process, each round starting with a different one, and the
median of the runs is reported. The hand-written
loop is the fast PyTorch idiom: data as tensors in memory, a randperm per epoch, logits with
F.cross_entropy, torch.optim.Adam.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from bench_forward import HandWrittenLeNet5  # noqa: E402
from fashion import lenet_data  # noqa: E402

import cnnkit  # noqa: E402

BATCH = 128


def hand_written_epoch(model, optimizer, x, y) -> None:
    model.train()
    order = torch.randperm(len(x))
    for start in range(0, len(x), BATCH):
        index = order[start : start + BATCH]
        xb, yb = x[index], y[index]
        optimizer.zero_grad(set_to_none=True)
        logits = model.logits(xb)
        loss = F.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()


def hand_written_predict(model, x) -> np.ndarray:
    model.eval()
    with torch.inference_mode():
        return torch.cat([model(x[s : s + BATCH]) for s in range(0, len(x), BATCH)]).numpy()


class LogitsLeNet5(HandWrittenLeNet5):
    def logits(self, x):
        x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = x.permute(0, 2, 3, 1).flatten(1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def keras_lenet5():
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((32, 32, 1)),
            layers.Conv2D(6, 5, activation="tanh"),
            layers.AveragePooling2D(2),
            layers.Conv2D(16, 5, activation="tanh"),
            layers.AveragePooling2D(2),
            layers.Flatten(),
            layers.Dense(120, activation="relu"),
            layers.Dense(84, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--train-size", type=int, default=20000)
    args = parser.parse_args()
    torch.set_num_threads(2)
    x_train, y_train, x_test, y_test = lenet_data(args.train_size)
    one_hot = cnnkit.utils.to_categorical(y_train, 10)

    ours = cnnkit.zoo.get("lenet5")
    ours.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    theirs = LogitsLeNet5()
    theirs_optimizer = torch.optim.Adam(theirs.parameters(), lr=1e-3, eps=1e-7)
    x_nchw = torch.from_numpy(x_train).permute(0, 3, 1, 2).contiguous()
    y_tensor = torch.from_numpy(y_train)
    x_test_nchw = torch.from_numpy(x_test).permute(0, 3, 1, 2).contiguous()
    reference = keras_lenet5()

    runs = {name: {"train": [], "predict": []} for name in ("cnnkit", "hand-written", "keras")}
    jobs = {
        "cnnkit": (
            lambda: ours.fit(x_train, one_hot, batch_size=BATCH, epochs=1, verbose=0),
            lambda: ours.predict(x_test, batch_size=BATCH, verbose=0),
        ),
        "hand-written": (
            lambda: hand_written_epoch(theirs, theirs_optimizer, x_nchw, y_tensor),
            lambda: hand_written_predict(theirs, x_test_nchw),
        ),
        "keras": (
            lambda: reference.fit(x_train, one_hot, batch_size=BATCH, epochs=1, verbose=0),
            lambda: reference.predict(x_test, batch_size=BATCH, verbose=0),
        ),
    }
    names = list(jobs)
    for run in range(args.runs + 1):  # the first round warms up and is dropped
        # Each round starts with a different contender, so none always runs right after the
        # same one (whose allocations and cache contents it would inherit).
        order = names[run % len(names) :] + names[: run % len(names)]
        times = {name: (timed(jobs[name][0]), timed(jobs[name][1])) for name in order}
        if run:
            for name, (train, predict) in times.items():
                runs[name]["train"].append(len(x_train) / train)
                runs[name]["predict"].append(len(x_test) / predict)
    accuracy = (ours.predict(x_test, verbose=0).argmax(1) == y_test).mean()
    print(
        f"torch {torch.__version__}, keras {keras.__version__}, threads {torch.get_num_threads()}, "
        f"{len(x_train)} training images, {args.runs} runs (median); cnnkit test accuracy {accuracy:.3f}"
    )
    print(f"{'':14}{'train img/s':>12}{'predict img/s':>15}")
    medians = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in runs.items()}
    for name, m in medians.items():
        print(f"{name:14}{m['train']:>12,.0f}{m['predict']:>15,.0f}")
    for peer in ("hand-written", "keras"):
        print(
            f"cnnkit / {peer:13} train {medians['cnnkit']['train'] / medians[peer]['train']:.2f}x   "
            f"predict {medians['cnnkit']['predict'] / medians[peer]['predict']:.2f}x"
        )


if __name__ == "__main__":
    main()
