"""``cnnkit audit``: which training labels are probably wrong, as a page to check and a CSV.

Every audited image is judged by a model that never trained on it (out-of-fold probabilities,
``cnnkit.interpret``); confident learning then ranks the labels those judgements contradict.
"""

from __future__ import annotations

import argparse
import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from cnnkit._files import atomic_write_bytes
from cnnkit.cli import _data, _run_dir
from cnnkit.cli._build import build_model, compile_model
from cnnkit.cli._errors import CommandError
from cnnkit.cli._recipes import recipe_for
from cnnkit.interpret import label_issues_from_probabilities, out_of_fold_probabilities
from cnnkit.models import clone_model, load_model

PAGE, TABLE, PROBABILITIES = "audit.html", "label_issues.csv", "out_of_fold_probabilities.npy"
CSV_COLUMNS = ("index", "given_label", "given", "suggested_label", "suggested", "score", "file")


@dataclass(frozen=True)
class Audited:
    """The images under audit (uint8), their given labels, where they sit in the dataset."""

    images: np.ndarray
    labels: np.ndarray
    indices: np.ndarray  # position of each in the dataset's training images (or folder files)
    file_paths: list[str] | None
    class_names: tuple[str, ...]
    name: str


def run(args: argparse.Namespace) -> int:
    """Train the folds, rank the likely label issues, write the page, the CSV, the probabilities."""
    out = Path(args.out or f"audit-{Path(_data.canonical_dataset(args.dataset)).name}")
    _run_dir.check_out_folder(out)
    saved = _saved_model(args.model) if args.model else None
    audited = _audited(args, saved)
    make_model = _model_maker(args, saved, audited)
    made: list[Any] = []

    def model_fn() -> Any:
        made.append(make_model())
        return made[-1]

    batch = args.batch_size or recipe_for(_data.dataset_kind(args.dataset)).batch_size
    print(
        f"auditing {len(audited.images):,} images of {audited.name}: {args.folds} folds, "
        f"{args.epochs} epoch(s) each"
    )
    probabilities = out_of_fold_probabilities(
        model_fn,
        _data.scaled(audited.images),
        audited.labels,
        args.folds,
        args.epochs,
        batch,
        seed=args.seed,
    )
    issues = label_issues_from_probabilities(probabilities, audited.labels)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(out / TABLE, _csv(issues, audited).encode("utf-8"))
    buffer = io.BytesIO()
    np.save(buffer, probabilities.astype(np.float32), allow_pickle=False)
    atomic_write_bytes(out / PROBABILITIES, buffer.getvalue())
    page = _page(out / PAGE, issues, audited, made[-1], args)
    print(f"{len(issues):,} likely label issues of {len(audited.images):,} images")
    print(f"wrote {page} and {out / TABLE}")
    return 0


def _saved_model(path: str) -> Any:
    """The model stored at ``--model``, or an error naming the option."""
    try:
        file = _run_dir.model_file(path)
        return load_model(file, compile=False)
    except (CommandError, ValueError, TypeError, OSError) as error:
        raise CommandError(f"--model {path}: {error}") from None


def _audited(args: argparse.Namespace, saved: Any) -> Audited:
    """The dataset's training images (a folder: all its images), sampled down to ``--limit``."""
    kind = _data.dataset_kind(args.dataset)
    size = args.image_size or recipe_for(kind).image_size
    if saved is not None:
        height, width, _ = _data.model_input_shape(saved)
        size = (height, width)
    if kind == _data.FOLDER:
        images, labels, paths, names = _folder(args.dataset, size)
    else:
        data = _data.load(args.dataset, size)
        images, labels, paths, names = data.x_train, data.y_train, None, data.class_names
    if saved is not None:
        images = _data.fit_to_model(images, _data.model_input_shape(saved), args.dataset)
    chosen = np.arange(len(images))
    if args.limit < len(images):
        rng = np.random.default_rng(args.seed)
        chosen = np.sort(rng.choice(len(images), args.limit, replace=False))
    return Audited(
        images[chosen],
        labels[chosen],
        chosen,
        None if paths is None else [paths[i] for i in chosen],
        tuple(names),
        Path(_data.canonical_dataset(args.dataset)).name,
    )


def _folder(path: str, size: Any) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], Any]:
    """Every image of a class-per-folder directory, in file order, with its path."""
    from cnnkit.datasets import image_folder

    try:
        data = image_folder(path, image_size=size, shuffle=False)
    except ValueError as error:
        raise CommandError(f"--dataset {path}: {_data._in_flags(str(error))}") from error
    images = data.x if data.x.ndim == 4 else data.x[..., None]
    return images, np.asarray(data.y).astype(np.int64), data.file_paths, data.class_names


def _model_maker(args: argparse.Namespace, saved: Any, audited: Audited) -> Any:
    """A function returning a fresh compiled model for one fold."""
    recipe = recipe_for(_data.dataset_kind(args.dataset))
    classes = len(audited.class_names)
    if saved is not None and int(saved.output_shape[-1]) != classes:
        raise CommandError(
            f"--model {args.model} predicts {int(saved.output_shape[-1])} classes but "
            f"{audited.name} has {classes}"
        )

    def make() -> Any:
        if saved is not None:
            model = clone_model(saved)
        else:
            model = build_model(recipe.model, audited.images.shape[1:], classes)
        compile_model(model, recipe.learning_rate, recipe.weight_decay, recipe.label_smoothing)
        return model

    return make


def _csv(issues: Any, audited: Audited) -> str:
    """One row per likely issue, most suspicious first; ``index`` is the image's position in
    the dataset's training images (in a folder, among its files in sorted order)."""
    names = audited.class_names
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for position, given, suggested, score in zip(
        issues.indices, issues.given_labels, issues.suggested_labels, issues.scores
    ):
        file = "" if audited.file_paths is None else audited.file_paths[position]
        writer.writerow(
            [
                int(audited.indices[position]),
                int(given),
                names[given],
                int(suggested),
                names[suggested],
                f"{float(score):.6g}",
                file,
            ]
        )
    return text.getvalue()


def _page(path: Path, issues: Any, audited: Audited, model: Any, args: argparse.Namespace) -> Path:
    """The HTML page, through ``cnnkit.report`` (with a notice when it cannot be imported)."""
    from cnnkit.cli._report import report_module

    report = report_module()
    if report is None:
        return path.parent / TABLE
    how = "the architecture of " + args.model if args.model else "the zoo's small_cnn"
    return report.audit_page(
        path,
        issues,
        audited.images,
        audited.labels,
        list(audited.class_names),
        model=model,
        preprocess=_data.scaled,
        file_paths=audited.file_paths,
        numbers=audited.indices,
        max_shown=args.show,
        title=f"Label audit of {audited.name}",
        note=(
            f"{len(audited.images):,} images, each judged by a model trained on the other "
            f"{args.folds - 1} of {args.folds} folds ({how}, {args.epochs} epoch(s))."
        ),
    )
