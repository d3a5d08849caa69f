"""cnnkit.ops against Keras 3's keras.ops (torch backend) on a table of inputs: values,
shapes and dtypes must match."""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

import cnnkit  # noqa: E402
from cnnkit import ops  # noqa: E402

rng = np.random.default_rng(0)
A = rng.normal(size=(2, 3, 4)).astype("float32")
B = rng.normal(size=(3, 4)).astype("float32")
M = rng.normal(size=(4, 5)).astype("float32")
POS = np.abs(A) + 0.1
I32 = np.array([[3, -1, 2], [0, 5, -4]], dtype="int32")
I64 = np.array([1, 2, 3], dtype="int64")
F64 = rng.normal(size=(3,))
LABELS = np.array([0, 2, 1, 3], dtype="int32")
IMAGES = rng.normal(size=(2, 7, 6, 3)).astype("float32")
KERNEL = rng.normal(size=(3, 3, 3, 4)).astype("float32")

CASES = [
    ("abs", (A,), {}),
    ("abs", (I32,), {}),
    ("add", (A, B), {}),
    ("add", (I32, 2), {}),
    ("add", (I32, 1.5), {}),
    ("add", (F64, np.float32(1)), {}),
    ("subtract", (A, 1.0), {}),
    ("multiply", (A, B), {}),
    ("multiply", (I64, 3), {}),
    ("divide", (A, POS), {}),
    ("divide", (I32, 2), {}),
    ("matmul", (A, M), {}),
    ("matmul", (B, M), {}),
    ("dot", (B, M), {}),
    ("dot", (A, M), {}),
    ("dot", (M[:, 0], M[:, 1]), {}),
    ("sum", (A,), {}),
    ("sum", (A,), {"axis": 1}),
    ("sum", (A,), {"axis": (0, 2), "keepdims": True}),
    ("sum", (I32,), {"axis": 0}),
    ("mean", (A,), {"axis": -1}),
    ("mean", (I32,), {}),
    ("max", (A,), {"axis": 0}),
    ("max", (A,), {"axis": 1, "keepdims": True, "initial": 0.5}),
    ("min", (I32,), {}),
    ("argmax", (A,), {}),
    ("argmax", (A,), {"axis": 1}),
    ("argmin", (A,), {"axis": -1, "keepdims": True}),
    ("sqrt", (POS,), {}),
    ("sqrt", (I64,), {}),
    ("square", (I32,), {}),
    ("exp", (A,), {}),
    ("log", (POS,), {}),
    ("power", (POS, 1.5), {}),
    ("power", (I32, 2), {}),
    ("clip", (A, -0.5, 0.5), {}),
    ("clip", (I32, 0, 3), {}),
    ("maximum", (A, 0.0), {}),
    ("minimum", (A, B), {}),
    ("where", (A > 0, A, 0.0), {}),
    ("equal", (I32, 2), {}),
    ("not_equal", (A, B), {}),
    ("greater", (A, B), {}),
    ("less", (I32, 0), {}),
    ("greater_equal", (A, 0), {}),
    ("less_equal", (A, 0), {}),
    ("logical_and", (A > 0, B > 0), {}),
    ("logical_or", (A > 0, B > 0), {}),
    ("logical_not", (A > 0,), {}),
    ("cast", (A, "int32"), {}),
    ("cast", (I32, "float16"), {}),
    ("reshape", (A, (4, -1)), {}),
    ("expand_dims", (A, 1), {}),
    ("expand_dims", (A, -1), {}),
    ("squeeze", (A[:, :1],), {}),
    ("squeeze", (A[:, :1],), {"axis": 1}),
    ("transpose", (A,), {}),
    ("transpose", (A, (0, 2, 1)), {}),
    ("concatenate", ([A, A],), {"axis": -1}),
    ("stack", ([B, B, B],), {"axis": 1}),
    ("ones_like", (I32,), {}),
    ("zeros_like", (A,), {"dtype": "int32"}),
    ("one_hot", (LABELS, 4), {}),
    ("one_hot", (LABELS, 4), {"axis": 0}),
    ("take", (A, np.array([2, 0])), {"axis": 1}),
    ("take", (A, np.array([[1, 5]])), {}),
    ("take_along_axis", (B, np.argsort(B, axis=1)), {"axis": 1}),
    ("cumsum", (A,), {"axis": 1}),
    ("cumsum", (I32,), {}),
    ("sort", (A,), {}),
    ("sort", (A,), {"axis": 0}),
    ("argsort", (B,), {"axis": -1}),
    ("tile", (B, (2, 1)), {}),
    ("repeat", (B, 2), {"axis": 0}),
    ("repeat", (I32, 3), {}),
    ("flip", (A,), {"axis": 1}),
    ("flip", (B,), {}),
    ("pad", (B, ((1, 2), (0, 1))), {}),
    ("pad", (B, ((1, 1), (1, 1))), {"constant_values": 3.0}),
    ("pad", (B, ((2, 1), (1, 2))), {"mode": "reflect"}),
    ("norm", (A,), {}),
    ("norm", (B,), {"axis": 1}),
    ("norm", (B,), {"ord": 1, "axis": 0, "keepdims": True}),
    ("norm", (A,), {"axis": (1, 2)}),
    ("std", (A,), {"axis": 1}),
    ("var", (A,), {}),
    ("var", (I32,), {"axis": 1, "keepdims": True}),
    ("sign", (A,), {}),
    ("round", (A * 3,), {}),
    ("round", (A * 3,), {"decimals": 1}),
    ("floor", (A,), {}),
    ("ceil", (A,), {}),
    ("isnan", (np.array([1.0, np.nan, np.inf], "float32"),), {}),
    ("isfinite", (np.array([1.0, np.nan, np.inf], "float32"),), {}),
    ("stop_gradient", (torch.tensor(A),), {}),
    ("softmax", (A,), {}),
    ("softmax", (A,), {"axis": 1}),
    ("log_softmax", (A,), {"axis": -1}),
    ("relu", (A,), {}),
    ("sigmoid", (A,), {}),
    ("tanh", (A,), {}),
    ("gelu", (A,), {}),
    ("gelu", (A,), {"approximate": False}),
    ("silu", (A,), {}),
    ("elu", (A,), {"alpha": 0.5}),
    ("leaky_relu", (A,), {}),
    ("softplus", (A,), {}),
    ("conv", (IMAGES, KERNEL), {}),
    ("conv", (IMAGES, KERNEL), {"strides": 2, "padding": "same"}),
    ("conv", (IMAGES, KERNEL), {"padding": "same", "dilation_rate": 2}),
    ("max_pool", (IMAGES, 2), {}),
    ("max_pool", (IMAGES, 3), {"strides": 2, "padding": "same"}),
    ("average_pool", (IMAGES, 2), {}),
    ("average_pool", (IMAGES, 3), {"strides": 1, "padding": "same"}),
    ("average_pool", (IMAGES, 2), {"strides": 2, "padding": "same"}),
]


def _ids(cases: list) -> list[str]:
    return [f"{name}-{index}" for index, (name, _, _) in enumerate(cases)]


def _compare(ours, theirs) -> None:
    if isinstance(theirs, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(theirs)
        for mine, reference in zip(ours, theirs):
            _compare(mine, reference)
        return
    assert isinstance(ours, torch.Tensor)
    reference = keras.ops.convert_to_numpy(theirs)
    assert str(ours.dtype).removeprefix("torch.") == str(reference.dtype)
    assert tuple(ours.shape) == reference.shape
    np.testing.assert_allclose(ours.numpy(), reference, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(("name", "args", "kwargs"), CASES, ids=_ids(CASES))
def test_op_matches_keras(name, args, kwargs):
    _compare(getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs))


CREATION = [
    ("ones", ((2, 3),), {}),
    ("ones", (3,), {"dtype": "int32"}),
    ("zeros", ((2, 1),), {"dtype": "float16"}),
    ("full", ((2, 2), 7), {}),
    ("full", ((2,), 0.5), {}),
    ("arange", (5,), {}),
    ("arange", (1, 7, 2), {}),
    ("arange", (0.0, 1.0, 0.25), {}),
    ("linspace", (0, 1), {"num": 5}),
    ("linspace", (0, 1), {"num": 4, "endpoint": False}),
    ("eye", (3,), {}),
    ("eye", (3, 4), {"k": 1, "dtype": "int32"}),
    ("convert_to_tensor", ([1, 2],), {}),
    ("convert_to_tensor", ([1.0, 2.0],), {}),
    ("convert_to_tensor", (np.arange(3),), {}),
    ("convert_to_tensor", (2.5,), {"dtype": "float16"}),
]


@pytest.mark.parametrize(("name", "args", "kwargs"), CREATION, ids=_ids(CREATION))
def test_creation_op_matches_keras(name, args, kwargs):
    _compare(getattr(ops, name)(*args, **kwargs), getattr(keras.ops, name)(*args, **kwargs))


def test_split_top_k_and_shape_match_keras():
    _compare(ops.split(A, 2, axis=-1), keras.ops.split(A, 2, axis=-1))
    _compare(ops.split(B, [1, 3], axis=1), keras.ops.split(B, [1, 3], axis=1))
    _compare(ops.top_k(B, 2), keras.ops.top_k(B, 2))
    assert ops.shape(A) == keras.ops.shape(A) == (2, 3, 4)
    np.testing.assert_array_equal(ops.convert_to_numpy(ops.ones((2,))), np.ones(2))


def test_where_numpy_semantics_keras_torch_differs_from():
    """Negative indices, 'edge' padding and asymmetric 'same' average pooling, where Keras'
    torch backend fails or differs from NumPy/TensorFlow: NumPy is the oracle here."""
    np.testing.assert_array_equal(ops.take(A, np.array([[1, -1]])).numpy(), np.take(A, [[1, -1]]))
    widths = ((2, 1), (1, 2))
    np.testing.assert_array_equal(
        ops.pad(B, widths, mode="edge").numpy(), np.pad(B, widths, "edge")
    )
    np.testing.assert_array_equal(ops.pad(B, 1).numpy(), np.pad(B, 1))
    x = np.arange(12.0, dtype="float32").reshape(1, 4, 3, 1)
    pooled = ops.average_pool(x, (3, 2), strides=(2, 1), padding="same")[0, ..., 0].numpy()
    # TensorFlow's 'same': pad one row below and one column right, average real pixels only
    np.testing.assert_allclose(pooled, [[3.5, 4.5, 5.0], [8.0, 9.0, 9.5]])


def test_image_resize_matches_keras():
    for interpolation in ("bilinear", "nearest"):
        _compare(
            ops.image.resize(IMAGES, (5, 9), interpolation=interpolation),
            keras.ops.image.resize(IMAGES, (5, 9), interpolation=interpolation),
        )
    _compare(ops.image.resize(IMAGES[0], (14, 12)), keras.ops.image.resize(IMAGES[0], (14, 12)))


def test_ops_return_tensors_on_cnnkit_device_and_keep_gradients():
    x = torch.ones(3, requires_grad=True)
    ops.sum(ops.square(x)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0, 2.0])
    assert ops.mean(A).device == cnnkit.config.get_device()


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: ops.sum(A, axis=3), ValueError, "ops.sum: axis=3 is out of range"),
        (lambda: ops.mean(A, axis="x"), TypeError, "ops.mean: axis must be an int"),
        (lambda: ops.reshape(A, (5, 5)), ValueError, "ops.reshape: cannot reshape"),
        (lambda: ops.one_hot(LABELS, 0), ValueError, "ops.one_hot: num_classes"),
        (lambda: ops.cast(A, "float8"), TypeError, "dtype must be one of"),
        (lambda: ops.conv(IMAGES, KERNEL, padding="full"), ValueError, "ops.conv: padding"),
        (lambda: ops.pad(B, ((1, 1),) * 3), ValueError, "ops.pad: pad_width"),
        (lambda: ops.top_k(B, 9), ValueError, "ops.top_k: k must be"),
    ],
)
def test_bad_arguments_name_the_op_and_argument(call, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(")):
        call()
