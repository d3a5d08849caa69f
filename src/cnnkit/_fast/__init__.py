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

``_warp``: RandomTranslation's shift and RandomFlip's flip as a few passes over memory, and a
RandomFlip followed by a RandomTranslation as one pass; the plain reference is
``cnnkit.layers._image_warp`` (``translate``, ``flip``). The seam is the one described
above: the layer asks the fast path at one marked point (``try_translate``, ``try_flip``,
``fused_flip_translation``) and runs its plain code when the answer is None, that is when
``_warp.ENABLED`` is False (the switch: set it to read or time the plain path) or the trick
does not apply (an input that needs a gradient). ``tests/test_fast_paths_layers.py`` checks
the pairs over a table of sizes, dtypes, fill modes, interpolations, shifts and flips.
"""
