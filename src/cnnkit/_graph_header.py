"""The schema of a functional model's config in a model file (Keras 3's shape: layers with
``inbound_nodes``, ``input_layers``, ``output_layers``): every reference names a call that
exists, no call depends on itself, inputs are InputLayers. Checked on the JSON alone, before
any layer is built."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from cnnkit._header_fields import (
    MAX_LAYERS,
    MAX_SIZE,
    check_object,
    is_int,
    refuse,
    refuse_keys,
)

MAX_CALLS = 64  # calls of one layer inside one model (a layer shared 64 times)
MAX_TENSORS = 64  # tensors given to one call (a merge of 64), outputs of one call
MAX_TOTAL_CALLS = 16384
_KEYS = ("input_layers", "layers", "name", "output_layers", "trainable")
_ENTRY_EXTRA = ("inbound_nodes", "name")

Call = tuple[str, int]  # (layer name, index of the call among that layer's calls)


def check_functional_config(
    config: Any,
    path: str,
    names: Collection[str],
    field: str,
    nesting: int,
    check_layer_entry: Callable[..., None],
) -> None:
    """The config of ``Model(inputs, outputs)`` as ``graph_config`` writes it;
    ``check_layer_entry`` checks each layer entry (a nested model's config among them)."""
    check_object(config, field, path)
    refuse_keys(config, _KEYS, field, path)
    if config.get("name") is not None and not isinstance(config["name"], str):
        raise refuse(path, f"{field}.name", "a string or null", config["name"])
    if not isinstance(config.get("trainable", True), bool):
        raise refuse(path, f"{field}.trainable", "true or false", config["trainable"])
    entries = config.get("layers")
    if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_LAYERS:
        raise refuse(path, f"{field}.layers", f"a list of 1 to {MAX_LAYERS} layers", entries)
    calls: dict[str, int] = {}
    for index, entry in enumerate(entries):
        calls.update(
            _check_entry(
                entry, f"{field}.layers[{index}]", path, names, nesting, calls, check_layer_entry
            )
        )
    if sum(calls.values()) > MAX_TOTAL_CALLS:
        raise refuse(
            path, f"{field}.layers", f"at most {MAX_TOTAL_CALLS} calls", sum(calls.values())
        )
    needs: dict[Call, list[Call]] = {}
    for index, entry in enumerate(entries):
        for number, node in enumerate(entry["inbound_nodes"]):
            where = f"{field}.layers[{index}].inbound_nodes[{number}]"
            needed = _check_call(node, where, path, calls)
            needs[(entry["name"], number)] = needed + (
                [(entry["name"], number - 1)] if number else []
            )
    inputs = _check_ends(config.get("input_layers"), f"{field}.input_layers", path, calls)
    _check_ends(config.get("output_layers"), f"{field}.output_layers", path, calls)
    _check_inputs(entries, inputs, field, path)
    _check_acyclic(needs, f"{field}.layers", path)


def _check_entry(
    entry: Any,
    field: str,
    path: str,
    names: Collection[str],
    nesting: int,
    calls: dict,
    check_layer_entry: Callable[..., None],
) -> dict[str, int]:
    """One layer entry; returns {its name: how many calls of it the model holds}."""
    check_layer_entry(entry, field, path, names, nesting, _ENTRY_EXTRA)
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise refuse(path, f"{field}.name", "a non-empty string", name)
    if name in calls:
        raise refuse(path, f"{field}.name", "unique among the model's layers", name)
    nodes = entry.get("inbound_nodes")
    if entry["class_name"] == "InputLayer":
        if nodes != []:
            raise refuse(path, f"{field}.inbound_nodes", "[] for an InputLayer", nodes)
        return {name: 1}
    if not isinstance(nodes, list) or not 1 <= len(nodes) <= MAX_CALLS:
        raise refuse(path, f"{field}.inbound_nodes", f"a list of 1 to {MAX_CALLS} calls", nodes)
    return {name: len(nodes)}


def _check_call(node: Any, field: str, path: str, calls: dict[str, int]) -> list[Call]:
    """{"args": [tensor or list of tensors], "kwargs": {name: scalar}}; the calls it needs."""
    check_object(node, field, path)
    refuse_keys(node, ("args", "kwargs"), field, path)
    args = node.get("args")
    if not isinstance(args, list) or len(args) != 1:
        raise refuse(path, f"{field}.args", "a list of one tensor or one list of tensors", args)
    tensors = args[0] if isinstance(args[0], list) else [args[0]]
    if not 1 <= len(tensors) <= MAX_TENSORS:
        raise refuse(path, f"{field}.args[0]", f"a list of 1 to {MAX_TENSORS} tensors", tensors)
    kwargs = check_object(node.get("kwargs", {}), f"{field}.kwargs", path)
    refuse_keys(kwargs, ("training",), f"{field}.kwargs", path)
    if kwargs.get("training") not in (None, True, False):
        raise refuse(path, f"{field}.kwargs.training", "true, false or null", kwargs["training"])
    return [_check_tensor(t, f"{field}.args[0]", path, calls) for t in tensors]


def _check_tensor(value: Any, field: str, path: str, calls: dict[str, int]) -> Call:
    """{"class_name": "__keras_tensor__", "config": {"shape", "dtype", "keras_history"}}."""
    check_object(value, field, path)
    refuse_keys(value, ("class_name", "config"), field, path)
    if value.get("class_name") != "__keras_tensor__":
        raise refuse(path, f"{field}.class_name", "'__keras_tensor__'", value.get("class_name"))
    config = check_object(value.get("config"), f"{field}.config", path)
    refuse_keys(config, ("dtype", "keras_history", "shape"), f"{field}.config", path)
    shape = config.get("shape")
    if (
        not isinstance(shape, list)
        or len(shape) > 8
        or not all(size is None or (is_int(size) and 0 <= size <= MAX_SIZE) for size in shape)
    ):
        raise refuse(
            path, f"{field}.config.shape", f"a list of sizes, null or up to {MAX_SIZE}", shape
        )
    if not isinstance(config.get("dtype", ""), str):
        raise refuse(path, f"{field}.config.dtype", "a string", config["dtype"])
    return check_reference(
        config.get("keras_history"), f"{field}.config.keras_history", path, calls
    )


def check_reference(value: Any, field: str, path: str, calls: dict[str, int]) -> Call:
    """[layer name, call index, output index], naming a call the model holds."""
    if (
        not isinstance(value, list)
        or len(value) != 3
        or not isinstance(value[0], str)
        or not all(is_int(v) and v >= 0 for v in value[1:])
    ):
        raise refuse(path, field, "[layer name, call index, output index]", value)
    name, call, output = value
    if name not in calls:
        raise refuse(path, field, "a reference to a layer of this model", name)
    if call >= calls[name]:
        raise refuse(path, field, f"a call of {name!r} below {calls[name]}", value)
    if output >= MAX_TENSORS:
        raise refuse(path, field, f"an output index below {MAX_TENSORS}", value)
    return name, call


def _check_ends(value: Any, field: str, path: str, calls: dict[str, int]) -> list[Call]:
    """input_layers/output_layers: one reference, a list or a dict of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [check_reference(value, field, path, calls)]
    if isinstance(value, dict):
        items = [(f"{field}.{key}", ref) for key, ref in value.items()]
    elif isinstance(value, list):
        items = [(f"{field}[{index}]", ref) for index, ref in enumerate(value)]
    else:
        items = []
    if not 1 <= len(items) <= MAX_TENSORS:
        raise refuse(path, field, f"a reference or a list or dict of 1 to {MAX_TENSORS}", value)
    return [check_reference(ref, where, path, calls) for where, ref in items]


def _check_inputs(entries: list[dict], inputs: list[Call], field: str, path: str) -> None:
    """input_layers lists each InputLayer once, and only InputLayers."""
    input_layers = [e["name"] for e in entries if e["class_name"] == "InputLayer"]
    listed = [name for name, _ in inputs]
    if sorted(listed) != sorted(input_layers):
        raise refuse(
            path,
            f"{field}.input_layers",
            f"each of the InputLayers {input_layers[:8]} once",
            listed,
        )


def _check_acyclic(needs: dict[Call, list[Call]], field: str, path: str) -> None:
    """Refuse calls that need, directly or not, their own output (Kahn's algorithm)."""
    waiting = {call: sum(n in needs for n in needed) for call, needed in needs.items()}
    users: dict[Call, list[Call]] = {}
    for call, needed in needs.items():
        for need in needed:
            users.setdefault(need, []).append(call)
    ready = [call for call, count in waiting.items() if count == 0]
    while ready:
        for user in users.get(ready.pop(), ()):
            waiting[user] -= 1
            if waiting[user] == 0:
                ready.append(user)
    stuck = sorted(name for (name, _), count in waiting.items() if count)
    if stuck:
        raise refuse(path, field, "calls without cycles", f"a cycle through layers {stuck[:5]}")
