"""An exponential moving average of the weights during training, used where the model is judged.

Averaging the last few thousand steps' weights smooths out the noise of the final steps and
usually scores a little better than the last weights (Polyak averaging). The average is kept
beside the model; validation, checkpoints and the model after ``fit`` use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from cnnkit._validation import check_bool, check_number
from cnnkit.callbacks._base import Callback, Logs
from cnnkit.callbacks._checks import check_state

__all__ = ["ModelEMA"]


class ModelEMA(Callback):
    """Keep ``ema = decay * ema + (1 - decay) * w`` for every trainable weight after each step.

    The average starts from the weights at the start of ``fit``. The model holds the average
    during validation (``val_`` logs score it) and from then until the next epoch starts, so
    callbacks that save or copy weights at the end of an epoch (ModelCheckpoint, EarlyStopping's
    best weights) get the average: list ModelEMA before them. Training always continues from
    the trained weights. Non-trainable weights (BatchNormalization's statistics) are the
    model's own. When ``fit`` ends the model keeps the average (``apply_at_end=True``) or gets
    its trained weights back.

    Args:
        decay: Weight of the past in the average, in [0, 1): 0.999 averages roughly the last
            1,000 steps.
        apply_at_end: Leave the averaged weights in the model after ``fit``.

    Example:
        >>> ema = ModelEMA(decay=0.999)
        >>> # model.fit(x, y, validation_data=(x_val, y_val), callbacks=[ema, checkpoint])
    """

    def __init__(self, decay: float = 0.999, apply_at_end: bool = True) -> None:
        super().__init__()
        self.decay = check_number(
            decay, "decay", "ModelEMA", minimum=0, maximum=1, exclusive_maximum=True
        )
        self.apply_at_end = check_bool(apply_at_end, "apply_at_end", "ModelEMA")
        self.average: list[torch.Tensor] | None = None
        self._trained: list[torch.Tensor] | None = None  # the trained weights while swapped out
        self._fitting = False

    def _weights(self) -> list[torch.Tensor]:
        return list(self.model.trainable_weights)

    def on_train_begin(self, logs: Logs | None = None) -> None:
        """Start the average at the current weights."""
        self.average = [w.detach().clone() for w in self._weights()]
        self._trained, self._fitting = None, True

    def on_train_batch_end(self, batch: int, logs: Logs | None = None) -> None:
        """Fold this step's weights into the average."""
        with torch.no_grad():
            for average, weight in zip(self.average, self._weights()):
                average.mul_(self.decay).add_(weight.detach(), alpha=1 - self.decay)

    def swap_in(self) -> None:
        """Put the average into the model (the trained weights are kept aside)."""
        if self._trained is not None or self.average is None:
            return
        weights = self._weights()
        self._trained = [w.detach().clone() for w in weights]
        with torch.no_grad():
            for weight, average in zip(weights, self.average):
                weight.copy_(average)

    def swap_out(self) -> None:
        """Give the model its trained weights back."""
        if self._trained is None:
            return
        with torch.no_grad():
            for weight, trained in zip(self._weights(), self._trained):
                weight.copy_(trained)
        self._trained = None

    def on_test_begin(self, logs: Logs | None = None) -> None:
        """Validate the average (inside fit; a plain evaluate is left alone)."""
        if self._fitting:
            self.swap_in()

    def on_epoch_end(self, epoch: int, logs: Logs | None = None) -> None:
        """Hold the average for the callbacks after this one (checkpoints)."""
        self.swap_in()

    def on_epoch_begin(self, epoch: int, logs: Logs | None = None) -> None:
        """Train on from the trained weights."""
        self.swap_out()

    def on_train_end(self, logs: Logs | None = None) -> None:
        """Leave the average in the model, or the trained weights."""
        if self.apply_at_end:
            self.swap_in()
        else:
            self.swap_out()
        self._trained, self._fitting = None, False

    def state_dict(self) -> dict[str, Any]:
        """The average and, while swapped in, the trained weights (for an exact resume)."""
        copy = lambda ws: None if ws is None else [w.detach().clone() for w in ws]  # noqa: E731
        return {"average": copy(self.average), "trained": copy(self._trained)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a ``state_dict()`` (after ``on_train_begin``)."""
        check_state("ModelEMA", state, ("average", "trained"))
        shapes = [tuple(w.shape) for w in self._weights()]
        for name in ("average", "trained"):
            value = state[name]
            if value is not None and [tuple(torch.as_tensor(w).shape) for w in value] != shapes:
                raise ValueError(
                    f"ModelEMA.load_state_dict: {name} must be None or the model's "
                    f"{len(shapes)} trainable weights, of shapes {shapes}"
                )
        devices = [w.device for w in self._weights()]
        as_tensors = lambda ws: [  # noqa: E731
            torch.as_tensor(w).to(device, copy=True) for w, device in zip(ws, devices)
        ]
        if state["average"] is not None:
            self.average = as_tensors(state["average"])
        self._trained = None if state["trained"] is None else as_tensors(state["trained"])
