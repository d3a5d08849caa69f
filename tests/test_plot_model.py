"""cnnkit.utils.plot_model and model_to_dot: the picture files are real images of the asked
format, and the boxes' labels and the edges equal Keras' model_to_dot for the same model."""

from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ElementTree

import pytest
from PIL import Image

import cnnkit

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

ALL_ON = dict(  # noqa: C408
    show_shapes=True,
    show_dtype=True,
    show_layer_names=True,
    show_layer_activations=True,
    show_trainable=True,
)


def build(lib, which):
    """The same model in Keras or cnnkit, every layer named so the labels can be compared."""
    layers = lib.layers
    if which == "sequential":
        stack = [
            lib.Input((12, 12, 1), name="image"),
            layers.Conv2D(4, 3, activation="relu", name="conv"),
            layers.MaxPooling2D(2, name="pool"),
            layers.Flatten(name="flat"),
            layers.Dense(3, activation="softmax", name="out"),
        ]
        return lib.Sequential(stack, name="seq")
    if which == "residual":
        x = lib.Input((8, 8, 3), name="image")
        a = layers.Conv2D(4, 3, padding="same", activation="relu", name="conv_a")(x)
        b = layers.Conv2D(4, 3, padding="same", name="conv_b")(a)
        pooled = layers.GlobalAveragePooling2D(name="gap")(layers.Add(name="add")([a, b]))
        return lib.Model(x, layers.Dense(2, name="head")(pooled), name="res")
    if which == "multi":
        left, right = lib.Input((6,), name="left"), lib.Input((4,), name="right")
        joined = layers.Concatenate(name="cat")(
            [layers.Dense(5, name="dl")(left), layers.Dense(5, name="dr")(right)]
        )
        score = layers.Dense(1, name="score")(joined)
        kind = layers.Dense(3, activation="softmax", name="kind")(joined)
        return lib.Model([left, right], [score, kind], name="multi")
    if which == "shared":
        first, second = lib.Input((4,), name="first"), lib.Input((4,), name="second")
        dense = layers.Dense(3, name="shared")
        return lib.Model([first, second], layers.Add(name="sum")([dense(first), dense(second)]))
    if which == "nested_functional":
        start = lib.Input((5,), name="inner_in")
        end = layers.Dense(2, name="in_b")(layers.Dense(4, activation="relu", name="in_a")(start))
        inner = lib.Model(start, end, name="inner")
        x = lib.Input((3,), name="x")
        return lib.Model(x, layers.Dense(1, name="post")(inner(layers.Dense(5, name="pre")(x))))
    inner = lib.Sequential(
        [
            lib.Input((5,)),
            layers.Dense(4, activation="relu", name="in_a"),
            layers.Dense(2, name="in_b"),
        ],
        name="inner",
    )
    x = lib.Input((3,), name="x")
    y = layers.Dense(1, name="post")(inner(layers.Dense(5, name="pre")(x)))
    return lib.Model(x, y, name="outer")


MODELS = ["sequential", "residual", "multi", "nested"]
ORACLE_MODELS = [*MODELS, "shared", "nested_functional"]


def _graph_of(dot) -> tuple[list[str], list[tuple[str, str]]]:
    """Node labels in order, and edges as (label, label) pairs, clusters included."""
    labels, edges = {}, []

    def collect(graph):
        for node in graph.get_nodes():
            if node.get("label") is not None:
                labels[node.get_name().strip('"')] = node.get("label")
        edges.extend(graph.get_edges())
        for sub in graph.get_subgraphs():
            collect(sub)

    collect(dot)
    pairs = [
        (labels[e.get_source().strip('"')], labels[e.get_destination().strip('"')]) for e in edges
    ]
    return list(labels.values()), sorted(pairs)


@pytest.mark.parametrize("which", ORACLE_MODELS)
@pytest.mark.parametrize("expand_nested", [False, True])
@pytest.mark.parametrize("shown", ["all", "none"])
def test_labels_and_edges_equal_keras(which, expand_nested, shown):
    pydot = pytest.importorskip("pydot")
    from keras.src.utils.model_visualization import model_to_dot as keras_model_to_dot

    flags = ALL_ON if shown == "all" else {k: False for k in ALL_ON}
    ours = cnnkit.utils.model_to_dot(build(cnnkit, which), expand_nested=expand_nested, **flags)
    theirs = keras_model_to_dot(build(keras, which), expand_nested=expand_nested, **flags)
    (parsed,) = pydot.graph_from_dot_data(ours)
    our_labels, our_edges = _graph_of(parsed)
    their_labels, their_edges = _graph_of(theirs)
    assert our_labels == their_labels
    assert our_edges == their_edges
    assert len(our_edges) >= 3


def test_drawing_needs_neither_pydot_nor_graphviz(tmp_path, monkeypatch):
    for name in ["pydot", "pydot_ng", "pydotplus", "graphviz"]:
        monkeypatch.setitem(sys.modules, name, None)  # importing any of them fails
    path = tmp_path / "model.png"
    cnnkit.utils.plot_model(build(cnnkit, "nested"), to_file=path, expand_nested=True, dpi=40)
    with Image.open(path) as image:
        assert image.format == "PNG"


def test_dot_text_names_nested_clusters_and_layout():
    text = cnnkit.utils.model_to_dot(build(cnnkit, "nested"), expand_nested=True, rankdir="LR")
    assert text.startswith("digraph G {\nrankdir=LR;")
    assert 'subgraph "cluster_inner" {' in text
    assert text.count(" -> ") == 4  # x->pre, pre->in_a, in_a->in_b, in_b->post


@pytest.mark.parametrize("which", MODELS)
@pytest.mark.parametrize("extension", ["png", "jpg", "pdf"])
def test_file_is_an_image_of_the_format(tmp_path, which, extension):
    path = tmp_path / f"model.{extension}"
    cnnkit.utils.plot_model(build(cnnkit, which), to_file=path, expand_nested=True, **ALL_ON)
    if extension == "pdf":
        assert path.read_bytes().startswith(b"%PDF")
        return
    with Image.open(path) as image:
        assert image.format == {"png": "PNG", "jpg": "JPEG"}[extension]
        assert min(image.size) > 100


def test_svg_holds_every_label_text(tmp_path):
    path = tmp_path / "model.svg"
    result = cnnkit.utils.plot_model(build(cnnkit, "multi"), to_file=str(path), **ALL_ON)
    assert result is None  # an SVG cannot be an IPython Image
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    text = path.read_text()
    labels = ["cat (Concatenate)", "Activation: softmax", "Input shape: [(None, 5), (None, 5)]"]
    for label in labels:  # matplotlib writes text as glyph paths, each string in a comment
        assert f"<!-- {label} -->" in text


def test_png_returns_an_ipython_image_and_layout_follows_rankdir(tmp_path):
    display = pytest.importorskip("IPython.display")
    model = build(cnnkit, "sequential")
    sizes = {}
    for rankdir in ["TB", "LR"]:
        path = tmp_path / f"{rankdir}.png"
        image = cnnkit.utils.plot_model(model, to_file=path, rankdir=rankdir, dpi=50)
        assert isinstance(image, display.Image)
        assert image.data == path.read_bytes()
        with Image.open(path) as opened:
            sizes[rankdir] = opened.size
    assert sizes["TB"][1] > sizes["TB"][0]  # a tall stack
    assert sizes["LR"][0] > sizes["LR"][1]  # a wide row


def test_branches_sit_side_by_side(tmp_path):
    path = tmp_path / "multi.png"
    cnnkit.utils.plot_model(build(cnnkit, "multi"), to_file=path, dpi=50)
    chain = tmp_path / "chain.png"
    cnnkit.utils.plot_model(build(cnnkit, "sequential"), to_file=chain, dpi=50)
    with Image.open(path) as wide, Image.open(chain) as narrow:
        # 7 layers in 4 depths (two boxes in three of them) against 4 layers, one per depth:
        # as tall, but wider
        assert wide.size[1] == narrow.size[1]
        assert wide.size[0] > 1.5 * narrow.size[0]


def test_no_extension_writes_png_and_the_write_is_whole(tmp_path):
    path = tmp_path / "model"
    cnnkit.utils.plot_model(build(cnnkit, "residual"), to_file=path, dpi=40)
    with Image.open(path) as image:
        assert image.format == "PNG"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary left


def test_bad_arguments_name_the_argument(tmp_path):
    model = build(cnnkit, "sequential")
    target = tmp_path / "m.png"
    with pytest.raises(ValueError, match=r"rankdir must be one of .*Received: rankdir='XY'"):
        cnnkit.utils.plot_model(model, to_file=target, rankdir="XY")
    with pytest.raises(ValueError, match="rankdir"):
        cnnkit.utils.model_to_dot(model, rankdir="tb")
    with pytest.raises(ValueError, match=r"folder of to_file does not exist.*missing"):
        cnnkit.utils.plot_model(model, to_file=tmp_path / "missing" / "m.png")
    with pytest.raises(ValueError, match=r"to_file must end in one of .*\.gif"):
        cnnkit.utils.plot_model(model, to_file=tmp_path / "m.gif")
    with pytest.raises(TypeError, match="to_file must be a file path"):
        cnnkit.utils.plot_model(model, to_file=3)
    with pytest.raises(TypeError, match="show_shapes"):
        cnnkit.utils.plot_model(model, to_file=target, show_shapes="yes")
    with pytest.raises(ValueError, match="dpi"):
        cnnkit.utils.plot_model(model, to_file=target, dpi=0)
    with pytest.raises(TypeError, match="model must be a cnnkit model"):
        cnnkit.utils.model_to_dot(build(keras, "sequential"))
    unbuilt = cnnkit.Sequential([cnnkit.layers.Dense(2)])
    with pytest.raises(ValueError, match="has not yet been built"):
        cnnkit.utils.plot_model(unbuilt, to_file=target)
    assert not target.exists()


def test_a_subclassed_model_is_one_box():
    class Twice(cnnkit.Model):
        def __init__(self):
            super().__init__(name="twice")
            self.dense = cnnkit.layers.Dense(2)

        def call(self, x):
            return self.dense(x) * 2

    model = Twice()
    model.build((None, 3))
    text = cnnkit.utils.model_to_dot(model)
    assert text.count("<b>twice</b> (Twice)") == 1
    assert " -> " not in text
