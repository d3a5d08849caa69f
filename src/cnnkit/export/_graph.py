"""The inference graph of a model as one ``torch.export`` program, batch size left free.

Both formats start here, so what they contain is decided once: the model run with
``training=False`` (augmentation layers are the identity, Dropout is off, BatchNormalization
uses its moving statistics), from the channels-last input ``predict`` takes to the output
``predict`` returns, preprocessing layers (Rescaling, Normalization, Resizing...) included.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

#: The batch size of the example a model is traced with: torch.export treats sizes 0 and 1 as
#: constants, so the example must be larger for the batch dimension to stay free.
EXAMPLE_BATCH = 2


class InferenceCall(nn.Module):
    """``model(x, training=False)`` as a module with one tensor in and one out."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x, training=False)


def example_input(model: Any) -> torch.Tensor:
    """Zeros of the model's input shape (batch ``EXAMPLE_BATCH``), in its dtype, on the device
    of its weights."""
    shape = tuple(model.input_shape)[1:]
    device = next(model.parameters(), torch.empty(0)).device
    dtype = getattr(model, "dtype", torch.float32)
    return torch.zeros((EXAMPLE_BATCH, *shape), dtype=dtype, device=device)


def inference_program(model: nn.Module) -> torch.export.ExportedProgram:
    """Trace ``model`` in inference mode (its own mode is restored afterwards) into a program
    whose first input dimension, the batch, may take any size."""
    example = example_input(model)
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.export's notes on its own internals
            return torch.export.export(
                InferenceCall(model),
                (example,),
                dynamic_shapes=({0: torch.export.Dim("batch")},),
                strict=False,
            )
    finally:
        model.train(was_training)
