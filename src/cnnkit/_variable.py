"""Keras' ``Variable`` surface on a tensor (``assign``, ``assign_add``), for the state a user's
own metric keeps with ``self.add_variable(...)``."""

from __future__ import annotations

from typing import Any

import torch


class Variable(torch.Tensor):
    """A tensor whose value is replaced in place by ``assign``/``assign_add``/``assign_sub``.

    Operations on it give plain tensors, so it behaves like any tensor in user code.
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    @staticmethod
    def create(value: torch.Tensor) -> Variable:
        """Wrap ``value`` (no gradient) as a Variable."""
        return torch.Tensor._make_subclass(Variable, value.detach(), False)

    def assign(self, value: Any) -> Variable:
        """Set the value (broadcast to this shape)."""
        with torch.no_grad():
            self.copy_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_add(self, value: Any) -> Variable:
        """Add ``value`` in place."""
        with torch.no_grad():
            self.add_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, value: Any) -> Variable:
        """Subtract ``value`` in place."""
        with torch.no_grad():
            self.sub_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    @property
    def value(self) -> torch.Tensor:
        """The current value as a plain tensor."""
        return torch.Tensor(self).clone()


class Weight(torch.nn.Parameter):
    """A trainable weight with Keras' Variable surface: ``value`` (the parameter itself, so
    ``v.value.grad`` works as in Keras' torch backend), ``assign``, ``numpy()``.

    Like ``nn.Parameter`` it skips ``__torch_function__``, so it costs nothing in the kernels.
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    @property
    def value(self) -> torch.nn.Parameter:
        """The stored parameter (Keras' torch backend: ``variable.value``)."""
        return self

    def assign(self, value: Any) -> Weight:
        """Set the value in place (broadcast to this shape)."""
        with torch.no_grad():
            self.copy_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_add(self, value: Any) -> Weight:
        """Add ``value`` in place."""
        with torch.no_grad():
            self.add_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def assign_sub(self, value: Any) -> Weight:
        """Subtract ``value`` in place."""
        with torch.no_grad():
            self.sub_(torch.as_tensor(value, dtype=self.dtype, device=self.device))
        return self

    def numpy(self, *, force: bool = False) -> Any:
        """The value as a NumPy array (a copy, gradients detached)."""
        return self.detach().cpu().numpy().copy()
