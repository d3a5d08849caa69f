"""Seeds for random draws: Keras' ``SeedGenerator`` and the torch generator a seed stands for."""

from __future__ import annotations

from typing import Any

import torch

from cnnkit.ops._dispatch import default_device


class SeedGenerator:
    """A source of seeds: each draw takes the next one, so a layer that holds one gets new
    random numbers each call, and the same sequence for the same ``seed``.

    Example:
        >>> import cnnkit
        >>> a = cnnkit.random.normal((2,), seed=cnnkit.random.SeedGenerator(7))
        >>> b = cnnkit.random.normal((2,), seed=cnnkit.random.SeedGenerator(7))
        >>> bool((a == b).all())
        True
    """

    def __init__(self, seed: int | None = None, name: str | None = None, **kwargs: Any):
        if kwargs:
            raise TypeError(f"SeedGenerator: unexpected arguments {sorted(kwargs)}")
        if seed is None:
            seed = int(torch.randint(0, 2**31 - 1, ()).item())
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"SeedGenerator: seed must be an int or None. Received: seed={seed!r}")
        self.seed = seed
        self.name = name or "seed_generator"
        self.state = seed  # the next seed to hand out

    def next(self) -> int:
        """The next seed of this generator's sequence."""
        current = self.state
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) % 2**63
        return current

    def get_config(self) -> dict[str, Any]:
        """``{"seed": ...}``, enough to restart the same sequence."""
        return {"seed": self.seed}


def generator(seed: Any, where: str, device: torch.device | None = None) -> torch.Generator | None:
    """The torch generator for ``seed`` (int, SeedGenerator or None for torch's global state)."""
    if seed is None:
        return None
    if isinstance(seed, SeedGenerator):
        value = seed.next()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        value = seed
    else:
        raise TypeError(
            f"{where}: seed must be an int, a cnnkit.random.SeedGenerator or None. "
            f"Received: seed={seed!r}"
        )
    result = torch.Generator(device=device or default_device())
    result.manual_seed(value % 2**63)
    return result
