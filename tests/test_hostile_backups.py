"""A damaged or edited backup is refused before any of it is used, with a ValueError that
names the file and says how to start over; a sound previous backup is used instead, with a
warning."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

import cnnkit
from cnnkit import layers

SEEDED = torch.Generator().manual_seed(0)
HINT = (
    ". The backup is damaged, was edited or belongs to another run; remove it to start afresh "
    "(cnnkit train: --overwrite)"
)


@pytest.fixture(autouse=True)
def on_the_cpu():
    """Bit-for-bit equality is promised on the CPU (GPU kernels may sum in any order)."""
    cnnkit.config.set_device("cpu")
    yield
    cnnkit.config.set_device("auto")


class Stop(Exception):
    pass


class StopAfterBatch(cnnkit.callbacks.Callback):
    """Raise after the ``at``-th batch (None: never), before that batch's backup."""

    def __init__(self, at: int | None = None):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise Stop


def model() -> cnnkit.Sequential:
    cnnkit.utils.set_random_seed(0)
    net = cnnkit.Sequential(
        [
            cnnkit.Input((6, 6, 1)),
            layers.RandomFlip(seed=4),
            layers.Flatten(),
            layers.Dense(3, activation="softmax"),
        ]
    )
    net.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return net


def fit(net, folder: Path, at: int | None = None):
    rng = np.random.default_rng(0)
    x, y = rng.random((24, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, 24)
    callbacks = [StopAfterBatch(at), cnnkit.callbacks.BackupAndRestore(folder, save_freq=1)]
    return net.fit(x, y, batch_size=4, epochs=2, callbacks=callbacks, verbose=0)


@pytest.fixture
def backup(tmp_path) -> Path:
    """A backup taken after the third batch of a run stopped after the fourth (so a previous
    backup, after the second batch, sits beside it): inside a group of four batches augmented
    ahead."""
    with pytest.raises(Stop):
        fit(model(), tmp_path, at=4)
    return tmp_path / "backup.cnnkit"


def read(path: Path) -> tuple[dict[str, str], dict[str, torch.Tensor]]:
    with safe_open(str(path), framework="pt") as reader:
        return reader.metadata(), {k: reader.get_tensor(k) for k in reader.keys()}


def edit_state(path: Path, **changes) -> None:
    metadata, tensors = read(path)
    state = json.loads(metadata["training_state"])
    state.update(changes)
    metadata["training_state"] = json.dumps(state)
    save_file(tensors, str(path), metadata)


def edit_tensors(path: Path, **changes) -> None:
    metadata, tensors = read(path)
    for key, value in changes.items():
        key = "backup/" + key.replace("__", "/")
        if value is None:
            del tensors[key]
        else:
            tensors[key] = value
    save_file(tensors, str(path), metadata)


def refused(path: Path, detail: str) -> str:
    return re.escape(f"cannot resume from {str(path)!r}: {detail}{HINT}")


def test_the_backup_is_taken_inside_a_group_with_everything_checked(backup):
    state = json.loads(read(backup)[0]["training_state"])
    assert (state["epoch"], state["step"], state["group_start"]) == (0, 3, 0)
    assert (backup.parent / "backup.prev.cnnkit").is_file()
    keys = set(read(backup)[1])
    assert {"backup/layer_rng/0/cpu", "backup/group/torch_rng", "backup/torch_rng"} <= keys


CASES = {
    "epoch 10**6": (
        dict(epoch=10**6),
        "epoch must be an int in [0, 2] (epochs of this fit); got 1000000",
    ),
    "epoch as text": (
        dict(epoch="0"),
        "epoch must be an int in [0, 2] (epochs of this fit); got '0'",
    ),
    "negative step": (
        dict(step=-1),
        "step must be null or an int in [1, 6] (batches per epoch); got -1",
    ),
    "fractional step": (
        dict(step=2.5),
        "step must be null or an int in [1, 6] (batches per epoch); got 2.5",
    ),
    "group start after the step": (
        dict(group_start=3),
        "group_start must be null or an int in [0, 2]; got 3",
    ),
    "huge shuffle seed": (
        dict(shuffle_seed=2**70),
        f"shuffle_seed must be an int in [0, 2**62]; got {2**70}",
    ),
    "tracker naming a method": (
        dict(trackers=[{"update_state": 1.0, "_count": 1.0}, {"_total": 1.0, "_count": 1.0}]),
        "each tracker must hold exactly ['_count', '_total']; got {'update_state': 1.0, '_count': 1.0}",
    ),
    "a tracker missing": (
        dict(trackers=[{"_total": 1.0, "_count": 1.0}]),
        "trackers must be a list of 2 running totals (loss and metrics)",
    ),
    "python generator cut short": (
        dict(python_rng=[3, [1, 2, 3], None]),
        "python_rng is not a state of Python's random module (state vector is the wrong size)",
    ),
    "numpy generator of text": (
        dict(numpy_rng="MT19937"),
        "numpy_rng must be ['MT19937', 624 ints in [0, 2**32), position in [0, 624], "
        "has_gauss 0 or 1, cached gaussian]",
    ),
    "callbacks not a list": (dict(callbacks={}), "callbacks must be a list of 3 states"),
    "another set of callbacks": (
        dict(callback_types=["History"]),
        "the callbacks differ from the backed-up run (['History'] then, ['StopAfterBatch', "
        "'History', 'BackupAndRestore'] now); pass the same callbacks to resume",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_edited_training_state_is_refused_before_anything_is_loaded(backup, case):
    changes, detail = CASES[case]
    (backup.parent / "backup.prev.cnnkit").unlink()
    edit_state(backup, **changes)
    net = model()
    before = net.get_weights()
    with pytest.raises(ValueError, match=refused(backup, detail)):
        fit(net, backup.parent)
    for got, expected in zip(net.get_weights(), before):
        np.testing.assert_array_equal(got, expected)


TENSOR_CASES = {
    "torch state as floats": (
        dict(torch_rng=torch.zeros(5056)),
        "the generator state backup/torch_rng must be uint8 of shape (5056,); "
        "got torch.float32 of shape (5056,)",
    ),
    "torch state cut short": (
        dict(torch_rng=torch.zeros(100, dtype=torch.uint8)),
        "the generator state backup/torch_rng must be uint8 of shape (5056,); "
        "got torch.uint8 of shape (100,)",
    ),
    "torch state of random bytes": (
        dict(torch_rng=torch.randint(0, 256, (5056,), dtype=torch.uint8, generator=SEEDED)),
        "the generator state backup/torch_rng is not a state of PyTorch's Mersenne Twister",
    ),
    "torch state missing": (dict(torch_rng=None), "the tensor backup/torch_rng is missing"),
    "layer state of a 2-d tensor": (
        dict(layer_rng__0__cpu=torch.zeros(2, 2528, dtype=torch.uint8)),
        "the generator state backup/layer_rng/0/cpu must be uint8 of shape (5056,); "
        "got torch.uint8 of shape (2, 2528)",
    ),
    "a generator of no layer": (
        dict(layer_rng__7__cpu=torch.zeros(5056, dtype=torch.uint8)),
        "unexpected tensor 'backup/layer_rng/7/cpu' (not a generator of this model)",
    ),
    "the group's state missing": (
        dict(group__torch_rng=None),
        "the tensor backup/group/torch_rng is missing",
    ),
}


@pytest.mark.parametrize("case", sorted(TENSOR_CASES))
def test_edited_backup_tensors_are_refused(backup, case):
    changes, detail = TENSOR_CASES[case]
    (backup.parent / "backup.prev.cnnkit").unlink()
    edit_tensors(backup, **changes)
    with pytest.raises(ValueError, match=refused(backup, detail)):
        fit(model(), backup.parent)


def test_bad_json_and_a_plain_model_file_are_refused(backup):
    (backup.parent / "backup.prev.cnnkit").unlink()
    metadata, tensors = read(backup)
    save_file(tensors, str(backup), {**metadata, "training_state": "{epoch: 1"})
    invalid = re.escape(
        f"cannot resume from {str(backup)!r}: its training_state is not valid JSON ("
    )
    with pytest.raises(ValueError, match=invalid):
        fit(model(), backup.parent)
    model().save(str(backup))
    with pytest.raises(
        ValueError, match=refused(backup, "it is a model file without training state")
    ):
        fit(model(), backup.parent)


def test_a_truncated_backup_is_refused_naming_the_file(backup):
    (backup.parent / "backup.prev.cnnkit").unlink()
    backup.write_bytes(backup.read_bytes()[:300])
    with pytest.raises(ValueError) as error:
        fit(model(), backup.parent)
    message = str(error.value)
    assert message.startswith(
        f"cannot resume from {str(backup)!r}: {str(backup)!r} is not a readable"
    )
    assert message.endswith(HINT)


def test_an_unusable_latest_backup_falls_back_to_the_previous_one_with_a_warning(tmp_path, backup):
    whole = fit(model(), tmp_path / "whole")
    backup.write_bytes(backup.read_bytes()[:300])
    net = model()
    with pytest.warns(UserWarning, match="resuming from the previous backup .*backup.prev.cnnkit"):
        history = fit(net, backup.parent)
    assert history.history == whole.history  # the previous backup resumes exactly too
    assert not backup.exists() and not (backup.parent / "backup.prev.cnnkit").exists()


def test_both_backups_unusable_reports_the_latest(backup):
    backup.write_bytes(backup.read_bytes()[:300])
    edit_state(backup.parent / "backup.prev.cnnkit", epoch=-1)
    with pytest.raises(ValueError, match=re.escape(f"cannot resume from {str(backup)!r}")):
        fit(model(), backup.parent)


def test_a_callback_state_that_does_not_load_is_refused(backup):
    (backup.parent / "backup.prev.cnnkit").unlink()
    metadata, _ = read(backup)
    state = json.loads(metadata["training_state"])
    callbacks = state["callbacks"]
    history = state["callback_types"].index("History")
    callbacks[history] = {"history": {}}
    edit_state(backup, callbacks=callbacks)
    with pytest.raises(ValueError, match=re.escape(f"cannot resume from {str(backup)!r}: History")):
        fit(model(), backup.parent)


def test_a_history_of_text_is_refused(backup):
    (backup.parent / "backup.prev.cnnkit").unlink()
    state = json.loads(read(backup)[0]["training_state"])
    callbacks = state["callbacks"]
    callbacks[state["callback_types"].index("History")] = {"history": {"loss": "abc"}, "epoch": []}
    edit_state(backup, callbacks=callbacks)
    detail = "History.load_state_dict: history must map names to lists of values"
    with pytest.raises(ValueError, match=re.escape(f"{str(backup)!r}: {detail}")):
        fit(model(), backup.parent)


def early_stopping():
    callback = cnnkit.callbacks.EarlyStopping(monitor="loss", restore_best_weights=True)
    callback.set_model(model())
    return callback


STATE_CASES = [
    (
        lambda: cnnkit.callbacks.ModelCheckpoint("m.cnnkit"),
        {"best": "0.5", "epochs_since_save": 0, "batches_since_save": 0, "last_batch": None}
        | {"current_epoch": 0},
        "ModelCheckpoint.load_state_dict: best must be a number or None. Received: best='0.5'",
    ),
    (
        lambda: cnnkit.callbacks.ReduceLROnPlateau(),
        {"best": 1.0, "wait": -3, "cooldown_counter": 0},
        "ReduceLROnPlateau.load_state_dict: wait must be an int >= 0. Received: wait=-3",
    ),
    (
        early_stopping,
        {"best": 1.0, "best_epoch": 0, "wait": 0, "stopped_epoch": 0}
        | {"best_weights": [np.zeros(3)]},
        "EarlyStopping.load_state_dict: best_weights must be None or the model's 2 weight "
        "arrays, of shapes [(36, 3), (3,)]",
    ),
    (
        lambda: cnnkit.callbacks.CSVLogger("h.csv"),
        {"size": 10**6, "keys": "loss", "write_header": False},
        "CSVLogger.load_state_dict: keys must be a list of names. Received: 'loss'",
    ),
    (
        lambda: cnnkit.callbacks.BackupAndRestore("b"),
        {"batches": True},
        "BackupAndRestore.load_state_dict: batches must be an int >= 0. Received: batches=True",
    ),
]


@pytest.mark.parametrize(("make", "state", "message"), STATE_CASES)
def test_callback_states_of_the_wrong_kind_are_refused(make, state, message):
    with pytest.raises((ValueError, TypeError), match=re.escape(message)):
        make().load_state_dict(state)


def test_random_damage_is_refused_with_a_value_error_or_resumes(backup):
    """Fuzz: cut at random lengths or a random byte of the header changed; a refused backup
    raises the ValueError naming it, never another error (changed weights cannot be told)."""
    (backup.parent / "backup.prev.cnnkit").unlink()
    sound, draw = backup.read_bytes(), random.Random(11)
    header, refused = 8 + int.from_bytes(sound[:8], "little"), 0
    for _ in range(12):
        damaged = bytearray(sound)
        if draw.random() < 0.5:
            damaged = damaged[: draw.randrange(len(sound))]
        else:
            damaged[draw.randrange(header)] = draw.randrange(256)
        backup.write_bytes(bytes(damaged))
        try:
            fit(model(), backup.parent)
        except ValueError as error:
            assert str(error).startswith(f"cannot resume from {str(backup)!r}: ")
            refused += 1
        backup.write_bytes(sound)
    assert refused >= 6
