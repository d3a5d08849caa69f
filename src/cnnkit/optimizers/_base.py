"""The Keras-style optimizer every cnnkit optimizer is: hyper-parameters now, PyTorch's optimizer
once the parameters are known, with Keras' learning-rate schedules, clipping and weight decay."""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Mapping
from typing import Any

import torch

from cnnkit import _lr_schedules as schedules
from cnnkit._lr_schedules import LearningRateSchedule
from cnnkit._validation import check_int, check_number
from cnnkit.optimizers._clipping import check_one_clip, clip_gradients
from cnnkit.optimizers._keras2 import accept_keras2_arguments

# Keras' base arguments cnnkit does not implement, with the values that mean "not used":
# a Keras config holding these values loads; any other value is refused by name.
_KERAS_ONLY = {
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class Optimizer:
    """A Keras-style optimizer: hyper-parameters now, the ``torch.optim`` optimizer once the
    model's parameters are known (``build``). ``learning_rate`` can be read and set at any time
    (callbacks such as ReduceLROnPlateau do), and ``torch_optimizer`` is the real thing.

    ``learning_rate`` may also be a ``schedules.LearningRateSchedule`` (or its saved config):
    each step then uses ``schedule(iterations)``, as in Keras."""

    torch_class: type[torch.optim.Optimizer]
    learning_rate_schedule: LearningRateSchedule | None = None
    clipnorm = clipvalue = global_clipnorm = weight_decay = None
    decay = 0.0  # Keras 2's time-based decay: each step's rate / (1 + decay * iterations)
    _keras_momentum = True  # see _set_rate
    # Keras applies weight decay itself, before the step (variable -= variable * wd * lr);
    # False where the PyTorch optimizer does the same (AdamW).
    _keras_weight_decay = True

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        if "__init__" in vars(cls):
            cls.__init__ = accept_keras2_arguments(vars(cls)["__init__"])

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule,
        weight_decay: float | None = None,
        *,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
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
        clipping = {
            "clipnorm": clipnorm,
            "clipvalue": clipvalue,
            "global_clipnorm": global_clipnorm,
        }
        for name, value in clipping.items():
            clipping[name] = check_number(
                value, name, owner, minimum=0, exclusive_minimum=True, optional=True
            )
        check_one_clip(owner, **clipping)
        self.clipnorm = clipping["clipnorm"]
        self.clipvalue = clipping["clipvalue"]
        self.global_clipnorm = clipping["global_clipnorm"]
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
        """Hook ``optimizer.step()`` wherever it is called: rate, clipping and weight decay
        before, ``iterations`` counted after."""
        optimizer.register_step_pre_hook(lambda *_: self._before_step())
        optimizer.register_step_post_hook(
            lambda *_: setattr(self, "_iterations", self._iterations + 1)
        )
        return optimizer

    def _before_step(self) -> None:
        """What Keras does to a step before the update, in its order: the step's learning
        rate, then clipped gradients, then weight decay with that rate."""
        if self.learning_rate_schedule is not None:
            self._set_rate(float(self.learning_rate_schedule(self._iterations)))
        if self.decay:
            self._set_group_rate(self._learning_rate / (1.0 + self.decay * self._iterations))
        optimizer = self.torch_optimizer
        self._prepare_groups()
        parameters = [
            p for group in optimizer.param_groups for p in group["params"] if p.grad is not None
        ]
        if not parameters:
            return
        clip_gradients(parameters, self.clipnorm, self.clipvalue, self.global_clipnorm)
        if self._keras_weight_decay and self.weight_decay:
            factor = 1.0 - self.weight_decay * float(optimizer.param_groups[0]["lr"])
            with torch.no_grad():
                torch._foreach_mul_(parameters, factor)

    def _set_rate(self, rate: float) -> None:
        """Use ``rate`` from the next step on. Keras' momentum (SGD, RMSprop) sums
        ``rate * gradient``, PyTorch's the gradients alone, times the current rate: when the
        rate changes, the momentum buffer is rescaled by old / new so that the steps stay
        Keras' (not when either rate is 0; a user's own torch optimizer keeps its ways)."""
        self._learning_rate = rate
        self._set_group_rate(rate)

    def _prepare_groups(self) -> None:
        """Set what the PyTorch optimizer reads for the coming step (Adam's epsilon)."""

    def _set_group_rate(self, rate: float) -> None:
        """The rate the PyTorch optimizer uses from its next step on (see ``_set_rate``)."""
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
        config = {
            "learning_rate": self._learning_rate
            if schedule is None
            else schedules.serialize(schedule),
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            **self.hyper,
        }
        if self.decay:
            config["decay"] = self.decay
        return config

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], custom_objects: Mapping[str, type] | None = None
    ) -> Optimizer:
        """Rebuild an optimizer from ``get_config()`` (Keras' own configs too: its name and the
        base arguments cnnkit lacks are accepted when they hold their unused defaults)."""
        if not isinstance(config, Mapping):
            raise TypeError(
                f"{cls.__name__}.from_config: config must be a dict of constructor arguments. "
                f"Received: config={config!r}"
            )
        arguments = dict(config)
        arguments.pop("name", None)
        for name, unused in _KERAS_ONLY.items():
            if name in arguments and arguments.pop(name) != unused:
                raise ValueError(
                    f"{cls.__name__}.from_config: {name} is not supported; only {name}="
                    f"{unused!r} is accepted. Received: {name}={config[name]!r}"
                )
        if isinstance(arguments.get("learning_rate"), dict):
            arguments["learning_rate"] = schedules.deserialize(
                arguments["learning_rate"], custom_objects
            )
        return cls(**arguments)

    def __repr__(self) -> str:
        rate = self.learning_rate_schedule or f"{self._learning_rate:g}"
        return f"{type(self).__name__}(learning_rate={rate})"


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
