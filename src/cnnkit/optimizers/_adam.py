"""Adam and its relatives (AdamW, Adamax, Nadam, Lion): moving averages of the gradient and of
its size, with Keras' names, defaults and arithmetic."""

from __future__ import annotations

import math

from cnnkit._fast import _optimizer as fast
from cnnkit._lr_schedules import LearningRateSchedule
from cnnkit._validation import check_number
from cnnkit.optimizers._base import Optimizer
from cnnkit.optimizers._kernels import KerasAdamax, KerasLion


def _moments(owner: str, beta_1, beta_2, epsilon=None) -> dict[str, float]:
    """beta_1 and beta_2 in [0, 1), epsilon >= 0 (when the optimizer has one)."""
    checked = {
        name: check_number(value, name, owner, minimum=0, maximum=1, exclusive_maximum=True)
        for name, value in (("beta_1", beta_1), ("beta_2", beta_2))
    }
    if epsilon is not None:
        checked["epsilon"] = check_number(epsilon, "epsilon", owner, minimum=0)
    return checked


class Adam(Optimizer):
    """Adam with Keras' defaults (lr 0.001, beta_1 0.9, beta_2 0.999, epsilon 1e-7).

    Weight decay is Keras' (decoupled: weights shrink by lr * weight_decay before the step).

    Example:
        >>> optimizer = Adam(learning_rate=3e-4)
    """

    torch_class = fast.Adam  # torch.optim.Adam (cnnkit._fast._optimizer)

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
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
            **_moments(type(self).__name__, beta_1, beta_2, epsilon),
            amsgrad=bool(amsgrad),
        )

    def _torch_options(self):
        h = self.hyper
        return {
            "betas": (h["beta_1"], h["beta_2"]),
            "eps": h["epsilon"],
            "amsgrad": h["amsgrad"],
        }

    def _prepare_groups(self) -> None:
        """Keras adds epsilon to sqrt(v) before the bias correction, PyTorch after it:
        PyTorch's epsilon / sqrt(1 - beta_2**step) gives Keras' step exactly."""
        step = self._iterations + 1
        epsilon = self.hyper["epsilon"] / math.sqrt(1.0 - self.hyper["beta_2"] ** step)
        for group in self.torch_optimizer.param_groups:
            group["eps"] = epsilon


class AdamW(Adam):
    """Adam with decoupled weight decay (Keras' default weight_decay 0.004), which PyTorch's
    AdamW applies as Keras does."""

    torch_class = fast.AdamW
    _keras_weight_decay = False

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            amsgrad,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
        )

    def _torch_options(self):
        return {**super()._torch_options(), "weight_decay": self.weight_decay}


class _KerasDecay(Optimizer):
    """Adamax, Nadam and Lion: beta_1, beta_2 and (but Lion) epsilon."""

    _keras_momentum = False  # their moving averages hold gradients, not rate * gradient

    def __init__(
        self,
        learning_rate,
        beta_1,
        beta_2,
        epsilon,
        weight_decay,
        clipnorm,
        clipvalue,
        global_clipnorm,
    ):
        super().__init__(
            learning_rate,
            weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            **_moments(type(self).__name__, beta_1, beta_2, epsilon),
        )

    def _torch_options(self):
        h = self.hyper
        options = {"betas": (h["beta_1"], h["beta_2"])}
        return options if "epsilon" not in h else {**options, "eps": h["epsilon"]}


class Adamax(_KerasDecay):
    """Adamax (Adam with the infinity norm) with Keras' defaults (lr 0.001, beta_1 0.9,
    beta_2 0.999, epsilon 1e-7) and Keras' arithmetic (epsilon after the max).

    Example:
        >>> optimizer = Adamax(learning_rate=0.002)
    """

    torch_class = KerasAdamax

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
        )


class Nadam(_KerasDecay):
    """Adam with Nesterov momentum (Dozat 2016) with Keras' defaults (lr 0.001, beta_1 0.9,
    beta_2 0.999, epsilon 1e-7); PyTorch's NAdam with Keras' momentum schedule
    beta_1 * (1 - 0.5 * 0.96**step).

    Example:
        >>> optimizer = Nadam(learning_rate=0.002)
    """

    torch_class = fast.NAdam

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate,
            beta_1,
            beta_2,
            epsilon,
            weight_decay,
            clipnorm,
            clipvalue,
            global_clipnorm,
        )

    def _torch_options(self):
        # PyTorch's 0.96**(step * momentum_decay) is Keras' 0.96**step when momentum_decay is 1
        return {**super()._torch_options(), "momentum_decay": 1.0}


class Lion(_KerasDecay):
    """Lion (Chen et al. 2023: the sign of interpolated momentum) with Keras' defaults
    (lr 0.001, beta_1 0.9, beta_2 0.99). Its steps are lr in size on every weight, so it
    wants a rate 3-10 times smaller than Adam's.

    Example:
        >>> optimizer = Lion(learning_rate=1e-4, weight_decay=0.01)
    """

    torch_class = KerasLion

    def __init__(
        self,
        learning_rate: float | LearningRateSchedule = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
    ):
        super().__init__(
            learning_rate, beta_1, beta_2, None, weight_decay, clipnorm, clipvalue, global_clipnorm
        )
