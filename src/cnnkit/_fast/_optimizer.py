"""PyTorch's optimizers without the second they spend importing ``torch._dynamo``.

``torch.optim.Optimizer`` wraps ``add_param_group``, ``zero_grad``, ``state_dict`` and
``load_state_dict`` so that the compiler leaves them alone, and the built-in optimizers wrap
``step`` to break the compiler's graph around it. Each wrapper imports ``torch._dynamo`` on its
first call: about 1.0 s of CPU on this project's machines, paid by the first ``fit`` of every
process (the first optimizer's construction) although nothing is compiled. The wrappers do
nothing else outside ``torch.compile``.

The trick: a subclass of each PyTorch optimizer cnnkit builds calls the same methods without
their wrappers while ``torch._dynamo`` is not loaded, and the wrapped methods, unchanged, once
it is (someone compiles). The arithmetic is PyTorch's own code in both cases, so the weights
are the same bit for bit; ``step`` runs with gradients off (``differentiable`` as PyTorch's
wrapper sets it). The plain path is PyTorch's wrapped methods: the switch ``optimizer`` off
(``CNNKIT_FAST=0``), or ``torch._dynamo`` already imported.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from typing import Any

import torch

from cnnkit import _fast


def _wrappers_needed() -> bool:
    """Whether PyTorch's wrapped methods must run: the trick is off, or ``torch._dynamo`` is
    loaded (someone may compile, and importing it costs nothing more)."""
    return "torch._dynamo" in sys.modules or not _fast.enabled("optimizer")


def _plain(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` itself when its wrappers are needed, else without them."""
    return method if _wrappers_needed() else inspect.unwrap(method)


class WithoutDynamoImport:
    """Put before a ``torch.optim.Optimizer`` subclass in the bases: its base-class methods run
    without the wrappers that import ``torch._dynamo`` (see the module's docstring)."""

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        _plain(super().add_param_group.__func__)(self, param_group)  # type: ignore[misc]

    def zero_grad(self, set_to_none: bool = True) -> None:
        _plain(super().zero_grad.__func__)(self, set_to_none)  # type: ignore[misc]

    def state_dict(self) -> dict[str, Any]:
        return _plain(super().state_dict.__func__)(self)  # type: ignore[misc]

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        _plain(super().load_state_dict.__func__)(self, state_dict)  # type: ignore[misc]


class _PlainStep(WithoutDynamoImport):
    """Also ``step`` without PyTorch's wrapper (which turns gradients off around the update
    and breaks the compiler's graph there)."""

    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        # The base class's step without the step hooks PyTorch puts around a class's step
        # once one of its optimizers exists: this class's own step runs them once.
        base = super().step.__func__  # type: ignore[misc]
        while getattr(base, "hooked", False):
            base = base.__wrapped__
        if _wrappers_needed():
            return base(self, closure)
        with torch.set_grad_enabled(self.defaults["differentiable"]):  # type: ignore[attr-defined]
            return inspect.unwrap(base)(self, closure)


class Adam(_PlainStep, torch.optim.Adam):
    """``torch.optim.Adam`` without importing ``torch._dynamo`` (module docstring)."""


class AdamW(_PlainStep, torch.optim.AdamW):
    """``torch.optim.AdamW`` without importing ``torch._dynamo`` (module docstring)."""


class NAdam(_PlainStep, torch.optim.NAdam):
    """``torch.optim.NAdam`` without importing ``torch._dynamo`` (module docstring)."""


class SGD(_PlainStep, torch.optim.SGD):
    """``torch.optim.SGD`` without importing ``torch._dynamo`` (module docstring)."""


class Adadelta(_PlainStep, torch.optim.Adadelta):
    """``torch.optim.Adadelta`` without importing ``torch._dynamo`` (module docstring)."""
