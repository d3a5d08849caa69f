"""PyTorch optimizers doing Keras' arithmetic where ``torch.optim`` has none (Lion) or places
epsilon elsewhere: Keras divides by sqrt(v + epsilon) in RMSprop and Adagrad (PyTorch by
sqrt(v) + epsilon), and adds epsilon after Adamax's max (PyTorch inside it).

Each kernel names what the model file may hold for it: ``saved_hyper_parameters`` and
``saved_state(group)``, the tensors one parameter's state holds."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


class _Kernel(torch.optim.Optimizer):
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
            for parameter in group["params"]:
                if parameter.grad is None:
                    continue
                state = self.state[parameter]
                if not state:
                    state.update(self._initial_state(parameter, group))
                self.update(parameter, parameter.grad, state, group)
        return loss

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

    def update(self, parameter, gradient, state, group) -> None:
        rho = group["alpha"]
        state["step"] += 1
        square_avg = state["square_avg"].mul_(rho).addcmul_(gradient, gradient, value=1 - rho)
        denominator = square_avg + group["eps"]
        if group["centered"]:
            grad_avg = state["grad_avg"].mul_(rho).add_(gradient, alpha=1 - rho)
            denominator.addcmul_(grad_avg, grad_avg, value=-1)
        increment = gradient * denominator.rsqrt_()
        if group["momentum"] > 0:
            increment = state["momentum_buffer"].mul_(group["momentum"]).add_(increment)
        parameter.add_(increment, alpha=-group["lr"])


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

    def update(self, parameter, gradient, state, group) -> None:
        state["step"] += 1
        accumulator = state["sum"].addcmul_(gradient, gradient)
        parameter.addcdiv_(gradient, (accumulator + group["eps"]).sqrt_(), value=-group["lr"])
