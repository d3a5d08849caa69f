"""fit runs a model's first augmentation layers on groups of batches ahead of the steps."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import cnnkit
from cnnkit import layers
from cnnkit._fast import _ahead
from cnnkit.training._data import ArrayData


def augmented_cnn(from_logits: bool = False) -> cnnkit.Sequential:
    """A seeded RandomFlip and RandomTranslation before a small CNN; ``from_logits``: the
    last layer has no softmax (the step then runs the model, not its logits, from the third
    layer on)."""
    cnnkit.utils.set_random_seed(0)
    model = cnnkit.Sequential(
        [
            cnnkit.Input((8, 8, 3)),
            layers.RandomFlip(seed=1),
            layers.RandomTranslation(0.2, 0.2, seed=2),
            layers.Conv2D(4, 3, activation="relu"),
            layers.Flatten(),
            layers.Dense(3, activation=None if from_logits else "softmax"),
        ]
    )
    loss = cnnkit.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    model.compile(optimizer="adam", loss=loss)
    return model


def data(n: int = 100):
    rng = np.random.default_rng(0)
    return rng.random((n, 8, 8, 3), dtype=np.float32), rng.integers(0, 3, n)


def trained_weights(model, x, y, **fit) -> list[np.ndarray]:
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, **fit)
    return model.get_weights()


@pytest.mark.parametrize("from_logits", [False, True])
def test_groups_of_batches_train_the_same_weights_as_one_batch_at_a_time(monkeypatch, from_logits):
    x, y = data()  # 100 samples: six batches of 16 and one of 4
    grouped = trained_weights(augmented_cnn(from_logits), x, y)
    monkeypatch.setattr(_ahead, "MAX_GROUP", 1)
    one_by_one = trained_weights(augmented_cnn(from_logits), x, y)
    monkeypatch.setattr(_ahead, "augmentation_prefix", lambda model: 0)
    in_the_step = trained_weights(augmented_cnn(from_logits), x, y)  # the step runs the layers
    for a, b, c in zip(grouped, one_by_one, in_the_step):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_a_model_without_augmentation_trains_the_same_on_groups_of_batches(monkeypatch):
    x, y = data()
    model = augmented_cnn()
    for _ in range(2):  # the same network without its two augmentation layers
        model.stack.pop(next(iter(model.stack)))
    model._forget_forwards()
    initial = model.get_weights()
    fit = dict(class_weight={0: 1.0, 1: 2.0, 2: 0.5})  # sample weights in the batches too
    takes = []
    take = ArrayData._take
    monkeypatch.setattr(ArrayData, "_take", lambda self, *a: takes.append(1) or take(self, *a))
    cnnkit.utils.set_random_seed(1)  # the same shuffles
    grouped = trained_weights(model, x, y, **fit)
    assert len(takes) == 2 * 2  # seven batches in two groups, two epochs
    monkeypatch.setattr(_ahead, "MAX_GROUP", 1)
    model.set_weights(initial)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    cnnkit.utils.set_random_seed(1)
    one_by_one = trained_weights(model, x, y, **fit)
    assert not np.array_equal(grouped[0], initial[0])
    for a, b in zip(grouped, one_by_one):
        np.testing.assert_array_equal(a, b)


def test_the_augmentation_runs_once_per_group_ahead_of_the_steps(monkeypatch):
    sizes = []
    draw = layers.RandomTranslation._draw

    def counted(self, x):
        sizes.append(x.shape[0])
        return draw(self, x)

    monkeypatch.setattr(layers.RandomTranslation, "_draw", counted)
    x, y = data()
    trained_weights(augmented_cnn(), x, y)
    assert sizes == [64, 36] * 2  # groups of four batches, the second one short; two epochs
    sizes.clear()
    trained_weights(augmented_cnn(), x, y, steps_per_epoch=5)
    assert sizes == [64, 16] * 2  # nothing is augmented for batches the epoch does not reach


def test_the_group_is_bounded_by_its_memory(monkeypatch):
    x, y = data()
    train = ArrayData(torch.from_numpy(x))
    assert _ahead.group_size(train, 16) == _ahead.MAX_GROUP
    monkeypatch.setattr(_ahead, "GROUP_BYTES", 3 * 16 * 8 * 8 * 3 * 4)  # three batches of float32
    assert _ahead.group_size(train, 16) == 3
    monkeypatch.setattr(_ahead, "GROUP_BYTES", 1)
    assert _ahead.group_size(train, 16) == 1


def test_a_data_loader_gets_its_batches_augmented_one_by_one(monkeypatch):
    x, y = data()
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=16)
    from_loader = trained_weights(augmented_cnn(), loader, None)
    from_arrays = trained_weights(augmented_cnn(), x, y, shuffle=False)
    for a, b in zip(from_loader, from_arrays):
        np.testing.assert_array_equal(a, b)


def penalised_flip() -> layers.RandomFlip:
    flip = layers.RandomFlip()
    flip.activity_regularizer = cnnkit.regularizers.L2()  # runs through Layer.__call__
    return flip


@pytest.mark.parametrize(
    "stack, expected",
    [
        (lambda: [layers.RandomFlip(), layers.RandomTranslation(0.1, 0.1), layers.Flatten()], 2),
        (lambda: [layers.RandomFlip(), layers.Rescaling(0.5), layers.RandomFlip()], 1),
        (lambda: [layers.Rescaling(0.5), layers.RandomFlip(), layers.Flatten()], 0),
        (lambda: [layers.RandomFlip(), layers.RandomCrop(4, 4)], 1),  # the last one stays
        (lambda: [penalised_flip(), layers.Flatten()], 0),
    ],
)
def test_the_prefix_is_the_leading_random_augmentation_layers(stack, expected):
    model = cnnkit.Sequential([cnnkit.Input((8, 8, 3)), *stack()])
    assert _ahead.augmentation_prefix(model) == expected


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("shard", [(0, 1), (0, 2), (1, 2), (2, 3)])
@pytest.mark.parametrize("group", [1, 2, 4])
def test_grouped_batches_are_the_batches_one_by_one(shuffle, shard, group):
    n = 37
    x = torch.arange(n, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 2, 2, 1).contiguous()
    data = ArrayData(x, torch.arange(n), torch.rand(n))
    calls = []

    def prepare(images):
        calls.append(images.shape[0])
        return images * 10

    def batches(**options):
        generator = torch.Generator().manual_seed(5)
        return list(data.batches(8, shuffle, generator, shard, first=1, limit=4, **options))

    expected = batches()
    got = batches(group=group, prepare=prepare)
    assert len(got) == len(expected) == 3  # batches 1, 2 and 3 of 0 ... 4
    for (xa, ya, wa), (xb, yb, wb) in zip(expected, got):
        assert torch.equal(xa * 10, xb) and torch.equal(ya, yb) and torch.equal(wa, wb)
        assert torch.equal(xb[:, 0, 0, 0], yb.float() * 10)  # each image with its own label
    assert len(calls) == -(-3 // group)
