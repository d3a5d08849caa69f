"""Optimizers with Keras' names and defaults, running PyTorch's own (fused/foreach) kernels."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from cnnkit import _lr_schedules as schedules
from cnnkit._lr_schedules import LearningRateSchedule
from cnnkit._registry import Registry
from cnnkit._validation import check_int, check_number

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "Adagrad",
    "get",
    "serialize",
    "deserialize",
    "schedules",
]

# ``cnnkit.optimizers.schedules`` as Keras spells it (``import ...schedules`` works, as os.path).
sys.modules.setdefault(f"{__name__}.schedules", schedules)


class Optimizer:
    """A Keras-style optimizer: hyper-parameters now, the ``torch.optim`` optimizer once the
    model's parameters are known (``build``). ``learning_rate`` can be read and set at any time
    (callbacks such as ReduceLROnPlateau do), and ``torch_optimizer`` is the real thing.

    ``learning_rate`` may also be a ``schedules.LearningRateSchedule`` (or its saved config):
    each step then uses ``schedule(iterations)``, as in Keras."""

    torch_class: type[torch.optim.Optimizer]
    learning_rate_schedule: LearningRateSchedule | None = None
    _keras_momentum = True  # see _set_rate

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule,
        weight_decay: float | None = None,
        **hyper: Any,
    ):
        owner = type(self).__name__
        if isinstance(learning_rate, dict):  # a saved schedule's config
            learning_rate = schedules.deserialize(learning_rate)
        if isinstance(learning_rate, LearningRateSchedule):
            self.learning_rate_schedule = learning_rate
            learning_rate = float(learning_rate(0))
        else:
            learning_rate = check_number(
                learning_rate, "learning_rate", owner, minimum=0, exclusive_minimum=True
            )
        if weight_decay is not None:
            weight_decay = check_number(weight_decay, "weight_decay", owner, minimum=0)
        self._iterations = 0
        self._learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.hyper = hyper
        self.torch_optimizer: torch.optim.Optimizer | None = None

    def build(self, parameters: Iterable[torch.nn.Parameter]) -> torch.optim.Optimizer:
        """Create the PyTorch optimizer over ``parameters`` (the trainable weights)."""
        parameters = [p for p in parameters if p.requires_grad]
        if not parameters:  # a model without trainable weights still fits (Keras: steps do nothing)
            parameters = [torch.nn.Parameter(torch.zeros(0))]  # never gets a gradient
        options = dict(self._torch_options())
        accepted = inspect.signature(self.torch_class).parameters
        if "fused" in accepted and "fused" not in options and "foreach" not in options:
            # One fused kernel per step where PyTorch has one for these parameters (Adam over
            # LeNet-5's 10 tensors on the CPU: 90 us per step, against 250 us for the
            # multi-tensor kernels and 350 us for PyTorch's default loop; the same numbers to
            # the last bit or two).
            try:
                self.torch_optimizer = self.torch_class(
                    parameters, lr=self._learning_rate, fused=True, **options
                )
                return self._count_steps(self.torch_optimizer)
            except (RuntimeError, ValueError):
                pass  # e.g. parameters on a device without fused kernels
        if "fused" not in options and "foreach" in accepted:
            # PyTorch turns the multi-tensor kernels on only for CUDA; on the CPU they are
            # faster too and give the same numbers.
            options.setdefault("foreach", True)
        self.torch_optimizer = self.torch_class(parameters, lr=self._learning_rate, **options)
        return self._count_steps(self.torch_optimizer)

    def _count_steps(self, optimizer: torch.optim.Optimizer) -> torch.optim.Optimizer:
        """Hook ``optimizer.step()`` wherever it is called: the schedule sets the step's rate
        before, ``iterations`` counts it after."""
        optimizer.register_step_pre_hook(lambda *_: self._apply_schedule())
        optimizer.register_step_post_hook(
            lambda *_: setattr(self, "_iterations", self._iterations + 1)
        )
        return optimizer

    def _apply_schedule(self) -> None:
        if self.learning_rate_schedule is not None:
            self._set_rate(float(self.learning_rate_schedule(self._iterations)))

    def _set_rate(self, rate: float) -> None:
        """Use ``rate`` from the next step on. Keras' momentum (SGD, RMSprop) sums
        ``rate * gradient``, PyTorch's the gradients alone, times the current rate: when the
        rate changes, the momentum buffer is rescaled by old / new so that the steps stay
        Keras' (not when either rate is 0; a user's own torch optimizer keeps its ways)."""
        self._learning_rate = rate
        if self.torch_optimizer is None:
            return
        for group in self.torch_optimizer.param_groups:
            old = float(group["lr"])
            if self._keras_momentum and old != rate and old > 0 and rate > 0:
                for parameter in group["params"]:
                    buffer = self.torch_optimizer.state.get(parameter, {}).get("momentum_buffer")
                    if buffer is not None:
                        buffer.mul_(old / rate)
            group["lr"] = rate

    def _torch_options(self) -> dict[str, Any]:
        raise NotImplementedError

    @property
    def learning_rate(self) -> float:
        """The current learning rate (per step); with a schedule, the next step's."""
        if self.learning_rate_schedule is not None:
            return float(self.learning_rate_schedule(self._iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value: float | LearningRateSchedule) -> None:
        if isinstance(value, LearningRateSchedule):
            self.learning_rate_schedule = value
            return
        if self.learning_rate_schedule is not None:
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not settable. "
                "If you need the learning rate to be settable, you should instantiate the "
                f"optimizer with a float `learning_rate` argument. Received: learning_rate={value!r}"
            )
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            value = value.item()  # torch optimizers may hold the rate as a tensor
        # 0 is allowed here: schedules may stop learning
        self._set_rate(check_number(value, "learning_rate", type(self).__name__, minimum=0))

    lr = learning_rate  # Keras 2 spelling

    @property
    def iterations(self) -> int:
        """How many optimizer steps were taken (Keras' ``optimizer.iterations``); a schedule
        gives each step the rate ``schedule(iterations)`` counted before it."""
        return self._iterations

    @iterations.setter
    def iterations(self, value: int) -> None:
        self._iterations = check_int(value, "iterations", type(self).__name__, minimum=0)

    def apply(self, gradients: Iterable[Any], trainable_variables: Iterable[Any]) -> None:
        """One step with the given gradients, as a custom ``train_step`` calls it in Keras:
        each variable's ``.grad`` is set to its gradient (None: the variable is skipped)."""
        variables = list(trainable_variables)
        gradients = list(gradients)
        if len(gradients) != len(variables):
            raise ValueError(
                f"{type(self).__name__}.apply: {len(gradients)} gradients for "
                f"{len(variables)} variables; pass one gradient per variable"
            )
        optimizer = self.torch_optimizer or self.build(variables)
        for gradient, variable in zip(gradients, variables):
            if gradient is not variable.grad:
                variable.grad = None if gradient is None else torch.as_tensor(gradient)
        optimizer.step()

    def apply_gradients(self, grads_and_vars: Iterable[tuple[Any, Any]]) -> None:
        """Keras' ``apply_gradients([(gradient, variable), ...])``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, for saving the compiled model as JSON."""
        schedule = self.learning_rate_schedule
        return {
            "learning_rate": self._learning_rate
            if schedule is None
            else schedules.serialize(schedule),
            "weight_decay": self.weight_decay,
            **self.hyper,
        }

    def __repr__(self) -> str:
        rate = self.learning_rate_schedule or f"{self._learning_rate:g}"
        return f"{type(self).__name__}(learning_rate={rate})"


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum (lr 0.01)."""

    torch_class = torch.optim.SGD

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
    ):
        momentum = check_number(
            momentum, "momentum", "SGD", minimum=0, maximum=1, exclusive_maximum=True
        )
        super().__init__(learning_rate, weight_decay, momentum=momentum, nesterov=bool(nesterov))

    def _torch_options(self):
        return {
            "momentum": self.hyper["momentum"],
            "nesterov": self.hyper["nesterov"],
            "weight_decay": self.weight_decay or 0.0,
        }


class Adam(Optimizer):
    """Adam with Keras' defaults (lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7).

    PyTorch adds epsilon to the bias-corrected root of the second moment, Keras to the
    uncorrected one; the two agree once ``1 - beta_2**step`` is near 1 (a few thousand steps).
    """

    torch_class = torch.optim.Adam

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
    ):
        owner = type(self).__name__
        super().__init__(
            learning_rate,
            weight_decay,
            beta_1=check_number(
                beta_1, "beta_1", owner, minimum=0, maximum=1, exclusive_maximum=True
            ),
            beta_2=check_number(
                beta_2, "beta_2", owner, minimum=0, maximum=1, exclusive_maximum=True
            ),
            epsilon=check_number(epsilon, "epsilon", owner, minimum=0),
            amsgrad=bool(amsgrad),
        )

    def _torch_options(self):
        h = self.hyper
        return {
            "betas": (h["beta_1"], h["beta_2"]),
            "eps": h["epsilon"],
            "amsgrad": h["amsgrad"],
            "weight_decay": self.weight_decay or 0.0,
        }


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' default weight_decay 0.004)."""

    torch_class = torch.optim.AdamW

    def __init__(
        self,
        learning_rate: float = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay)


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (lr 0.001, rho 0.9, epsilon 1e-7)."""

    torch_class = torch.optim.RMSprop

    def __init__(
        self,
        learning_rate: float = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            rho=check_number(rho, "rho", "RMSprop", minimum=0, maximum=1, exclusive_maximum=True),
            momentum=check_number(
                momentum, "momentum", "RMSprop", minimum=0, maximum=1, exclusive_maximum=True
            ),
            epsilon=check_number(epsilon, "epsilon", "RMSprop", minimum=0),
            centered=bool(centered),
        )

    def _torch_options(self):
        h = self.hyper
        return {
            "alpha": h["rho"],
            "eps": h["epsilon"],
            "momentum": h["momentum"],
            "centered": h["centered"],
            "weight_decay": self.weight_decay or 0.0,
        }


class Adagrad(Optimizer):
    """Adagrad with Keras' defaults (lr 0.001, initial accumulator 0.1, epsilon 1e-7)."""

    torch_class = torch.optim.Adagrad

    def __init__(
        self,
        learning_rate: float = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            initial_accumulator_value=check_number(
                initial_accumulator_value, "initial_accumulator_value", "Adagrad", minimum=0
            ),
            epsilon=check_number(epsilon, "epsilon", "Adagrad", minimum=0),
        )

    def _torch_options(self):
        h = self.hyper
        return {
            "initial_accumulator_value": h["initial_accumulator_value"],
            "eps": h["epsilon"],
            "weight_decay": self.weight_decay or 0.0,
        }


class _Wrapped(Optimizer):
    """A ``torch.optim.Optimizer`` the user built; cnnkit only reads and sets its learning rate."""

    _keras_momentum = False

    def __init__(self, optimizer: torch.optim.Optimizer):
        self.torch_optimizer = optimizer
        self._learning_rate = float(optimizer.param_groups[0]["lr"])
        self.weight_decay, self.hyper = None, {}
        steps = (state.get("step") for state in optimizer.state.values())
        self._iterations = int(next((s for s in steps if s is not None), 0))
        self._count_steps(optimizer)

    def build(self, parameters):
        return self.torch_optimizer


REGISTRY = Registry(
    "optimizers",
    "optimizer",
    {"sgd": SGD, "adam": Adam, "adamw": AdamW, "rmsprop": RMSprop, "adagrad": Adagrad},
    base=Optimizer,
    expected="a name or an optimizer object",
)


def get(identifier: str | Optimizer | torch.optim.Optimizer) -> Optimizer:
    """Resolve 'adam', 'sgd', 'rmsprop', 'adamw', 'adagrad', an Optimizer or a torch optimizer."""
    if isinstance(identifier, torch.optim.Optimizer):
        return _Wrapped(identifier)
    return REGISTRY.get(identifier, "compile")


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """Name and config of a built-in optimizer (for saving a compiled model)."""
    return REGISTRY.serialize(optimizer)


def deserialize(
    config: dict[str, Any], custom_objects: Mapping[str, type] | None = None
) -> Optimizer:
    """Rebuild a built-in optimizer from :func:`serialize`'s output; a learning-rate schedule
    of the user's own class is rebuilt only when ``custom_objects`` names it."""
    arguments = config.get("config") if isinstance(config, dict) else None
    if isinstance(arguments, dict) and isinstance(arguments.get("learning_rate"), dict):
        rate = schedules.deserialize(arguments["learning_rate"], custom_objects)
        config = {**config, "config": {**arguments, "learning_rate": rate}}
    return REGISTRY.deserialize(config)
