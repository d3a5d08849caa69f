"""Optimizer state from a file is checked against the optimizer before use: hyper-parameters
by type and range, each parameter's tensors by name, shape, dtype and value; flags such as
``fused`` are never taken from a file."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch
from model_file_tools import edit_section, rewrite, small_model

import cnnkit
from cnnkit.optimizers import SGD, Adadelta, Adagrad, Adam, Adamax, AdamW, Lion, Nadam, RMSprop


@pytest.fixture(scope="module")
def adam_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("adam") / "m.keras"
    small_model(Adam(learning_rate=0.01)).save(path)
    return path


@pytest.fixture
def path(adam_file, tmp_path):
    copy = tmp_path / "m.keras"
    shutil.copy(adam_file, copy)
    return copy


def set_tensor(name, value):
    return lambda metadata, tensors: tensors.__setitem__(name, value)


def group_change(**changes):
    def change(structure):
        structure["param_groups"][0].update(changes)
        return structure

    return change


def test_a_one_element_exp_avg_under_fused_adam_is_refused(path):
    """The attack: a compiled model's exp_avg replaced by 1 element, the group saying fused."""
    rewrite(path, set_tensor("optimizer/0/exp_avg", torch.zeros(1)))
    with pytest.raises(ValueError) as info:
        cnnkit.models.load_model(path)
    assert str(info.value) == (
        f"{str(path)!r}: the optimizer state of parameter 0: 'exp_avg' must be a float32 tensor "
        "of shape (4, 1, 3, 3); found 'float32 of shape (1,)'"
    )


@pytest.mark.parametrize(
    "change, message",
    [
        (set_tensor("optimizer/0/exp_avg", torch.zeros(4, 1, 3, 3, dtype=torch.float64)),
         r"'exp_avg' must be a float32 tensor of shape \(4, 1, 3, 3\); found 'float64 of shape"),
        (set_tensor("optimizer/0/step", torch.tensor(3, dtype=torch.int64)),
         r"'step' must be a float32 tensor of shape \(\); found 'int64 of shape \(\)'"),
        (set_tensor("optimizer/0/step", torch.tensor(-1.0)), r"'step' must be a whole number >= 0; found -1.0"),
        (set_tensor("optimizer/0/step", torch.tensor(1.5)), r"'step' must be a whole number >= 0; found 1.5"),
        (set_tensor("optimizer/0/exp_avg_sq", -torch.ones(4, 1, 3, 3)),
         r"'exp_avg_sq' must be >= 0 everywhere; found 'negative values'"),
        (set_tensor("optimizer/1/exp_avg", torch.full((4,), float("nan"))),
         r"parameter 1: 'exp_avg' must be finite; found 'NaN or infinite values'"),
        (lambda m, t: t.pop("optimizer/2/exp_avg_sq"),
         r"the optimizer state of parameter 2 must be the tensors \['exp_avg', 'exp_avg_sq', 'step'\]; "
         r"found \['exp_avg', 'step'\]"),
        (set_tensor("optimizer/2/momentum_buffer", torch.zeros(4)),
         r"parameter 2 must be the tensors \['exp_avg', 'exp_avg_sq', 'step'\]; found \['exp_avg', "
         r"'exp_avg_sq', 'momentum_buffer', 'step'\]"),
        (set_tensor("optimizer/6/exp_avg", torch.zeros(3)), r"the optimizer state of parameter 6 must be absent"),
        (set_tensor("optimizer/x/exp_avg", torch.zeros(3)),
         r"the tensor name must be optimizer/<index>/<name>; found 'optimizer/x/exp_avg'"),
        (set_tensor("optimizer/0", torch.zeros(3)), r"found 'optimizer/0'"),
    ],
)  # fmt: skip
def test_state_tensors_must_be_exactly_what_adam_keeps(path, change, message):
    rewrite(path, change)
    with pytest.raises(ValueError, match=message) as info:
        cnnkit.models.load_model(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "change, message",
    [
        (group_change(lr=-1), r"param_groups\[0\].lr must be a number >= 0; found -1"),
        (group_change(lr="0.1"), r"param_groups\[0\].lr must be a number >= 0; found '0.1'"),
        (group_change(lr=True), r"param_groups\[0\].lr must be a number >= 0; found True"),
        (group_change(betas=[0.9, 1.5]), r"betas must be two numbers in \[0, 1\); found \[0.9, 1.5\]"),
        (group_change(betas=[0.9]), r"betas must be two numbers in \[0, 1\); found \[0.9\]"),
        (group_change(eps=None), r"eps must be a number >= 0; found None"),
        (group_change(amsgrad=1), r"amsgrad must be true or false; found 1"),
        (group_change(params=[0, 1, 2]), r"params must be the indices \[0, 1, 2, 3, 4, 5\]; found \[0, 1, 2\]"),
        (lambda s: {**s, "param_groups": s["param_groups"] * 2}, r"param_groups must be 1 group\(s\)"),
        (lambda s: {**s, "param_groups": [{k: v for k, v in s["param_groups"][0].items() if k != "lr"}]},
         r"param_groups\[0\].lr must be a number >= 0; found 'nothing'"),
        (lambda s: {**s, "scalars": {"0": {"exp_avg": 1.0}}}, r"scalars.0.exp_avg must be a step count"),
        (group_change(amsgrad=True),
         r"must be the tensors \['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq', 'step'\]"),
    ],
)  # fmt: skip
def test_param_groups_are_checked_by_type_and_range(path, change, message):
    edit_section(path, "optimizer", change)
    with pytest.raises(ValueError, match=message):
        cnnkit.models.load_model(path)


def test_flags_are_never_taken_from_a_file(path):
    flags = {"fused": None, "foreach": True, "maximize": True, "capturable": True,
             "differentiable": True, "decoupled_weight_decay": True, "surprise": [1]}  # fmt: skip
    edit_section(path, "optimizer", group_change(lr=0.5, **flags))
    loaded = cnnkit.models.load_model(path)
    group = loaded.optimizer.torch_optimizer.param_groups[0]
    fresh = small_model(Adam(learning_rate=0.01)).optimizer.torch_optimizer.param_groups[0]
    assert group["lr"] == 0.5 == loaded.optimizer.learning_rate  # a plain hyper-parameter: taken
    for flag in ("fused", "foreach", "maximize", "capturable", "differentiable"):
        assert group[flag] == fresh[flag], flag  # flags: the running optimizer's own
    assert group["decoupled_weight_decay"] is False and "surprise" not in group


@pytest.mark.parametrize(
    "optimizer",
    [
        SGD(0.01),
        SGD(0.01, momentum=0.9, nesterov=True),
        Adam(amsgrad=True),
        AdamW(),
        RMSprop(momentum=0.5, centered=True),
        Adagrad(),
        Adadelta(1.0, weight_decay=0.01),
        Adamax(weight_decay=0.01),
        Nadam(clipnorm=1.0),
        Lion(),
    ],
    ids=[
        "sgd",
        "sgd-nesterov",
        "adam-amsgrad",
        "adamw",
        "rmsprop-centered",
        "adagrad",
        "adadelta",
        "adamax",
        "nadam",
        "lion",
    ],  # fmt: skip
)
def test_every_optimizer_round_trips_and_resumes_exactly(tmp_path, optimizer):
    model = small_model(optimizer)
    model.save(tmp_path / "m.keras")
    loaded = cnnkit.models.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(2).random((16, 8, 8, 1)).astype(np.float32)
    for m in (model, loaded):
        m.fit(x, np.arange(16) % 3, epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "optimizer, change, message",
    [
        (Nadam(), set_tensor("optimizer/0/mu_product", torch.ones(4, 1, 3, 3)),
         r"'mu_product' must be a float32 tensor of shape \(\); found 'float32 of shape \(4, 1, 3, 3\)'"),
        (Nadam(), set_tensor("optimizer/0/mu_product", torch.tensor(-1.0)),
         r"'mu_product' must be >= 0 everywhere; found 'negative values'"),
        (Adamax(), set_tensor("optimizer/1/exp_inf", -torch.ones(4)),
         r"'exp_inf' must be >= 0 everywhere; found 'negative values'"),
        (Lion(), set_tensor("optimizer/2/step", torch.tensor(1.0)),
         r"parameter 2 must be the tensors \['exp_avg'\]; found \['exp_avg', 'step'\]"),
        (Adadelta(), set_tensor("optimizer/0/acc_delta", torch.full((4, 1, 3, 3), float("inf"))),
         r"'acc_delta' must be finite; found 'NaN or infinite values'"),
    ],
    ids=["nadam-mu_product-shape", "nadam-mu_product-negative", "adamax-exp_inf", "lion-extra", "adadelta-inf"],
)  # fmt: skip
def test_the_state_of_keras_own_optimizers_is_checked(tmp_path, optimizer, change, message):
    path = tmp_path / "m.keras"
    small_model(optimizer).save(path)
    rewrite(path, change)
    with pytest.raises(ValueError, match=message):
        cnnkit.models.load_model(path)


def test_nadam_keeps_keras_momentum_schedule_whatever_the_file_says(tmp_path):
    path = tmp_path / "m.keras"
    small_model(Nadam()).save(path)
    edit_section(path, "optimizer", group_change(momentum_decay=0.004, weight_decay=5.0))
    group = cnnkit.models.load_model(path).optimizer.torch_optimizer.param_groups[0]
    assert (group["momentum_decay"], group["weight_decay"]) == (1.0, 0)


def test_sgd_state_must_match_its_momentum(tmp_path):
    path = tmp_path / "m.keras"
    small_model(SGD(0.01, momentum=0.9)).save(path)
    edit_section(path, "optimizer", group_change(momentum=0.0, nesterov=False))
    with pytest.raises(ValueError, match=r"must be the tensors \[\]; found \['momentum_buffer'\]"):
        cnnkit.models.load_model(path)
    edit_section(path, "optimizer", group_change(momentum=0.9, nesterov=True, dampening=0.5))
    with pytest.raises(
        ValueError, match=r"nesterov must be false without momentum or with dampening"
    ):
        cnnkit.models.load_model(path)


def test_restoring_a_backup_checks_the_optimizer_state_too(path):
    """restore_into (BackupAndRestore) goes through the same checks."""
    from cnnkit.saving import restore_into

    model = small_model(Adam(learning_rate=0.01))
    model.set_weights([w + 1 for w in model.get_weights()])  # differs from the file's
    before = [w.copy() for w in model.get_weights()]
    rewrite(path, set_tensor("optimizer/4/exp_avg", torch.zeros(1)))
    with pytest.raises(ValueError, match=r"parameter 4: 'exp_avg' must be a float32 tensor"):
        restore_into(model, path)
    rewrite(path, set_tensor("stack.dense.weight", torch.zeros(3, 144, dtype=torch.float64)))
    with pytest.raises(ValueError, match=r"weight 'stack.dense.weight' holds float64 values"):
        restore_into(model, path)
    for a, b in zip(before, model.get_weights()):  # a refusal changes nothing
        np.testing.assert_array_equal(a, b)
