"""PyTorch optimizers doing Keras' arithmetic where ``torch.optim`` has none (Lion) or places
epsilon elsewhere (Adamax: PyTorch puts it inside the max, Keras after it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


class _Kernel(torch.optim.Optimizer):
    """One loop over the parameters that have a gradient; subclasses write ``update``."""

    state_names: tuple[str, ...] = ()

    def __init__(
        self, params: Iterable[torch.Tensor], lr: float, betas: tuple[float, float], **more
    ):
        super().__init__(params, {"lr": lr, "betas": tuple(betas), **more})

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
                    state.update(self._initial_state(parameter))
                self.update(parameter, parameter.grad, state, group)
        return loss

    def _initial_state(self, parameter: torch.Tensor) -> dict[str, torch.Tensor]:
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
        super().__init__(params, lr, betas, eps=eps)

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

    def update(self, parameter, gradient, state, group) -> None:
        beta_1, beta_2 = group["betas"]
        momentum = state["exp_avg"]
        direction = torch.sign(momentum * beta_1 + gradient * (1 - beta_1))
        parameter.add_(direction, alpha=-group["lr"])
        momentum.mul_(beta_2).add_(gradient, alpha=1 - beta_2)
