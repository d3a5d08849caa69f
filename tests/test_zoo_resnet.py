"""The functional zoo model: a residual network equal to the same graph built in Keras."""

import numpy as np
import pytest

import cnnkit
from cnnkit import zoo

keras = pytest.importorskip("keras")


def keras_resnet(input_shape, num_classes, width, blocks):
    """The same architecture written with Keras' own functional API."""
    layers = keras.layers

    def block(x, filters, strides):
        y = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)(x)
        y = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(y))
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = layers.BatchNormalization(momentum=0.9)(y)
        shortcut = x
        if strides != 1 or x.shape[-1] != filters:
            shortcut = layers.Conv2D(filters, 1, strides=strides, use_bias=False)(x)
            shortcut = layers.BatchNormalization(momentum=0.9)(shortcut)
        return layers.Activation("relu")(layers.Add()([y, shortcut]))

    inputs = keras.Input(shape=input_shape)
    x = layers.Conv2D(width, 3, padding="same", use_bias=False)(inputs)
    x = layers.Activation("relu")(layers.BatchNormalization(momentum=0.9)(x))
    for stage in range(3):
        for index in range(blocks):
            x = block(x, width * 2**stage, 2 if stage and not index else 1)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


@pytest.mark.parametrize("blocks", [1, 2])
def test_resnet_matches_keras_parameters_and_outputs(blocks):
    ours = zoo.get("resnet", input_shape=(16, 16, 3), num_classes=5, width=4, blocks=blocks)
    theirs = keras_resnet((16, 16, 3), 5, 4, blocks)
    assert ours.count_params() == theirs.count_params()
    assert [tuple(w.shape) for w in ours.get_weights()] == [
        tuple(w.shape) for w in theirs.get_weights()
    ]
    rng = np.random.default_rng(0)
    weights = [rng.normal(0, 0.3, w.shape).astype("float32") for w in theirs.get_weights()]
    weights = [
        np.abs(w) + 0.5 if "variance" in v.path else w for w, v in zip(weights, theirs.weights)
    ]
    theirs.set_weights(weights)
    ours.set_weights(weights)
    images = rng.random((3, 16, 16, 3), dtype=np.float32)
    expected = np.asarray(theirs.predict(images, verbose=0))
    np.testing.assert_allclose(ours.predict(images, verbose=0), expected, atol=1e-5)


def test_resnet20_has_the_papers_size_and_trains():
    assert zoo.get("resnet", blocks=3).count_params() == 274_042  # ResNet-20, option B shortcuts
    model = zoo.get("resnet", input_shape=(8, 8, 1), num_classes=3, width=4)
    assert isinstance(model, cnnkit.Model) and not isinstance(model, cnnkit.Sequential)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(1)
    x, y = rng.random((24, 8, 8, 1), dtype=np.float32), rng.integers(0, 3, 24)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_resnet_is_reachable_from_the_command_line_builder():
    from cnnkit.cli._build import build_model

    model = build_model("resnet", (8, 8, 1), 3, augment={"flip": True, "shift": 0.1})
    assert [type(layer).__name__ for layer in model.layers] == [
        "RandomFlip",
        "RandomTranslation",
        "Model",
    ]
    assert model.output_shape == (None, 3)
