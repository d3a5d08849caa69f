"""cnnkit.random: Keras' signatures, shapes and dtypes, seeded reproducibility, loose moments."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cnnkit import random


@pytest.mark.parametrize(
    ("draw", "kwargs", "dtype"),
    [
        (random.normal, {}, torch.float32),
        (random.uniform, {"dtype": "float64"}, torch.float64),
        (random.truncated_normal, {}, torch.float32),
        (random.randint, {"minval": 0, "maxval": 5}, torch.int32),
    ],
)
def test_shapes_dtypes_and_seeds(draw, kwargs, dtype):
    a = draw((3, 4), seed=7, **kwargs)
    assert a.shape == (3, 4) and a.dtype == dtype
    assert torch.equal(a, draw((3, 4), seed=7, **kwargs))  # an int seed repeats
    generator = random.SeedGenerator(3)
    first, second = draw((50,), seed=generator, **kwargs), draw((50,), seed=generator, **kwargs)
    assert not torch.equal(first, second)  # a SeedGenerator moves on
    replay = random.SeedGenerator(3)
    assert torch.equal(first, draw((50,), seed=replay, **kwargs))


def test_moments_and_ranges():
    normal = random.normal((20000,), mean=2.0, stddev=3.0, seed=1).numpy()
    assert abs(normal.mean() - 2.0) < 0.1 and abs(normal.std() - 3.0) < 0.1
    uniform = random.uniform((20000,), minval=-1.0, maxval=3.0, seed=1).numpy()
    assert uniform.min() >= -1.0 and uniform.max() < 3.0 and abs(uniform.mean() - 1.0) < 0.05
    truncated = random.truncated_normal((20000,), stddev=2.0, seed=1).numpy()
    assert np.abs(truncated).max() <= 4.0 and 1.5 < truncated.std() < 1.9
    ints = random.randint((20000,), 3, 6, seed=1).numpy()
    assert set(np.unique(ints)) == {3, 4, 5}


def test_dropout_rate_and_scaling():
    x = torch.ones(20000)
    y = random.dropout(x, 0.25, seed=2)
    kept = y != 0
    assert abs(kept.float().mean().item() - 0.75) < 0.02
    assert torch.allclose(y[kept], torch.tensor(1 / 0.75))
    rows = random.dropout(torch.ones(8, 100), 0.5, noise_shape=(8, 1), seed=3)
    assert all(len(torch.unique(row)) == 1 for row in rows)  # one decision per row
    with pytest.raises(ValueError, match="rate must be in"):
        random.dropout(x, 1.0)


def test_shuffle_and_categorical():
    x = torch.arange(10)
    shuffled = random.shuffle(x, seed=4)
    assert sorted(shuffled.tolist()) == list(range(10)) and torch.equal(
        shuffled, random.shuffle(x, seed=4)
    )
    logits = torch.log(torch.tensor([[0.1, 0.9], [1.0, 1e-9]]))
    draws = random.categorical(logits, 4000, seed=5)
    assert draws.shape == (2, 4000) and draws.dtype == torch.int32
    assert abs(draws[0].float().mean().item() - 0.9) < 0.03 and draws[1].sum() == 0


def test_bad_seed_is_a_type_error():
    with pytest.raises(TypeError, match="seed must be an int, a cnnkit.random.SeedGenerator"):
        random.normal((2,), seed="seven")
