"""Keras 3's ``keras.ops`` on PyTorch: ``cnnkit.ops.mean(x)`` takes NumPy arrays, Python
numbers or torch tensors and returns a torch tensor on cnnkit's device. Called on symbolic
tensors (from ``cnnkit.Input``) an op records a layer, so functional models can use ops.

Example:
    >>> import cnnkit
    >>> cnnkit.ops.mean(cnnkit.ops.ones((2, 3)), axis=1)
    tensor([1., 1.])
"""

from cnnkit.ops import image as image
from cnnkit.ops._array import concatenate as concatenate
from cnnkit.ops._array import expand_dims as expand_dims
from cnnkit.ops._array import flip as flip
from cnnkit.ops._array import get_item as get_item
from cnnkit.ops._array import pad as pad
from cnnkit.ops._array import repeat as repeat
from cnnkit.ops._array import reshape as reshape
from cnnkit.ops._array import split as split
from cnnkit.ops._array import squeeze as squeeze
from cnnkit.ops._array import stack as stack
from cnnkit.ops._array import take as take
from cnnkit.ops._array import take_along_axis as take_along_axis
from cnnkit.ops._array import tile as tile
from cnnkit.ops._array import transpose as transpose
from cnnkit.ops._core import cast as cast
from cnnkit.ops._core import convert_to_numpy as convert_to_numpy
from cnnkit.ops._core import convert_to_tensor as convert_to_tensor
from cnnkit.ops._core import dtype as dtype
from cnnkit.ops._core import shape as shape
from cnnkit.ops._core import stop_gradient as stop_gradient
from cnnkit.ops._create import arange as arange
from cnnkit.ops._create import eye as eye
from cnnkit.ops._create import full as full
from cnnkit.ops._create import full_like as full_like
from cnnkit.ops._create import linspace as linspace
from cnnkit.ops._create import one_hot as one_hot
from cnnkit.ops._create import ones as ones
from cnnkit.ops._create import ones_like as ones_like
from cnnkit.ops._create import zeros as zeros
from cnnkit.ops._create import zeros_like as zeros_like
from cnnkit.ops._dispatch import OPS as OPS
from cnnkit.ops._math import abs as abs
from cnnkit.ops._math import absolute as absolute
from cnnkit.ops._math import add as add
from cnnkit.ops._math import ceil as ceil
from cnnkit.ops._math import clip as clip
from cnnkit.ops._math import divide as divide
from cnnkit.ops._math import dot as dot
from cnnkit.ops._math import equal as equal
from cnnkit.ops._math import exp as exp
from cnnkit.ops._math import floor as floor
from cnnkit.ops._math import floor_divide as floor_divide
from cnnkit.ops._math import greater as greater
from cnnkit.ops._math import greater_equal as greater_equal
from cnnkit.ops._math import isfinite as isfinite
from cnnkit.ops._math import isinf as isinf
from cnnkit.ops._math import isnan as isnan
from cnnkit.ops._math import less as less
from cnnkit.ops._math import less_equal as less_equal
from cnnkit.ops._math import log as log
from cnnkit.ops._math import log1p as log1p
from cnnkit.ops._math import logical_and as logical_and
from cnnkit.ops._math import logical_not as logical_not
from cnnkit.ops._math import logical_or as logical_or
from cnnkit.ops._math import matmul as matmul
from cnnkit.ops._math import maximum as maximum
from cnnkit.ops._math import minimum as minimum
from cnnkit.ops._math import mod as mod
from cnnkit.ops._math import multiply as multiply
from cnnkit.ops._math import negative as negative
from cnnkit.ops._math import not_equal as not_equal
from cnnkit.ops._math import power as power
from cnnkit.ops._math import reciprocal as reciprocal
from cnnkit.ops._math import round as round
from cnnkit.ops._math import sign as sign
from cnnkit.ops._math import sqrt as sqrt
from cnnkit.ops._math import square as square
from cnnkit.ops._math import subtract as subtract
from cnnkit.ops._math import where as where
from cnnkit.ops._nn import average_pool as average_pool
from cnnkit.ops._nn import conv as conv
from cnnkit.ops._nn import elu as elu
from cnnkit.ops._nn import gelu as gelu
from cnnkit.ops._nn import leaky_relu as leaky_relu
from cnnkit.ops._nn import log_softmax as log_softmax
from cnnkit.ops._nn import max_pool as max_pool
from cnnkit.ops._nn import relu as relu
from cnnkit.ops._nn import relu6 as relu6
from cnnkit.ops._nn import sigmoid as sigmoid
from cnnkit.ops._nn import silu as silu
from cnnkit.ops._nn import softmax as softmax
from cnnkit.ops._nn import softplus as softplus
from cnnkit.ops._nn import tanh as tanh
from cnnkit.ops._op_layer import OpLayer as OpLayer  # noqa: E402 - after the ops it runs
from cnnkit.ops._reduce import all as all
from cnnkit.ops._reduce import any as any
from cnnkit.ops._reduce import argmax as argmax
from cnnkit.ops._reduce import argmin as argmin
from cnnkit.ops._reduce import argsort as argsort
from cnnkit.ops._reduce import cumsum as cumsum
from cnnkit.ops._reduce import max as max
from cnnkit.ops._reduce import mean as mean
from cnnkit.ops._reduce import min as min
from cnnkit.ops._reduce import norm as norm
from cnnkit.ops._reduce import prod as prod
from cnnkit.ops._reduce import sort as sort
from cnnkit.ops._reduce import std as std
from cnnkit.ops._reduce import sum as sum
from cnnkit.ops._reduce import top_k as top_k
from cnnkit.ops._reduce import var as var


def _give_symbolic_tensors_their_operators() -> None:
    """``x + y``, ``x[0]``, ... on symbolic tensors call these ops (layers cannot import ops)."""
    from cnnkit.layers import _symbolic

    names = (
        "abs add divide floor_divide get_item greater greater_equal less less_equal logical_and "
        "logical_not logical_or matmul mod multiply negative not_equal power subtract"
    )
    _symbolic.OPERATORS.update({name: globals()[name] for name in names.split()})


_give_symbolic_tensors_their_operators()
