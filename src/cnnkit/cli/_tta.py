"""Test-time augmentation for ``cnnkit train`` runs: the moves the recipe trained with, kept
only when the held-out validation images do not lose accuracy with them.

The decision is stored in ``run.json`` (key ``"tta"``) as plain JSON, so ``evaluate`` and
``predict`` on the run's models predict the same way::

    "tta": {"mode": "auto", "views": "flip", "on": true,
            "val_accuracy": 0.9290, "val_accuracy_tta": 0.9312}

``views`` names what is averaged with the image itself: ``'flip'`` (its mirror),
``'flip+translate'`` (its mirror and 2-pixel moves, see ``Model.predict``) or ``'translate'``
(2-pixel moves right, left, down and up, the border black as in training's shifts).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnkit.cli import _run_dir
from cnnkit.cli._errors import CommandError

#: Pixels moved by the 'translate' views (as Model.predict's 'flip+translate').
SHIFT = 2
#: (down, right) of each 'translate' view.
_MOVES = ((0, SHIFT), (0, -SHIFT), (SHIFT, 0), (-SHIFT, 0))


def views_for(settings: dict[str, Any]) -> str | None:
    """The views matching the run's augmentation: a model trained on mirrored images may be
    shown mirrors, one trained on shifts shifted copies; None when it trained on neither (a
    mirrored digit is another digit, so nothing is assumed to keep the label)."""
    if not settings.get("augment"):
        return None
    shifts = bool(settings.get("shift"))
    if settings.get("flip"):
        return "flip+translate" if shifts else "flip"
    return "translate" if shifts else None


def _moved(images: torch.Tensor, down: int, right: int) -> torch.Tensor:
    """``images`` (samples, height, width, channels) moved by (down, right), the border 0."""
    out = images.roll((down, right), dims=(1, 2))
    if down > 0:
        out[:, :down] = 0
    elif down < 0:
        out[:, down:] = 0
    if right > 0:
        out[:, :, :right] = 0
    elif right < 0:
        out[:, :, right:] = 0
    return out


def argument(views: str) -> Any:
    """The ``tta=`` that ``Model.predict`` takes for the stored ``views`` name."""
    if views == "translate":
        return [lambda images, move=move: _moved(images, *move) for move in _MOVES]
    return views


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, tta: Any = None) -> float:
    """Top-1 accuracy of ``model`` on scaled images ``x``, averaged over ``tta``'s views."""
    options: dict[str, Any] = {"batch_size": 512, "verbose": 0}
    if tta is not None:
        options["tta"] = tta
    return float(np.mean(model.predict(x, **options).argmax(axis=1) == y))


def decide(
    mode: str,
    settings: dict[str, Any],
    model: Any,
    validation: tuple[np.ndarray, np.ndarray] | None,
) -> dict[str, Any]:
    """The run's choice, as stored in run.json: ``on`` when ``mode`` is 'on', or when it is
    'auto' and the validation images score at least as well with the views as without."""
    views = views_for(settings)
    choice: dict[str, Any] = {"mode": mode, "views": views, "on": mode == "on" and bool(views)}
    if views is None or mode == "off" or validation is None:
        return choice
    choice["val_accuracy"] = accuracy(model, *validation)
    choice["val_accuracy_tta"] = accuracy(model, *validation, argument(views))
    if mode == "auto":
        choice["on"] = choice["val_accuracy_tta"] >= choice["val_accuracy"]
    return choice


def describe(choice: dict[str, Any]) -> str:
    """One line saying whether test-time augmentation is on, and why."""
    views, mode = choice["views"], choice["mode"]
    if views is None:
        return "test-time augmentation: off (the run trains without flips or shifts to average)"
    state = "on" if choice["on"] else "off"
    if "val_accuracy" not in choice:
        reason = "--tta off" if mode == "off" else f"--tta {mode}, no validation split"
        return f"test-time augmentation ({views}): {state} ({reason})"
    scores = (
        f"validation accuracy {choice['val_accuracy_tta']:.4f} with, "
        f"{choice['val_accuracy']:.4f} without"
    )
    why = "" if mode == "auto" else f", as --tta {mode} asks"
    return f"test-time augmentation ({views}): {state} ({scores}{why})"


def stored(model_path: Path) -> Any:
    """The ``tta=`` that ``train`` chose for the run holding ``model_path``; None when it chose
    none, or the model is not in a run folder (or is an ONNX export, which predicts plainly)."""
    state_path = model_path.parent / _run_dir.STATE
    if model_path.suffix.lower() == ".onnx" or not state_path.is_file():
        return None
    choice = _run_dir.read_state(model_path.parent).get("tta")
    if not isinstance(choice, dict) or choice.get("on") is not True:
        return None
    views = choice.get("views")
    if views not in ("flip", "flip+translate", "translate"):
        raise CommandError(
            f"{state_path}: tta views must be 'flip', 'flip+translate' or 'translate'. "
            f"Received: {views!r}"
        )
    return views


def option(no_tta: bool, model_path: Path) -> dict[str, Any]:
    """``{"tta": ...}`` for ``Model.predict`` when the run holding ``model_path`` chose
    test-time augmentation and ``--no-tta`` is not given (announced); else nothing."""
    views = None if no_tta else stored(model_path)
    if views is None:
        return {}
    print(f"test-time augmentation: {views} (chosen by cnnkit train; --no-tta to skip)")
    return {"tta": argument(views)}
