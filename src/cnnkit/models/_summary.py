"""The text of ``model.summary()``: one row per layer, then parameter totals, in plain characters.

Options add the lecture's parameter arithmetic (``formulas=True``) and the memory a training
step takes for a batch (``batch_size=N``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cnnkit._shapes import format_shape

if TYPE_CHECKING:
    from cnnkit.layers._base import Layer

_HEADERS = ("Layer (type)", "Output Shape", "Param #")
_CONNECTED = "Connected to"
_OPTIMIZER_NAMES = {
    "Adam": "adam",
    "AdamW": "adamw",
    "RMSprop": "rmsprop",
    "SGD": "sgd",
    "Adagrad": "adagrad",
}


def readable_size(num_bytes: float) -> str:
    """Bytes as ``241.04 KB`` (powers of 1024, as Keras prints them)."""
    for unit in ("B", "KB", "MB", "GB"):
        if num_bytes < 1024 or unit == "GB":
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} TB"


def parameter_formula(layer: Layer) -> str:
    """The lecture's arithmetic for a layer's parameters, e.g. ``6 × (5×5×1) + 6 = 156``."""
    kind, total = type(layer).__name__, layer.count_params()
    if kind == "Conv2D":
        kh, kw = layer.kernel_size
        per_filter = f"({kh}×{kw}×{layer.weight.shape[1]})"
        bias = f" + {layer.filters}" if layer.use_bias else ""
        return f"{layer.filters} × {per_filter}{bias} = {total:,}"
    if kind == "Dense":
        bias = f" + {layer.units}" if layer.use_bias else ""
        return f"{layer.weight.shape[1]} × {layer.units}{bias} = {total:,}"
    if kind == "BatchNormalization":
        vectors = len(layer.keras_weights())
        return f"{vectors} × {layer.moving_mean.numel()} = {total:,}"
    return f"{total:,}"


def kind(layer: Layer) -> str:
    """The class name shown for ``layer``: a model made from symbolic tensors with
    ``cnnkit.Model`` itself is a ``Functional``, as Keras calls it."""
    name = type(layer).__name__
    return "Functional" if name == "Model" and getattr(layer, "_graph", None) else name


def output_shape(model: Layer, layer: Layer) -> Any:
    """The shape of ``layer``'s output in ``model``, from its last call there (a batch size
    fixed by ``Input(batch_size=)`` shows, as in Keras); a list for several outputs."""
    graph = getattr(model, "_graph", None)
    nodes = graph.layer_nodes(layer) if graph is not None else []
    if not nodes:
        return layer.output_shape
    shapes = [tuple(tensor.shape) for tensor in nodes[-1].outputs]
    return shapes[0] if len(shapes) == 1 else shapes


def connected_graph(model: Layer) -> Any:
    """The graph of a functional ``model`` that is not a plain chain (its summary then says
    what each layer is connected to, as Keras' does), else None."""
    graph = getattr(model, "_graph", None)
    return None if graph is None or graph.linear else graph


def connections(graph: Any, layer: Layer) -> list[str]:
    """Where ``layer``'s inputs come from, as Keras writes them: ``conv2d[0][0]`` is output 0
    of call 0 of layer ``conv2d``; one entry per input tensor of each of its calls."""
    found = [
        f"{tensor.node.layer.name}[{tensor.node.index}][{tensor.index}]"
        for node in graph.layer_nodes(layer)
        for tensor in node.inputs
    ]
    return found or ["-"]


def layer_rows(
    model: Layer, show_trainable: bool, formulas: bool, memory=None
) -> list[tuple[str, ...]]:
    """One tuple of cell texts per layer: name (type), output shape, parameters, [extras]; the
    connections of a non-linear functional model come fourth, one a line."""
    rows = []
    graph = connected_graph(model)
    for index, layer in enumerate(model.layers):
        params = parameter_formula(layer) if formulas else f"{layer.count_params():,}"
        row = (f"{layer.name} ({kind(layer)})", format_shape(output_shape(model, layer)), params)
        if graph is not None:
            row += (",\n".join(connections(graph, layer)),)
        if memory is not None:
            row += (readable_size(memory.layers[index].saved),)
        if show_trainable:
            row += ("Y" if layer.trainable else "N",)
        rows.append(row)
    return rows


def totals(model: Layer) -> list[str]:
    """The Total / Trainable / Non-trainable lines, with sizes in memory."""
    trainable = sum(int(w.numel()) for w in model.trainable_weights)
    trainable_bytes = sum(int(w.numel()) * w.element_size() for w in model.trainable_weights)
    frozen = sum(int(w.numel()) for w in model.non_trainable_weights)
    frozen_bytes = sum(int(w.numel()) * w.element_size() for w in model.non_trainable_weights)
    return [
        f"Total params: {trainable + frozen:,} ({readable_size(trainable_bytes + frozen_bytes)})",
        f"Trainable params: {trainable:,} ({readable_size(trainable_bytes)})",
        f"Non-trainable params: {frozen:,} ({readable_size(frozen_bytes)})",
    ]


def memory_lines(memory, optimizer: str) -> list[str]:
    """The training-memory footer for ``summary(batch_size=N)``."""
    return [
        f"Training memory for a batch of {memory.batch_size} (float32, {optimizer}), estimated:",
        f"  Input batch: {readable_size(memory.inputs)}",
        f"  Parameters: {readable_size(memory.parameters)}",
        f"  Gradients: {readable_size(memory.gradients)}",
        f"  Optimizer state: {readable_size(memory.optimizer_state)}",
        f"  Activations saved for backward: {readable_size(memory.activations)}",
        f"  Peak of a training step: {readable_size(memory.peak)}",
        f"  Total (parameters + batch + peak): {readable_size(memory.total)}",
    ]


def table_lines(
    headers: tuple[str, ...], rows: list[tuple[str, ...]], min_width: int | None
) -> list[str]:
    """Lay out ``rows`` under ``headers``: names, shapes and connections left-aligned, numbers
    right-aligned; a cell of several lines continues on the lines below its row."""
    left = {0, 1, headers.index(_CONNECTED)} if _CONNECTED in headers else {0, 1}
    widths = [
        max(len(line) for cell in column for line in cell.split("\n"))
        for column in zip(headers, *rows)
    ]
    gap = 3
    width = sum(widths) + gap * (len(widths) - 1) + 1
    if min_width and width < min_width:
        widths[0] += min_width - width
        width = min_width

    def render(cells: tuple[str, ...]) -> list[str]:
        stacked = [cell.split("\n") for cell in cells]
        depth = max(len(parts) for parts in stacked)
        lines = []
        for number in range(depth):
            texts = [parts[number] if number < len(parts) else "" for parts in stacked]
            aligned = [
                text.ljust(w) if i in left else text.rjust(w)
                for i, (text, w) in enumerate(zip(texts, widths))
            ]
            lines.append(" " + (" " * gap).join(aligned).rstrip())
        return lines

    lines = ["_" * width, *render(headers), "=" * width]
    for row in rows:
        lines += render(row)
    lines.append("=" * width)
    return lines


def summary_lines(
    model: Layer,
    line_length: int | None = None,
    show_trainable: bool = False,
    formulas: bool = False,
    batch_size: int | None = None,
) -> list[str]:
    """Every line of the summary of ``model``."""
    memory, optimizer = None, "adam"
    if batch_size is not None:
        from cnnkit.memory import training_memory

        chosen = type(getattr(model, "optimizer", None)).__name__
        optimizer = _OPTIMIZER_NAMES.get(chosen, "adam")
        memory = training_memory(model, batch_size, optimizer)
    headers = (
        _HEADERS
        + ((_CONNECTED,) if connected_graph(model) is not None else ())
        + (("Activations",) if memory else ())
        + (("Trainable",) if show_trainable else ())
    )
    table = table_lines(headers, layer_rows(model, show_trainable, formulas, memory), line_length)
    lines = [f'Model: "{model.name}"', *table, *totals(model)]
    if memory is not None:
        lines += memory_lines(memory, optimizer)
    lines.append("_" * len(table[0]))
    return lines
