"""The schema of a model file's JSON header: every section is checked (types, ranges, nesting,
sizes) before anything is built from it, so a crafted file gets one clear ValueError naming the
file, the field and what was found, never a raw exception or a huge allocation."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Collection
from typing import Any

from cnnkit._graph_header import check_functional_config
from cnnkit._header_fields import (
    MAX_DEPTH,
    MAX_INPUT_ELEMENTS,
    MAX_LAYERS,
    MAX_MODEL_NESTING,
    MAX_PARAM_GROUPS,
    MAX_SIZE,
    MAX_STRING,
    MAX_WINDOW,
    _check_size,
    _check_sizes,
    _shown,
    check_object,
    check_shape,
    is_int,
    is_number,
    refuse,
    refuse_keys,
)

OPTIMIZER_TENSOR = re.compile(r"optimizer/(0|[1-9][0-9]{0,8})/([a-z_][a-z0-9_]{0,63})")

_MODEL_KEYS = ("input_shape", "layers", "name")
_COMPILE_KEYS = ("jit_compile", "loss", "metrics", "optimizer")
_OBJECT_SUFFIXES = ("initializer", "regularizer", "constraint")


def load_section(metadata: dict[str, str], section: str, path: str) -> Any:
    """Parse one JSON section of the header, refusing bad JSON, NaN/Infinity and deep nesting."""
    text = metadata.get(section)
    try:
        if not isinstance(text, str):
            raise ValueError("it is missing")
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise ValueError(
            f"{path!r}: its {section!r} section is nested more than {MAX_DEPTH} levels deep"
        ) from None
    except ValueError as error:  # JSONDecodeError, NaN, ints of thousands of digits
        raise ValueError(
            f"{path!r}: its {section!r} section is missing or not valid JSON ({error})"
        ) from None
    check_json_limits(value, section, path)
    return value


def _holds_model(entry: dict, key: str, child: Any) -> bool:
    """Whether ``entry[key]`` is the config of a model used as a layer."""
    return (
        key == "config"
        and entry.get("class_name") in ("Sequential", "Functional")
        and isinstance(child, dict)
        and "layers" in child
    )


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number a cnnkit file may hold")


def check_json_limits(value: Any, section: str, path: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH, long strings and non-finite numbers (iteratively,
    so no depth can exhaust Python's stack)."""
    stack: list[tuple[Any, str, int, int]] = [(value, section, 0, 0)]
    while stack:
        item, field, depth, models = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(
                f"{path!r}: its {section!r} section is nested more than {MAX_DEPTH} levels deep "
                f"(at {field})"
            )
        if isinstance(item, dict):
            for key, child in item.items():
                if len(key) > MAX_STRING:
                    raise refuse(path, field, f"keys of at most {MAX_STRING} characters", key)
                if _holds_model(item, key, child):  # a model used as a layer counts afresh
                    if models >= MAX_MODEL_NESTING:
                        raise refuse(
                            path,
                            f"{field}.{key}",
                            f"models nested at most {MAX_MODEL_NESTING} deep",
                            "deeper",
                        )
                    stack.append((child, f"{field}.{key}", 0, models + 1))
                else:
                    stack.append((child, f"{field}.{key}", depth + 1, models))
        elif isinstance(item, list):
            stack.extend((c, f"{field}[{i}]", depth + 1, models) for i, c in enumerate(item))
        elif isinstance(item, str) and len(item) > MAX_STRING:
            raise refuse(path, field, f"a string of at most {MAX_STRING} characters", item)
        elif isinstance(item, float) and not math.isfinite(item):
            raise refuse(path, field, "a finite number", item)


# ---------------------------------------------------------------------- the model
def check_model_config(
    config: Any, path: str, layer_names: Collection[str], field: str = "config", nesting: int = 0
) -> None:
    """A model's config: a functional one (with "output_layers", see _graph_header) or a
    Sequential one, {"name", "input_shape", "layers": [{"class_name", "config"}]}."""
    if isinstance(config, dict) and "class_name" in config and nesting == 0:
        check_layer_entry(config, field, path, layer_names, nesting, ("build_config",))
        build = check_object(config.get("build_config", {}), f"{field}.build_config", path)
        refuse_keys(build, ("input_shape",), f"{field}.build_config", path)
        shape = build.get("input_shape")
        if not isinstance(shape, list) or not shape or shape[0] is not None:
            raise refuse(path, f"{field}.build_config.input_shape", "[null, sizes...]", shape)
        check_shape(shape[1:], f"{field}.build_config.input_shape", path)
        return
    if isinstance(config, dict) and "output_layers" in config:
        check_functional_config(config, path, layer_names, field, nesting, check_layer_entry)
        return
    check_object(config, field, path)
    refuse_keys(config, _MODEL_KEYS, field, path)
    if config.get("name") is not None and not isinstance(config["name"], str):
        raise refuse(path, f"{field}.name", "a string or null", config["name"])
    check_shape(config.get("input_shape"), f"{field}.input_shape", path)
    entries = config.get("layers")
    if not isinstance(entries, list) or len(entries) > MAX_LAYERS:
        raise refuse(path, f"{field}.layers", f"a list of at most {MAX_LAYERS} layers", entries)
    for index, entry in enumerate(entries):
        check_layer_entry(entry, f"{field}.layers[{index}]", path, layer_names, nesting)


def check_layer_entry(
    entry: Any,
    field: str,
    path: str,
    layer_names: Collection[str],
    nesting: int,
    extra_keys: tuple[str, ...] = (),
) -> None:
    """{"class_name", "config"[, "registered_name"]}: a class the file may name, and its
    config (a model used as a layer is checked as a model)."""
    check_object(entry, field, path)
    refuse_keys(entry, ("class_name", "config", "registered_name", *extra_keys), field, path)
    name, registered = entry.get("class_name"), entry.get("registered_name")
    if registered is not None and not isinstance(registered, str):
        raise refuse(path, f"{field}.registered_name", "a string", registered)
    if not isinstance(name, str) or (name not in layer_names and registered not in layer_names):
        raise ValueError(
            f"{path!r}: {field}.class_name: unknown layer class {_shown(name)}; a cnnkit "
            "file may only hold cnnkit layers: " + ", ".join(sorted(layer_names)) + ". Pass "
            "your own classes with load_model(path, custom_objects={'Name': Name}) or register "
            "them with @cnnkit.saving.register_serializable()"
        )
    if registered is None and name in ("Sequential", "Functional"):
        if nesting >= MAX_MODEL_NESTING:
            raise refuse(path, field, f"models nested at most {MAX_MODEL_NESTING} deep", name)
        config = entry.get("config")
        if isinstance(config, dict) and (name == "Functional") != ("output_layers" in config):
            raise refuse(path, f"{field}.config", f"the config of a {name} model", config)
        check_model_config(config, path, layer_names, f"{field}.config", nesting + 1)
        return
    _check_layer_config(entry.get("config"), f"{field}.config", path)


def _check_layer_config(config: Any, field: str, path: str) -> None:
    check_object(config, field, path)
    for key, value in config.items():
        check = _LAYER_FIELDS.get(key)
        if check is not None:
            check(value, f"{field}.{key}", path)
        elif key.endswith(_OBJECT_SUFFIXES) and isinstance(value, dict):
            check_named_object(value, f"{field}.{key}", path)
        elif isinstance(value, dict):
            raise refuse(
                path, f"{field}.{key}", "a number, string, list or null (not an object)", value
            )


def check_named_object(value: Any, field: str, path: str) -> None:
    """{"class_name": str, "config": {name: number, string, list or null}} (an initializer,
    a regularizer, a constraint, an optimizer or a loss)."""
    check_object(value, field, path)
    refuse_keys(value, ("class_name", "config"), field, path)
    if not isinstance(value.get("class_name"), str):
        raise refuse(path, f"{field}.class_name", "a string", value.get("class_name"))
    arguments = check_object(value.get("config", {}), f"{field}.config", path)
    for key, argument in arguments.items():
        if isinstance(argument, dict):
            raise refuse(path, f"{field}.config.{key}", "a number, string, list or null", argument)


def _size(high: int, optional: bool = False) -> Callable[[Any, str, str], None]:
    def check(value: Any, field: str, path: str) -> None:
        if not (value is None and optional):
            _check_size(value, field, path, high)

    return check


def _check_flag(value: Any, field: str, path: str) -> None:
    if not isinstance(value, bool):
        raise refuse(path, field, "true or false", value)


def _check_flag_or_numbers(value: Any, field: str, path: str) -> None:
    """BatchNormalization's scale (a flag) or Rescaling's (a number or one per channel)."""
    numbers = value if isinstance(value, list) and len(value) <= MAX_SIZE else [value]
    if not isinstance(value, bool) and not (numbers and all(is_number(v) for v in numbers)):
        raise refuse(path, field, "true, false, a number or a list of numbers", value)


def _sizes(high: int, optional: bool = False) -> Callable[[Any, str, str], None]:
    return lambda value, field, path: _check_sizes(value, field, path, high, optional)


def _check_borders(value: Any, field: str, path: str) -> None:
    """A padding mode ('same'), or ZeroPadding2D/Cropping2D's int, [rows, columns] or
    [[top, bottom], [left, right]], each in [0, MAX_WINDOW]; Conv2DTranspose's output_padding."""
    if value is None or isinstance(value, str):
        return
    flat = (
        [v for item in value for v in (item if isinstance(item, list) else [item])]
        if (isinstance(value, list) and len(value) <= 2)
        else [value]
    )
    if not flat or not all(is_int(v) and 0 <= v <= MAX_WINDOW for v in flat):
        raise refuse(
            path, field, f"a string, an int in [0, {MAX_WINDOW}] or (nested) lists of them", value
        )


def _check_target_shape(value: Any, field: str, path: str) -> None:
    """Reshape's target_shape: 1 to 4 sizes in [1, MAX_SIZE] or -1."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise refuse(path, field, "a list of 1 to 4 sizes", value)
    for size in value:
        if size != -1:
            _check_size(size, field, path, MAX_SIZE)
    known = [size for size in value if size != -1]
    if math.prod(known) > MAX_INPUT_ELEMENTS:
        raise refuse(path, field, f"a shape of at most {MAX_INPUT_ELEMENTS} elements", value)


def _check_dims(value: Any, field: str, path: str) -> None:
    """Permute's dims: a permutation of 1..n, n at most 4."""
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise refuse(path, field, "a list of 1 to 4 axes", value)
    for axis in value:
        _check_size(axis, field, path, 4)


def _check_groups(value: Any, field: str, path: str) -> None:
    """Conv2D's groups, or GroupNormalization's (where -1 means one group per channel)."""
    if value != -1 or not is_int(value):
        _check_size(value, field, path, MAX_SIZE)


_LAYER_FIELDS: dict[str, Callable[[Any, str, str], None]] = {
    "filters": _size(MAX_SIZE),
    "units": _size(MAX_SIZE),
    "groups": _check_groups,
    "height": _size(MAX_SIZE),
    "width": _size(MAX_SIZE),
    "input_dim": _size(MAX_SIZE, optional=True),
    "batch_size": _size(MAX_SIZE, optional=True),
    "kernel_size": _sizes(MAX_WINDOW),
    "pool_size": _sizes(MAX_WINDOW),
    "strides": _sizes(MAX_WINDOW, optional=True),
    "dilation_rate": _sizes(MAX_WINDOW),
    "depth_multiplier": _size(MAX_SIZE),
    "size": _sizes(MAX_WINDOW),
    "padding": _check_borders,
    "cropping": _check_borders,
    "output_padding": _check_borders,
    "target_shape": _check_target_shape,
    "dims": _check_dims,
    "input_shape": check_shape,
    "shape": check_shape,
    **dict.fromkeys(
        ("trainable", "use_bias", "center", "keepdims", "invert", "antialias"),
        _check_flag,
    ),
    "scale": _check_flag_or_numbers,
}


# ---------------------------------------------------------------------- compile settings
def check_compile_config(settings: Any, path: str) -> None:
    """The 'compile' section: {"optimizer": {...}, "loss": {...}, "metrics": [...], "jit_compile"}."""
    check_object(settings, "compile", path)
    refuse_keys(settings, _COMPILE_KEYS, "compile", path)
    for key in ("optimizer", "loss"):
        if key not in settings:
            raise refuse(path, f"compile.{key}", "present", "nothing")
        check_named_object(_without_schedule(settings[key], path), f"compile.{key}", path)
    metrics = settings.get("metrics", [])
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise refuse(path, "compile.metrics", "a list of metric names", metrics)
    jit_compile = settings.get("jit_compile", False)
    if not isinstance(jit_compile, bool) and jit_compile != "auto":
        raise refuse(path, "compile.jit_compile", "true, false or 'auto'", jit_compile)


def _without_schedule(optimizer: Any, path: str) -> Any:
    """The optimizer's entry with a learning-rate schedule ({"class_name", "config"}, itself
    checked here) in place of its learning rate: the one nested object a config may hold."""
    arguments = optimizer.get("config") if isinstance(optimizer, dict) else None
    if not isinstance(arguments, dict) or not isinstance(arguments.get("learning_rate"), dict):
        return optimizer
    field = "compile.optimizer.config.learning_rate"
    check_named_object(arguments["learning_rate"], field, path)
    return {**optimizer, "config": {**arguments, "learning_rate": None}}


# ---------------------------------------------------------------------- optimizer state
def check_optimizer_structure(structure: Any, path: str) -> None:
    """The 'optimizer' section's shape: {"param_groups": [{..., "params": [int]}], "scalars":
    {"<int>": {name: number}}}; what the values mean is checked against the optimizer later."""
    check_object(structure, "optimizer", path)
    refuse_keys(structure, ("param_groups", "scalars", "iterations"), "optimizer", path)
    iterations = structure.get("iterations", 0)
    if not is_int(iterations) or iterations < 0:
        raise refuse(path, "optimizer.iterations", "a whole number >= 0", iterations)
    groups = structure.get("param_groups")
    if not isinstance(groups, list) or not 1 <= len(groups) <= MAX_PARAM_GROUPS:
        raise refuse(
            path, "optimizer.param_groups", f"a list of 1 to {MAX_PARAM_GROUPS} groups", groups
        )
    for index, group in enumerate(groups):
        field = f"optimizer.param_groups[{index}]"
        check_object(group, field, path)
        params = group.get("params")
        if not isinstance(params, list) or not all(is_int(p) and p >= 0 for p in params):
            raise refuse(path, f"{field}.params", "a list of parameter indices", params)
    scalars = check_object(structure.get("scalars", {}), "optimizer.scalars", path)
    for index, values in scalars.items():
        field = f"optimizer.scalars.{index}"
        if not re.fullmatch(r"0|[1-9][0-9]{0,8}", index):
            raise refuse(path, "optimizer.scalars", "keyed by parameter indices", index)
        check_object(values, field, path)
        for name, value in values.items():
            if not is_number(value):
                raise refuse(path, f"{field}.{name}", "a number", value)


def check_tensor_names(names: Collection[str], path: str) -> None:
    """Optimizer tensors must be named optimizer/<index>/<name>."""
    for name in names:
        if name.startswith("optimizer/") and not OPTIMIZER_TENSOR.fullmatch(name):
            raise refuse(path, "the tensor name", "optimizer/<index>/<name>", name)
