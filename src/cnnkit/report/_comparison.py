"""The lecture's comparison in words: does the CNN beat k-nearest neighbours on pixels here?"""

from __future__ import annotations

from dataclasses import dataclass

#: The CNN "pulls ahead" when it is at least this much more accurate (1 percentage point) ...
MARGIN = 0.01
#: ... and makes at most this fraction of kNN's mistakes.
ERROR_RATIO = 0.8


@dataclass(frozen=True)
class Row:
    """One line of the comparison table: a method, the test images it was scored on, its accuracy.

    ``kind`` is ``"cnn"`` (a CNN scored on all the test images), ``"cnn sample"`` (this CNN on
    the kNN rows' subset), ``"pixel knn"`` (kNN on pixels) or ``"latent knn"``; ``short`` names
    the method in the text (default: ``method`` up to its first colon).
    """

    method: str
    images: int
    accuracy: float
    kind: str
    short: str = ""

    @property
    def name(self) -> str:
        """The method's name in a sentence."""
        return self.short or self.method.split(":")[0].strip()

    def cells(self) -> tuple[str, int, float]:
        """The table's cells: method, test images, accuracy."""
        return self.method, self.images, self.accuracy


def verdict(rows: list[Row]) -> str:
    """What the table means: the best CNN against the best kNN on pixels, in one paragraph."""
    # Compare on the same images: this CNN on the kNN rows' subset when there is one.
    cnns = [row for row in rows if row.kind == "cnn sample"] or [
        row for row in rows if row.kind == "cnn"
    ]
    knns = [row for row in rows if row.kind == "pixel knn"]
    if not cnns or not knns:
        return ""
    cnn = max(cnns, key=lambda row: row.accuracy)
    knn = max(knns, key=lambda row: row.accuracy)
    name = f", {cnn.name}," if len(cnns) > 1 else ""
    scores = (
        f"On the same {knn.images:,} test images the best CNN{name} classifies "
        f"{cnn.accuracy:.1%} correctly, the best kNN on pixels, {knn.name}, {knn.accuracy:.1%}."
    )
    cnn_error, knn_error = 1 - cnn.accuracy, 1 - knn.accuracy
    if cnn.accuracy - knn.accuracy >= MARGIN and cnn_error <= ERROR_RATIO * knn_error:
        return (
            f"{scores} The CNN pulls ahead: it makes {cnn_error / knn_error:.0%} of kNN's "
            "mistakes. Images of one class differ pixel by pixel (shifted, of other shapes or "
            "textures), so the distance between pixels mixes classes up, while the CNN's "
            "filters respond to the same local patterns wherever they are. The latent-space "
            "rows below show the same: distances between the CNN's features mean more."
        )
    if knn.accuracy - cnn.accuracy >= MARGIN:
        return (
            f"{scores} kNN on pixels beats the CNN here: the CNN may need more epochs, more "
            "training images or a better learning rate (the training curves show whether it "
            "was still improving)."
        )
    return (
        f"{scores} On these images kNN on pixels is as good as the CNN: images of one class "
        "already look alike pixel by pixel (as the embedded digits do: 8x8 scans, centred "
        "and scaled to one size, then enlarged), so the distance between pixels separates "
        "the classes and learned features have little to add. The lecture's point shows on "
        "harder data: on Fashion-MNIST or CIFAR-10, where a class varies in shape, texture "
        "and position, the CNN pulls clearly ahead of kNN (try cnnkit demo --dataset "
        "fashion_mnist)."
    )
