"""One HTML file that tells a person what a trained CNN does, from data to latent space."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from cnnkit._files import atomic_write_bytes
from cnnkit._validation import check_int
from cnnkit.inspect import check_model
from cnnkit.layers import Dense
from cnnkit.report import (
    _sections_data,
    _sections_explain,
    _sections_inside,
    _sections_mistakes,
    _sections_results,
)
from cnnkit.report._context import OWNER, Context, Progress, resolve_class_names, split_data
from cnnkit.report._html import page
from cnnkit.report._knn import check_knn, check_models
from cnnkit.report._sections_walkthrough import walkthroughs as walkthrough_section

#: Section ids, in page order (tests and links rely on them).
SECTION_IDS = (
    "dataset",
    "model",
    "training",
    "evaluation",
    "misclassified",
    "mistakes",
    "walkthrough",
    "activations",
    "explanations",
    "filters",
    "embedding",
    "neighbors",
    "comparison",
)


def build(
    out_dir: str | os.PathLike,
    model: Any,
    history: Any,
    data: Any,
    class_names: Sequence[str] | None = None,
    knn: Any = None,
    max_points: int = 2000,
    *,
    models: Mapping[str, float] | None = None,
    preprocess: Callable[[Any], Any] | None = None,
    title: str = "CNN report",
    n_queries: int = 4,
    k: int = 5,
    batch_size: int = 256,
    seed: int = 0,
    progress: TextIO | None = None,
    walkthroughs: int = 0,
) -> Path:
    """Write ``report.html``: a self-contained page on the data, the model, its training and
    what it learned, that opens anywhere (figures are embedded PNGs, no scripts or downloads).

    Sections (each an ``<section id=...>``): ``dataset``, ``model``, ``training``,
    ``evaluation``, ``misclassified``, ``mistakes`` (largest losses, most confused classes),
    ``walkthrough`` (links to ``walkthroughs`` pages of ``cnnkit.report.walkthrough``),
    ``activations``, ``explanations`` (Grad-CAM of a few correct and misclassified test
    images), ``filters``, ``embedding`` (pixel vs
    latent t-SNE), ``neighbors`` (pixel vs latent nearest neighbours) and ``comparison``
    (kNN baselines vs the CNN, and neighbourhood scores).

    Args:
        out_dir: folder for ``report.html`` (created if missing).
        model: a built, trained ``cnnkit.Sequential`` classifier.
        history: the ``History`` from ``fit`` (or its dict), or None.
        data: ``((x_train, y_train), (x_test, y_test))``: images (n, height, width[, channels])
            uint8 or float, labels as integers or one-hot.
        class_names: one name per class; default "0", "1", ...
        knn: kNN results to compare with: None computes a baseline (``cnnkit.neighbors`` if
            installed, L1 and L2; else scikit-learn, L2), False leaves it out, a number or a
            dict ``{description: accuracy}`` (kNN on pixels, scored on ``data``'s test images)
            is shown as given.
        max_points: test images used by the heavy parts (t-SNE, kNN, neighbourhood scores);
            the kNN baselines search at most ``10 * max_points`` training images.
        models: other models' test accuracies on the same test images, ``{name: accuracy}``
            (e.g. LeNet-5 beside a modern CNN), shown in the comparison with this model.
        preprocess: turns images as given into model inputs (e.g. ``lambda x: x / 255``);
            None passes them unchanged (a missing grayscale channel axis is added).
        title: the page title.
        n_queries: test images shown with their nearest neighbours.
        k: neighbours that vote in the kNN baselines and neighbourhood scores.
        batch_size: images per forward pass.
        seed: seeds every random choice (samples, subsets, t-SNE).
        progress: a stream (e.g. ``sys.stdout``) to print each step to; None is silent.
        walkthroughs: test images (about half misclassified) followed through every layer on
            pages written into ``out_dir/walkthrough/`` and linked from section ``walkthrough``.

    Returns:
        The path of ``report.html``, written atomically.
    """
    check_model(model, OWNER)
    started = time.perf_counter()
    context = _context(
        model, data, class_names, preprocess, max_points, batch_size, seed, k, progress
    )
    n_queries = check_int(n_queries, "n_queries", OWNER, minimum=1)
    walkthroughs = check_int(walkthroughs, "walkthroughs", OWNER, minimum=0)
    check_knn(knn)
    check_models(models)
    _check_history(history)
    if not any(isinstance(layer, Dense) for layer in model.layers):
        raise ValueError(
            f"{OWNER}: the model needs a Dense classifier layer: the report's latent vectors are "
            f"the input of the last one. Layers: {', '.join(layer.name for layer in model.layers)}"
        )
    folder = _folder(out_dir)
    sections = _sections(
        context, history, knn, models, n_queries,
        lambda: walkthrough_section(context, folder, walkthroughs),
    )  # fmt: skip
    subtitle = (
        f"Model {getattr(model, 'name', type(model).__name__)!r}, {len(context.class_names)} classes, "
        f"{len(context.x_train):,} training and {len(context.x_test):,} test images. "
        f"Built in {time.perf_counter() - started:.1f} s."
    )
    path = atomic_write_bytes(
        folder / "report.html", page(title, subtitle, sections).encode("utf-8")
    )
    context.progress(f"wrote {path}")
    return path


def _sections(
    context: Context, history: Any, knn: Any, models: Any, n_queries: int, pages: Callable
) -> list[tuple[str, str, str]]:
    """Each section's (id, heading, HTML body), in page order."""
    headings_and_bodies = {
        "dataset": ("Dataset", lambda: _sections_data.dataset(context)),
        "model": ("Model", lambda: _sections_data.model(context)),
        "training": ("Training", lambda: _sections_data.training(context, history)),
        "evaluation": (
            "Test accuracy and confusion matrix",
            lambda: _sections_results.evaluation(context),
        ),
        "misclassified": (
            "Misclassified test images",
            lambda: _sections_results.misclassified(context),
        ),
        "mistakes": ("Largest losses", lambda: _sections_mistakes.mistakes(context)),
        "walkthrough": ("Walkthrough: one image, layer by layer", pages),
        "activations": ("Activation maps", lambda: _sections_inside.activations(context)),
        "explanations": (
            "What the network looks at (Grad-CAM)",
            lambda: _sections_explain.explanations(context),
        ),
        "filters": ("Learned filters", lambda: _sections_inside.filters(context)),
        "embedding": (
            "t-SNE: pixels vs latent vectors",
            lambda: _sections_inside.embedding(context),
        ),
        "neighbors": (
            "Nearest neighbours: pixels vs latent vectors",
            lambda: _sections_inside.neighbors(context, n_queries),
        ),
        "comparison": (
            "kNN baseline vs CNN",
            lambda: _sections_results.comparison(context, knn, models),
        ),
    }
    return [
        (sid, headings_and_bodies[sid][0], headings_and_bodies[sid][1]()) for sid in SECTION_IDS
    ]


def _context(
    model: Any,
    data: Any,
    class_names: Any,
    preprocess: Any,
    max_points: Any,
    batch_size: Any,
    seed: Any,
    k: Any,
    progress: Any,
) -> Context:
    x_train, y_train, x_test, y_test = split_data(data)
    if progress is not None and not callable(getattr(progress, "write", None)):
        raise TypeError(
            f"{OWNER}: progress must be a text stream such as sys.stdout, or None. Received: {progress!r}"
        )
    if preprocess is not None and not callable(preprocess):
        raise TypeError(
            f"{OWNER}: preprocess must be a function of the images or None. Received: {preprocess!r}"
        )
    context = Context(
        model=model,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_test=y_test,
        class_names=resolve_class_names(class_names, y_train, y_test, model),
        preprocess=preprocess,
        max_points=check_int(max_points, "max_points", OWNER, minimum=5),
        batch_size=check_int(batch_size, "batch_size", OWNER, minimum=1),
        seed=check_int(seed, "seed", OWNER, minimum=0),
        progress=Progress(progress),
        knn_k=check_int(k, "k", OWNER, minimum=1),
    )
    context.inputs(x_train[:1])  # the images fit the model (raises naming the expected shape)
    context.inputs(x_test[:1])
    return context


def _check_history(history: Any) -> None:
    logs = getattr(history, "history", history)
    if history is not None and not isinstance(logs, Mapping):
        raise TypeError(
            f"{OWNER}: history must be the History returned by model.fit, its .history dict, or "
            f"None. Received: {type(history).__name__}"
        )


def _folder(out_dir: Any) -> Path:
    if not isinstance(out_dir, (str, os.PathLike)):
        raise TypeError(f"{OWNER}: out_dir must be a folder path. Received: {out_dir!r}")
    folder = Path(out_dir)
    if folder.exists() and not folder.is_dir():
        raise ValueError(
            f"{OWNER}: out_dir {str(folder)!r} is a file; give a folder for report.html"
        )
    folder.mkdir(parents=True, exist_ok=True)
    return folder
