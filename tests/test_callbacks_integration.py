"""All callbacks together in a real (tiny) PyTorch training loop that uses only the contract."""

from __future__ import annotations

import csv
import io

import numpy as np
import torch
from safetensors.numpy import load_file, save_file

from cnnkit.callbacks import (
    CallbackList,
    CSVLogger,
    EarlyStopping,
    ModelCheckpoint,
    ReduceLROnPlateau,
    TensorBoard,
    TerminateOnNaN,
)
from cnnkit.callbacks._progbar import ProgbarLogger


class LR:
    """Exposes ``learning_rate`` of a torch optimizer as a float, as the contract says."""

    def __init__(self, optimizer):
        self._optimizer = optimizer

    @property
    def learning_rate(self):
        return self._optimizer.param_groups[0]["lr"]

    @learning_rate.setter
    def learning_rate(self, value):
        for group in self._optimizer.param_groups:
            group["lr"] = value


class TinyModel:
    """A linear regressor with the Keras-style surface callbacks rely on."""

    def __init__(self):
        torch.manual_seed(0)
        self.net = torch.nn.Linear(3, 1)
        self.torch_optimizer = torch.optim.SGD(self.net.parameters(), lr=0.1)
        self.optimizer = LR(self.torch_optimizer)
        self.stop_training = False

    def get_weights(self):
        return [p.detach().numpy() for p in self.net.parameters()]  # views, like tensor.numpy()

    def set_weights(self, weights):
        with torch.no_grad():
            for p, w in zip(self.net.parameters(), weights, strict=True):
                p.copy_(torch.as_tensor(w))

    def save_weights(self, filepath):
        save_file({str(i): w.copy() for i, w in enumerate(self.get_weights())}, filepath)

    save = save_weights

    def fit(self, x, y, x_val, y_val, epochs, callbacks, batch_size=8):
        steps = len(x) // batch_size
        cbs = CallbackList(
            callbacks, add_history=True, model=self, epochs=epochs, steps=steps, verbose=1
        )
        cbs.on_train_begin()
        for epoch in range(epochs):
            cbs.on_epoch_begin(epoch)
            total = 0.0
            for batch in range(steps):
                cbs.on_train_batch_begin(batch)
                rows = slice(batch * batch_size, (batch + 1) * batch_size)
                xb, yb = x[rows], y[rows]
                loss = torch.nn.functional.mse_loss(self.net(xb), yb)
                self.torch_optimizer.zero_grad()
                loss.backward()
                self.torch_optimizer.step()
                total += loss.item()
                cbs.on_train_batch_end(batch, {"loss": total / (batch + 1)})
            with torch.no_grad():
                val_loss = torch.nn.functional.mse_loss(self.net(x_val), y_val).item()
            cbs.on_epoch_end(epoch, {"loss": total / steps, "val_loss": val_loss})
            if self.stop_training:
                break
        cbs.on_train_end()
        return cbs.history


def test_callbacks_cooperate_in_a_real_loop(tmp_path):
    g = torch.Generator().manual_seed(1)
    w = torch.tensor([[1.0], [-2.0], [0.5]])
    x = torch.randn(32, 3, generator=g)
    y = x @ w
    x_val = torch.randn(16, 3, generator=g)
    y_val = x_val @ (0.7 * w)  # a shifted target: val_loss improves, then gets worse
    model = TinyModel()
    out = io.StringIO()
    stop = EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(
        x,
        y,
        x_val,
        y_val,
        epochs=30,
        callbacks=[
            ProgbarLogger(stream=out),
            stop,
            ModelCheckpoint(tmp_path / "best.safetensors", save_best_only=True),
            ReduceLROnPlateau(patience=1, factor=0.5),
            CSVLogger(tmp_path / "log.csv"),
            TensorBoard(tmp_path / "tb"),
            TerminateOnNaN(),
        ],
    )
    epochs_run = len(history.epoch)
    assert 3 <= epochs_run < 30 and stop.stopped_epoch == epochs_run - 1
    best = int(np.argmin(history.history["val_loss"]))
    assert stop.best_epoch == best > 0
    # the restored weights are those of the best epoch, which is also the checkpoint
    saved = load_file(str(tmp_path / "best.safetensors"))
    for i, w in enumerate(model.get_weights()):
        np.testing.assert_array_equal(w, saved[str(i)])
    with open(tmp_path / "log.csv", newline="") as f:
        assert len(list(csv.reader(f))) == epochs_run + 1
    assert out.getvalue().count("Epoch ") == epochs_run
    assert out.getvalue().count(" - val_loss: ") == epochs_run
    assert "learning_rate" in history.history
    assert (tmp_path / "tb" / "train").is_dir() and (tmp_path / "tb" / "validation").is_dir()
