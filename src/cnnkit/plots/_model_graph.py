"""A model as a diagram: one box per layer, the edges between them and the nested models
drawn as clusters, with Keras' ``plot_model`` labels, and the diagram as DOT-language text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cnnkit.layers import InputLayer
from cnnkit.models import Model, Sequential


@dataclass
class Box:
    """One layer: its title, its activation (or None) and the cells of its bottom row, each a
    (text, colour) pair: white for shapes and dtype, green/red for trainable or not."""

    key: int
    layer: Any
    title: tuple[str, str]  # (bold part, rest): ("conv", " (Conv2D)") or ("Conv2D", "")
    activation: str | None
    cells: list[tuple[str, str]]


@dataclass
class Cluster:
    """A nested model drawn expanded: its boxes and clusters, framed and named."""

    name: str
    items: list[Box | Cluster] = field(default_factory=list)


@dataclass
class Diagram:
    """What ``plot_model`` draws and ``model_to_dot`` writes."""

    items: list[Box | Cluster]
    edges: list[tuple[int, int]]
    cluster_edges: dict[str, list[tuple[int, int]]]

    def boxes(self) -> list[Box]:
        """Every box, those inside clusters too, in the order they are listed."""
        found: list[Box] = []
        stack = list(reversed(self.items))
        while stack:
            item = stack.pop()
            if isinstance(item, Box):
                found.append(item)
            else:
                stack.extend(reversed(item.items))
        return found

    def all_edges(self) -> list[tuple[int, int]]:
        """The edges at the top level and inside every cluster."""
        inner = [edge for edges in self.cluster_edges.values() for edge in edges]
        return inner + self.edges


@dataclass(frozen=True)
class Options:
    """What each box shows (Keras' ``show_*`` arguments)."""

    show_shapes: bool
    show_dtype: bool
    show_layer_names: bool
    show_layer_activations: bool
    show_trainable: bool


def _is_graph_model(layer: Any) -> bool:
    return isinstance(layer, Model) and getattr(layer, "_graph", None) is not None


def _shape_text(value: Any) -> str:
    """Keras' text of a shape structure: a tuple, a list of tuples, ``key: shape`` pairs."""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {shape}" for key, shape in value.items())
    return f"{value}".replace("}", "").replace("{", "")


def _map(value: Any, function: Any) -> Any:
    """``function`` applied to each tensor of one tensor, a list or a dict of them."""
    if isinstance(value, dict):
        return {key: function(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [function(item) for item in value]
    return function(value)


def _shape(tensor: Any) -> tuple:
    return tensor.shape


def _shape_cells(layer: Any) -> list[tuple[str, str]]:
    """Input shape (not for an InputLayer) and output shape, "?" where a call is unknown."""
    cells = []
    try:
        output = _shape_text(_map(layer.output, _shape))
        given = "" if isinstance(layer, InputLayer) else _shape_text(_map(layer.input, _shape))
    except (ValueError, AttributeError, IndexError):
        output = given = "?"
    if not isinstance(layer, InputLayer):
        cells.append((f"Input shape: {given}", "white"))
    cells.append((f"Output shape: {output}", "white"))
    return cells


def _dtype_text(layer: Any) -> str:
    try:
        dtypes = _map(layer.output, lambda t: str(t.dtype).removeprefix("torch."))
    except (ValueError, AttributeError, IndexError):
        return "?"
    return f"{dtypes}"


def _activation_name(layer: Any) -> str | None:
    """The name of the layer's activation, None for a layer without one."""
    activation = getattr(layer, "activation", None)
    if activation is None:
        return None
    for attribute in ("name", "__name__"):
        if hasattr(activation, attribute):
            return str(getattr(activation, attribute))
    return str(activation)


def make_box(layer: Any, options: Options) -> Box:
    """The box of ``layer`` with what ``options`` asks to show."""
    kind = type(layer).__name__
    if kind == "Model" and _is_graph_model(layer):
        kind = "Functional"  # Keras' class name for a model made from inputs and outputs
    title = (layer.name, f" ({kind})") if options.show_layer_names else (kind, "")
    activation = _activation_name(layer) if options.show_layer_activations else None
    cells = _shape_cells(layer) if options.show_shapes else []
    if options.show_dtype:
        cells.append((f"Output dtype: {_dtype_text(layer)}", "white"))
    if options.show_trainable and getattr(layer, "weights", None):
        cells.append(
            ("Trainable", "forestgreen") if layer.trainable else ("Non-trainable", "firebrick")
        )
    return Box(id(layer), layer, title, activation, cells)


def _graph_layers(model: Any) -> list[Any]:
    """The layers drawn for ``model``: a Sequential's own layers, else every graph layer."""
    if isinstance(model, Sequential):
        return list(model.layers)
    return list(model._graph.layers)


def _resolve_source(layer: Any, index: int) -> Any:
    """The layer inside nested models that makes their output number ``index``."""
    while _is_graph_model(layer):
        tensor = layer._graph.outputs[index]
        layer, index = tensor.node.layer, tensor.index
    return layer


def _resolve_destination(layer: Any, index: int) -> Any:
    """The box inside nested models that receives their input number ``index``."""
    while _is_graph_model(layer):
        if isinstance(layer, Sequential):
            layer = layer.layers[0]
        else:
            layer = layer._graph.inputs[index].node.layer
    return layer


def _graph_edges(model: Any, layers: list[Any], expand: bool) -> list[tuple[int, int]]:
    """The edges of a functional model (or an expanded Sequential), each listed once."""
    edges: list[tuple[int, int]] = []
    for layer in layers:
        for node in model._graph.layer_nodes(layer):
            for position, tensor in enumerate(node.inputs):
                source, destination = tensor.node.layer, layer
                if expand:
                    source = _resolve_source(source, tensor.index)
                    destination = _resolve_destination(destination, position)
                edge = (id(source), id(destination))
                if edge not in edges:
                    edges.append(edge)
    return edges


def build_diagram(model: Any, options: Options, expand: bool, name: str | None = None) -> Diagram:
    """The diagram of ``model`` as Keras' ``model_to_dot`` lays it out: a box per layer (a
    subclassed model is one box), nested models as clusters when ``expand``."""
    if not _is_graph_model(model):
        return Diagram([make_box(model, options)], [], {})
    layers = _graph_layers(model)
    items: list[Box | Cluster] = []
    cluster_edges: dict[str, list[tuple[int, int]]] = {}
    for layer in layers:
        if expand and _is_graph_model(layer):
            inner = build_diagram(layer, options, expand, name=layer.name)
            items.append(Cluster(layer.name, inner.items))
            cluster_edges.update(inner.cluster_edges)
            cluster_edges[layer.name] = inner.edges
        else:
            items.append(make_box(layer, options))
    if isinstance(model, Sequential) and not expand:
        edges = [(id(a), id(b)) for a, b in zip(layers, layers[1:])]
    else:
        drawn = layers[1:] if isinstance(model, Sequential) else layers
        edges = _graph_edges(model, drawn, expand)
    return Diagram(items, edges, cluster_edges)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def dot_label(box: Box, options: Options) -> str:
    """The HTML-like label Keras' ``model_to_dot`` gives the same layer."""
    columns = int(options.show_dtype) + int(options.show_trainable)
    columns = max(1, columns + (2 if options.show_shapes else 0))
    bold, rest = box.title
    table = '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">'
    table += (
        f'<tr><td colspan="{columns}" bgcolor="black"><font point-size="16" color="white">'
        f"<b>{_html(bold)}</b>{_html(rest)}</font></td></tr>"
    )
    if box.activation is not None:
        table += (
            f'<tr><td bgcolor="white" colspan="{columns}"><font point-size="14">'
            f"Activation: <b>{_html(box.activation)}</b></font></td></tr>"
        )
    cells = []
    for text, colour in box.cells:
        if colour == "white":
            head, _, value = text.partition(": ")
            cells.append(
                f'<td bgcolor="white"><font point-size="14">{_html(head)}: '
                f"<b>{_html(value)}</b></font></td>"
            )
        else:
            cells.append(
                f'<td bgcolor="{colour}"><font point-size="14" color="white">'
                f"<b>{_html(text)}</b></font></td>"
            )
    if cells:
        table += f"<tr>{''.join(cells)}</tr>"
    return table + "</table>>"


def _dot_items(
    diagram: Diagram, items: list[Box | Cluster], options: Options, names: dict[int, str]
) -> list[str]:
    """DOT statements for ``items``: node lines, and clusters with their own edges."""
    lines = []
    for item in items:
        if isinstance(item, Box):
            names.setdefault(item.key, f"node_{len(names)}")
            label = dot_label(item, options)
            lines.append(
                f"{names[item.key]} [label={label}, fontname=Helvetica, border=0, margin=0];"
            )
            continue
        lines.append(f'subgraph "cluster_{item.name}" {{')
        lines += ["style=dashed;", f'label="{item.name}";', "labeljust=l;"]
        lines += _dot_items(diagram, item.items, options, names)
        edges = diagram.cluster_edges.get(item.name, [])
        lines += [f"{names[a]} -> {names[b]} [penwidth=2];" for a, b in edges]
        lines.append("}")
    return lines


def dot_text(diagram: Diagram, options: Options, rankdir: str, dpi: int, splines: str) -> str:
    """The diagram in the DOT language, laid out as Keras' ``model_to_dot`` asks graphviz."""
    names: dict[int, str] = {}
    lines = ["digraph G {", f"rankdir={rankdir};", "concentrate=true;", f"dpi={dpi};"]
    lines += [f"splines={splines};", "node [shape=record];"]
    lines += _dot_items(diagram, diagram.items, options, names)
    lines += [f"{names[a]} -> {names[b]} [penwidth=2];" for a, b in diagram.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
