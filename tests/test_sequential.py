"""Sequential: building, naming, weights and summary."""

from __future__ import annotations

import random

import keras
import numpy as np
import pytest
import torch

import cnnkit
from cnnkit.layers import Conv2D, Dense, Flatten, MaxPooling2D


def small_model(**kwargs):
    return cnnkit.Sequential(
        [
            Conv2D(4, 3, input_shape=(8, 8, 1)),
            MaxPooling2D(),
            Flatten(),
            Dense(3, activation="softmax"),
        ],
        **kwargs,
    )


def test_names_are_unique_within_a_model_and_repeatable():
    first = [layer.name for layer in small_model().layers]
    second = [layer.name for layer in cnnkit.zoo.get("lenet5").layers]
    assert first == ["conv2d", "max_pooling2d", "flatten", "dense"]
    assert second == [
        "conv2d",
        "average_pooling2d",
        "conv2d_1",
        "average_pooling2d_1",
        "flatten",
        "dense",
        "dense_1",
        "dense_2",
    ]
    assert [layer.name for layer in cnnkit.zoo.get("lenet5").layers] == second


def test_duplicate_explicit_names_are_refused():
    model = cnnkit.Sequential([cnnkit.Input((4,)), Dense(2, name="head")])
    with pytest.raises(ValueError, match=r"unique name; 'head' is already used"):
        model.add(Dense(2, name="head"))


def test_lazy_build_on_first_call():
    model = cnnkit.Sequential([Conv2D(2, 3), Flatten(), Dense(5)])
    assert not model.built
    with pytest.raises(ValueError, match="needs a built model"):
        model.count_params()
    out = model(np.zeros((1, 6, 6, 3), dtype=np.float32))
    assert out.shape == (1, 5) and model.built
    assert model.input_shape == (None, 6, 6, 3) and model.output_shape == (None, 5)
    assert model.count_params() == (3 * 3 * 3 * 2 + 2) + (4 * 4 * 2 * 5 + 5)


def test_build_with_explicit_shape():
    model = cnnkit.Sequential([Dense(4), Dense(2)])
    model.build((None, 7))
    assert [layer.output_shape for layer in model.layers] == [(None, 4), (None, 2)]


def test_pop_get_layer_and_add_after_pop():
    model = small_model()
    removed = model.pop()
    assert removed.name == "dense" and model.output_shape == (None, 36)
    model.add(Dense(2))
    assert model.get_layer("dense").output_shape == (None, 2)
    assert model.get_layer(index=0).name == "conv2d"
    with pytest.raises(ValueError, match=r"no layer named 'dens'. Layer names: \['conv2d'"):
        model.get_layer("dens")
    with pytest.raises(ValueError, match="no layers to remove"):
        cnnkit.Sequential().pop()


def test_add_rejects_non_layers():
    with pytest.raises(TypeError, match=r"Sequential.add expects a cnnkit layer.*Linear"):
        cnnkit.Sequential().add(torch.nn.Linear(2, 2))
    with pytest.raises(ValueError, match="Input/InputLayer can only be the first layer"):
        cnnkit.Sequential([Dense(2), cnnkit.Input((3,))])


def test_weights_move_between_keras_and_cnnkit_both_ways():
    model = small_model()
    keras_model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(4, 3),
            keras.layers.MaxPooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )
    keras_model.set_weights(model.get_weights())
    x = np.random.default_rng(0).normal(size=(5, 8, 8, 1)).astype(np.float32)
    np.testing.assert_allclose(
        model(x).detach().numpy(), keras_model(x).detach().cpu().numpy(), rtol=1e-5, atol=1e-6
    )
    with pytest.raises(ValueError, match=r"set_weights expects 4 arrays"):
        model.set_weights(model.get_weights()[:3])


def test_model_is_a_torch_module():
    model = small_model()
    assert isinstance(model, torch.nn.Module)
    assert sum(p.numel() for p in model.parameters()) == model.count_params()
    keys = list(model.state_dict())
    assert keys[:2] == ["stack.conv2d.weight", "stack.conv2d.bias"]
    loss = model(torch.randn(2, 8, 8, 1)).sum()
    loss.backward()
    assert model.layers[0].weight.grad is not None


def test_summary_print_fn_and_text_agree():
    model = small_model(name="tiny")
    lines = []
    model.summary(print_fn=lines.append)
    assert lines[0] == 'Model: "tiny"'
    assert model.summary_text() == "\n".join(lines)
    assert all(line.isascii() for line in lines)
    assert any(" conv2d (Conv2D) " in line and line.rstrip().endswith(" 40") for line in lines)


def test_summary_of_unbuilt_model_explains_how_to_build():
    with pytest.raises(ValueError, match="Give input_shape= to the first layer"):
        cnnkit.Sequential([Dense(2)]).summary()


def test_layers_argument_must_be_a_list():
    with pytest.raises(TypeError, match="layers must be a list of layers"):
        cnnkit.Sequential(Dense(2))


@pytest.mark.parametrize("seed", range(5))
def test_shapes_known_at_add_time_equal_shapes_seen_at_run_time(seed):
    rng = random.Random(seed)
    model = cnnkit.Sequential([cnnkit.Input((rng.randint(8, 20), rng.randint(8, 20), 2))])
    for _ in range(3):
        model.add(
            Conv2D(
                rng.randint(1, 4), rng.choice([1, 3]), strides=rng.choice([1, 2]), padding="same"
            )
        )
    model.add(Flatten())
    x = torch.randn(2, *model.input_shape[1:])
    shapes = []
    hooks = [
        layer.register_forward_hook(lambda m, i, o: shapes.append(tuple(o.shape[1:])))
        for layer in model.layers
    ]
    model(x)
    for hook in hooks:
        hook.remove()
    assert shapes == [layer.output_shape[1:] for layer in model.layers]


def test_forward_calls_hooks_registered_after_the_first_call_and_sees_added_layers():
    from cnnkit.layers import Conv2D, Dense, Flatten

    model = cnnkit.Sequential([Conv2D(2, 3, input_shape=(6, 6, 1)), Flatten()])
    x = torch.rand(3, 6, 6, 1)
    before = model(x)  # the direct path: no hooks yet
    seen = []
    handle = model.layers[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    torch.testing.assert_close(model(x), before)
    assert seen == [torch.Size([3, 4, 4, 2])]
    handle.remove()
    model(x)
    assert len(seen) == 1
    model.add(Dense(5))
    assert model(x).shape == (3, 5)
    model.pop()
    torch.testing.assert_close(model(x), before)


def test_forward_calls_global_module_hooks():
    from cnnkit.layers import Dense

    model = cnnkit.Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    x = torch.rand(5, 3)
    model(x)
    seen = []
    handle = torch.nn.modules.module.register_module_forward_hook(
        lambda m, i, o: seen.append(type(m).__name__)
    )
    try:
        model(x)
    finally:
        handle.remove()
    assert seen.count("Dense") == 2
