"""Optimizer state read from a file, checked against the optimizer it is loaded into.

Only plain hyper-parameters (lr, betas, momentum...) are taken from the file, after type and
range checks; flags such as ``fused``, ``foreach`` or ``capturable`` stay the running
optimizer's own. Each parameter's state must hold exactly the tensors that optimizer keeps,
shaped and typed like the parameter, finite (second moments also >= 0), with a whole-number
``step`` >= 0: a fused kernel then never reads or writes past a buffer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from cnnkit._file_tensors import dtype_name
from cnnkit._model_header import OPTIMIZER_TENSOR, is_number, refuse

Check = Callable[[Any], bool]


def _at_least_zero(value: Any) -> bool:
    return is_number(value) and value >= 0


def _fraction(value: Any) -> bool:  # in [0, 1)
    return is_number(value) and 0 <= value < 1


def _betas(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and all(_fraction(b) for b in value)


_RULES: dict[str, tuple[Check, str]] = {
    "lr": (_at_least_zero, "a number >= 0"),
    "eps": (_at_least_zero, "a number >= 0"),
    "lr_decay": (_at_least_zero, "a number >= 0"),
    "initial_accumulator_value": (_at_least_zero, "a number >= 0"),
    "momentum": (_fraction, "a number in [0, 1)"),
    "alpha": (_fraction, "a number in [0, 1)"),
    "dampening": (lambda v: is_number(v) and 0 <= v <= 1, "a number in [0, 1]"),
    "betas": (_betas, "two numbers in [0, 1)"),
    "amsgrad": (lambda v: isinstance(v, bool), "true or false"),
    "nesterov": (lambda v: isinstance(v, bool), "true or false"),
    "centered": (lambda v: isinstance(v, bool), "true or false"),
    "rho": (_fraction, "a number in [0, 1)"),
}

# The hyper-parameters a file may set, and the state tensors a parameter's entry must hold.
# weight_decay stays the running optimizer's: cnnkit applies Keras' decay itself (but AdamW's).
_OPTIMIZERS: dict[type, tuple[tuple[str, ...], Callable[[dict], set[str]]]] = {
    torch.optim.Adam: (  # and AdamW, its subclass
        ("lr", "betas", "eps", "amsgrad"),
        lambda g: (
            {"step", "exp_avg", "exp_avg_sq"} | ({"max_exp_avg_sq"} if g["amsgrad"] else set())
        ),
    ),
    torch.optim.SGD: (
        ("lr", "momentum", "dampening", "nesterov"),
        lambda g: {"momentum_buffer"} if g["momentum"] else set(),
    ),
    torch.optim.RMSprop: (
        ("lr", "alpha", "eps", "momentum", "centered"),
        lambda g: (
            {"step", "square_avg"}
            | ({"momentum_buffer"} if g["momentum"] else set())
            | ({"grad_avg"} if g["centered"] else set())
        ),
    ),
    torch.optim.Adagrad: (
        ("lr", "lr_decay", "eps", "initial_accumulator_value"),
        lambda g: {"step", "sum"},
    ),
    torch.optim.Adadelta: (
        ("lr", "rho", "eps"),
        lambda g: {"step", "square_avg", "acc_delta"},
    ),
    # momentum_decay stays the running optimizer's: cnnkit's Nadam needs Keras' value, 1
    torch.optim.NAdam: (
        ("lr", "betas", "eps"),
        lambda g: {"step", "mu_product", "exp_avg", "exp_avg_sq"},
    ),
}
_NON_NEGATIVE = ("exp_avg_sq", "max_exp_avg_sq", "square_avg", "sum", "acc_delta", "exp_inf")
_SCALAR = ("step", "mu_product")  # one number per parameter, kept as a float32 tensor


def checked_state_dict(
    optimizer: torch.optim.Optimizer,
    structure: dict[str, Any],
    tensors: dict[str, torch.Tensor],
    path: str,
    device: torch.device | None = None,
) -> dict[str, Any]:
    """The ``state_dict`` to give ``optimizer.load_state_dict``, built from the file's
    'optimizer' section and tensors, or a ValueError naming the file and the entry."""
    names, state_names = _description(optimizer, path)
    current = optimizer.state_dict()["param_groups"]
    saved = structure.get("param_groups")
    if not isinstance(saved, list) or len(saved) != len(current):
        raise refuse(path, "optimizer.param_groups", f"{len(current)} group(s)", saved)
    groups = [
        _merged_group(index, own, theirs, names, path)
        for index, (own, theirs) in enumerate(zip(current, saved))
    ]
    parameters = [p for group in optimizer.param_groups for p in group["params"]]
    owners = {i: group for group in groups for i in group["params"]}
    state = _gather_state(structure, tensors, path)
    for index, values in state.items():
        if index not in owners:
            raise refuse(path, f"the optimizer state of parameter {index}", "absent", values)
        expected = state_names(owners[index])
        _check_entry(index, values, expected, parameters[index], path)
    moved = {
        index: {n: t if n == "step" else t.to(device) for n, t in values.items()}
        for index, values in state.items()
    }
    return {"state": moved, "param_groups": groups}


def _description(optimizer: torch.optim.Optimizer, path: str) -> tuple[tuple[str, ...], Any]:
    for cls in type(optimizer).__mro__:
        if cls in _OPTIMIZERS:
            return _OPTIMIZERS[cls]
    own = type(optimizer)
    if hasattr(own, "saved_hyper_parameters") and hasattr(own, "saved_state"):
        # cnnkit's own kernels (Keras' RMSprop, Adagrad, Adamax, Lion) describe what they keep
        return own.saved_hyper_parameters, own.saved_state
    raise ValueError(
        f"{path!r}: cannot check a saved state for a {type(optimizer).__name__} optimizer; "
        f"compile with one of cnnkit's optimizers to load it"
    )


def _merged_group(index: int, own: dict, theirs: Any, names: tuple[str, ...], path: str) -> dict:
    """The running group with the file's hyper-parameters; every other key (fused, foreach,
    capturable, maximize...) stays the running optimizer's."""
    field = f"optimizer.param_groups[{index}]"
    if not isinstance(theirs, dict) or theirs.get("params") != own["params"]:
        found = theirs.get("params") if isinstance(theirs, dict) else theirs
        raise refuse(path, f"{field}.params", f"the indices {own['params']}", found)
    group = dict(own)
    for name in names:
        check, expected = _RULES[name]
        if name not in theirs or not check(theirs[name]):
            raise refuse(path, f"{field}.{name}", expected, theirs.get(name, "nothing"))
        value = theirs[name]
        group[name] = tuple(float(b) for b in value) if name == "betas" else value
    if group.get("nesterov") and (group["momentum"] <= 0 or group["dampening"] != 0):
        raise refuse(path, f"{field}.nesterov", "false without momentum or with dampening", True)
    return group


def _gather_state(
    structure: dict[str, Any], tensors: dict[str, torch.Tensor], path: str
) -> dict[int, dict[str, Any]]:
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in tensors.items():
        if key.startswith("optimizer/"):
            match = OPTIMIZER_TENSOR.fullmatch(key)
            if match is None:
                raise refuse(path, "the tensor name", "optimizer/<index>/<name>", key)
            state.setdefault(int(match[1]), {})[match[2]] = tensor
    for index, values in structure.get("scalars", {}).items():
        for name, value in values.items():
            if name != "step" or not is_number(value):
                raise refuse(path, f"optimizer.scalars.{index}.{name}", "a step count", value)
            state.setdefault(int(index), {})[name] = torch.tensor(float(value))
    return state


def _check_entry(
    index: int, values: dict[str, Any], expected: set[str], parameter: torch.Tensor, path: str
) -> None:
    """One parameter's state: exactly the expected tensors, each shaped and typed like it."""
    where = f"the optimizer state of parameter {index}"
    if set(values) != expected:
        raise refuse(path, where, f"the tensors {sorted(expected)}", sorted(values))
    for name, tensor in values.items():
        field = f"{where}: {name!r}"
        shape, dtype = (
            ((), torch.float32) if name in _SCALAR else (parameter.shape, parameter.dtype)
        )
        if tuple(tensor.shape) != tuple(shape) or tensor.dtype != dtype:
            raise refuse(
                path,
                field,
                f"a {dtype_name(dtype)} tensor of shape {tuple(shape)}",
                f"{dtype_name(tensor.dtype)} of shape {tuple(tensor.shape)}",
            )
        if not bool(torch.isfinite(tensor).all()):
            raise refuse(path, field, "finite", "NaN or infinite values")
        if name in _NON_NEGATIVE + ("mu_product",) and bool((tensor < 0).any()):
            raise refuse(path, field, ">= 0 everywhere", "negative values")
        if name == "step" and (float(tensor) < 0 or not float(tensor).is_integer()):
            raise refuse(path, field, "a whole number >= 0", float(tensor))
