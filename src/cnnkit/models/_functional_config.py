"""A functional model's config in Keras 3's shape: each layer with its ``inbound_nodes`` (the
calls it makes inside the model, each argument a reference ``[layer, node, tensor]`` to the
output of an earlier call), and ``input_layers``/``output_layers`` in the structure the model
was made with (one reference, a list or a dict)."""

from __future__ import annotations

from typing import Any

from cnnkit.layers._symbolic import KerasTensor, Node
from cnnkit.models._registry import registered_name


def layer_entry(layer: Any) -> dict[str, Any]:
    """``{"class_name", "config"}`` (plus ``registered_name`` for a registered class) of a
    layer or of a model used as a layer."""
    from cnnkit.models._model import Model
    from cnnkit.models._sequential import Sequential

    cls = type(layer)
    if cls is Model and layer._graph is not None:
        class_name = "Functional"  # Keras' name for a model made from inputs and outputs
    elif cls is Sequential:
        class_name = "Sequential"
    else:
        class_name = cls.__name__
    entry: dict[str, Any] = {"class_name": class_name, "config": layer.get_config()}
    registered = registered_name(cls)
    if registered is not None:
        entry["registered_name"] = registered
    return entry


def graph_config(model: Any) -> dict[str, Any]:
    """``model.get_config()`` of a functional model (see the module docstring)."""
    graph = model._graph
    kept = {id(node) for node in graph.nodes} | {id(t.node) for t in graph.inputs}
    index: dict[int, int] = {}  # node -> its position among the layer's calls in this model
    for layer in graph.layers:
        count = 0
        for node in layer._inbound_nodes:
            if id(node) in kept:
                index[id(node)] = count
                count += 1

    def reference(tensor: KerasTensor) -> list[Any]:
        return [tensor.node.layer.name, index[id(tensor.node)], tensor.index]

    def argument(tensor: KerasTensor) -> dict[str, Any]:
        return {
            "class_name": "__keras_tensor__",
            "config": {
                "shape": list(tensor.shape),
                "dtype": str(tensor.dtype).removeprefix("torch."),
                "keras_history": reference(tensor),
            },
        }

    def node_data(node: Node) -> dict[str, Any]:
        inputs = [argument(t) for t in node.inputs]
        return {"args": [inputs if node.listed else inputs[0]], "kwargs": dict(node.arguments)}

    layers = []
    for layer in graph.layers:
        entry = layer_entry(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = [
            node_data(node) for node in layer._inbound_nodes if id(node) in kept and node.inputs
        ]
        layers.append(entry)
    return {
        "name": model.name,
        "trainable": model.trainable,
        "layers": layers,
        "input_layers": _packed(graph.inputs, graph.input_structure, reference),
        "output_layers": _packed(graph.outputs, graph.output_structure, reference),
    }


def _packed(tensors: list[KerasTensor], structure: Any, reference: Any) -> Any:
    """References in the structure the model was made with: one, a list, or a dict."""
    if structure is None:
        return reference(tensors[0])
    if structure == "list":
        return [reference(t) for t in tensors]
    return {key: reference(t) for key, t in zip(structure, tensors)}
