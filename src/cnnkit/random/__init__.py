"""Keras 3's ``keras.random`` on PyTorch: seeded draws (``normal``, ``uniform``, ``dropout``...)
on cnnkit's device. ``seed`` is an int (the same numbers every call) or a
:class:`SeedGenerator` (new numbers each call, reproducible from its seed), as in Keras."""

from cnnkit.random._draw import categorical as categorical
from cnnkit.random._draw import dropout as dropout
from cnnkit.random._draw import normal as normal
from cnnkit.random._draw import randint as randint
from cnnkit.random._draw import shuffle as shuffle
from cnnkit.random._draw import truncated_normal as truncated_normal
from cnnkit.random._draw import uniform as uniform
from cnnkit.random._seed import SeedGenerator as SeedGenerator
