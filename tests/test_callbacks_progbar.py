"""Progress bar output: formats, TTY vs file behaviour, throttling, verbosity, Epoch headers."""

from __future__ import annotations

import io
import re

import pytest

from cnnkit.callbacks import CallbackList, Progbar, ProgbarLogger, resolve_verbose
from cnnkit.callbacks._progbar import format_eta, format_step_time, format_value


class Terminal(io.StringIO):
    """A captured stream that says it is a terminal."""

    def isatty(self):
        return True


class FakeClock:
    """Deterministic time: each call advances ``step`` seconds."""

    def __init__(self, step):
        self.now, self.step = 0.0, step

    def __call__(self):
        self.now += self.step
        return self.now


@pytest.fixture
def clock(monkeypatch):
    """Install a deterministic clock in Progbar; returns a setter for the step size."""

    def install(step):
        monkeypatch.setattr(Progbar, "_clock", staticmethod(FakeClock(step)))

    return install


def _run_fit(stream, verbose, epochs=2, steps=10):
    """Drive a ProgbarLogger like the fit loop would: running logs per batch, val_ at the end."""
    logger = ProgbarLogger(stream=stream)
    cbs = CallbackList([logger], epochs=epochs, steps=steps, verbose=verbose)
    cbs.on_train_begin()
    for epoch in range(epochs):
        cbs.on_epoch_begin(epoch)
        for batch in range(steps):
            cbs.on_train_batch_begin(batch)
            cbs.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1), "acc": 0.5})
        cbs.on_test_begin()  # validation inside fit is silent
        cbs.on_test_batch_end(0, {"loss": 9.0})
        cbs.on_test_end({"loss": 2.0})
        cbs.on_epoch_end(epoch, {"loss": 0.75, "acc": 0.6966, "val_loss": 1.9446, "val_acc": 0.4})
    cbs.on_train_end()
    return stream.getvalue()


FINAL = (
    r"10/10 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: 0\.7500 - acc: 0\.6966 "
    r"- val_loss: 1\.9446 - val_acc: 0\.4000"
)


def test_verbose1_to_a_file_writes_only_final_lines_without_control_characters():
    out = _run_fit(io.StringIO(), verbose=1)
    assert "\r" not in out and "\b" not in out
    lines = out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    assert re.fullmatch(FINAL, lines[1]) and re.fullmatch(FINAL, lines[3])


def test_verbose1_on_a_terminal_redraws_in_place_and_ends_each_epoch_with_val_metrics(clock):
    clock(1.0)
    out = _run_fit(Terminal(), verbose=1, epochs=1, steps=10)
    frames = out.split("\r")
    assert frames[0] == "Epoch 1/1\n"  # one epoch keeps its header, as in Keras 2
    assert re.match(
        r" 1/10 \[==>\.{27}\] - ETA: 9s 1s/step - loss: 1\.0000 - acc: 0\.5000", frames[1]
    )
    assert re.match(r" 5/10 \[={14}>\.{15}\] - ETA: 5s 1s/step - loss: 0\.2000", frames[5])
    assert re.fullmatch(FINAL + r" *\n", frames[-1])
    assert len(frames) == 12  # 10 batch frames + the final one


def test_terminal_updates_are_throttled(clock):
    """500 batches at 1 ms each: at most one redraw per 50 ms, plus the final line."""
    clock(0.001)
    out = _run_fit(Terminal(), verbose=1, epochs=1, steps=500)
    redraws = out.count("\r")
    assert 8 <= redraws <= 12


def test_shorter_frame_is_padded_to_erase_the_previous_one(clock):
    clock(1.0)
    out = Terminal()
    bar = Progbar(3, stream=out)
    bar.update(1, {"loss": 123456.0})
    bar.update(2, {"loss": 1.0})
    first, second = out.getvalue().split("\r")[1:]
    assert len(second) == len(first) and second.endswith(" ")


def test_verbose2_writes_one_line_per_epoch():
    lines = _run_fit(io.StringIO(), verbose=2).splitlines()
    assert len(lines) == 4 and lines[0] == "Epoch 1/2"
    pattern = r"10/10 - \d+s - \d+(us|ms|s)/step - loss: 0\.7500 - acc: 0\.6966 - val_loss: 1\.9446"
    assert re.match(pattern, lines[1])


def test_verbose0_is_silent():
    assert _run_fit(Terminal(), verbose=0) == ""


def test_evaluate_and_predict_outside_fit_get_their_own_bar():
    out = io.StringIO()
    logger = ProgbarLogger(stream=out)
    logger.set_params({"epochs": 1, "steps": 4, "verbose": 1})
    logger.on_test_begin()
    for batch in range(4):
        logger.on_test_batch_end(batch, {"loss": 0.5})
    logger.on_test_end({"loss": 0.25, "acc": 0.9})
    logger.on_predict_begin()
    for batch in range(4):
        logger.on_predict_batch_end(batch, {"outputs": [1, 2]})
    logger.on_predict_end()
    lines = out.getvalue().splitlines()
    assert re.fullmatch(r"4/4 \[={30}\] - \d+s \S+/step - loss: 0\.2500 - acc: 0\.9000", lines[0])
    assert re.fullmatch(r"4/4 \[={30}\] - \d+s \S+/step", lines[1])


def test_unknown_number_of_steps():
    out = io.StringIO()
    logger = ProgbarLogger(stream=out)
    logger.set_params({"epochs": 1, "steps": None, "verbose": 1})
    logger.on_train_begin()
    logger.on_epoch_begin(0)
    for batch in range(7):
        logger.on_train_batch_end(batch, {"loss": 0.5})
    logger.on_epoch_end(0, {"loss": 0.5})
    assert re.fullmatch(
        r"Epoch 1/1\n7/7 \[={30}\] - \d+s \S+/step - loss: 0\.5000\n", out.getvalue()
    )
    unknown = Terminal()
    bar = Progbar(None, stream=unknown)
    bar.update(12, {"loss": 0.5})
    assert unknown.getvalue().startswith("\r     12/Unknown - ")


def test_time_per_step_ignores_the_slow_first_step(monkeypatch):
    times = iter([0.0, 10.0, 10.2, 10.4, 10.6, 10.8])  # first step took 10 s, the rest 200 ms
    monkeypatch.setattr(Progbar, "_clock", staticmethod(lambda: next(times)))
    out = io.StringIO()
    bar = Progbar(5, verbose=2, stream=out)
    for step in range(1, 6):
        bar.update(step)
    assert out.getvalue() == "5/5 - 11s - 200ms/step\n"


@pytest.mark.parametrize(("seconds", "text"), [(42.4, "42s"), (187, "3:07"), (3723, "1:02:03")])
def test_eta_format(seconds, text):
    assert format_eta(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.4, "2s/step"), (0.0083, "8ms/step"), (9.5e-5, "95us/step"), (0, "0s/step")],
)
def test_step_time_format(seconds, text):
    assert format_step_time(seconds, "step") == text


@pytest.mark.parametrize(
    ("value", "text"), [(0.75672, "0.7567"), (-2.5, "-2.5000"), (1.2e-5, "1.2000e-05"), ("x", "x")]
)
def test_value_format(value, text):
    assert format_value(value) == text


def test_resolve_verbose():
    assert resolve_verbose("auto", Terminal()) == 1
    assert resolve_verbose("auto", io.StringIO()) == 2
    assert resolve_verbose(0, Terminal()) == 0
    with pytest.raises(
        ValueError, match=r"verbose must be one of 0, 1, 2, 'auto'\. Received: verbose=3"
    ):
        resolve_verbose(3)
    with pytest.raises(ValueError, match=r"Received: verbose=True"):
        resolve_verbose(True)


def test_default_stream_is_stdout(capsys):
    bar = Progbar(2, verbose=2)
    bar.update(2, {"loss": 0.5})
    assert re.fullmatch(r"2/2 - \d+s - \S+/step - loss: 0\.5000\n", capsys.readouterr().out)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (
            {"target": 2.5},
            TypeError,
            r"Progbar: target must be an int >= 0 or None\. Received: target=2\.5",
        ),
        ({"width": 0}, ValueError, r"Progbar: width must be an int >= 1\. Received: width=0"),
        ({"interval": "fast"}, TypeError, r"Progbar: interval must be a number"),
        ({"verbose": "yes"}, ValueError, r"verbose must be one of 0, 1, 2, 'auto'"),
    ],
)
def test_progbar_bad_arguments(kwargs, error, match):
    kwargs = {"target": 10, **kwargs}
    with pytest.raises(error, match=match):
        Progbar(**kwargs)
