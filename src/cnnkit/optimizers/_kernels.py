"""PyTorch optimizers doing Keras' arithmetic where ``torch.optim`` has none (Lion) or places
epsilon elsewhere: Keras divides by sqrt(v + epsilon) in RMSprop and Adagrad (PyTorch by
sqrt(v) + epsilon), and adds epsilon after Adamax's max (PyTorch inside it).

Each kernel names what the model file may hold for it: ``saved_hyper_parameters`` and
``saved_state(group)``, the tensors one parameter's state holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from cnnkit._fast._optimizer import WithoutDynamoImport


class _Kernel(WithoutDynamoImport, torch.optim.Optimizer):
    """One loop over the parameters that have a gradient; subclasses write ``update``."""

    state_names: tuple[str, ...] = ()
    saved_hyper_parameters: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[torch.Tensor], lr: float, **more):
        super().__init__(params, {"lr": lr, **more})

    @classmethod
    def saved_state(cls, group: dict) -> set[str]:
        """The state tensors of one parameter under ``group``'s settings."""
        return set(cls.state_names)

    @torch.no_grad()
    def step(self, closure: Callable[[], float] | None = None) -> float | None:
        """One update of every parameter with a gradient (``closure`` as in ``torch.optim``)."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            parameters = [p for p in group["params"] if p.grad is not None]
            for parameter in parameters:
                if not self.state[parameter]:
                    self.state[parameter].update(self._initial_state(parameter, group))
            if parameters:
                states = [self.state[p] for p in parameters]
                self.update_all(parameters, [p.grad for p in parameters], states, group)
        return loss

    def update_all(self, parameters, gradients, states, group) -> None:
        """Update a group's parameters; multi-tensor kernels override this (one call per op
        for all tensors, as PyTorch's own optimizers do on the CPU too)."""
        for parameter, gradient, state in zip(parameters, gradients, states):
            self.update(parameter, gradient, state, group)

    def _initial_state(self, parameter: torch.Tensor, group: dict) -> dict[str, torch.Tensor]:
        state = {
            n: torch.zeros_like(parameter, memory_format=torch.preserve_format)
            for n in self.state_names
        }
        if "step" in self.state_names:
            state["step"] = torch.tensor(0.0)
        return state

    def update(self, parameter, gradient, state, group) -> None:
        raise NotImplementedError


class KerasAdamax(_Kernel):
    """Keras' Adamax: u = max(beta_2 * u, |g|); p -= lr * m / ((1 - beta_1**t) * (u + eps))."""

    state_names = ("step", "exp_avg", "exp_inf")
    saved_hyper_parameters = ("lr", "betas", "eps")

    def __init__(self, params, lr: float, betas: tuple[float, float], eps: float):
        super().__init__(params, lr, betas=tuple(betas), eps=eps)

    def update(self, parameter, gradient, state, group) -> None:
        beta_1, beta_2 = group["betas"]
        state["step"] += 1
        momentum, norm = state["exp_avg"], state["exp_inf"]
        momentum.mul_(beta_1).add_(gradient, alpha=1 - beta_1)
        torch.maximum(norm.mul_(beta_2), gradient.abs(), out=norm)
        correction = 1 - beta_1 ** float(state["step"])
        denominator = (norm + group["eps"]).mul_(correction)
        parameter.addcdiv_(momentum, denominator, value=-group["lr"])


class KerasLion(_Kernel):
    """Lion (Chen et al. 2023) as Keras writes it: p -= lr * sign(beta_1 m + (1 - beta_1) g),
    then m = beta_2 m + (1 - beta_2) g."""

    state_names = ("exp_avg",)
    saved_hyper_parameters = ("lr", "betas")

    def __init__(self, params, lr: float, betas: tuple[float, float]):
        super().__init__(params, lr, betas=tuple(betas))

    def update(self, parameter, gradient, state, group) -> None:
        beta_1, beta_2 = group["betas"]
        momentum = state["exp_avg"]
        direction = torch.sign(momentum * beta_1 + gradient * (1 - beta_1))
        parameter.add_(direction, alpha=-group["lr"])
        momentum.mul_(beta_2).add_(gradient, alpha=1 - beta_2)


class KerasRMSprop(_Kernel):
    """Keras' RMSprop: v = rho v + (1 - rho) g^2 (centered: minus the squared mean gradient);
    p -= lr * g / sqrt(v + eps), through a momentum buffer when momentum > 0 (the buffer sums
    g / sqrt(v + eps) as PyTorch's does; the optimizer rescales it when lr changes)."""

    saved_hyper_parameters = ("lr", "alpha", "eps", "momentum", "centered")

    def __init__(
        self, params, lr: float, alpha: float, eps: float, momentum: float, centered: bool
    ):
        super().__init__(params, lr, alpha=alpha, eps=eps, momentum=momentum, centered=centered)

    @classmethod
    def saved_state(cls, group: dict) -> set[str]:
        return (
            {"step", "square_avg"}
            | ({"momentum_buffer"} if group["momentum"] else set())
            | ({"grad_avg"} if group["centered"] else set())
        )

    def _initial_state(self, parameter, group):
        state = {
            name: torch.zeros_like(parameter, memory_format=torch.preserve_format)
            for name in self.saved_state(group) - {"step"}
        }
        return {"step": torch.tensor(0.0), **state}

    def update_all(self, parameters, gradients, states, group) -> None:
        rho = group["alpha"]
        torch._foreach_add_([s["step"] for s in states], 1.0)
        square_avg = [s["square_avg"] for s in states]
        torch._foreach_mul_(square_avg, rho)
        torch._foreach_addcmul_(square_avg, gradients, gradients, value=1 - rho)
        root = torch._foreach_add(square_avg, group["eps"])
        if group["centered"]:
            grad_avg = [s["grad_avg"] for s in states]
            torch._foreach_mul_(grad_avg, rho)
            torch._foreach_add_(grad_avg, gradients, alpha=1 - rho)
            torch._foreach_addcmul_(root, grad_avg, grad_avg, value=-1)
        torch._foreach_sqrt_(root)
        if group["momentum"] > 0:
            buffers = [s["momentum_buffer"] for s in states]
            torch._foreach_mul_(buffers, group["momentum"])
            torch._foreach_addcdiv_(buffers, gradients, root)
            torch._foreach_add_(parameters, buffers, alpha=-group["lr"])
        else:
            torch._foreach_addcdiv_(parameters, gradients, root, value=-group["lr"])


class KerasAdagrad(_Kernel):
    """Keras' Adagrad: s += g^2; p -= lr * g / sqrt(s + eps), s starting at
    ``initial_accumulator_value``."""

    state_names = ("step", "sum")
    saved_hyper_parameters = ("lr", "eps")

    def __init__(self, params, lr: float, eps: float, initial_accumulator_value: float):
        super().__init__(params, lr, eps=eps, initial_accumulator_value=initial_accumulator_value)

    def _initial_state(self, parameter, group):
        start = group["initial_accumulator_value"]
        sum_ = torch.full_like(parameter, start, memory_format=torch.preserve_format)
        return {"step": torch.tensor(0.0), "sum": sum_}

    def update_all(self, parameters, gradients, states, group) -> None:
        torch._foreach_add_([s["step"] for s in states], 1.0)
        sums = [s["sum"] for s in states]
        torch._foreach_addcmul_(sums, gradients, gradients)
        root = torch._foreach_add(sums, group["eps"])
        torch._foreach_sqrt_(root)
        torch._foreach_addcdiv_(parameters, gradients, root, value=-group["lr"])
