"""The training part of the report and of the terminal says only what is there: validation
curves only when drawn, one epoch as one epoch, small numbers with significant digits."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

from cnnkit import Sequential, plots
from cnnkit.layers import Dense
from cnnkit.report import _sections_data


def training_section(logs: dict) -> str:
    return _sections_data.training(SimpleNamespace(progress=lambda message: None), logs)


def test_one_epoch_is_a_marker_on_an_axis_around_epoch_1():
    figure = plots.history({"loss": [0.7], "val_loss": [0.8], "learning_rate": [1e-5]})
    loss, rate = figure.axes
    assert loss.get_xlim() == pytest.approx((0.5, 1.5))
    assert list(loss.get_xticks()) == [1]
    for line in loss.get_lines():
        assert line.get_linestyle() == "None" and line.get_marker() in ("o", "s")
        assert list(line.get_xdata()) == [1]
    low, high = rate.get_ylim()
    assert low <= 0 and 1e-5 < high < 2e-5  # the magnitude shows: the axis starts at 0
    assert [text.get_text() for text in loss.texts] == ["0.7", "0.8"]


def test_legend_only_where_a_validation_curve_is_drawn():
    figure = plots.history(
        {"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "learning_rate": [1e-2, 1e-3]}
    )
    loss, rate = figure.axes
    assert [text.get_text() for text in loss.get_legend().get_texts()] == ["train", "validation"]
    assert rate.get_legend() is None  # a lone "train" would say nothing
    assert loss.get_lines()[1].get_linestyle() == "--"


def test_caption_names_validation_only_when_the_history_has_it():
    without = training_section({"loss": [1.0, 0.5], "accuracy": [0.5, 0.7]})
    assert "validation" not in without.lower().replace("no validation values", "")
    assert "Training values per epoch (the history has no validation values)." in without
    with_validation = training_section({"loss": [1.0, 0.5], "val_loss": [1.1, 0.6]})
    assert "Training (solid) and validation (dashed) per epoch." in with_validation
    one = training_section({"loss": [0.7], "val_loss": [0.8]})
    assert "Training (circles) and validation (squares) values after the one epoch." in one


def test_one_epoch_is_singular_and_small_values_keep_their_digits():
    html = training_section({"loss": [0.0377], "learning_rate": [1.0728e-05]})
    assert "After 1 epoch:" in html and "1 epochs" not in html
    values = dict(re.findall(r"<tr><td>(\w+)</td><td[^>]*>([^<]+)</td></tr>", html))
    assert values == {"loss": "0.0377", "learning_rate": "1.073e-05"}
    assert "After 2 epochs:" in training_section({"loss": [1.0, 0.5]})


def test_fit_prints_the_epoch_header_for_a_single_epoch_too(capsys):
    model = Sequential([Dense(2, activation="softmax", input_shape=(3,))])
    model.compile("sgd", "sparse_categorical_crossentropy", ["accuracy"])
    x, y = np.zeros((8, 3), np.float32), np.zeros(8, np.int64)
    model.fit(x, y, epochs=1, batch_size=4, verbose="auto")  # captured output: not a terminal
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0] == "Epoch 1/1" and lines[1].startswith("2/2 - ")
    model.fit(x, y, epochs=2, batch_size=4, verbose="auto")
    assert capsys.readouterr().out.splitlines()[0] == "Epoch 1/2"
