"""TensorBoard event files, read back with TensorBoard's own EventAccumulator."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from callback_fakes import FakeModel
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cnnkit.callbacks import TensorBoard

EPOCH_LOGS = [
    {"loss": 1.0, "accuracy": 0.25, "val_loss": 1.5, "val_accuracy": 0.125},
    {"loss": 0.5, "accuracy": 0.5, "val_loss": 1.25, "val_accuracy": 0.25},
    {"loss": 0.25, "accuracy": 0.75, "val_loss": 1.0, "val_accuracy": 0.5},
]


def _read(folder):
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    acc.Reload()
    return acc


def _scalars(acc, tag):
    return [(e.step, e.value) for e in acc.Scalars(tag)]


def _fit(cb, model, epoch_logs=EPOCH_LOGS, steps=3, end=True):
    cb.set_model(model)
    cb.on_train_begin()
    for epoch, logs in enumerate(epoch_logs):
        cb.on_epoch_begin(epoch)
        for batch in range(steps):
            cb.on_train_batch_begin(batch)
            cb.on_train_batch_end(batch, {"loss": 10.0 * epoch + batch})
        cb.on_epoch_end(epoch, dict(logs))
    if end:
        cb.on_train_end()


def test_epoch_scalars_go_to_train_and_validation_under_keras_tags(tmp_path):
    _fit(TensorBoard(tmp_path), FakeModel(learning_rate=0.5))
    train, val = _read(tmp_path / "train"), _read(tmp_path / "validation")
    assert _scalars(train, "epoch_loss") == [(0, 1.0), (1, 0.5), (2, 0.25)]
    assert _scalars(train, "epoch_accuracy") == [(0, 0.25), (1, 0.5), (2, 0.75)]
    assert _scalars(train, "epoch_learning_rate") == [(0, 0.5), (1, 0.5), (2, 0.5)]
    assert _scalars(val, "epoch_loss") == [(0, 1.5), (1, 1.25), (2, 1.0)]
    assert _scalars(val, "epoch_accuracy") == [(0, 0.125), (1, 0.25), (2, 0.5)]
    assert not any(t.startswith("batch_") for t in train.Tags()["scalars"])
    assert set(val.Tags()["scalars"]) == {"epoch_loss", "epoch_accuracy"}


def test_scalars_are_readable_while_training_runs(tmp_path):
    cb = TensorBoard(tmp_path)
    _fit(cb, FakeModel(), EPOCH_LOGS[:2], end=False)
    assert len(_read(tmp_path / "train").Scalars("epoch_loss")) == 2
    cb.on_train_end()


def test_no_learning_rate_without_an_optimizer(tmp_path):
    model = FakeModel()
    del model.optimizer
    _fit(TensorBoard(tmp_path), model)
    assert "epoch_learning_rate" not in _read(tmp_path / "train").Tags()["scalars"]


@pytest.mark.parametrize(("update_freq", "steps"), [("batch", list(range(1, 10))), (4, [4, 8])])
def test_batch_scalars_at_the_global_batch_number(tmp_path, update_freq, steps):
    _fit(TensorBoard(tmp_path, update_freq=update_freq), FakeModel())
    logged = _scalars(_read(tmp_path / "train"), "batch_loss")
    assert [s for s, _ in logged] == steps
    # global batch g is batch (g-1) % 3 of epoch (g-1) // 3, whose loss is 10*epoch + batch
    assert [v for _, v in logged] == [10.0 * ((s - 1) // 3) + (s - 1) % 3 for s in steps]


class Layer(torch.nn.Module):
    """A layer as the lead's model may expose it: a torch module with name and get_weights."""

    def __init__(self, name, module):
        super().__init__()
        self.name, self.inner = name, module

    def get_weights(self):
        return [p.detach().numpy().copy() for p in self.inner.parameters()]


class LayeredModel(FakeModel):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.layers = [
            Layer("conv2d", torch.nn.Conv2d(1, 2, 3)),
            Layer("dense", torch.nn.Linear(4, 2)),
        ]


def test_weight_histograms_every_histogram_freq_epochs_named_by_layer(tmp_path):
    model = LayeredModel()
    _fit(TensorBoard(tmp_path, histogram_freq=2), model, EPOCH_LOGS * 2)  # 6 epochs
    train = _read(tmp_path / "train")
    assert set(train.Tags()["histograms"]) == {
        "conv2d/inner.weight/histogram",
        "conv2d/inner.bias/histogram",
        "dense/inner.weight/histogram",
        "dense/inner.bias/histogram",
    }
    events = train.Histograms("dense/inner.weight/histogram")
    assert [e.step for e in events] == [0, 2, 4]
    weight = model.layers[1].inner.weight.detach().numpy()
    hist = events[0].histogram_value
    assert hist.num == weight.size
    assert hist.min == pytest.approx(weight.min()) and hist.max == pytest.approx(weight.max())
    assert hist.sum == pytest.approx(weight.sum(), abs=1e-6)


def test_histograms_fall_back_to_get_weights_and_skip_non_finite_values(tmp_path):
    class Diverged(FakeModel):
        def get_weights(self):
            return [np.array([1.0, np.nan, 3.0]), np.array([np.inf])]

    _fit(TensorBoard(tmp_path, histogram_freq=1), Diverged(), EPOCH_LOGS[:1])
    train = _read(tmp_path / "train")
    assert train.Tags()["histograms"] == ["weight_0/histogram"]
    assert train.Histograms("weight_0/histogram")[0].histogram_value.num == 2


def test_write_graph_writes_the_architecture_as_text(tmp_path):
    model = LayeredModel()
    _fit(TensorBoard(tmp_path, write_graph=True), model, EPOCH_LOGS[:1])
    text = _read(tmp_path / "train").Tensors("model/text_summary")[0].tensor_proto.string_val[0]
    assert text.decode() == f"```\n{model!r}\n```"


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"update_freq": "step"},
            ValueError,
            r"update_freq must be 'epoch', 'batch' or an int >= 1\. Received: update_freq='step'",
        ),
        ({"update_freq": 0}, ValueError, r"update_freq must be an int >= 1"),
        ({"histogram_freq": -1}, ValueError, r"histogram_freq must be an int >= 0"),
        ({"histogram_freq": 0.5}, TypeError, r"histogram_freq must be an int"),
        ({"log_dir": None}, TypeError, r"log_dir must be a non-empty path"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        TensorBoard(**kwargs)


def _conv_model():
    import cnnkit

    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((6, 6, 3)),
            cnnkit.layers.Conv2D(4, 3, name="conv"),
            cnnkit.layers.Conv2D(2, 3, name="conv_b"),
            cnnkit.layers.Flatten(),
            cnnkit.layers.Dense(2, activation="softmax", name="head"),
        ]
    )
    model.compile("sgd", "sparse_categorical_crossentropy")
    return model


def test_fit_writes_histograms_images_and_steps_per_second(tmp_path):
    model = _conv_model()
    x, y = np.random.default_rng(0).random((8, 6, 6, 3), dtype=np.float32), np.arange(8) % 2
    board = TensorBoard(tmp_path, histogram_freq=1, write_images=True, write_steps_per_second=True)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0, callbacks=[board])
    train = EventAccumulator(str(tmp_path / "train"), size_guidance={"images": 0, "histograms": 0})
    train.Reload()
    kernels = {tag.split("/")[0] for tag in train.Tags()["histograms"]}
    assert kernels == {"conv", "conv_b", "head"}
    images = train.Tags()["images"]
    assert len(images) == 3  # conv, conv_b and head kernels; biases are 1-D
    first = next(tag for tag in images if tag.startswith("conv/"))
    assert [event.step for event in train.Images(first)] == [0, 1]
    assert len(_read(tmp_path / "train").Scalars("epoch_steps_per_second")) == 2


def test_weight_images_are_one_per_filter_scaled_to_unit_range():
    from cnnkit.callbacks._tensorboard import weight_images

    kernel = np.arange(3 * 3 * 3 * 4, dtype=np.float32).reshape(3, 3, 3, 4)
    images = weight_images(kernel)
    assert images.shape == (4, 3, 3, 3)  # four RGB filters
    assert images.min() == 0.0 and images.max() == 1.0
    np.testing.assert_allclose(images[1], (kernel[..., 1] - kernel[..., 1].min()) / 104)
    assert weight_images(np.ones((3, 3, 8, 2))).shape == (2, 3, 3, 1)  # first input channel
    assert weight_images(np.ones((5, 2))).shape == (1, 5, 2, 1)
    assert weight_images(np.ones(5)) is None


def test_keras_only_arguments_are_accepted(tmp_path):
    board = TensorBoard(
        tmp_path, embeddings_freq=1, embeddings_metadata="labels.tsv", profile_batch=(2, 4)
    )
    assert (board.embeddings_freq, board.profile_batch) == (1, (2, 4))
    _fit(board, FakeModel(), EPOCH_LOGS[:1])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"profile_batch": "2,4"}, ValueError, "Received: profile_batch='2,4'"),
        ({"profile_batch": -1}, ValueError, "profile_batch"),
        ({"embeddings_freq": -1}, ValueError, "embeddings_freq"),
        ({"embeddings_metadata": 3}, TypeError, "embeddings_metadata"),
        ({"write_images": "yes"}, TypeError, "write_images must be True or False"),
        ({"write_steps_per_second": 1}, TypeError, "write_steps_per_second"),
    ],
)
def test_bad_keras_arguments_name_the_argument(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        TensorBoard(tmp_path, **kwargs)
