"""``cnnkit train``: the main job. Train a zoo model on a dataset into a run folder, resumable.

Everything the run produces lands in one folder (see ``_run_dir``): checkpoints, the CSV
history, TensorBoard logs, the JSON state, the backup ``--resume`` continues from exactly, and
the report.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np

import cnnkit
from cnnkit import zoo
from cnnkit.cli import _data, _run_dir, _tta
from cnnkit.cli._build import build_model, compile_model
from cnnkit.cli._errors import CommandError, UsageError
from cnnkit.cli._recipes import Recipe, recipe_for
from cnnkit.cli._report import build_report, history_from_csv
from cnnkit.cli._run_callbacks import run_callbacks
from cnnkit.models import Sequential, load_model

#: Options fixed when a run starts; ``--resume`` refuses to change them mid-run.
MAX_WIDTH = 1024  # --width: filters of a zoo model's first convolution
_FIXED_ON_RESUME = (
    "batch_size",
    "lr",
    "weight_decay",
    "label_smoothing",
    "augment",
    "image_size",
    "width",
)


def run(args: argparse.Namespace) -> int:
    """Train (or resume) a run as the parsed arguments say; returns the exit code."""
    if not args.dataset and not (args.resume and args.out):
        raise UsageError("--dataset is required (or --resume with --out RUN_DIR)")
    if args.resume and args.overwrite:
        raise UsageError("--resume continues a run and --overwrite replaces it: pick one")
    run_dir = Path(args.out) if args.out else default_run_dir(args)
    _run_dir.check_out_folder(run_dir)
    state = resumed_state(run_dir, args) if args.resume else new_state(run_dir, args)
    if state is None:
        return 0
    settings = state["settings"]
    if args.tta == "on" and _tta.views_for(settings) is None:
        raise UsageError(
            "--tta on averages over the run's flips or shifts, and this run trains with none; "
            "add --augment, or use --tta auto"
        )
    # from its backup a run continues exactly (weights, optimizer, generators, callbacks);
    # without one (it finished, or stopped in its first epoch) it starts again or goes on from
    # its last checkpoint with generators seeded anew
    extends = args.resume and not has_backup(run_dir) and state["epochs_done"] > 0
    cnnkit.utils.set_random_seed(settings["seed"] + (state["epochs_done"] if extends else 0))
    data = _data.load(state["dataset"], _size(settings["image_size"]))
    model = _last_model(run_dir) if extends else _new_model(state, data)
    _run_dir.write_json(run_dir / _run_dir.STATE, state)
    _run_dir.write_json(run_dir / _run_dir.CLASS_NAMES, list(data.class_names))
    print(
        f"training {state['model']} on {data.name}: {len(data.x_train):,} images "
        f"{data.input_shape}, {state['epochs']} epochs, into {run_dir}"
    )
    model.fit(
        _data.scaled(data.x_train),
        data.y_train,
        batch_size=settings["batch_size"],
        epochs=state["epochs"],
        validation_split=settings["validation_split"] or 0.0,
        initial_epoch=state["epochs_done"],
        callbacks=run_callbacks(run_dir, state, resume=bool(args.resume)),
        verbose="auto",
    )
    with contextlib.suppress(OSError):  # the finished run's backup was deleted: its folder too
        (run_dir / _run_dir.BACKUP).rmdir()
    return _finish(run_dir, state, model, data, report=args.report, tta_mode=args.tta)


def default_run_dir(args: argparse.Namespace) -> Path:
    """``runs/<dataset>-<model>``; a folder dataset is named by the folder's own name."""
    kind = _data.dataset_kind(args.dataset)
    name = Path(args.dataset).resolve().name if kind == _data.FOLDER else kind
    return Path("runs") / f"{name}-{args.model or recipe_for(kind).model}"


def new_state(run_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    """The state of a fresh run, after making sure it does not overwrite another by accident."""
    replaces = (run_dir / _run_dir.STATE).exists()
    if replaces and not args.overwrite:
        raise CommandError(
            f"{run_dir} already holds a run; pass --resume to continue it, --overwrite to "
            "start again, or --out for another folder"
        )
    kind = _data.dataset_kind(args.dataset)
    recipe = recipe_for(
        kind,
        model=args.model,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        weight_decay=args.weight_decay,
        label_smoothing=args.label_smoothing,
        augment=args.augment,
        image_size=args.image_size,
        validation_split=args.validation_split,
        width=args.width,
    )
    if recipe.width is not None and recipe.width > MAX_WIDTH:
        raise UsageError(f"--width {recipe.width}: at most {MAX_WIDTH} filters")
    # looking the model up refuses an unknown name here, before anything is cleared
    if not zoo.has_width(recipe.model) and recipe.width is not None:
        with_width = [name for name in zoo.names() if zoo.has_width(name)]
        raise UsageError(
            f"--width {recipe.width}: the model {recipe.model} has no width; models with one: "
            f"{', '.join(with_width)}"
        )
    if replaces:  # only once the new run's settings are known to be good
        _clear(run_dir)
    shutil.rmtree(run_dir / _run_dir.BACKUP, ignore_errors=True)  # never resume a stray backup
    return {
        "version": _run_dir.STATE_VERSION,
        "cnnkit_version": cnnkit.__version__,
        "dataset": _data.canonical_dataset(args.dataset),
        "model": recipe.model,
        "epochs": recipe.epochs,
        "epochs_done": 0,
        "settings": _settings(recipe, args.seed),
    }


def _settings(recipe: Recipe, seed: int) -> dict[str, Any]:
    """What run.json keeps of the recipe: everything a resumed run must reuse."""
    return {
        "batch_size": recipe.batch_size,
        "learning_rate": recipe.learning_rate,
        "weight_decay": recipe.weight_decay,
        "label_smoothing": recipe.label_smoothing,
        "augment": recipe.augment,
        "flip": recipe.flip,
        "shift": recipe.shift,
        "image_size": list(recipe.image_size) if recipe.image_size else None,
        "validation_split": recipe.validation_split,
        "seed": seed,
        "width": recipe.width,
    }


def resumed_state(run_dir: Path, args: argparse.Namespace) -> dict[str, Any] | None:
    """The saved state, with ``--epochs`` as the new total; None when nothing is left to do."""
    state = _run_dir.read_state(run_dir)
    _check_resume_args(run_dir, state, args)
    width = state["settings"].get("width") if isinstance(state["settings"], dict) else None
    if width is not None and not (
        isinstance(width, int) and not isinstance(width, bool) and 1 <= width <= MAX_WIDTH
    ):
        raise CommandError(
            f"{run_dir / _run_dir.STATE}: settings.width must be null or a whole number from 1 "
            f"to {MAX_WIDTH}; got {width!r}"
        )
    if args.epochs is not None:
        state["epochs"] = args.epochs
    if has_backup(run_dir):
        print(f"resuming {run_dir} from its backup ({state['epochs']} epochs in all)")
        return state
    if state["epochs_done"] >= state["epochs"]:
        print(
            f"{run_dir}: all {state['epochs']} epochs are done; pass --epochs N "
            f"(more than {state['epochs_done']}) to train longer"
        )
        return None
    print(f"resuming {run_dir} at epoch {state['epochs_done'] + 1} of {state['epochs']}")
    return state


def has_backup(run_dir: Path) -> bool:
    """Whether the run holds a backup (it was stopped before it finished)."""
    return (run_dir / _run_dir.BACKUP / "backup.cnnkit").is_file()


def _check_resume_args(run_dir: Path, state: dict[str, Any], args: argparse.Namespace) -> None:
    """``--resume`` keeps the run's settings: refuse options that would change them."""
    changed = [
        f"--{name.replace('_', '-')}"
        for name in _FIXED_ON_RESUME
        if getattr(args, name, None) is not None
    ]
    if args.dataset and _data.canonical_dataset(args.dataset) != state["dataset"]:
        changed.append(f"--dataset (the run trains on {state['dataset']})")
    if args.model and args.model != state["model"]:
        changed.append(f"--model (the run trains {state['model']})")
    if changed:
        raise CommandError(
            f"--resume continues {run_dir} with its own settings; drop {', '.join(changed)} "
            "(only --epochs may change)"
        )


def _new_model(state: dict[str, Any], data: _data.Data) -> Sequential:
    settings = state["settings"]
    augment = (
        {"flip": settings["flip"], "shift": settings["shift"]} if settings["augment"] else None
    )
    # runs written before width was a setting used the model's own
    width = settings.get("width")
    model = build_model(state["model"], data.input_shape, data.num_classes, augment, width)
    # runs written before label smoothing was a setting trained without it
    smoothing = settings.get("label_smoothing", 0.0)
    compile_model(model, settings["learning_rate"], settings["weight_decay"], smoothing)
    return model


def _last_model(run_dir: Path) -> Sequential:
    """The last checkpoint, with its optimizer state, to train a finished run for longer."""
    path = run_dir / _run_dir.LAST
    if not path.is_file():
        raise CommandError(
            f"{path} not found though {_run_dir.STATE} counts finished epochs; start the run "
            "again without --resume (add --overwrite)"
        )
    return load_model(path)


def _finish(
    run_dir: Path,
    state: dict[str, Any],
    model: Sequential,
    data: _data.Data,
    report: bool,
    tta_mode: str,
) -> int:
    """Check the run did not diverge, choose test-time augmentation on the validation images,
    score the model on the test set, write the report."""
    history = history_from_csv(run_dir / _run_dir.HISTORY)
    losses = history.history.get("loss", [])
    if model.stop_training and losses and not math.isfinite(losses[-1]):
        saved = (
            f"the last good model is {run_dir / _run_dir.LAST}"
            if state["epochs_done"]
            else "no model was saved"
        )
        raise CommandError(
            f"training diverged (loss is NaN) in epoch {len(losses)}; try a lower --lr than "
            f"{state['settings']['learning_rate']:g}; {saved}"
        )
    choice = _tta.decide(tta_mode, state["settings"], model, validation_images(state, data))
    print(_tta.describe(choice))
    x_test = _data.scaled(data.x_test)
    accuracy = _tta.accuracy(model, x_test, data.y_test)
    state["test_accuracy_without_tta"] = accuracy
    if choice["on"]:
        accuracy = _tta.accuracy(model, x_test, data.y_test, _tta.argument(choice["views"]))
    state["tta"], state["test_accuracy"] = choice, accuracy
    _run_dir.write_json(run_dir / _run_dir.STATE, state)
    views = f", averaged over {choice['views']} views" if choice["on"] else ""
    print(f"test accuracy: {accuracy:.4f} ({len(data.y_test):,} test images{views})")
    path = build_report(run_dir, model, history, data) if report else None
    models = [name for name in (_run_dir.BEST, _run_dir.LAST) if (run_dir / name).is_file()]
    print(f"run folder: {run_dir} (models: {', '.join(models)}; history: {_run_dir.HISTORY})")
    print(f"learning curves: tensorboard --logdir {run_dir / _run_dir.LOGS}")
    if path is not None:
        print(f"report: {path}")
    return 0


def validation_images(
    state: dict[str, Any], data: _data.Data
) -> tuple[np.ndarray, np.ndarray] | None:
    """The scaled images and labels ``fit`` held out (its validation_split: the last fraction
    of the training images, taken before shuffling); None without a split."""
    fraction = state["settings"]["validation_split"] or 0.0
    if not fraction:
        return None
    cut = int(len(data.x_train) * (1 - fraction))
    return _data.scaled(data.x_train[cut:]), data.y_train[cut:]


def _clear(run_dir: Path) -> None:
    """Remove what an earlier run left (only the files a run writes)."""
    for name in (_run_dir.STATE, _run_dir.LAST, _run_dir.BEST, _run_dir.HISTORY):
        (run_dir / name).unlink(missing_ok=True)
    shutil.rmtree(run_dir / _run_dir.LOGS, ignore_errors=True)


def _size(value: list[int] | None) -> tuple[int, int] | None:
    return (int(value[0]), int(value[1])) if value else None
