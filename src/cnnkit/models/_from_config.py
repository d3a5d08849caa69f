"""Models and layers rebuilt from their configs (``get_config()``, ``to_json()``, a model
file's header): classes are looked up by name among cnnkit's and the caller's own
(see _registry), never imported. A functional config's calls are replayed in an order where
every call's inputs exist, as Keras' ``functional_from_config`` does."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from typing import Any

import torch

from cnnkit.layers._config import decoded
from cnnkit.models._registry import check_custom_objects, resolve

_WRAPPER_KEYS = {"class_name", "config", "registered_name", "module", "build_config"}


def model_from_config(
    config: dict[str, Any], custom_objects: Mapping[str, type] | None = None
) -> Any:
    """Build a model from ``model.get_config()`` (Sequential or functional) or from Keras'
    ``{"class_name": ..., "config": {...}}`` wrapper; ``custom_objects`` names your classes."""
    return build_model(config, check_custom_objects(custom_objects, "model_from_config"))


def model_from_json(json_string: str, custom_objects: Mapping[str, type] | None = None) -> Any:
    """Build a model from ``model.to_json()``."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(
            f"model_from_json: json_string must be a str. Received: {type(json_string).__name__}"
        )
    try:
        config = json.loads(json_string)
    except ValueError as error:
        raise ValueError(f"model_from_json: the text is not valid JSON ({error})") from None
    return model_from_config(config, custom_objects)


def clone_model(model: Any) -> Any:
    """A new model of the same architecture (layers, names, graph) with fresh weights."""
    from cnnkit.models._functional_config import layer_entry
    from cnnkit.models._model import Model

    if not isinstance(model, Model):
        raise TypeError(f"clone_model expects a cnnkit model. Received: {type(model).__name__}")
    return build_model(layer_entry(model), {})


def build_model(config: Any, objects: Mapping[str, type], shapes_only: bool = False) -> Any:
    """The model ``config`` describes; with ``shapes_only`` its tensors are on the meta device
    (shapes without memory) and its initializers zeros, to compare with a file's tensors."""
    if not isinstance(config, dict):
        raise ValueError(f"a model config must be a JSON object; received {config!r:.100}")
    with torch.device("meta") if shapes_only else contextlib.nullcontext():
        if "class_name" in config and set(config) <= _WRAPPER_KEYS:
            return build_layer(config, objects, shapes_only)
        if "output_layers" in config:
            return _functional(config, objects, shapes_only)
        return _sequential(config, objects, shapes_only)


def build_layer(entry: Any, objects: Mapping[str, type], shapes_only: bool = False) -> Any:
    """A layer (or a model used as a layer) from ``{"class_name": ..., "config": {...}}``."""
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(
            f"each layer entry must be {{'class_name': ..., 'config': {{...}}}}; received {entry!r:.200}"
        )
    name, registered = entry.get("class_name"), entry.get("registered_name")
    config = entry["config"]
    if registered is None and name == "Sequential":
        return _sequential(config, objects, shapes_only)
    if registered is None and name in ("Functional", "Model") and "output_layers" in config:
        return _functional(config, objects, shapes_only)
    cls = resolve(name, registered, objects)
    try:
        arguments = {key: decoded(key, value) for key, value in config.items()}  # checks them
        if shapes_only:  # shapes need no random numbers (some cannot be drawn on meta)
            config = {k: "zeros" if k.endswith("initializer") else v for k, v in config.items()}
        layer = cls.from_config(config if shapes_only or _own_from_config(cls) else arguments)
    except (TypeError, ValueError) as error:
        raise ValueError(f"invalid configuration for layer {name}: {error}") from None
    build_shape = (entry.get("build_config") or {}).get("input_shape")
    if build_shape is not None and not getattr(layer, "built", True):
        layer.build(tuple(build_shape))
    return layer


def _own_from_config(cls: type) -> bool:
    from cnnkit.layers import Layer

    return getattr(cls.from_config, "__func__", None) is not Layer.from_config.__func__


def _sequential(config: Any, objects: Mapping[str, type], shapes_only: bool) -> Any:
    from cnnkit.layers import Input
    from cnnkit.models._sequential import Sequential

    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError("model config must be a JSON object with a 'layers' list")
    model = Sequential(name=config.get("name") or None)
    if config.get("input_shape") is not None:
        model.add(Input(shape=tuple(config["input_shape"])))
    for entry in config["layers"]:
        model.add(build_layer(entry, objects, shapes_only))
    return model


def _functional(config: dict[str, Any], objects: Mapping[str, type], shapes_only: bool) -> Any:
    from cnnkit.models._model import Model

    entries = config.get("layers")
    if not isinstance(entries, list) or not entries:
        raise ValueError("a functional model config needs a non-empty 'layers' list")
    layers: dict[str, Any] = {}
    outputs: dict[str, list[list[Any]]] = {}  # layer name -> outputs of each of its calls
    for entry in entries:
        layer = build_layer(entry, objects, shapes_only)
        name = entry.get("name", layer.name)
        if layer.name != name or name in layers:
            raise ValueError(f"layer names must be unique and match their configs; found {name!r}")
        layers[name] = layer
        outputs[name] = (
            [list(layer._inbound_nodes[0].outputs)] if not entry["inbound_nodes"] else []
        )
    _replay_calls(entries, layers, outputs)

    def tensors(value: Any) -> Any:
        if isinstance(value, list) and value and isinstance(value[0], str):
            return _tensor(value, outputs)
        if isinstance(value, dict):
            return {key: tensors(ref) for key, ref in value.items()}
        if isinstance(value, list):
            return [tensors(ref) for ref in value]
        raise ValueError(
            f"input_layers/output_layers must hold [layer, call, output]; found {value!r:.100}"
        )

    return Model(
        tensors(config.get("input_layers")),
        tensors(config.get("output_layers")),
        name=config.get("name") or None,
        trainable=config.get("trainable", True),
    )


def _replay_calls(entries: list[dict], layers: dict[str, Any], outputs: dict[str, list]) -> None:
    """Call every layer on its inputs, each call once all the tensors it needs exist; a
    layer's calls in their order."""
    pending = {entry["name"]: list(entry.get("inbound_nodes") or []) for entry in entries}
    while any(pending.values()):
        progressed = False
        for name, calls in pending.items():
            while calls and _ready(calls[0], outputs):
                node = calls.pop(0)
                progressed = True
                _call(layers[name], name, node["args"][0], node.get("kwargs") or {}, outputs)
        if not progressed:
            stuck = [name for name, calls in pending.items() if calls]
            raise ValueError(
                f"the calls of layers {stuck[:5]} need tensors no call produces (a cycle or a "
                "missing input)"
            )


def _references(args: Any) -> list[list[Any]]:
    items = args if isinstance(args, list) else [args]
    return [item["config"]["keras_history"] for item in items]


def _ready(node: dict, outputs: dict[str, list]) -> bool:
    return all(
        ref[0] in outputs and ref[1] < len(outputs[ref[0]]) for ref in _references(node["args"][0])
    )


def _tensor(ref: list[Any], outputs: dict[str, list]) -> Any:
    name, call, index = ref
    if name not in outputs or not call < len(outputs[name]) or not index < len(outputs[name][call]):
        raise ValueError(f"no tensor {ref!r:.100}: no such layer, call or output")
    return outputs[name][call][index]


def _call(layer: Any, name: str, args: Any, kwargs: dict, outputs: dict[str, list]) -> None:
    """Call ``layer`` on the tensors ``args`` refers to, recording its outputs."""
    inputs = [_tensor(ref, outputs) for ref in _references(args)]
    result = layer(inputs if isinstance(args, list) else inputs[0], **kwargs)
    outputs[name].append(result if isinstance(result, list) else [result])
