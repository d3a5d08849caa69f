"""fit / evaluate / predict through Keras' step methods: for models with several inputs or
outputs, compiled without a loss (``add_loss``), or with their own ``train_step``. Models
with one input, one output and a compiled loss keep the fast loop of ``_trainer``."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from cnnkit.callbacks import CallbackList, History, resolve_verbose
from cnnkit.training._keras_steps import KerasSteps, python_logs, to_numpy
from cnnkit.training._structured_data import adapt_structured
from cnnkit.training._structures import keras_order


def uses_structures(model, x: Any, step: str) -> bool:
    """Whether fit/evaluate/predict must go through the step methods (``step``: the method
    of the call, e.g. 'train_step', that a subclass may override)."""
    if getattr(type(model), step) is not getattr(KerasSteps, step):
        return True
    if model.__dict__.get("_structured", False) or isinstance(x, dict):
        return True
    graph = getattr(model, "_graph", None)
    return graph is not None and (len(graph.inputs) > 1 or len(graph.outputs) > 1)


def _one_process(model, batch_size: int, what: str) -> torch.device:
    device, world = model._prepare_run(batch_size, what)
    if world.active:
        raise ValueError(
            f"{what}: models with several inputs or outputs, compiled without a loss or with "
            "their own train_step run on one process; start the script without torchrun"
        )
    return device


def fit(
    model,
    x,
    y,
    batch_size,
    epochs,
    verbose,
    callbacks,
    validation_split,
    validation_data,
    shuffle,
    class_weight,
    sample_weight,
    initial_epoch,
    steps_per_epoch,
    validation_batch_size,
    validation_freq,
) -> History:
    """Trainer.fit for these models (the arguments are checked there)."""
    if class_weight is not None:
        raise ValueError(
            "fit: class_weight is supported for models with one input and one output; "
            "pass sample_weight instead"
        )
    device = _one_process(model, batch_size, "fit")
    verbose = resolve_verbose(verbose)
    train = adapt_structured(model, x, y, sample_weight, batch_size, shuffle, device, "fit")
    spec = model.__dict__.get("_outputs_spec")
    if y is None and getattr(train, "ys", 0) is None and spec is not None and spec.has_loss():
        raise ValueError(
            "fit: y is required (the targets of the model's outputs "
            f"{spec.names}, as a list or a dict); received y=None"
        )
    validation = _validation(model, train, validation_split, validation_data, batch_size, device)
    steps = train.steps(batch_size)
    steps = steps if steps_per_epoch is None else min(steps, steps_per_epoch)
    callback_list = CallbackList(
        callbacks,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    generator = torch.Generator().manual_seed(int(torch.randint(2**62, (1,)).item()))
    model.stop_training = False
    callback_list.on_train_begin()
    logs: dict[str, float] = {}
    for epoch in range(initial_epoch, epochs):
        callback_list.on_epoch_begin(epoch)
        logs = _train_epoch(model, train, batch_size, shuffle, generator, steps, callback_list)
        if validation is not None and (epoch + 1) % validation_freq == 0:
            val_logs = evaluate_data(
                model, validation, validation_batch_size or batch_size, callback_list
            )
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    model.history = callback_list.history
    return model.history


def _train_epoch(model, train, batch_size, shuffle, generator, steps, callback_list) -> dict:
    """One pass of ``train_step`` over the data; the logs of its last batch (running means)."""
    model.reset_metrics()
    model.train()
    logs: dict[str, float] = {}
    for index, data in enumerate(train.batches(batch_size, shuffle, generator)):
        if index >= steps:
            break
        callback_list.on_train_batch_begin(index)
        logs = python_logs(model.train_step(data))
        callback_list.on_train_batch_end(index, logs)
        if model.stop_training:
            break
    return dict(logs)


def _validation(model, train, split: float, data: Any, batch_size: int, device: torch.device):
    """validation_data (a pair or triple, or a DataLoader) or validation_split."""
    what = "fit (validation data)"
    if data is not None:
        if not isinstance(data, tuple) or len(data) not in (2, 3):
            if isinstance(data, (list, tuple)):
                raise ValueError(
                    "fit: validation_data must be a tuple (x_val, y_val) or (x_val, y_val, "
                    f"sample_weight); received a {type(data).__name__} of {len(data)} items"
                )
            return adapt_structured(model, data, None, None, batch_size, False, device, what)
        weight = data[2] if len(data) == 3 else None
        return adapt_structured(model, data[0], data[1], weight, batch_size, False, device, what)
    if not split:
        return None
    if isinstance(split, bool) or not isinstance(split, (int, float)) or not 0 < split < 1:
        raise ValueError(
            f"fit: validation_split must be a float in (0, 1). Received: validation_split={split!r}"
        )
    if not hasattr(train, "split"):
        raise ValueError(
            "fit: validation_split needs arrays or tensors; with a Dataset pass validation_data"
        )
    kept, validation = train.split(split)
    if len(kept) == 0 or len(validation) == 0:
        raise ValueError(
            f"fit: validation_split={split} leaves no training or no validation samples out "
            f"of {len(train)}"
        )
    train.xs, train.ys, train.sample_weight = kept.xs, kept.ys, kept.sample_weight
    return validation


def evaluate_data(model, data, batch_size: int, callback_list: CallbackList) -> dict:
    """``test_step`` over every batch in inference mode; the logs of the last batch."""
    was_training = model.training
    model.eval()
    model.reset_metrics()
    callback_list.on_test_begin()
    logs: dict[str, float] = {}
    try:
        with torch.no_grad():
            for index, batch in enumerate(data.batches(batch_size)):
                callback_list.on_test_batch_begin(index)
                logs = python_logs(model.test_step(batch))
                callback_list.on_test_batch_end(index, logs)
    finally:
        model.train(was_training)
    callback_list.on_test_end(logs)
    return dict(logs)


def evaluate(model, x, y, batch_size, verbose, sample_weight, callbacks, return_dict) -> Any:
    """Trainer.evaluate for these models: a float, a list in Keras' order, or a dict."""
    device = _one_process(model, batch_size, "evaluate")
    verbose = resolve_verbose(verbose)
    data = adapt_structured(model, x, y, sample_weight, batch_size, False, device, "evaluate")
    callback_list = CallbackList(
        callbacks,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=1,
        steps=data.steps(batch_size),
    )
    logs = evaluate_data(model, data, batch_size, callback_list)
    if return_dict:
        return logs
    spec = model.__dict__.get("_outputs_spec")
    values = keras_order(logs, [t.name for t in spec.loss_trackers] if spec else [])
    return values[0] if len(values) == 1 else values


def predict(model, x, batch_size, verbose, callbacks) -> Any:
    """Trainer.predict for these models: arrays in the structure ``predict_step`` returns
    (a list or a dict for a model with several outputs)."""
    device = _one_process(model, batch_size, "predict")
    verbose = resolve_verbose(verbose)
    data = adapt_structured(model, x, None, None, batch_size, False, device, "predict")
    callback_list = CallbackList(
        callbacks,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=1,
        steps=data.steps(batch_size),
    )
    was_training = model.training
    model.eval()
    batches: list[Any] = []
    callback_list.on_predict_begin()
    try:
        with torch.no_grad():
            for index, batch in enumerate(data.batches(batch_size)):
                callback_list.on_predict_batch_begin(index)
                batches.append(to_numpy(model.predict_step(batch)))
                callback_list.on_predict_batch_end(index, {})
    finally:
        model.train(was_training)
    callback_list.on_predict_end()
    return _concatenate(batches)


def _concatenate(batches: list[Any]) -> Any:
    """One structure of arrays from a list of per-batch structures."""
    first = batches[0]
    if isinstance(first, dict):
        return {key: np.concatenate([b[key] for b in batches]) for key in first}
    if isinstance(first, list):
        return [np.concatenate([b[i] for b in batches]) for i in range(len(first))]
    return np.concatenate(batches)
