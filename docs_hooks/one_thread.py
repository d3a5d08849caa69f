"""MkDocs hook: the tutorials' models are tiny, so PyTorch runs them on one thread during the
build. Several threads only add synchronisation, and on a busy machine (CI runners, shared
cores) a two-thread step measured 10 to 20 times slower than a one-thread step."""

from __future__ import annotations

import torch


def on_startup(**kwargs) -> None:
    """Before the first page runs its code, limit PyTorch to one intra-op thread."""
    torch.set_num_threads(1)
