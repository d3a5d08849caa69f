"""The fast paths, in one place: every measured speed trick, next to the plain code it equals.

cnnkit's teaching code (``Model.forward``, ``fit``, the augmentation layers) reads as plain
PyTorch. Where a measured speed-up needs a trick (skipping ``nn.Module.__call__`` per layer,
fusing two layers into one call, running augmentation ahead of the training step, tuning
glibc's malloc, a hand-tuned image shift), the trick lives in this package, and the plain code
calls it at one marked point. Each fast path returns the same numbers as its plain reference;
``tests/test_fast_paths_forward.py``, ``tests/test_fast_paths_layers.py`` and
``tests/test_fast_paths_training.py`` check the pairs.

The tricks, and the switch that turns each off (the plain path then runs):

- ``forward`` (:mod:`._forward`): a chain of layers runs their ``forward`` methods directly,
  skipping ``nn.Module.__call__``, with fusable neighbours (RandomFlip then RandomTranslation)
  in one call.
- ``ahead`` (:mod:`._ahead`): ``fit`` gathers a few in-memory batches at once and runs the
  model's leading random augmentation layers on them ahead of their training steps.
- ``malloc`` (:mod:`._malloc`): glibc's malloc keeps freed activations for the next step
  (also governed by ``cnnkit.config.set_malloc_tuning`` and ``CNNKIT_MALLOC_TUNING``).
- ``warp`` (:mod:`._warp`, described below): the image shift and flip of the augmentation
  layers; read once, at import, into ``_warp.ENABLED`` (set that to switch it later).
- ``optimizer`` (:mod:`._optimizer`): PyTorch's optimizers run their methods without the
  wrappers that import ``torch._dynamo`` (a second of every process's first ``fit``) while
  nothing has loaded it.

``_compiled`` is not a trick of this list but the user's choice: ``compile(jit_compile=True or
'auto')`` asks it for the step's forward (one graph per batch shape, 'auto' keeping the
faster, inductor's cache under cnnkit's cache folder); ``jit_compile=False`` is the plain path.

``CNNKIT_FAST=0`` in the environment turns every trick off from the start; ``CNNKIT_FAST`` set
to a comma-separated list (``CNNKIT_FAST=forward,malloc``) keeps only those on; unset or ``1``:
all on. :func:`set_enabled` switches them inside a process (tests, benchmarks).

This package imports only the standard library, NumPy, torch and cnnkit's basics (``config``,
``_validation``): it sits below ``layers``, so any part of cnnkit may call it. Layers and models
are reached by duck typing (``layer.plain_call``, ``layer._fused_with``), never imported.

``_warp``: RandomTranslation's shift and RandomFlip's flip as a few passes over memory, and a
RandomFlip followed by a RandomTranslation as one pass; the plain reference is
``cnnkit.layers._image_warp`` (``translate``, ``flip``). The seam is the one described
above: the layer asks the fast path at one marked point (``try_translate``, ``try_flip``,
``fused_flip_translation``) and runs its plain code when the answer is None, that is when
``_warp.ENABLED`` is False (the switch: set it to read or time the plain path) or the trick
does not apply (an input that needs a gradient). ``tests/test_fast_paths_layers.py`` checks
the pairs over a table of sizes, dtypes, fill modes, interpolations, shifts and flips.
"""

from __future__ import annotations

import os

TRICKS = ("forward", "ahead", "malloc", "warp", "optimizer")


def _from_environment(value: str) -> dict[str, bool]:
    """The switches as ``CNNKIT_FAST`` sets them: '1' (or unset) all on, '0' all off, or the
    names of the tricks to keep on."""
    value = value.strip()
    if value in ("", "1"):
        return dict.fromkeys(TRICKS, True)
    chosen = {name.strip() for name in value.split(",")} - {"0"}
    return {name: name in chosen for name in TRICKS}


_switches = _from_environment(os.environ.get("CNNKIT_FAST", "1"))


def enabled(trick: str) -> bool:
    """Whether the fast path ``trick`` (one of TRICKS) may run."""
    return _switches[trick]


def set_enabled(on: bool, *tricks: str) -> None:
    """Turn the named fast paths (all of them when none is named) on or off."""
    if not isinstance(on, bool):
        raise TypeError(f"set_enabled: on must be True or False. Received: on={on!r}")
    unknown = [name for name in tricks if name not in TRICKS]
    if unknown:
        raise ValueError(f"set_enabled: unknown fast path {unknown[0]!r}; accepted: {TRICKS}")
    for name in tricks or TRICKS:
        _switches[name] = on
