"""Several inputs and outputs: the names Keras gives them, one loss and metrics per output as
``compile`` receives them (a list or a dict keyed by output name), and the matching of the
user's x and y (lists or dicts) to the model's inputs and outputs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from cnnkit import losses as losses_module
from cnnkit import metrics as metrics_module


def output_names(model) -> list[str]:
    """The names of the model's outputs: the dict keys it was made with, else the names of the
    layers that compute them (a model without a graph has one output, ``'output'``)."""
    graph = getattr(model, "_graph", None)
    if graph is None:
        return ["output"]
    if isinstance(graph.output_structure, list):
        return list(graph.output_structure)
    return [t.node.layer.name for t in graph.outputs]


def input_names(model) -> list[str]:
    """The names of the model's inputs (dict keys it was made with, else its Input names)."""
    graph = getattr(model, "_graph", None)
    if graph is None:
        return ["input"]
    if isinstance(graph.input_structure, list):
        return list(graph.input_structure)
    return [t.node.layer.name for t in graph.inputs]


def is_structure(value: Any) -> bool:
    """True for a list/tuple/dict of arrays (not a list of numbers that is one array)."""
    if isinstance(value, dict):
        return True
    return isinstance(value, (list, tuple)) and any(
        hasattr(item, "shape") or isinstance(item, (list, tuple)) for item in value
    )


def match(value: Any, names: list[str], what: str, argument: str, optional: bool = False) -> list:
    """``value`` (one array, a list in order or a dict keyed by name) as one entry per name.

    With ``optional``, dict keys may be left out (None for them). Raises ValueError naming
    the unknown or missing key, or the count that does not match.
    """
    if isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise ValueError(
                f"{what}: {argument} has the key {unknown[0]!r}, which is not a name of the "
                f"model's {_plural(argument)}; accepted keys: {names}"
            )
        missing = [name for name in names if name not in value]
        if missing and not optional:
            raise ValueError(
                f"{what}: {argument} is missing the key {missing[0]!r}; the model's "
                f"{_plural(argument)} are {names}"
            )
        return [value.get(name) for name in names]
    if len(names) == 1:
        one = isinstance(value, (list, tuple)) and len(value) == 1 and is_structure(value)
        return [value[0] if one else value]
    if not isinstance(value, (list, tuple)):
        raise ValueError(
            f"{what}: the model has {len(names)} {_plural(argument)} {names}; pass {argument} "
            f"as a list of {len(names)} arrays or a dict keyed by these names. Received: "
            f"{type(value).__name__}"
        )
    if len(value) != len(names):
        raise ValueError(
            f"{what}: {argument} has {len(value)} entries but the model has {len(names)} "
            f"{_plural(argument)} {names}; pass one array per position, or a dict keyed by name"
        )
    return list(value)


def _plural(argument: str) -> str:
    return {"x": "inputs", "y": "outputs", "sample_weight": "outputs"}.get(argument, "outputs")


def flat_outputs(model, outputs: Any) -> list[torch.Tensor]:
    """The model's outputs (a tensor, a list or a dict) as a list in ``output_names`` order."""
    if isinstance(outputs, dict):
        return [outputs[name] for name in output_names(model)]
    if isinstance(outputs, (list, tuple)):
        return list(outputs)
    return [outputs]


def pack_like_model(model, values: list[Any]) -> Any:
    """``values`` (one per output) in the structure of the model's outputs."""
    graph = getattr(model, "_graph", None)
    if graph is None or graph.output_structure is None:
        return values[0] if len(values) == 1 else list(values)
    if graph.output_structure == "list":
        return list(values)
    return dict(zip(output_names(model), values))


class CompiledOutputs:
    """Per output: a loss (or None), its weight in the total, and its metrics.

    The logs are named as Keras names them: ``loss`` (the weighted total plus the model's
    own losses), ``<output>_loss`` for each output when more than one has a loss, and
    ``<output>_<metric>`` for the metrics of a model with several outputs.
    """

    def __init__(self, model, loss: Any, loss_weights: Any, metrics: Any):
        self.names = output_names(model)
        count = len(self.names)
        self.losses: list[losses_module.Loss | None] = [
            None if item is None else losses_module.get(item)
            for item in _per_output(loss, self.names, "loss", broadcast=True)
        ]
        weights = (
            [1.0] * count
            if loss_weights is None
            else _per_output(loss_weights, self.names, "loss_weights", broadcast=False)
        )
        self.weights = [_weight(w, name) for w, name in zip(weights, self.names)]
        specs = _metric_lists(metrics, self.names)
        self.metric_specs = [[metrics_module.get(m) for m in group] for group in specs]
        self.loss_trackers = (
            [
                metrics_module.Mean(name=f"{name}_loss")
                for name, item in zip(self.names, self.losses)
                if item is not None
            ]
            if sum(item is not None for item in self.losses) > 1
            else []
        )
        self.prefix = count > 1

    def has_loss(self) -> bool:
        return any(item is not None for item in self.losses)

    def metric_names(self) -> list[str]:
        """The metric log names, in the order the metrics were given."""
        return [
            self._metric_name(name, spec)
            for name, group in zip(self.names, self.metric_specs)
            for spec in group
        ]

    def _metric_name(self, output: str, spec: Any) -> str:
        base = spec if isinstance(spec, str) else spec.name
        return f"{output}_{base}" if self.prefix else base

    def total(
        self, ys: list[Any], preds: list[torch.Tensor], sample_weight: torch.Tensor | None
    ) -> torch.Tensor | None:
        """The weighted sum of the outputs' losses (None when no output has a loss); each
        output's unweighted loss goes to its ``<output>_loss`` tracker."""
        total = None
        trackers = iter(self.loss_trackers)
        for name, loss, weight, y, pred in zip(self.names, self.losses, self.weights, ys, preds):
            if loss is None:
                continue
            if y is None:
                raise ValueError(
                    f"compute_loss: no targets for output {name!r}, which has a loss; pass y for it"
                )
            value = loss(y, pred.float(), sample_weight)
            tracker = next(trackers, None)
            if tracker is not None:
                tracker.update_state(value.detach(), len(pred))
            term = value * weight if weight != 1.0 else value
            total = term if total is None else total + term
        return total


def _per_output(value: Any, names: list[str], argument: str, broadcast: bool) -> list[Any]:
    """A compile argument as one entry per output (a dict may leave outputs out: None)."""
    if isinstance(value, dict):
        return match(value, names, "compile", argument, optional=True)
    if isinstance(value, (list, tuple)):
        if len(value) != len(names):
            raise ValueError(
                f"compile: {argument} has {len(value)} entries but the model has "
                f"{len(names)} outputs {names}; give one per output, or a dict keyed by name"
            )
        return list(value)
    if not broadcast:
        raise TypeError(
            f"compile: {argument} must be a list (one per output) or a dict keyed by output "
            f"name {names}. Received: {argument}={value!r}"
        )
    return [value] * len(names)  # one loss for every output, as Keras does


def _weight(value: Any, name: str) -> float:
    weight = 1.0 if value is None else value
    if isinstance(weight, bool) or not isinstance(weight, (int, float)):
        raise TypeError(
            f"compile: loss_weights must be numbers; received {weight!r} for output {name!r}"
        )
    return float(weight)


def _metric_lists(metrics: Any, names: list[str]) -> list[list[Any]]:
    """``metrics`` as one list per output: a flat list applies to every output unless it has
    one entry per output; a list of lists or a dict keyed by output name is per output."""
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        groups = match(metrics, names, "compile", "metrics", optional=True)
    elif isinstance(metrics, (list, tuple)) and not isinstance(metrics, str):
        per_output = len(names) > 1 and len(metrics) == len(names)
        if any(isinstance(m, (list, tuple)) for m in metrics) and not per_output:
            raise ValueError(
                f"compile: metrics as a list of lists needs one list per output "
                f"({len(names)}: {names}). Received: metrics={metrics!r}"
            )
        groups = list(metrics) if per_output else [list(metrics)] * len(names)
    else:
        raise TypeError(
            "compile: metrics must be a list, e.g. metrics=['accuracy'], a list per output or "
            f"a dict keyed by output name. Received: metrics={metrics!r}"
        )
    return [
        [] if group is None else list(group) if isinstance(group, (list, tuple)) else [group]
        for group in groups
    ]


def wants_structures(loss: Any, loss_weights: Any, metrics: Any, model) -> bool:
    """Whether compile needs per-output handling (else the one-output fast path is kept)."""
    return (
        loss is None
        or loss_weights is not None
        or isinstance(loss, (list, tuple, dict))
        or isinstance(metrics, dict)
        or len(output_names(model)) > 1
    )


def keras_order(logs: dict[str, float], loss_names: Sequence[str]) -> list[float]:
    """The logs as a list in Keras' order: loss, the outputs' losses, then the rest by name."""
    first = [name for name in ("loss", *loss_names) if name in logs]
    return [logs[name] for name in first] + [
        logs[name] for name in sorted(logs) if name not in first
    ]
