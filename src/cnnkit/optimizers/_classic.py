"""SGD and the per-parameter rate methods before Adam (RMSprop, Adagrad, Adadelta), on
PyTorch's own kernels with Keras' names and defaults. Weight decay is Keras' everywhere
(decoupled: weights shrink by lr * weight_decay before the step, not PyTorch's L2 term)."""

from __future__ import annotations

from cnnkit._fast import _optimizer as fast
from cnnkit._lr_schedules import LearningRateSchedule
from cnnkit._validation import check_number
from cnnkit.optimizers._base import Optimizer
from cnnkit.optimizers._kernels import KerasAdagrad, KerasRMSprop


def _fraction(value, name: str, owner: str) -> float:
    """A decay rate such as momentum or rho: in [0, 1)."""
    return check_number(value, name, owner, minimum=0, maximum=1, exclusive_maximum=True)


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum and Nesterov momentum (lr 0.01).

    Example:
        >>> optimizer = SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    """

    torch_class = fast.SGD  # torch.optim.SGD (cnnkit._fast._optimizer)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            momentum=_fraction(momentum, "momentum", "SGD"),
            nesterov=bool(nesterov),
        )

    def _torch_options(self):
        return {
            "momentum": self.hyper["momentum"],
            "nesterov": self.hyper["nesterov"],
        }


class RMSprop(Optimizer):
    """RMSprop with Keras' defaults (lr 0.001, rho 0.9, epsilon 1e-7) and Keras' arithmetic
    (division by sqrt(mean square + epsilon)).

    Example:
        >>> optimizer = RMSprop(learning_rate=1e-3, momentum=0.9, centered=True)
    """

    torch_class = KerasRMSprop

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            rho=_fraction(rho, "rho", "RMSprop"),
            momentum=_fraction(momentum, "momentum", "RMSprop"),
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
        }


class Adagrad(Optimizer):
    """Adagrad with Keras' defaults (lr 0.001, initial accumulator 0.1, epsilon 1e-7) and
    Keras' arithmetic (division by sqrt(accumulator + epsilon))."""

    torch_class = KerasAdagrad

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
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
        }


class Adadelta(Optimizer):
    """Adadelta with Keras' defaults (lr 0.001, rho 0.95, epsilon 1e-7): each step's size
    is the running root mean square of past updates over that of the gradients, times lr.

    Example:
        >>> optimizer = Adadelta(learning_rate=1.0, rho=0.95)
    """

    torch_class = fast.Adadelta

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            rho=_fraction(rho, "rho", "Adadelta"),
            epsilon=check_number(epsilon, "epsilon", "Adadelta", minimum=0),
        )

    def _torch_options(self):
        return {"rho": self.hyper["rho"], "eps": self.hyper["epsilon"]}
