"""Where each box of a model diagram goes: layers by depth (longest path from an input), the
boxes of one depth side by side, and the figure drawn with matplotlib (no graphviz needed)."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path

from cnnkit.plots._model_graph import Box, Cluster, Diagram

CHAR_WIDTH = 0.075  # inches per character at FONT_SIZE
LINE_HEIGHT = 0.24  # inches per text line
PADDING = 0.12  # inches between a box's text and its border
GAP = 0.45  # inches between boxes of one depth, and between depths
FONT_SIZE = 9  # points
LANE = 0.25  # inches between the lanes of edges that skip a depth


def depths(diagram: Diagram) -> dict[int, int]:
    """Each box's depth: 0 for boxes nothing points to, else one more than its deepest source."""
    order = [box.key for box in diagram.boxes()]
    sources: dict[int, list[int]] = {key: [] for key in order}
    for a, b in diagram.all_edges():
        if a in sources and b in sources and a != b:
            sources[b].append(a)
    depth: dict[int, int] = {}
    for _ in range(len(order) + 1):  # Bellman-Ford style: at most one pass per box
        changed = False
        for key in order:
            value = max((depth.get(a, 0) + 1 for a in sources[key]), default=0)
            if depth.get(key) != value:
                depth[key], changed = value, True
        if not changed:
            break
    return depth


def box_lines(box: Box) -> list[tuple[str, str]]:
    """The text lines of ``box``, each with its background colour (the title on black)."""
    lines = [(box.title[0] + box.title[1], "black")]
    if box.activation is not None:
        lines.append((f"Activation: {box.activation}", "white"))
    return lines + box.cells


def box_size(box: Box) -> tuple[float, float]:
    """Width and height of ``box`` in inches."""
    lines = box_lines(box)
    width = max(len(text) for text, _ in lines) * CHAR_WIDTH + 2 * PADDING
    return width, len(lines) * LINE_HEIGHT + PADDING


def layout(diagram: Diagram, rankdir: str) -> tuple[dict[int, tuple[float, float]], float, float]:
    """The centre of each box (inches, y upwards) and the figure's width and height."""
    depth = depths(diagram)
    boxes = diagram.boxes()
    sizes = {box.key: box_size(box) for box in boxes}
    levels: dict[int, list[int]] = {}
    for box in boxes:
        levels.setdefault(depth[box.key], []).append(box.key)
    across = 0 if rankdir in ("TB", "BT") else 1  # the axis the boxes of one depth share
    along = 1 - across
    thickness = [max(sizes[k][along] for k in levels[d]) for d in sorted(levels)]
    spans = [
        sum(sizes[k][across] for k in levels[d]) + GAP * (len(levels[d]) - 1)
        for d in sorted(levels)
    ]
    total_across = max(spans) + 2 * GAP
    total_along = sum(thickness) + GAP * (len(thickness) + 1)
    centres: dict[int, tuple[float, float]] = {}
    position_along = GAP
    for index, level in enumerate(sorted(levels)):
        middle_along = position_along + thickness[index] / 2
        cursor = (total_across - spans[index]) / 2
        for key in levels[level]:
            middle_across = cursor + sizes[key][across] / 2
            cursor += sizes[key][across] + GAP
            point = [0.0, 0.0]
            point[across], point[along] = middle_across, middle_along
            centres[key] = (point[0], point[1])
        position_along += thickness[index] + GAP
    width, height = (total_across, total_along) if across == 0 else (total_along, total_across)
    return _orient(centres, width, height, rankdir), width, height


def _orient(centres: dict, width: float, height: float, rankdir: str) -> dict:
    """Flip the layout so that depth grows down (TB), up (BT), right (LR) or left (RL)."""
    flipped = {}
    for key, (x, y) in centres.items():
        if rankdir in ("TB", "LR"):  # depth 0 on top, first boxes of a depth on top
            y = height - y
        elif rankdir == "RL":
            x, y = width - x, height - y
        flipped[key] = (x, y)
    return flipped


def _draw_box(axes, box: Box, centre: tuple[float, float]) -> None:
    width, height = box_size(box)
    left, top = centre[0] - width / 2, centre[1] + height / 2
    axes.add_patch(
        Rectangle((left, top - height), width, height, facecolor="white", edgecolor="black")
    )
    for row, (text, colour) in enumerate(box_lines(box)):
        y = top - PADDING / 2 - (row + 0.5) * LINE_HEIGHT
        if colour != "white":
            band = (left, y - LINE_HEIGHT / 2)
            axes.add_patch(Rectangle(band, width, LINE_HEIGHT, facecolor=colour, edgecolor=colour))
        axes.text(
            centre[0], y, text, ha="center", va="center", fontsize=FONT_SIZE,
            color="white" if colour != "white" else "black",
            fontweight="bold" if row == 0 else "normal",
        )  # fmt: skip


def _anchor(box: Box, centre: tuple[float, float], rankdir: str, leaving: bool) -> tuple:
    """Where an edge leaves (``leaving``) or enters ``box``: the side facing the flow."""
    width, height = box_size(box)
    sign = 1 if leaving else -1
    if rankdir == "TB":
        return centre[0], centre[1] - sign * height / 2
    if rankdir == "BT":
        return centre[0], centre[1] + sign * height / 2
    if rankdir == "LR":
        return centre[0] + sign * width / 2, centre[1]
    return centre[0] - sign * width / 2, centre[1]


def _draw_cluster(axes, cluster: Cluster, centres: dict) -> None:
    """A dashed frame named after the nested model around its boxes."""
    members = Diagram(cluster.items, [], {}).boxes()
    if not members:
        return
    corners = []
    for box in members:
        width, height = box_size(box)
        x, y = centres[box.key]
        corners += [(x - width / 2, y - height / 2), (x + width / 2, y + height / 2)]
    left = min(c[0] for c in corners) - GAP / 3
    bottom = min(c[1] for c in corners) - GAP / 3
    right = max(c[0] for c in corners) + GAP / 3
    top = max(c[1] for c in corners) + GAP / 3
    frame = Rectangle((left, bottom), right - left, top - bottom, fill=False, linestyle="--")
    axes.add_patch(frame)
    axes.text(left, top + 0.02, cluster.name, ha="left", va="bottom", fontsize=FONT_SIZE)


def _clusters(items: list) -> list[Cluster]:
    found = []
    for item in items:
        if isinstance(item, Cluster):
            found += [item, *_clusters(item.items)]
    return found


def _side(box: Box, centre: tuple[float, float], rankdir: str) -> tuple[float, float]:
    """The middle of the side of ``box`` facing the detour lane (right in TB/BT, below in LR/RL)."""
    width, height = box_size(box)
    if rankdir in ("TB", "BT"):
        return centre[0] + width / 2, centre[1]
    return centre[0], centre[1] - height / 2


def _detours(diagram: Diagram, rankdir: str, centres: dict, skips: list) -> list:
    """Paths around the boxes for edges that skip a depth (a residual connection), each in
    its own lane beside the widest box, so no arrow runs behind a box."""
    boxes = {box.key: box for box in diagram.boxes()}
    vertical = rankdir in ("TB", "BT")
    if vertical:
        edge = max(centres[k][0] + box_size(b)[0] / 2 for k, b in boxes.items())
    else:
        edge = min(centres[k][1] - box_size(b)[1] / 2 for k, b in boxes.items())
    paths = []
    for lane, (a, b) in enumerate(skips):
        start, end = _side(boxes[a], centres[a], rankdir), _side(boxes[b], centres[b], rankdir)
        offset = LANE * (lane + 1)
        if vertical:
            middle = [(edge + offset, start[1]), (edge + offset, end[1])]
        else:
            middle = [(start[0], edge - offset), (end[0], edge - offset)]
        paths.append(Path([start, *middle, end]))
    return paths


def draw(diagram: Diagram, rankdir: str) -> Figure:
    """The diagram as a matplotlib figure, sized so that every label fits."""
    centres, width, height = layout(diagram, rankdir)
    depth = depths(diagram)
    skips = [(a, b) for a, b in diagram.all_edges() if abs(depth[b] - depth[a]) > 1]
    extra = LANE * len(skips)
    if rankdir in ("TB", "BT"):
        width += extra
    else:
        height += extra
        centres = {key: (x, y + extra) for key, (x, y) in centres.items()}
    figure = Figure(figsize=(width, height))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(0, height)
    axes.set_axis_off()
    boxes = {box.key: box for box in diagram.boxes()}
    for cluster in _clusters(diagram.items):
        _draw_cluster(axes, cluster, centres)
    paths = _detours(diagram, rankdir, centres, skips)
    for a, b in diagram.all_edges():
        if (a, b) in skips:
            continue
        start = _anchor(boxes[a], centres[a], rankdir, leaving=True)
        end = _anchor(boxes[b], centres[b], rankdir, leaving=False)
        paths.append(Path([start, end]))
    for path in paths:
        arrow = FancyArrowPatch(path=path, arrowstyle="-|>", mutation_scale=12, linewidth=1.5)
        axes.add_patch(arrow)
    for key, box in boxes.items():
        _draw_box(axes, box, centres[key])
    return figure
