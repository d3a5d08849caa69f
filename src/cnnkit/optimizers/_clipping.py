"""Keras' gradient clipping (``clipnorm``, ``global_clipnorm``, ``clipvalue``), applied to the
``.grad`` of each parameter just before the optimizer's step, with Keras' formulas."""

from __future__ import annotations

from collections.abc import Sequence

import torch


def check_one_clip(owner: str, clipnorm, clipvalue, global_clipnorm) -> None:
    """Keras accepts at most one of the three clipping arguments."""
    given = [v for v in (clipnorm, clipvalue, global_clipnorm) if v is not None]
    if len(given) > 1:
        raise ValueError(
            f"{owner}: only one of clipnorm, clipvalue and global_clipnorm can be set. "
            f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
            f"global_clipnorm={global_clipnorm}"
        )


@torch.no_grad()
def clip_gradients(
    parameters: Sequence[torch.Tensor],
    clipnorm: float | None,
    clipvalue: float | None,
    global_clipnorm: float | None,
) -> None:
    """Replace each ``parameter.grad`` by its clipped value (new tensors: a gradient the user
    handed to ``apply`` is never changed in place)."""
    if clipnorm:  # each gradient's own L2 norm at most clipnorm
        for p in parameters:
            norm = torch.linalg.vector_norm(p.grad)
            p.grad = p.grad * clipnorm / torch.clamp(norm, min=clipnorm)
    elif global_clipnorm:  # all gradients scaled by one factor
        norm = torch.linalg.vector_norm(
            torch.stack([torch.linalg.vector_norm(p.grad) for p in parameters])
        )
        scale = global_clipnorm * torch.minimum(1.0 / norm, torch.tensor(1.0 / global_clipnorm))
        for p in parameters:
            p.grad = p.grad * scale
    elif clipvalue:
        for p in parameters:
            p.grad = p.grad.clamp(-clipvalue, clipvalue)
