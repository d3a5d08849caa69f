"""Utilities with Keras' names: ``to_categorical``, ``set_random_seed``."""

from cnnkit.utils._labels import to_categorical as to_categorical
from cnnkit.utils._seed import set_random_seed as set_random_seed
