"""The layers of a model by name, where any Keras layer name is a key: a plain
``nn.ModuleDict`` refuses names that are also its own attributes ('double', 'to', 'keys')."""

from __future__ import annotations

from torch import nn


class LayerDict(nn.ModuleDict):
    """``nn.ModuleDict`` whose keys may shadow a method name; ``self[name]`` and the
    state_dict (``stack.<name>.<weight>``) read ``_modules``, so such names work everywhere."""

    def __setitem__(self, key: str, module: nn.Module) -> None:
        if key in self._modules or not hasattr(self, key):
            super().__setitem__(key, module)
            return
        if not isinstance(module, nn.Module):
            raise TypeError(f"{type(module).__name__} is not a torch.nn.Module")
        self._modules[key] = module
