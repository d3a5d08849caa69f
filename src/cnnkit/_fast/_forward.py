"""A chain of layers run by their ``forward`` methods directly, skipping ``nn.Module.__call__``.

The plain path calls every layer (``for layer in layers: x = layer(x)``). When calling a layer
would do nothing more than its ``forward`` (built, no activity penalty, no hook registered on
it or globally, no TorchScript tracing), the chain may call the ``forward`` methods directly:
about 10% of a batch-1 LeNet-5 forward (bench/bench_forward.py). Two neighbours that fuse
(``layer._fused_with(next)``, e.g. RandomFlip then RandomTranslation) run as one call with the
same result. ``tests/test_fast_paths.py`` checks the result equals the plain path's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn.modules import module as _torch_module

from cnnkit import _fast

Forward = Callable[[torch.Tensor], torch.Tensor]


def hooks_registered(layers: Sequence[nn.Module]) -> bool:
    """True when any forward/backward hook is registered on one of ``layers`` or globally
    (then every layer must be called, so the hooks see it)."""
    if (
        _torch_module._global_forward_hooks
        or _torch_module._global_forward_pre_hooks
        or _torch_module._global_backward_hooks
        or _torch_module._global_backward_pre_hooks
    ):
        return True
    for layer in layers:  # a plain loop: this runs on every forward, any(...) costs more
        if (
            layer._forward_hooks
            or layer._forward_pre_hooks
            or layer._backward_hooks
            or layer._backward_pre_hooks
        ):
            return True
    return False


def _unchanged(x: torch.Tensor) -> torch.Tensor:
    return x


def _fused_pairs(layers: Sequence[nn.Module], forwards: tuple) -> tuple[tuple, frozenset[int]]:
    """``forwards`` with each layer that fuses with the next run by that one function and the
    next layer's entry a no-op, and the positions of those no-ops (a run that starts or stops
    at one must not use the fused function)."""
    fused, seconds = list(forwards), set()
    for i in range(len(layers) - 1):
        if i in seconds:
            continue
        pair = layers[i]._fused_with(layers[i + 1])
        if pair is not None:
            fused[i], fused[i + 1] = pair, _unchanged
            seconds.add(i + 1)
    return tuple(fused), frozenset(seconds)


class DirectChain:
    """The ``forward`` functions of a fixed chain of layers, for as long as the chain holds.

    Built once per chain (the owner drops it when a layer is added or removed); ``forwards``
    answers per call, since hooks and tracing can appear at any time.
    """

    def __init__(self, layers: Sequence[nn.Module]):
        self.layers = tuple(layers)
        self.usable = all(getattr(layer, "plain_call", False) for layer in self.layers)
        plain = tuple(layer.forward for layer in self.layers) if self.usable else ()
        self.plain = plain
        self.fused, self.seconds = (
            _fused_pairs(self.layers, plain) if self.usable else ((), frozenset())
        )

    def forwards(self, start: int = 0, stop: int | None = None) -> tuple[Forward, ...] | None:
        """The functions to run layers ``start`` to ``stop``, or None when the layers must be
        called (not all plainly callable, a hook registered, TorchScript tracing, or this
        fast path switched off)."""
        if (
            not (self.usable and _fast._switches["forward"])  # a dict read: runs every call
            or hooks_registered(self.layers)
            or torch._C._get_tracing_state()
        ):
            return None
        if not self.seconds:
            return self.plain[start:stop]
        count = len(self.layers)
        cuts = {start % count} | (set() if stop is None else {stop % count})
        return (self.plain if cuts & self.seconds else self.fused)[start:stop]


def run_chain(
    chain: DirectChain | None,
    layers: Sequence[nn.Module],
    x: torch.Tensor,
    start: int = 0,
    stop: int | None = None,
) -> torch.Tensor:
    """Run ``layers[start:stop]`` on ``x``: through ``chain``'s direct forwards when it allows,
    else by calling each layer (the plain path)."""
    forwards = chain.forwards(start, stop) if chain is not None else None
    if forwards is None:
        for layer in layers[start:stop]:
            x = layer(x)
        return x
    for forward in forwards:
        x = forward(x)
    return x
