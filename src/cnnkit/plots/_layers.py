"""Pictures of a CNN's inside: each layer's activation maps and the learned filters."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from cnnkit import inspect
from cnnkit._shapes import format_shape
from cnnkit._validation import check_int
from cnnkit.inspect import check_model, conv_layer, image_batch, resolve_layers
from cnnkit.plots._figure import finish, new_figure
from cnnkit.plots._images import display_image, grid_shape, show, tile_axes

_TILE = 1.1  # inches per tile
_HEADER = 0.55  # inches above each layer's tiles, for its title and the channel numbers


def activation_maps(
    model: Any,
    image: Any,
    layers: Any = None,
    max_channels: int = 16,
    columns: int = 8,
    show_input: bool = True,
    cmap: str = "viridis",
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show each layer's output volume for one image, one tile per channel, as the lecture does.

    Args:
        model: a built ``cnnkit.Sequential``.
        image: one image as the model takes it, (height, width, channels).
        layers: layer names or indices; ``None`` picks every layer whose output is an image
            volume (convolution, pooling, activation, ...), not the flat Dense outputs.
        max_channels: tiles per layer at most (the first channels).
        columns: tiles per row.
        show_input: add the input image as the first row.
        cmap: matplotlib colour map of the tiles (each tile is scaled to its own range).
        save: write the figure as a PNG to this path.

    Returns:
        A Figure with one subfigure per layer (``figure.subfigs``), titled
        ``"<layer name>  <output shape>"``, holding one axes per channel shown. Flat outputs
        (Dense) are drawn as one strip.
    """
    check_model(model, "activation_maps")
    max_channels = check_int(max_channels, "max_channels", "activation_maps", minimum=1)
    columns = check_int(columns, "columns", "activation_maps", minimum=1)
    batch = image_batch(model, image, "activation_maps")
    if len(batch) != 1:
        raise ValueError(
            f"activation_maps: image must be one image; received a batch of {len(batch)}"
        )
    chosen = (
        _volume_layers(model)
        if layers is None
        else resolve_layers(model, layers, "activation_maps")
    )
    outputs = inspect.activations(model, batch, [layer.name for layer in chosen])
    rows = [(f"input  {format_shape(model.input_shape)}", None)] if show_input else []
    rows += [(f"{layer.name}  {format_shape(layer.output_shape)}", layer) for layer in chosen]
    figure = _layer_rows(rows, outputs, batch[0], max_channels, columns, cmap)
    return finish(figure, save)


def _layer_rows(
    rows: list[tuple[str, Any]],
    outputs: dict[str, np.ndarray],
    image: np.ndarray,
    max_channels: int,
    columns: int,
    cmap: str,
) -> Figure:
    """One titled subfigure per (title, layer) row; ``layer`` None draws the input image."""
    counts = [
        1 if layer is None else _tile_count(outputs[layer.name], max_channels) for _, layer in rows
    ]
    inches = [_TILE * grid_shape(count, columns)[0] + _HEADER for count in counts]
    figure = new_figure(_TILE * columns, sum(inches))
    subfigures = np.atleast_1d(figure.subfigures(len(rows), 1, height_ratios=inches))
    for subfigure, (title, layer), count, height in zip(subfigures, rows, counts, inches):
        if layer is None:
            (ax,) = tile_axes(subfigure, 1, columns)
            show(ax, display_image(image, "image", "activation_maps"))
        else:
            _draw_volume(subfigure, outputs[layer.name][0], layer, count, columns, cmap)
        channels = "" if layer is None else _channel_note(outputs[layer.name][0], layer, count)
        subfigure.suptitle(title + channels, fontsize=10, x=0.01, ha="left")
        top = 1 - _HEADER * 0.85 / height
        subfigure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=top, hspace=0.35)
    return figure


def _volume_layers(model: Any) -> list[Any]:
    chosen = [layer for layer in model.layers if len(layer.output_shape or ()) == 4]
    if not chosen:
        raise ValueError(
            "activation_maps: the model has no layer with image-shaped outputs; pass layers= "
            "to show flat outputs"
        )
    return chosen


def _channels_last(volume: np.ndarray, layer: Any) -> np.ndarray:
    if getattr(layer, "data_format", "channels_last") == "channels_first" and volume.ndim == 3:
        return np.moveaxis(volume, 0, -1)
    return volume


def _tile_count(output: np.ndarray, max_channels: int) -> int:
    return min(output.shape[-1], max_channels) if output.ndim == 4 else 1


def _channel_note(volume: np.ndarray, layer: Any, shown: int) -> str:
    if volume.ndim != 3:
        return ""
    total = _channels_last(volume, layer).shape[-1]
    return f"   (channels 0-{shown - 1} of {total})" if shown < total else ""


def _draw_volume(
    subfigure: Any, volume: np.ndarray, layer: Any, count: int, columns: int, cmap: str
) -> None:
    """One tile per channel of a (h, w, c) volume, or one strip for a flat vector."""
    if volume.ndim != 3:
        (ax,) = tile_axes(subfigure, 1, 1)
        ax.imshow(volume.reshape(1, -1), aspect="auto", cmap=cmap, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        return
    volume = _channels_last(volume, layer)
    for channel, ax in enumerate(tile_axes(subfigure, count, columns)):
        tile = volume[..., channel]
        low, high = float(tile.min()), float(tile.max())
        show(ax, tile, title=str(channel), cmap=cmap, vmin=low, vmax=max(high, low + 1e-12))


def filters(
    model_or_layer: Any,
    name: Any = None,
    max_filters: int = 32,
    max_inputs: int = 8,
    columns: int = 8,
    rgb: bool = True,
    save: str | os.PathLike | None = None,
) -> Figure:
    """Show a convolution layer's learned kernels: the patterns its neurons respond to.

    A first layer on RGB images shows each filter as one colour tile (when ``rgb``); on
    grayscale images as one gray tile. Deeper layers show one row per filter and one tile per
    input channel. Gray tiles share one scale centred on zero (mid-gray is 0).

    Args:
        model_or_layer: a built model or a Conv2D layer.
        name: with a model, the layer's name or index; ``None`` picks the first Conv2D layer.
        max_filters: filters shown at most (the first ones).
        max_inputs: input channels shown per filter at most (deeper layers).
        columns: tiles per row when each filter is one tile.
        rgb: draw 3-channel filters as colour images.
        save: write the figure as a PNG to this path.

    Returns:
        A Figure titled with the layer name and kernel shape, one axes per tile.
    """
    layer = conv_layer(model_or_layer, name)
    kernels = inspect.filters(layer)
    max_filters = check_int(max_filters, "max_filters", "filters", minimum=1)
    max_inputs = check_int(max_inputs, "max_inputs", "filters", minimum=1)
    columns = check_int(columns, "columns", "filters", minimum=1)
    kh, kw, inputs, outputs = kernels.shape
    shown = min(outputs, max_filters)
    scale = float(np.abs(kernels).max()) or 1.0
    if inputs in (1, 3) and (inputs == 1 or rgb):
        rows, cols = grid_shape(shown, columns)
        figure = new_figure(0.9 * cols + 0.3, 0.95 * rows + 0.6)
        for index, ax in enumerate(tile_axes(figure, shown, cols)):
            _draw_kernel(ax, kernels[..., index], str(index), scale)
    else:
        per_row = min(inputs, max_inputs)
        figure = new_figure(0.9 * per_row + 0.6, 0.9 * shown + 0.6)
        for index, ax in enumerate(tile_axes(figure, shown * per_row, per_row)):
            out, channel = divmod(index, per_row)
            show(ax, kernels[:, :, channel, out], cmap="gray", vmin=-scale, vmax=scale)
            if channel == 0:
                ax.set_ylabel(f"filter {out}", fontsize=7)
            if out == 0:
                ax.set_title(f"in {channel}", fontsize=7)
    figure.suptitle(
        f"{layer.name}: {outputs} filters of {kh}x{kw}x{inputs}"
        + (f" (first {shown})" if shown < outputs else ""),
        fontsize=10,
    )
    figure.tight_layout()
    return finish(figure, save)


def _draw_kernel(ax: Any, kernel: np.ndarray, title: str, scale: float) -> None:
    """One filter: gray on the layer's scale centred at 0, or colour rescaled to [0, 1]."""
    if kernel.shape[-1] == 3:
        low, high = float(kernel.min()), float(kernel.max())
        show(ax, (kernel - low) / (high - low) if high > low else kernel * 0 + 0.5, title=title)
        return
    show(ax, kernel[..., 0], title=title, cmap="gray", vmin=-scale, vmax=scale)
