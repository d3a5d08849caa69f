"""``compile(jit_compile=...)``: the training step's forward pass through ``torch.compile``,
compiled once, for one batch shape, and kept only where it pays.

The plain path is the eager forward (``jit_compile=False``). Three things make the compiled
one safe to offer:

- **One graph per run.** The forward is compiled with ``dynamic=False`` for the first batch
  shape it sees; a batch of another shape (the last, partial batch of an epoch) runs the eager
  forward, which computes the same numbers, instead of recompiling (which would compile a
  second, dynamic-shape graph and run every later batch through it).
- **A C++ compiler.** Inductor compiles C++ on a CPU; without one (``CXX`` unset and no
  ``g++``/``c++``/``clang++`` on the PATH) ``jit_compile=True`` warns once and runs eager.
- **An on-disk cache.** Inductor keeps compiled graphs in ``TORCHINDUCTOR_CACHE_DIR``; when the
  user has not set it, cnnkit sets it to ``<XDG_CACHE_HOME or ~/.cache>/cnnkit/inductor``
  (instead of a temporary folder), so a second process warms up from the first one's graphs.

``jit_compile='auto'`` (:class:`AutoCompile`) times the whole training step both ways and
keeps the faster. It runs three eager steps and times the last two; it compiles only when the
run's remaining steps at that speed take at least :data:`PAYBACK_SECONDS` (compiling a small
CNN's step costs 3-15 s of CPU, and the compiled step was at best about a quarter faster, so a
shorter run could not win the compile time back); then it times two compiled steps after the
first and keeps the compiled forward only if it is at least 5% faster than the eager one.
"""

from __future__ import annotations

import os
import shutil
import statistics
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

PAYBACK_SECONDS = 60.0  # eager time left in the run below which 'auto' does not compile
MARGIN = 0.95  # the compiled step must take at most this fraction of the eager step's time
_warned = {"compiler": False}


def use_cnnkit_cache() -> None:
    """Point inductor's on-disk cache at cnnkit's cache folder unless the user chose one
    (importing torch._dynamo writes inductor's default, a temporary folder, into the variable:
    that value counts as not chosen)."""
    from torch._inductor.runtime.cache_dir_utils import default_cache_dir

    chosen = os.environ.get("TORCHINDUCTOR_CACHE_DIR")
    if chosen is not None and chosen != os.path.abspath(default_cache_dir()):
        return
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(Path(base) / "cnnkit" / "inductor")


def compiler_available() -> bool:
    """Whether inductor can build its C++ kernels here (a C++ compiler is on the PATH)."""
    chosen = os.environ.get("CXX")
    names = [chosen] if chosen else ["g++", "c++", "clang++"]
    return any(shutil.which(name) for name in names)


def _warn_no_compiler() -> None:
    if not _warned["compiler"]:
        _warned["compiler"] = True
        warnings.warn(
            "compile(jit_compile=True): torch.compile needs a C++ compiler on the CPU and none "
            "was found (set CXX or install g++); training runs uncompiled.",
            RuntimeWarning,
            stacklevel=3,
        )


class CompiledForward:
    """``forward`` compiled for the shape of its first batch; other shapes run eager."""

    def __init__(self, forward: Callable[[torch.Tensor], torch.Tensor]):
        use_cnnkit_cache()
        self.eager = forward
        self.compiled = torch.compile(forward, dynamic=False)
        self.shape: tuple[int, ...] | None = None

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        if self.shape is None:
            self.shape = tuple(x.shape)
        return self.compiled(x) if tuple(x.shape) == self.shape else self.eager(x)


class AutoCompile:
    """The forward to use for the next step: eager, then compiled on trial, then the faster."""

    def __init__(self, forward: Callable[[torch.Tensor], torch.Tensor]):
        self.eager = forward
        self.compiled: CompiledForward | None = None
        self.choice: str = "measuring"  # then 'eager' or 'compiled'
        self.planned_steps: int | None = None  # fit sets it: the steps of the run
        self.times: dict[str, list[float]] = {"eager": [], "compiled": []}
        self.steps = 0

    def forward(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The forward pass for the coming step."""
        if self.choice == "compiled" or (self.choice == "measuring" and self.compiled):
            return self.compiled  # type: ignore[return-value]
        return self.eager

    def record(self, seconds: float) -> None:
        """Take the time of the step just run (the first of each kind is not counted)."""
        self.steps += 1
        if self.choice != "measuring":
            return
        kind = "compiled" if self.compiled is not None else "eager"
        self.times[kind].append(seconds)
        eager, compiled = self.times["eager"][1:], self.times["compiled"][1:]
        if kind == "eager" and len(eager) == 2:
            self._consider_compiling(statistics.median(eager))
        elif kind == "compiled" and len(compiled) == 2:
            faster = statistics.median(compiled) <= MARGIN * statistics.median(eager)
            self.choice = "compiled" if faster else "eager"

    def _consider_compiling(self, eager_step: float) -> None:
        left = (self.planned_steps or 0) - self.steps
        if left * eager_step < PAYBACK_SECONDS or not compiler_available():
            self.choice = "eager"
            return
        self.compiled = CompiledForward(self.eager)


def compiled_forward(
    forward: Callable[[torch.Tensor], torch.Tensor], jit_compile: bool | str
) -> tuple[Callable[[torch.Tensor], torch.Tensor], AutoCompile | None]:
    """The step's forward for ``jit_compile`` (False, True or 'auto'), and the chooser for
    'auto' (whose ``forward()`` the step asks each time and whose ``record`` it feeds)."""
    if jit_compile == "auto":
        return forward, AutoCompile(forward)
    if not jit_compile:
        return forward, None
    if not compiler_available():
        _warn_no_compiler()
        return forward, None
    return CompiledForward(forward), None
