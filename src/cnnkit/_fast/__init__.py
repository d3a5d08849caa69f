"""The fast paths, in one place: every measured speed trick, next to the plain code it equals.

cnnkit's teaching code (``Model.forward``, ``fit``, the augmentation layers) reads as plain
PyTorch. Where a measured speed-up needs a trick (skipping ``nn.Module.__call__`` per layer,
fusing two layers into one call, running augmentation ahead of the training step, tuning
glibc's malloc, a hand-tuned image shift), the trick lives in this package, and the plain code
calls it at one marked point. Each fast path returns the same numbers as its plain reference;
``tests/test_fast_paths.py`` checks every pair.

This package imports only the standard library, NumPy, torch and cnnkit's basics (``config``,
``_validation``): it sits below ``layers``, so any part of cnnkit may call it. Layers and models
are reached by duck typing (``layer.plain_call``, ``layer._fused_with``), never imported.
"""
