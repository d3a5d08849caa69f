"""Properties every augmentation layer keeps: shapes, identity in inference, seeds, configs."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnkit.layers._augment_geometric import (  # noqa: E402
    RandomCrop,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from cnnkit.layers._augment_photometric import (  # noqa: E402
    RandomBrightness,
    RandomContrast,
    RandomErasing,
)

# (class, positional arguments) of each layer; the same arguments build Keras' twin.
LAYERS = [
    (RandomFlip, ()),
    (RandomTranslation, (0.2, 0.3)),
    (RandomRotation, (0.1,)),
    (RandomZoom, (0.2, 0.3)),
    (RandomCrop, (3, 4)),
    (RandomBrightness, (0.3,)),
    (RandomContrast, (0.4,)),
    (RandomErasing, ()),
]
IDS = [cls.__name__ for cls, _ in LAYERS]


def images(seed, shape):
    rng = np.random.default_rng(seed)
    return torch.from_numpy(rng.uniform(0, 255, shape).astype(np.float32))


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
@settings(max_examples=8, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    size=st.tuples(st.integers(4, 9), st.integers(4, 9)),
    channels=st.integers(1, 4),
    data_format=st.sampled_from(["channels_last", "channels_first"]),
)
def test_shapes_match_keras_and_inference_is_identity(cls, args, seed, size, channels, data_format):
    shape = (3, *size, channels) if data_format == "channels_last" else (3, channels, *size)
    x = images(seed, shape)
    layer = cls(*args, seed=seed, data_format=data_format)
    y = layer(x)
    oracle = getattr(keras.layers, cls.__name__)(*args, data_format=data_format)
    expected_shape = oracle.compute_output_shape((None, *shape[1:]))
    assert layer.build_for((None, *shape[1:])) == expected_shape
    assert tuple(y.shape) == (3, *expected_shape[1:]) and y.dtype == x.dtype
    if cls is not RandomCrop:
        assert torch.equal(layer.eval()(x), x)
        assert torch.equal(layer.train()(x, training=False), x)


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_same_seed_same_output_different_seeds_differ(cls, args):
    x = images(0, (16, 9, 10, 3))
    first, twin, other = cls(*args, seed=5), cls(*args, seed=5), cls(*args, seed=6)
    out_first = [first(x) for _ in range(2)]
    out_twin = [twin(x) for _ in range(2)]
    for a, b in zip(out_first, out_twin):
        assert torch.equal(a, b)
    assert not torch.equal(out_first[0], out_first[1])  # a fresh draw per call
    assert not torch.equal(out_first[0], other(x))


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_without_seed_the_global_generator_decides(cls, args):
    x = images(1, (8, 9, 10, 3))
    layer = cls(*args)
    torch.manual_seed(11)
    first = layer(x)
    torch.manual_seed(11)
    assert torch.equal(layer(x), first)


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_config_rebuilds_the_same_layer(cls, args):
    layer = cls(*args, seed=3)
    config = layer.get_config()
    rebuilt = cls(**config)
    assert rebuilt.get_config() == config
    x = images(2, (4, 9, 10, 3))
    assert torch.equal(layer(x), rebuilt(x))


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_augmentation_does_not_need_gradients_and_passes_them(cls, args):
    """Inputs that require grad (e.g. after a learnable layer) still get a gradient."""
    x = images(3, (2, 9, 10, 3)).requires_grad_(True)
    cls(*args, seed=0)(x).sum().backward()
    assert x.grad is not None and x.grad.shape == x.shape


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_an_empty_batch_gives_an_empty_batch(cls, args, data_format):
    """Under torchrun a process's share of a tiny last batch can be empty."""
    layer = cls(*args, seed=0, data_format=data_format)
    shape = (0, 9, 10, 3) if data_format == "channels_last" else (0, 3, 9, 10)
    expected = layer.compute_output_shape(shape)
    assert tuple(layer(torch.zeros(shape), training=True).shape) == tuple(expected)


@pytest.mark.parametrize("cls, args", LAYERS, ids=IDS)
def test_rank_and_argument_errors_name_the_layer(cls, args):
    with pytest.raises(ValueError, match=f"{cls.__name__} .* expects batches of images of rank 4"):
        cls(*args)(torch.zeros(9, 10, 3))
    with pytest.raises(ValueError, match=f"{cls.__name__}: data_format must be one of"):
        cls(*args, data_format="NHWC")
    with pytest.raises(TypeError, match=f"{cls.__name__}: seed must be an int >= 0 or None"):
        cls(*args, seed=1.5)
