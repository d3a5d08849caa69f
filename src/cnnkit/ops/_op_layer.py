"""An op (``cnnkit.ops.mean``, ``x + y`` ...) called on symbolic tensors, as a layer of a
functional model: it remembers the op's name and its constant arguments, runs the op when the
model runs, and saves both as JSON (the op found again by name in ``cnnkit.ops.OPS``)."""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import nn

from cnnkit.layers._base import Layer
from cnnkit.layers._symbolic import KerasTensor, Node
from cnnkit.ops._dispatch import OPS, Slot, fill
from cnnkit.ops._op_constants import decode, encode

_PROBE_SIZES = (2, 3)  # stand-ins for unknown sizes; an output size that follows them is unknown


class OpLayer(Layer):
    """The call ``ops.<op>(*arguments, **keyword_arguments)`` where :class:`Slot` markers
    stand for the layer's input tensors (given as one list, in slot order).

    Example:
        >>> import cnnkit
        >>> x = cnnkit.Input(shape=(4,))
        >>> cnnkit.ops.mean(x, axis=-1, keepdims=True)
        <KerasTensor shape=(None, 1), dtype=float32, name=mean>
    """

    _list_inputs = True

    def __init__(
        self,
        op: str,
        arguments: list[Any] | None = None,
        keyword_arguments: dict[str, Any] | None = None,
        name: str | None = None,
        trainable: bool = True,
    ):
        if not isinstance(op, str) or op not in OPS:
            raise ValueError(
                f"OpLayer: op must name one of cnnkit.ops ({', '.join(sorted(OPS))}). "
                f"Received: op={op!r:.100}"
            )
        super().__init__(name=name or op.replace(".", "_"), trainable=trainable)
        self._auto_named = name is None or self._auto_named
        self.op = op
        self.arguments = list(arguments or [])
        self.keyword_arguments = dict(keyword_arguments or {})
        try:
            inspect.signature(OPS[op]).bind(*self.arguments, **self.keyword_arguments)
        except TypeError as error:
            raise TypeError(f"ops.{op}: {error}") from None
        self.built = True

    def __call__(self, inputs: Any, *rest: Any, **kwargs: Any) -> Any:
        if rest or kwargs or not isinstance(inputs, (list, tuple)):
            raise TypeError(
                f"{self._owner()}: call it on one list of tensors. Received: {inputs!r:.100}, "
                f"{rest!r:.100}, {kwargs!r:.100}"
            )
        if any(isinstance(t, KerasTensor) for t in inputs):
            return self._record(list(inputs))
        return nn.Module.__call__(self, list(inputs))

    def forward(self, inputs: list[Any]) -> Any:
        """The op's result on real ``inputs`` (one per slot)."""
        count = len(inputs)
        if any(index >= count for index in self._slot_indices()):
            raise ValueError(
                f"{self._owner()}: ops.{self.op} needs {max(self._slot_indices()) + 1} input "
                f"tensors; received {count}"
            )
        return OPS[self.op](*fill(self.arguments, inputs), **fill(self.keyword_arguments, inputs))

    def _slot_indices(self) -> list[int]:
        found: list[int] = []

        def walk(value: Any) -> None:
            if isinstance(value, Slot):
                found.append(value.index)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    walk(item)
            elif isinstance(value, dict):
                for item in value.values():
                    walk(item)

        walk([self.arguments, self.keyword_arguments])
        return found or [-1]

    def _record(self, inputs: list[Any]) -> Any:
        """Add a node computing this op on the symbolic ``inputs``; its symbolic outputs."""
        strangers = [t for t in inputs if not isinstance(t, KerasTensor)]
        if strangers:
            raise TypeError(
                f"{self._owner()}: a call on symbolic tensors cannot mix in "
                f"{type(strangers[0]).__name__} values; pass constants as op arguments"
            )
        probes = [self._probe(inputs, size) for size in _PROBE_SIZES]
        results = [r if isinstance(r, (list, tuple)) else [r] for r in probes]
        node = Node(self, inputs, listed=True)
        for index, (first, second) in enumerate(zip(*results)):
            shape = tuple(a if a == b else None for a, b in zip(first.shape, second.shape))
            name = self.name if len(results[0]) == 1 else f"{self.name}_{index}"
            node.outputs.append(KerasTensor(shape, first.dtype, name, node, index))
        self._inbound_nodes.append(node)
        self.input_shape = [t.shape for t in inputs]
        shapes = [t.shape for t in node.outputs]
        self.output_shape = shapes if isinstance(probes[0], (list, tuple)) else shapes[0]
        if isinstance(probes[0], (list, tuple)):
            return type(probes[0])(node.outputs)
        return node.outputs[0]

    def _probe(self, inputs: list[KerasTensor], size: int) -> Any:
        """The op run on stand-in tensors (unknown sizes set to ``size``): shapes for free on
        the meta device, or on zeros when the op needs values."""
        error: Exception | None = None
        for device in ("meta", "cpu"):
            values = [
                torch.zeros(
                    [size if s is None else s for s in t.shape], dtype=t.dtype, device=device
                )
                for t in inputs
            ]
            try:
                return self.forward(values)
            except (ValueError, TypeError) as problem:
                message = str(problem)
                if message.startswith(f"ops.{self.op}"):
                    raise
                error = type(problem)(f"ops.{self.op}: {message}")
                if device == "cpu":
                    raise error from None
            except (RuntimeError, NotImplementedError, IndexError) as problem:
                error = ValueError(
                    f"ops.{self.op} cannot be applied to symbolic inputs of shapes "
                    f"{[t.shape for t in inputs]} with arguments {self._described()}: {problem}"
                )
        raise error

    def _described(self) -> str:
        parts = [repr(a) for a in self.arguments] + [
            f"{k}={v!r}" for k, v in self.keyword_arguments.items()
        ]
        return "(" + ", ".join(parts)[:300] + ")"

    def get_config(self) -> dict[str, Any]:
        """Name, op and constant arguments as JSON-able data (TypeError for what has none)."""
        where = f"{self._owner()}: an argument of ops.{self.op}"
        return {
            "name": self.name,
            "trainable": self.trainable,
            "op": self.op,
            "arguments": [
                encode(a, f"{where} (position {i})") for i, a in enumerate(self.arguments)
            ],
            "keyword_arguments": [  # [name, value] pairs: a model file's layer configs hold no objects
                [k, encode(v, f"{where} ({k}=)")] for k, v in self.keyword_arguments.items()
            ],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> OpLayer:
        """The layer :meth:`get_config` described; constants checked before use."""
        unknown = set(config) - {"name", "trainable", "op", "arguments", "keyword_arguments"}
        if unknown:
            raise ValueError(f"OpLayer: unknown config keys {sorted(unknown)}")
        arguments = config.get("arguments", [])
        pairs = config.get("keyword_arguments", [])
        if (
            not isinstance(arguments, list)
            or not isinstance(pairs, list)
            or not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], str) for p in pairs)
        ):
            raise ValueError(
                "OpLayer: arguments must be a list and keyword_arguments a list of [name, value]"
            )
        where = f"OpLayer {config.get('name')!r}: an argument of ops.{config.get('op')}"
        return cls(
            config.get("op"),
            [decode(a, where) for a in arguments],
            {key: decode(value, where) for key, value in pairs},
            name=config.get("name"),
            trainable=config.get("trainable", True),
        )

    def extra_repr(self) -> str:
        return f"name={self.name!r}, op={self.op!r}"
