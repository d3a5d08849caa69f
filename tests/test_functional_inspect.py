"""Looking inside a functional model: activations, features, filters and the HTML report on a
small residual CNN, with Keras 3 (same graph, same weights) as the oracle."""

from __future__ import annotations

import re

import numpy as np
import pytest
from keras_oracle import keras  # sets KERAS_BACKEND=torch before Keras loads

import cnnkit
from cnnkit import inspect, report
from cnnkit.datasets import digits
from cnnkit.utils import set_random_seed


def residual_cnn(lib, classes: int = 10):
    """Stem convolution, one residual block, global pooling, a latent Dense, a classifier."""
    layers = lib.layers
    inputs = lib.Input(shape=(8, 8, 1), name="image")
    x = layers.Conv2D(6, 3, padding="same", activation="relu", name="stem")(inputs)
    y = layers.Conv2D(6, 3, padding="same", name="conv")(x)
    x = layers.Activation("relu", name="relu")(layers.Add(name="add")([x, y]))
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    x = layers.Dense(16, activation="relu", name="latent")(x)
    outputs = layers.Dense(classes, activation="softmax", name="classes")(x)
    return lib.Model(inputs, outputs, name="tiny_resnet")


@pytest.fixture(scope="module")
def pair():
    """The residual CNN in Keras and in cnnkit, with Keras' weights, and a few digit images."""
    set_random_seed(0)
    theirs = residual_cnn(keras)
    ours = residual_cnn(cnnkit)
    ours.set_weights(theirs.get_weights())
    (_, _), (x_test, _) = digits.load_data()
    images = (x_test[:5, ..., None] / 255).astype("float32")
    return theirs, ours, images


def test_activations_equal_keras_layer_outputs(pair):
    theirs, ours, images = pair
    extractor = keras.Model(theirs.inputs, [layer.output for layer in theirs.layers[1:]])
    expected = [keras.ops.convert_to_numpy(t) for t in extractor(images, training=False)]
    received = inspect.activations(ours, images)
    assert list(received) == ["stem", "conv", "add", "relu", "pool", "latent", "classes"]
    for name, value in zip(received, expected):
        np.testing.assert_allclose(received[name], value, atol=1e-5, err_msg=name)


def test_activations_of_chosen_layers_and_one_image(pair):
    _, ours, images = pair
    chosen = inspect.activations(ours, images[0], layers=["image", "add"])
    assert list(chosen) == ["image", "add"]
    assert chosen["image"].shape == (1, 8, 8, 1) and chosen["add"].shape == (1, 8, 8, 6)
    np.testing.assert_array_equal(chosen["image"], images[:1])


def test_features_are_the_input_of_the_last_dense_as_in_keras(pair):
    theirs, ours, images = pair
    latent = keras.Model(theirs.inputs, theirs.get_layer("latent").output)
    expected = keras.ops.convert_to_numpy(latent(images, training=False))
    np.testing.assert_allclose(inspect.features(ours, images, batch_size=2), expected, atol=1e-5)
    pooled = inspect.features(ours, images, layer="pool")
    assert pooled.shape == (5, 6)


def test_filters_are_the_keras_kernels(pair):
    theirs, ours, _ = pair
    np.testing.assert_array_equal(inspect.filters(ours), theirs.get_layer("stem").get_weights()[0])
    np.testing.assert_array_equal(
        inspect.filters(ours, "conv"), theirs.get_layer("conv").get_weights()[0]
    )
    with pytest.raises(ValueError, match=r"layer 'add' \(Add\) has no convolution kernels"):
        inspect.filters(ours, "add")


def test_a_shared_layer_shows_its_first_call():
    inputs = cnnkit.Input((6, 6, 1), name="image")
    conv = cnnkit.layers.Conv2D(2, 3, padding="same", name="twice")
    x = cnnkit.layers.Conv2D(1, 1, name="squeeze")(conv(inputs))
    outputs = cnnkit.layers.Flatten(name="flat")(conv(x))
    model = cnnkit.Model(inputs, outputs)
    image = np.random.default_rng(0).normal(size=(1, 6, 6, 1)).astype("float32")
    shown = inspect.activations(model, image)
    once = cnnkit.Model(inputs, conv.output).predict(image, verbose=0)
    np.testing.assert_allclose(shown["twice"], once, atol=1e-6)


def test_a_model_with_two_inputs_is_refused_naming_them():
    image, extra = cnnkit.Input((6, 6, 1), name="image"), cnnkit.Input((3,), name="extra")
    flat = cnnkit.layers.Flatten()(image)
    model = cnnkit.Model(
        [image, extra], cnnkit.layers.Dense(2)(cnnkit.layers.Concatenate()([flat, extra]))
    )
    message = "activations: the model has 2 inputs ['image', 'extra']; it takes one batch of images"
    with pytest.raises(ValueError, match=re.escape(message)):
        inspect.activations(model, np.zeros((6, 6, 1)))
    with pytest.raises(ValueError, match=r"features: the model has 2 inputs"):
        inspect.features(model, np.zeros((6, 6, 1)))


def test_report_on_a_trained_functional_residual_model(tmp_path):
    set_random_seed(0)
    (x, y), (x_test, y_test) = digits.load_data()
    x, y, x_test, y_test = x[:150], y[:150], x_test[:30], y_test[:30]
    model = residual_cnn(cnnkit)
    model.compile("adam", "sparse_categorical_crossentropy", ["accuracy"])
    history = model.fit(x[..., None] / 255, y, epochs=1, verbose=0)
    path = report.build(
        tmp_path,
        model,
        history,
        ((x, y), (x_test, y_test)),
        preprocess=lambda images: images / 255,
        max_points=20,
        knn=False,
        n_queries=1,
    )
    page = path.read_text(encoding="utf-8")
    for section in report.SECTION_IDS:
        assert f'<section id="{section}"' in page
    model_section = page.split('<section id="model"', 1)[1].split("</section>", 1)[0]
    assert "Connected to" in model_section
    assert "add (Add)" in model_section and "stem[0][0]," in model_section
    activations = page.split('<section id="activations"', 1)[1].split("</section>", 1)[0]
    assert "data:image/png;base64," in activations
