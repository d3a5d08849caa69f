"""The lecture's own Keras code, with ``keras`` replaced by ``cnnkit``, gives the lecture's numbers."""

from __future__ import annotations

import re

LENET5 = """
from cnnkit.models import Sequential
from cnnkit.layers import Dense, Flatten, Conv2D, AveragePooling2D

num_classes = 10;
input_shape=(32, 32, 1);

model = Sequential()
model.add(Conv2D(filters = 6, kernel_size = (5, 5), activation='tanh', input_shape=input_shape, padding = 'valid'))
model.add(AveragePooling2D(pool_size=(2, 2)))
model.add(Conv2D(filters = 16, kernel_size = (5, 5), activation='tanh', padding = 'valid'))
model.add(AveragePooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(120, activation='relu'))
model.add(Dense(84, activation='relu'))
model.add(Dense(num_classes, activation='softmax'))
"""

SIMPLE_CNN = """
# it is necessary to import some package
from cnnkit.models import Sequential
from cnnkit.layers import Dense, Flatten
from cnnkit.layers import Conv2D, MaxPooling2D

# and initialize an object from Sequential()
model = Sequential()
model.add(Conv2D(filters = 64, kernel_size=3,
activation='relu', input_shape=(28,28,1)))
model.add(MaxPooling2D(pool_size=(2, 2)))
model.add(Flatten())
model.add(Dense(10, activation='softmax'))
"""


def run_snippet(code: str):
    namespace: dict = {}
    exec(code, namespace)  # the lecture's code, verbatim
    return namespace["model"]


def summary_rows(model) -> list[tuple[str, str, str]]:
    lines: list[str] = []
    model.summary(print_fn=lines.append)
    rows = []
    for line in lines:
        match = re.match(r"^ (\S+ \(\w+\))\s+(\(None(?:, \d+)+\))\s+([\d,]+)$", line)
        if match:
            rows.append(match.groups())
    return rows, lines


def test_lenet5_summary_prints_the_lectures_numbers():
    rows, lines = summary_rows(run_snippet(LENET5))
    assert [(shape, count) for _, shape, count in rows] == [
        ("(None, 28, 28, 6)", "156"),
        ("(None, 14, 14, 6)", "0"),
        ("(None, 10, 10, 16)", "2,416"),
        ("(None, 5, 5, 16)", "0"),
        ("(None, 400)", "0"),
        ("(None, 120)", "48,120"),
        ("(None, 84)", "10,164"),
        ("(None, 10)", "850"),
    ]
    assert [name for name, _, _ in rows][:2] == [
        "conv2d (Conv2D)",
        "average_pooling2d (AveragePooling2D)",
    ]
    assert "Total params: 61,706 (241.04 KB)" in lines
    assert "Trainable params: 61,706 (241.04 KB)" in lines
    assert "Non-trainable params: 0 (0.00 B)" in lines


def test_simple_cnn_snippet_runs_and_matches_keras():
    """The snippet's code includes MaxPooling2D, so Flatten gives 13*13*64 features, as Keras says."""
    from keras_oracle import build_keras

    model = run_snippet(SIMPLE_CNN)
    keras_model = build_keras(
        (28, 28, 1),
        [
            ("Conv2D", dict(filters=64, kernel_size=3, activation="relu")),
            ("MaxPooling2D", dict(pool_size=(2, 2))),
            ("Flatten", {}),
            ("Dense", dict(units=10, activation="softmax")),
        ],
    )
    assert model.count_params() == keras_model.count_params() == 108_810
    rows, _ = summary_rows(model)
    assert rows[0][1:] == ("(None, 26, 26, 64)", "640")


def test_simple_cnn_printed_summary_numbers():
    """The lecture's printed summary (640, 43264 features, 432,650, total 433,290) is the same
    model without its pooling layer: conv2d -> flatten -> dense."""
    model = run_snippet(SIMPLE_CNN.replace("model.add(MaxPooling2D(pool_size=(2, 2)))\n", ""))
    rows, lines = summary_rows(model)
    assert [(shape, count) for _, shape, count in rows] == [
        ("(None, 26, 26, 64)", "640"),
        ("(None, 43264)", "0"),
        ("(None, 10)", "432,650"),
    ]
    assert any(line.startswith("Total params: 433,290") for line in lines)


def test_import_cnnkit_as_keras():
    import cnnkit as keras

    model = keras.Sequential(
        [
            keras.Input(shape=(32, 32, 1)),
            keras.layers.Conv2D(6, (5, 5), activation="tanh"),
            keras.layers.AveragePooling2D(),
            keras.layers.Conv2D(16, (5, 5), activation="tanh"),
            keras.layers.AveragePooling2D(),
            keras.layers.Flatten(),
            keras.layers.Dense(120, activation="relu"),
            keras.layers.Dense(84, activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    assert model.count_params() == 61_706
    assert keras.models.Sequential is keras.Sequential


def test_rgb_input_grows_only_the_first_layer():
    """The lecture: with a 32x32x3 input only the first filters grow, 156 -> 456 parameters."""
    gray = run_snippet(LENET5)
    rgb = run_snippet(LENET5.replace("input_shape=(32, 32, 1)", "input_shape=(32, 32, 3)"))
    assert rgb.layers[0].count_params() == 456
    assert rgb.count_params() - gray.count_params() == 300
