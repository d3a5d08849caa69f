"""The bad-input battery (issue 10 part 4): every public entry point, fed wrong types, wrong
shapes, empty inputs, NaN/inf, out-of-range labels, zero or negative sizes, unknown strings and
misspelled keywords, must fail with a ValueError or TypeError (FileNotFoundError for a missing
path) whose message names the function or layer and the argument, what was given and what is
accepted - never a raw PyTorch/NumPy error, a hang or a crash.

Each case is (id, expected exception, regex, call). The regex names the argument (for a path,
the message names the path). ``call`` gets an ``Env`` with scratch files and folders; every
case also checks that the innermost frame of the traceback is cnnkit's (or the call itself,
for Python's own "unexpected keyword argument"), not torch's or NumPy's.

Cases marked ``xfail(strict=True)`` live in code owned elsewhere (the training loop, saving):
they document what still fails, and turn red once fixed so the mark is removed.

The helpers (scratch paths, a small model) are in bad_input_env.py; the command line's bad
arguments are checked in test_cli.py and random layer stacks in test_layer_stacks.py.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from bad_input_env import (
    KNN_X,
    KNN_Y,
    Env,
    X,
    Y,
    called,
    case,
    checkpoint_without_model,
    compiled,
    dense_with_max_norm_axis_5,
    early_stop_without_model,
    fit,
    knn,
    model,
    quietly,
    set_learning_rate,
)

import cnnkit
from cnnkit import (
    arithmetic,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    memory,
    metrics,
    neighbors,
    optimizers,
    regularizers,
    signal,
    utils,
)
from cnnkit.datasets import _locate
from cnnkit.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    Input,
    InputLayer,
    LeakyReLU,
    MaxPooling2D,
    ReLU,
    Softmax,
)
from cnnkit.models import Sequential, load_model

NAN, INF = float("nan"), float("inf")
IMAGE, KERNEL = np.ones((5, 5)), np.ones((3, 3))
_LIBRARY = Path(cnnkit.__file__).resolve().parent
_RAW_ERRORS = (RuntimeError, IndexError, KeyError, ArithmeticError, AttributeError)
# Python's own "unexpected keyword argument" is raised at the call, in the battery's files.
_BATTERY = {Path(__file__).resolve(), Path(__file__).resolve().with_name("bad_input_env.py")}


# ---------------------------------------------------------------------- the table
# One case per line, so the table reads as a table.
# fmt: off
LAYER_CASES = [
    # Conv2D: constructor arguments
    case("Conv2D-filters-zero", ValueError, r"Conv2D: filters must be a positive int\. Received: filters=0", lambda env: Conv2D(0, 3)),
    case("Conv2D-filters-float", TypeError, r"Conv2D: filters .*Received: filters=2\.5", lambda env: Conv2D(2.5, 3)),
    case("Conv2D-filters-string", TypeError, r"Conv2D: filters .*Received: filters='8'", lambda env: Conv2D("8", 3)),
    case("Conv2D-kernel_size-zero", ValueError, r"Conv2D: every value of kernel_size must be > 0", lambda env: Conv2D(2, 0)),
    case("Conv2D-kernel_size-negative", ValueError, r"Conv2D: every value of kernel_size .*kernel_size=\(3, -1\)", lambda env: Conv2D(2, (3, -1))),
    case("Conv2D-kernel_size-three-values", ValueError, r"Conv2D: kernel_size must be an int or a tuple of 2 ints", lambda env: Conv2D(2, (3, 3, 3))),
    case("Conv2D-kernel_size-float", TypeError, r"Conv2D: kernel_size .*Received: kernel_size=2\.5", lambda env: Conv2D(2, 2.5)),
    case("Conv2D-kernel_size-bool", TypeError, r"Conv2D: kernel_size .*kernel_size=True", lambda env: Conv2D(2, True)),
    case("Conv2D-strides-zero", ValueError, r"Conv2D: every value of strides must be > 0", lambda env: Conv2D(2, 3, strides=0)),
    case("Conv2D-dilation_rate-zero", ValueError, r"Conv2D: every value of dilation_rate", lambda env: Conv2D(2, 3, dilation_rate=0)),
    case("Conv2D-padding-unknown", ValueError, r"Conv2D: padding must be one of 'valid', 'same'\. Received: padding='full'", lambda env: Conv2D(2, 3, padding="full")),
    case("Conv2D-padding-int", TypeError, r"Conv2D: padding must be one of .*padding=1", lambda env: Conv2D(2, 3, padding=1)),
    case("Conv2D-data_format-unknown", ValueError, r"Conv2D: data_format must be one of .*'nhwc'", lambda env: Conv2D(2, 3, data_format="nhwc")),
    case("Conv2D-groups-not-dividing-filters", ValueError, r"Conv2D: filters must be a multiple of groups", lambda env: Conv2D(3, 3, groups=2)),
    case("Conv2D-groups-zero", ValueError, r"Conv2D: groups must be a positive int", lambda env: Conv2D(3, 3, groups=0)),
    case("Conv2D-strides-with-dilation", ValueError, r"Conv2D: strides > 1 cannot be combined with dilation_rate > 1", lambda env: Conv2D(2, 3, strides=2, dilation_rate=2)),
    case("Conv2D-activation-unknown", ValueError, r"Conv2D: unknown activation 'relux'.*Did you mean 'relu'", lambda env: Conv2D(2, 3, activation="relux")),
    case("Conv2D-activation-int", TypeError, r"Conv2D: activation must be .*activation=3", lambda env: Conv2D(2, 3, activation=3)),
    case("Conv2D-kernel_initializer-unknown", ValueError, r"Conv2D: unknown kernel_initializer 'glorot'", lambda env: Conv2D(2, 3, kernel_initializer="glorot")),
    case("Conv2D-kernel_initializer-int", TypeError, r"Conv2D: kernel_initializer must be .*kernel_initializer=3", lambda env: Conv2D(2, 3, kernel_initializer=3)),
    case("Conv2D-kernel_regularizer-unknown", ValueError, r"Conv2D: unknown kernel_regularizer 'l3'", lambda env: Conv2D(2, 3, kernel_regularizer="l3")),
    case("Conv2D-bias_constraint-misspelled", ValueError, r"Conv2D: unknown bias_constraint 'maxnorm'.*Did you mean 'max_norm'", lambda env: Conv2D(2, 3, bias_constraint="maxnorm")),
    case("Conv2D-misspelled-kernal_size", TypeError, r"Conv2D: unexpected keyword argument 'kernal_size'\. Did you mean 'kernel_size'\?", lambda env: Conv2D(2, kernal_size=3)),
    case("Conv2D-misspelled-filter", TypeError, r"Conv2D: unexpected keyword argument 'filter'\. Did you mean 'filters'\?", lambda env: Conv2D(filter=2, kernel_size=3)),
    case("Conv2D-missing-filters", TypeError, r"Conv2D: missing a required argument: 'filters'", lambda env: Conv2D()),
    case("Conv2D-name-with-dot", ValueError, r"Conv2D: name must be a non-empty string without '\.'\. Received: name='a\.b'", lambda env: Conv2D(2, 3, name="a.b")),
    case("Conv2D-dtype-int8", ValueError, r"Conv2D: dtype must be one of .*dtype='int8'", lambda env: Conv2D(2, 3, dtype="int8")),
    case("Conv2D-input_shape-negative", ValueError, r"Conv2D: input_shape must be a tuple of positive ints.*\(-1, 4, 1\)", lambda env: Conv2D(2, 3, input_shape=(-1, 4, 1))),
    case("Conv2D-batch_size-negative", ValueError, r"Conv2D: batch_size must be a positive int or None\. Received: batch_size=-1", lambda env: Conv2D(2, 3, batch_size=-1)),
    # Conv2D: inputs
    case("Conv2D-kernel-larger-than-input", ValueError, r"Conv2D 'conv2d': kernel_size \(5, 5\).*larger than the input height 4", lambda env: Sequential([Input((4, 4, 1)), Conv2D(2, 5)])),
    case("Conv2D-input-rank-3", ValueError, r"Conv2D 'conv2d' expects inputs of rank 4.*x\[\.\.\., None\]", lambda env: Conv2D(2, 3)(np.zeros((2, 8, 8)))),
    case("Conv2D-input-strings", TypeError, r"Conv2D 'conv2d': inputs must hold real numbers.*dtype <U1", lambda env: Conv2D(2, 3)(np.array([[["a"]]]))),
    case("Conv2D-input-ragged-list", TypeError, r"Conv2D 'conv2d': inputs must be a NumPy array or tensor of numbers", lambda env: Conv2D(2, 3)([[1.0], [1.0, 2.0]])),
    case("Conv2D-input-complex", TypeError, r"Conv2D 'conv2d': inputs must hold real numbers.*complex128", lambda env: Conv2D(2, 3)(np.zeros((1, 5, 5, 1), complex))),
    case("Conv2D-input-dict", TypeError, r"Conv2D 'conv2d': inputs must be a torch\.Tensor or a NumPy array\. Received: dict", lambda env: Conv2D(2, 3)({"x": 1})),
    case("Conv2D-built-then-image-too-small", ValueError, r"Conv2D 'conv2d': kernel_size \(3, 3\).*larger than the input height 2", lambda env: called(Conv2D(2, 3), np.zeros((1, 8, 8, 1)), np.zeros((1, 2, 2, 1)))),
    case("Conv2D-same-zero-height", ValueError, r"Conv2D 'conv2d': the input height must be at least 1", lambda env: Conv2D(2, 3, padding="same")(np.zeros((1, 0, 8, 1)))),
    case("Conv2D-built-then-zero-height", ValueError, r"Conv2D 'conv2d': the input height must be at least 1", lambda env: called(Conv2D(2, 3, padding="same"), np.zeros((1, 8, 8, 1)), np.zeros((1, 0, 8, 1)))),
    case("Conv2D-built-then-other-channels", ValueError, r"Conv2D 'conv2d' was built for 1 input channels; received inputs of shape \(1, 8, 8, 3\)", lambda env: called(Conv2D(2, 3), np.zeros((1, 8, 8, 1)), np.zeros((1, 8, 8, 3)))),
    case("Conv2D-channels-first-images", ValueError, r"look channels-first.*transpose\(0, 2, 3, 1\)", lambda env: model()(np.zeros((2, 1, 8, 8)))),
    case("Conv2D-unknown-channel-axis", ValueError, r"Conv2D 'conv2d': the channel axis of the input must be known", lambda env: Sequential([Input((5, 5, None)), Conv2D(4, 3)])),
    case("Conv2D-channels-not-multiple-of-groups", ValueError, r"input channels \(3\) must be a multiple of groups \(2\)", lambda env: Sequential([Input((5, 5, 3)), Conv2D(4, 3, groups=2)])),
    # Dense
    case("Dense-units-zero", ValueError, r"Dense: units must be a positive int\. Received: units=0", lambda env: Dense(0)),
    case("Dense-units-float", TypeError, r"Dense: units .*units=2\.5", lambda env: Dense(2.5)),
    case("Dense-units-string", TypeError, r"Dense: units .*units='10'", lambda env: Dense("10")),
    case("Dense-misspelled-unit", TypeError, r"Dense: unexpected keyword argument 'unit'\. Did you mean 'units'\?", lambda env: Dense(unit=10)),
    case("Dense-input_dim-zero", ValueError, r"Dense: input_shape must be a tuple of positive ints.*\(0,\)", lambda env: Dense(3, input_dim=0)),
    case("Dense-activity_regularizer-int", TypeError, r"Dense: activity_regularizer must be .*activity_regularizer=3", lambda env: Dense(3, activity_regularizer=3)),
    case("Dense-input-rank-1", ValueError, r"Dense 'dense' expects inputs of rank >= 2", lambda env: Dense(3)(np.zeros(4))),
    case("Dense-built-then-other-features", ValueError, r"Dense 'dense' expects inputs of shape \(batch, 8\); received shape \(1, 3\)", lambda env: called(Dense(2), np.zeros((1, 8)), np.zeros((1, 3)))),
    case("Dense-unknown-last-axis", ValueError, r"Dense 'dense' expects inputs of rank >= 2 with a known last axis", lambda env: Sequential([Input((None,)), Dense(4)])),
    # Flatten, Input
    case("Flatten-data_format-int", TypeError, r"Flatten: data_format must be one of .*data_format=3", lambda env: Flatten(data_format=3)),
    case("Flatten-input-rank-1", ValueError, r"Flatten 'flatten' expects inputs of rank >= 2", lambda env: Flatten()(np.zeros(3))),
    case("Flatten-misspelled-data_fromat", TypeError, r"Flatten: unexpected keyword argument 'data_fromat'\. Did you mean 'data_format'\?", lambda env: Flatten(data_fromat="channels_last")),
    case("InputLayer-no-shape", ValueError, r"InputLayer: shape is required", lambda env: InputLayer()),
    case("Input-shape-string", ValueError, r"InputLayer: shape must be a tuple of positive ints.*Received: shape='abc'", lambda env: Input("abc")),
    case("Input-shape-zero", ValueError, r"InputLayer: shape must be a tuple of positive ints.*shape=\(0, 3\)", lambda env: Input((0, 3))),
    case("Input-shape-float", ValueError, r"InputLayer: shape must be .*shape=\(2\.5, 3\)", lambda env: Input((2.5, 3))),
    case("Input-batch_size-zero", ValueError, r"InputLayer: batch_size must be a positive int or None\. Received: batch_size=0", lambda env: Input((3,), batch_size=0)),
    case("Input-batch_size-string", TypeError, r"InputLayer: batch_size must be .*batch_size='a'", lambda env: Input((3,), batch_size="a")),
    case("Input-name-empty", ValueError, r"InputLayer: name must be a non-empty string", lambda env: Input((3,), name="")),
    case("Input-misspelled-shap", TypeError, r"Input\(\) got an unexpected keyword argument 'shap'", lambda env: Input(shap=(3,))),
    # pooling
    case("MaxPooling2D-pool_size-zero", ValueError, r"MaxPooling2D: every value of pool_size must be > 0", lambda env: MaxPooling2D(0)),
    case("MaxPooling2D-pool_size-three-values", ValueError, r"MaxPooling2D: pool_size must be an int or a tuple of 2 ints", lambda env: MaxPooling2D((2, 2, 2))),
    case("MaxPooling2D-strides-zero", ValueError, r"MaxPooling2D: every value of strides must be > 0", lambda env: MaxPooling2D(2, strides=0)),
    case("MaxPooling2D-misspelled-pool_sise", TypeError, r"MaxPooling2D: unexpected keyword argument 'pool_sise'\. Did you mean 'pool_size'\?", lambda env: MaxPooling2D(pool_sise=2)),
    case("MaxPooling2D-pool-larger-than-input", ValueError, r"MaxPooling2D 'max_pooling2d': pool_size \(3, 3\) is larger than the input height 2", lambda env: Sequential([Input((2, 2, 1)), MaxPooling2D(3)])),
    case("MaxPooling2D-built-then-image-too-small", ValueError, r"MaxPooling2D 'max_pooling2d': pool_size \(2, 2\) is larger than the input height 1", lambda env: called(MaxPooling2D(2), np.zeros((1, 8, 8, 1)), np.zeros((1, 1, 1, 1)))),
    case("MaxPooling2D-same-zero-width", ValueError, r"MaxPooling2D 'max_pooling2d': the input width must be at least 1", lambda env: MaxPooling2D(2, padding="same")(np.zeros((1, 4, 0, 1)))),
    case("AveragePooling2D-padding-misspelled", ValueError, r"AveragePooling2D: padding must be one of .*Did you mean 'same'\?", lambda env: AveragePooling2D(padding="SAME!")),
    case("AveragePooling2D-data_format-unknown", ValueError, r"AveragePooling2D: data_format must be one of", lambda env: AveragePooling2D(data_format="x")),
    case("AveragePooling2D-input-rank-3", ValueError, r"AveragePooling2D 'average_pooling2d' expects inputs of rank 4", lambda env: AveragePooling2D()(np.zeros((1, 4, 4)))),
    case("GlobalAveragePooling2D-input-rank-2", ValueError, r"GlobalAveragePooling2D 'global_average_pooling2d' expects inputs of rank 4", lambda env: Sequential([Input((4,)), GlobalAveragePooling2D()])),
    case("GlobalMaxPooling2D-data_format-unknown", ValueError, r"GlobalMaxPooling2D: data_format must be one of .*'x'", lambda env: GlobalMaxPooling2D(data_format="x")),
    case("GlobalMaxPooling2D-misspelled-keep_dims", TypeError, r"GlobalMaxPooling2D: unexpected keyword argument 'keep_dims'\. Did you mean 'keepdims'\?", lambda env: GlobalMaxPooling2D(keep_dims=True)),
    # BatchNormalization, Dropout
    case("BatchNormalization-epsilon-zero", ValueError, r"BatchNormalization: epsilon must be a finite number > 0\. Received: epsilon=0", lambda env: BatchNormalization(epsilon=0)),
    case("BatchNormalization-epsilon-string", TypeError, r"BatchNormalization: epsilon .*epsilon='a'", lambda env: BatchNormalization(epsilon="a")),
    case("BatchNormalization-epsilon-nan", ValueError, r"BatchNormalization: epsilon .*epsilon=nan", lambda env: BatchNormalization(epsilon=NAN)),
    case("BatchNormalization-momentum-one", ValueError, r"BatchNormalization: momentum must be a float in \[0, 1\)", lambda env: BatchNormalization(momentum=1)),
    case("BatchNormalization-axis-string", TypeError, r"BatchNormalization: axis must be an int\. Received: axis='a'", lambda env: BatchNormalization(axis="a")),
    case("BatchNormalization-axis-out-of-range", ValueError, r"BatchNormalization 'batch_normalization': axis 7 is not a feature axis", lambda env: Sequential([Input((4, 4, 2)), BatchNormalization(axis=7)])),
    case("BatchNormalization-built-then-other-channels", ValueError, r"BatchNormalization 'batch_normalization' was built for 2 features on axis -1", lambda env: called(BatchNormalization(), np.zeros((2, 4, 4, 2)), np.zeros((2, 4, 4, 3)))),
    case("BatchNormalization-misspelled-momentun", TypeError, r"BatchNormalization: unexpected keyword argument 'momentun'\. Did you mean 'momentum'\?", lambda env: BatchNormalization(momentun=0.9)),
    case("Dropout-rate-one", ValueError, r"Dropout: rate must be a float in \[0, 1\)\. Received: rate=1\.0", lambda env: Dropout(1.0)),
    case("Dropout-rate-negative", ValueError, r"Dropout: rate .*rate=-0\.1", lambda env: Dropout(-0.1)),
    case("Dropout-rate-string", TypeError, r"Dropout: rate .*rate='a'", lambda env: Dropout("a")),
    case("Dropout-rate-nan", ValueError, r"Dropout: rate .*rate=nan", lambda env: Dropout(NAN)),
    case("Dropout-noise_shape", ValueError, r"Dropout: noise_shape is not supported", lambda env: Dropout(0.5, noise_shape=(1, 2))),
    case("Dropout-seed-string", TypeError, r"Dropout: seed must be an int >= 0 or None\. Received: seed='a'", lambda env: Dropout(0.5, seed="a")),
    case("Dropout-missing-rate", TypeError, r"Dropout: missing a required argument: 'rate'", lambda env: Dropout()),
    # activation layers and the base class
    case("Activation-unknown", ValueError, r"Activation: unknown activation 'sigmoidd'.*Did you mean 'sigmoid'\?", lambda env: Activation("sigmoidd")),
    case("Activation-int", TypeError, r"Activation: activation must be a name, a callable or None", lambda env: Activation(5)),
    case("ReLU-max_value-negative", ValueError, r"ReLU: max_value must be a finite number >= 0\. Received: max_value=-1", lambda env: ReLU(max_value=-1)),
    case("ReLU-max_value-nan", ValueError, r"ReLU: max_value .*max_value=nan", lambda env: ReLU(max_value=NAN)),
    case("ReLU-negative_slope-inf", ValueError, r"ReLU: negative_slope .*negative_slope=inf", lambda env: ReLU(negative_slope=INF)),
    case("ReLU-threshold-string", TypeError, r"ReLU: threshold .*threshold='a'", lambda env: ReLU(threshold="a")),
    case("LeakyReLU-negative_slope-nan", ValueError, r"LeakyReLU: negative_slope .*negative_slope=nan", lambda env: LeakyReLU(NAN)),
    case("LeakyReLU-keras2-alpha", TypeError, r"LeakyReLU: unexpected keyword argument 'alpha'.*Accepted: negative_slope", lambda env: LeakyReLU(alpha=0.3)),
    case("Softmax-axis-string", TypeError, r"Softmax: axis must be an int\. Received: axis='x'", lambda env: Softmax(axis="x")),
    case("Softmax-axis-out-of-range", ValueError, r"Softmax 'softmax': axis 5 is out of range for inputs of shape \(None, 3\)", lambda env: Sequential([Input((3,)), Softmax(axis=5)])),
    case("Softmax-built-then-rank-1", ValueError, r"Softmax 'softmax': axis 1 is out of range for inputs of shape \(3,\)", lambda env: called(Softmax(axis=1), np.zeros((2, 3)), np.zeros(3))),
    case("Layer-misspelled-nam", TypeError, r"Layer: unexpected keyword argument 'nam'\. Did you mean 'name'\?", lambda env: layers.Layer(nam="x")),
    case("Layer-set_weights-before-build", ValueError, r"Dense 'dense': set_weights expects 0 arrays", lambda env: Dense(2).set_weights([np.zeros((3, 2))])),
    case("Layer-set_weights-string", TypeError, r"Dense 'dense': set_weights: weights must be a list of NumPy arrays.*str", lambda env: called(Dense(2), np.zeros((1, 3))).set_weights("ab")),
    case("Layer-set_weights-wrong-shape", ValueError, r"Dense 'dense': weight 0 must have shape \(3, 2\); received \(2, 3\)", lambda env: called(Dense(2), np.zeros((1, 3))).set_weights([np.zeros((2, 3)), np.zeros(2)])),
    case("Layer-set_weights-nan", ValueError, r"Dense 'dense': set_weights: weights\[1\] contains NaN", lambda env: called(Dense(2), np.zeros((1, 3))).set_weights([np.zeros((3, 2)), np.full(2, NAN)])),
]

MODEL_CASES = [
    case("Sequential-layers-int", TypeError, r"Sequential: layers must be a list of layers\. Received: layers=5", lambda env: Sequential(5)),
    case("Sequential-layers-string", TypeError, r"Sequential: layers must be a list of layers\. Received: layers='abc'", lambda env: Sequential("abc")),
    case("Sequential-misspelled-layer", TypeError, r"Sequential: unexpected keyword argument 'layer'\. Did you mean 'layers'\?", lambda env: Sequential(layer=[])),
    case("Sequential.add-int", TypeError, r"Sequential\.add expects a cnnkit layer.*Received: 3 \(type int\)", lambda env: Sequential().add(3)),
    case("Sequential.add-layer-class", TypeError, r"Sequential\.add expects a cnnkit layer.*Received: <class .*Dense'>", lambda env: Sequential().add(Dense)),
    case("Sequential.add-itself", ValueError, r"Sequential\.add: a model cannot be added to itself", lambda env: (lambda m: m.add(m))(Sequential())),
    case("Sequential.add-second-Input", ValueError, r"Sequential\.add: an Input/InputLayer can only be the first layer", lambda env: Sequential([Input((3,)), Input((3,))])),
    case("Sequential.add-duplicate-name", ValueError, r"Sequential\.add: every layer of a model needs a unique name; 'a' is already used", lambda env: Sequential([Dense(2, name="a", input_shape=(3,)), Dense(2, name="a")])),
    case("Sequential.pop-empty", ValueError, r"Sequential\.pop: the model has no layers to remove", lambda env: Sequential().pop()),
    case("Sequential.get_layer-neither", ValueError, r"Sequential\.get_layer: provide exactly one of name or index", lambda env: model().get_layer()),
    case("Sequential.get_layer-unknown-name", ValueError, r"Sequential\.get_layer: no layer named 'conv'\. Layer names: \['conv2d'", lambda env: model().get_layer("conv")),
    case("Sequential.get_layer-index-out-of-range", ValueError, r"Sequential\.get_layer: index 10 is out of range for 3 layers", lambda env: model().get_layer(index=10)),
    case("Sequential.get_layer-index-string", TypeError, r"Sequential\.get_layer: index must be an int\. Received: index='1'", lambda env: model().get_layer(index="1")),
    case("Sequential.get_layer-name-int", TypeError, r"Sequential\.get_layer: name must be a string\. Received: name=3", lambda env: model().get_layer(name=3)),
    case("Sequential.set_weights-too-few", ValueError, r"Sequential 'sequential': set_weights expects 4 arrays .*received 0", lambda env: model().set_weights([])),
    case("Sequential.set_weights-int", TypeError, r"Sequential 'sequential': set_weights: weights must be a list of NumPy arrays.*int", lambda env: model().set_weights(5)),
    case("Sequential.set_weights-strings", TypeError, r"Conv2D 'conv2d': set_weights: weights\[0\] must hold real numbers", lambda env: model().set_weights([np.array(["a"])] * 4)),
    case("Sequential.set_weights-nan", ValueError, r"Conv2D 'conv2d': set_weights: weights\[0\] contains NaN", lambda env: (lambda m: m.set_weights([np.full(w.shape, NAN) for w in m.get_weights()]))(model())),
    case("Sequential.set_weights-not-built", ValueError, r"Sequential 'sequential': set_weights needs a built model", lambda env: Sequential([Dense(2)]).set_weights([])),
    case("Sequential.build-no-shape", ValueError, r"Sequential\.build needs input_shape", lambda env: Sequential([Dense(2)]).build()),
    case("Sequential.build-string", TypeError, r"Sequential\.build: input_shape must be a tuple .*input_shape='abc'", lambda env: Sequential([Dense(2)]).build("abc")),
    case("Sequential.build-int", TypeError, r"Sequential\.build: input_shape must be a tuple .*input_shape=5", lambda env: Sequential([Dense(2)]).build(5)),
    case("Sequential.build-negative", ValueError, r"Sequential\.build: input_shape .*input_shape=\(None, -3\)", lambda env: Sequential([Dense(2)]).build((None, -3))),
    case("Sequential.build-batch-axis-only", ValueError, r"Sequential\.build: input_shape .*needs the batch axis and at least one more", lambda env: Sequential([Dense(2)]).build((None,))),
    case("Sequential.build-rank-3-for-Conv2D", ValueError, r"Conv2D 'conv2d' expects inputs of rank 4", lambda env: Sequential([Conv2D(2, 3)]).build((None, 8, 8))),
    case("Sequential.summary-not-built", ValueError, r"Sequential 'sequential': summary needs a built model", lambda env: Sequential([Dense(2)]).summary()),
    case("Sequential.summary-line_length-string", TypeError, r"summary: line_length must be an int >= 1 or None\. Received: line_length='a'", lambda env: model().summary(line_length="a")),
    case("Sequential.summary-line_length-zero", ValueError, r"summary: line_length .*line_length=0", lambda env: model().summary(line_length=0)),
    case("Sequential.summary-print_fn-int", TypeError, r"summary: print_fn must be a function .*print_fn=3", lambda env: model().summary(print_fn=3)),
    case("Sequential.summary-batch_size-zero", ValueError, r"summary: batch_size must be an int >= 1", lambda env: model().summary(batch_size=0)),
    case("Sequential.summary-misspelled-line_lenght", TypeError, r"summary\(\) got an unexpected keyword argument 'line_lenght'", lambda env: model().summary(line_lenght=80)),
    case("Sequential.call-string", TypeError, r"Sequential 'sequential': inputs must be a torch\.Tensor or a NumPy array\. Received: str", lambda env: model()("abc")),
    case("Sequential.call-rank-3", ValueError, r"Conv2D 'conv2d' expects inputs of rank 4", lambda env: model()(np.zeros((2, 8, 8)))),
    case("Sequential.call-other-size", ValueError, r"Dense 'dense' expects inputs of shape \(batch, 72\); received shape \(2, 98\)", lambda env: model()(np.zeros((2, 9, 9, 1)))),
    # compile, optimizers, losses, metrics
    case("fit-compiled-without-loss", ValueError, r"compute_loss: there is no loss to compute", lambda env: (lambda m: (m.compile("adam"), m.fit(np.zeros((2, 8, 8, 1)), np.zeros(2), verbose=0)))(model())),
    case("compile-optimizer-misspelled", ValueError, r"compile: unknown optimizer 'adamm'.*Did you mean 'adam'\?", lambda env: model().compile("adamm", "mse")),
    case("compile-optimizer-int", TypeError, r"compile: optimizer must be a name or an optimizer object\. Received: optimizer=3", lambda env: model().compile(3, "mse")),
    case("compile-loss-unknown", ValueError, r"compile: unknown loss 'crossentropy'", lambda env: model().compile("adam", "crossentropy")),
    case("compile-loss-int", TypeError, r"compile: loss must be a name, a Loss or a callable\. Received: loss=3", lambda env: model().compile("adam", 3)),
    case("compile-metrics-string", TypeError, r"compile: metrics must be a list.*metrics='accuracy'", lambda env: model().compile("adam", "mse", metrics="accuracy")),
    case("compile-metric-misspelled", ValueError, r"compile: unknown metric 'acuracy'.*Did you mean 'accuracy'\?", lambda env: model().compile("adam", "mse", metrics=["acuracy"])),
    case("compile-metric-int", TypeError, r"compile: metric must be a name, a Metric or a callable\. Received: metric=3", lambda env: model().compile("adam", "mse", metrics=[3])),
    case("compile-misspelled-optimiser", TypeError, r"compile\(\) got an unexpected keyword argument 'optimiser'", lambda env: model().compile(optimiser="adam", loss="mse")),
    case("Adam-learning_rate-negative", ValueError, r"Adam: learning_rate must be a finite number > 0\. Received: learning_rate=-1", lambda env: optimizers.Adam(learning_rate=-1)),
    case("Adam-learning_rate-nan", ValueError, r"Adam: learning_rate .*learning_rate=nan", lambda env: optimizers.Adam(learning_rate=NAN)),
    case("SGD-learning_rate-string", TypeError, r"SGD: learning_rate .*learning_rate='fast'", lambda env: optimizers.SGD(learning_rate="fast")),
    case("SGD-momentum-one", ValueError, r"SGD: momentum must be a finite number in \[0, 1\)\. Received: momentum=1\.0", lambda env: optimizers.SGD(momentum=1.0)),
    case("Adam-beta_1-string", TypeError, r"Adam: beta_1 .*beta_1='a'", lambda env: optimizers.Adam(beta_1="a")),
    case("Adam-epsilon-negative", ValueError, r"Adam: epsilon .*epsilon=-1", lambda env: optimizers.Adam(epsilon=-1)),
    case("RMSprop-rho-two", ValueError, r"RMSprop: rho .*rho=2", lambda env: optimizers.RMSprop(rho=2)),
    case("Adagrad-initial_accumulator_value-negative", ValueError, r"Adagrad: initial_accumulator_value .*=-1", lambda env: optimizers.Adagrad(initial_accumulator_value=-1)),
    case("AdamW-weight_decay-negative", ValueError, r"AdamW: weight_decay .*weight_decay=-0\.1", lambda env: optimizers.AdamW(weight_decay=-0.1)),
    case("Adam-misspelled-learningrate", TypeError, r"unexpected keyword argument 'learningrate'", lambda env: optimizers.Adam(learningrate=0.1)),
    case("Adam.learning_rate-set-string", TypeError, r"Adam: learning_rate .*learning_rate='a'", lambda env: set_learning_rate("a")),
    case("CategoricalCrossentropy-label_smoothing-two", ValueError, r"CategoricalCrossentropy: label_smoothing .*label_smoothing=2", lambda env: losses.CategoricalCrossentropy(label_smoothing=2)),
    case("SparseCategoricalCrossentropy-ignore_class-string", TypeError, r"SparseCategoricalCrossentropy: ignore_class .*ignore_class='a'", lambda env: losses.SparseCategoricalCrossentropy(ignore_class="a")),
    case("CategoricalCrossentropy-call-shapes", ValueError, r"CategoricalCrossentropy: y_true of shape \(2, 3\) does not fit y_pred of shape \(2, 4\)", lambda env: losses.CategoricalCrossentropy()(torch.zeros(2, 3), torch.zeros(2, 4))),
    case("MeanSquaredError-call-shapes", ValueError, r"MeanSquaredError: y_true of shape \(2, 3\) does not fit y_pred of shape \(4, 5\)", lambda env: losses.MeanSquaredError()(torch.zeros(2, 3), torch.zeros(4, 5))),
    case("TopKCategoricalAccuracy-k-zero", ValueError, r"TopKCategoricalAccuracy: k must be an int >= 1\. Received: k=0", lambda env: metrics.TopKCategoricalAccuracy(k=0)),
    case("BinaryAccuracy-threshold-string", TypeError, r"BinaryAccuracy: threshold .*threshold='a'", lambda env: metrics.BinaryAccuracy(threshold="a")),
    case("Precision-thresholds-two", ValueError, r"Precision: thresholds .*thresholds=2", lambda env: metrics.Precision(thresholds=2)),
    # initializers, regularizers, constraints
    case("RandomUniform-maxval-below-minval", ValueError, r"RandomUniform: maxval must be a finite number >= 1.*maxval=0", lambda env: initializers.RandomUniform(minval=1, maxval=0)),
    case("RandomNormal-stddev-negative", ValueError, r"RandomNormal: stddev .*stddev=-1", lambda env: initializers.RandomNormal(stddev=-1)),
    case("Constant-value-string", TypeError, r"Constant: value .*value='a'", lambda env: initializers.Constant("a")),
    case("GlorotUniform-seed-string", TypeError, r"GlorotUniform: seed .*seed='a'", lambda env: initializers.GlorotUniform(seed="a")),
    case("VarianceScaling-mode-unknown", ValueError, r"VarianceScaling: mode must be one of .*Did you mean 'fan_in'\?", lambda env: initializers.VarianceScaling(mode="fan")),
    case("L1-negative", ValueError, r"L1: l1 must be a finite float >= 0\. Received: l1=-1", lambda env: regularizers.L1(-1)),
    case("L1L2-l2-nan", ValueError, r"L1L2: l2 .*l2=nan", lambda env: regularizers.L1L2(l2=NAN)),
    case("MaxNorm-max_value-string", TypeError, r"MaxNorm: max_value .*max_value='a'", lambda env: constraints.MaxNorm("a")),
    case("MinMaxNorm-max-below-min", ValueError, r"MinMaxNorm: max_value .*max_value=1", lambda env: constraints.MinMaxNorm(2, 1)),
    case("UnitNorm-axis-string", TypeError, r"UnitNorm: axis must be an int or a sequence of ints\. Received: axis='a'", lambda env: constraints.UnitNorm(axis="a")),
    case("MaxNorm-axis-out-of-range", ValueError, r"MaxNorm: axis 5 is out of range for weights of shape \(3, 2\)", lambda env: dense_with_max_norm_axis_5()),
]

TRAINING_CASES = [
    case("fit-not-compiled", ValueError, r"fit: the model must be compiled first", lambda env: model().fit(X, Y, verbose=0)),
    case("fit-x-none", ValueError, r"fit: x is required", lambda env: fit(None)),
    case("fit-x-empty", ValueError, r"fit: x is empty \(shape \(0, 8, 8, 1\)\)", lambda env: fit(np.zeros((0, 8, 8, 1)), np.zeros(0))),
    case("fit-x-nan", ValueError, r"fit: x contains 256 NaN or infinite values", lambda env: fit(np.full((4, 8, 8, 1), NAN))),
    case("fit-x-inf", ValueError, r"fit: x contains 1 NaN or infinite values", lambda env: fit(np.where(np.arange(256).reshape(4, 8, 8, 1) == 5, INF, 0.0))),
    case("fit-labels-out-of-range", ValueError, r"fit: labels must be class indices 0\.\.2 for a model with 3 outputs; received labels from 0 to 5", lambda env: fit(y=np.array([0, 1, 2, 5]))),
    case("fit-labels-negative", ValueError, r"fit: labels must be class indices 0\.\.2 .*from -1 to 2", lambda env: fit(y=np.array([0, 1, 2, -1]))),
    case("fit-labels-fractional", ValueError, r"fit: sparse_categorical_crossentropy expects integer class labels", lambda env: fit(y=np.array([0, 1, 2, 0.5]))),
    case("fit-labels-one-hot-for-sparse-loss", ValueError, r"fit: .*received y of shape \(4, 3\), which looks one-hot", lambda env: fit(y=np.eye(3)[[0, 1, 2, 0]])),
    case("fit-labels-integer-for-categorical-loss", ValueError, r"fit: categorical_crossentropy expects one-hot labels.*to_categorical\(y, 3\)", lambda env: fit(loss="categorical_crossentropy")),
    case("fit-labels-one-hot-wrong-columns", ValueError, r"fit: the model has 3 outputs but the one-hot labels have 4 columns", lambda env: fit(y=np.eye(4)[[0, 1, 2, 0]], loss="categorical_crossentropy")),
    case("fit-x-y-lengths", ValueError, r"fit: x and y must have the same number of samples; received x with 4 and y with 3", lambda env: fit(y=Y[:3])),
    case("fit-x-wrong-size", ValueError, r"fit: the model expects inputs of shape \(8, 8, 1\).*received x of shape \(4, 9, 9, 1\)", lambda env: fit(np.zeros((4, 9, 9, 1)))),
    case("fit-x-missing-channel-axis", ValueError, r"fit: .*received x of shape \(4, 8, 8\) - the channel axis is missing", lambda env: fit(np.zeros((4, 8, 8)))),
    case("fit-x-ragged", TypeError, r"x must be a NumPy array or a tensor; could not convert list", lambda env: fit([[1, 2], [3]])),
    case("fit-y-strings", TypeError, r"y must hold numbers; received an array of dtype <U1", lambda env: fit(y=np.array(["a", "b", "c", "d"]))),
    case("fit-batch_size-zero", ValueError, r"fit: batch_size must be an int >= 1\. Received: batch_size=0", lambda env: fit(batch_size=0)),
    case("fit-batch_size-float", TypeError, r"fit: batch_size must be an int >= 1\. Received: batch_size=2\.5", lambda env: fit(batch_size=2.5)),
    case("fit-epochs-negative", ValueError, r"fit: epochs must be an int >= 0\. Received: epochs=-1", lambda env: fit(epochs=-1)),
    case("fit-verbose-seven", ValueError, r"verbose must be one of 0, 1, 2, 'auto'\. Received: verbose=7", lambda env: compiled().fit(X, Y, verbose=7)),
    case("fit-validation_split-one", ValueError, r"fit: validation_split must be a float in \(0, 1\)\. Received: validation_split=1\.0", lambda env: fit(validation_split=1.0)),
    case("fit-validation_split-string", ValueError, r"fit: validation_split .*validation_split='a'", lambda env: fit(validation_split="a")),
    case("fit-validation_data-one-item", ValueError, r"fit: validation_data must be \(x_val, y_val\)", lambda env: fit(validation_data=(X,))),
    case("fit-validation_data-nan", ValueError, r"fit \(validation data\): x contains 256 NaN", lambda env: fit(validation_data=(np.full_like(X, NAN), Y))),
    case("fit-validation_data-labels-out-of-range", ValueError, r"fit \(validation data\): labels must be class indices 0\.\.2", lambda env: fit(validation_data=(X, Y + 7))),
    case("fit-class_weight-list", TypeError, r"fit: class_weight must be a dict", lambda env: fit(class_weight=[1, 2, 3])),
    case("fit-sample_weight-wrong-length", ValueError, r"fit: sample_weight must have shape \(4,\)", lambda env: fit(sample_weight=np.ones(3))),
    case("fit-callbacks-int", TypeError, r"callbacks must be a list or tuple of callbacks or None", lambda env: fit(callbacks=3)),
    case("fit-callbacks-object", TypeError, r"every callback must be a Callback", lambda env: fit(callbacks=[object()])),
    case("fit-callbacks-not-a-list", TypeError, r"callbacks must be a list or tuple .*EarlyStopping", lambda env: fit(callbacks=callbacks.EarlyStopping(monitor="loss"))),
    case("fit-misspelled-epoch", TypeError, r"fit\(\) got an unexpected keyword argument 'epoch'", lambda env: fit(epoch=2)),
    case("fit-Dataset-with-y", ValueError, r"fit: y must be None when x is a Dataset", lambda env: fit(torch.utils.data.TensorDataset(torch.zeros(4, 8, 8, 1), torch.zeros(4)), Y)),
    case("evaluate-not-compiled", ValueError, r"evaluate: the model must be compiled first", lambda env: model().evaluate(X, Y, verbose=0)),
    case("evaluate-x-nan", ValueError, r"evaluate: x contains 256 NaN", lambda env: compiled().evaluate(np.full_like(X, NAN), Y, verbose=0)),
    case("evaluate-labels-out-of-range", ValueError, r"evaluate: labels must be class indices 0\.\.2 .*from 3 to 5", lambda env: compiled().evaluate(X, Y + 3, verbose=0)),
    case("evaluate-x-empty", ValueError, r"evaluate: x is empty", lambda env: compiled().evaluate(np.zeros((0, 8, 8, 1)), np.zeros(0), verbose=0)),
    case("evaluate-batch_size-negative", ValueError, r"evaluate: batch_size .*batch_size=-1", lambda env: compiled().evaluate(X, Y, batch_size=-1, verbose=0)),
    case("evaluate-misspelled-batchsize", TypeError, r"evaluate\(\) got an unexpected keyword argument 'batchsize'", lambda env: compiled().evaluate(X, Y, batchsize=2)),
    case("predict-x-none", ValueError, r"predict: x is required", lambda env: model().predict(None, verbose=0)),
    case("predict-x-empty", ValueError, r"predict: x is empty", lambda env: model().predict(np.zeros((0, 8, 8, 1)), verbose=0)),
    case("predict-x-nan", ValueError, r"predict: x contains 256 NaN", lambda env: model().predict(np.full_like(X, NAN), verbose=0)),
    case("predict-x-three-channels", ValueError, r"predict: the model expects inputs of shape \(8, 8, 1\).*3 channels", lambda env: model().predict(np.zeros((4, 8, 8, 3)), verbose=0)),
    case("predict-batch_size-zero", ValueError, r"predict: batch_size .*batch_size=0", lambda env: model().predict(X, batch_size=0, verbose=0)),
    case("predict-x-string", TypeError, r"x must hold numbers; received an array of dtype <U3", lambda env: model().predict("abc", verbose=0)),
    case("predict-misspelled-batchsize", TypeError, r"predict\(\) got an unexpected keyword argument 'batchsize'", lambda env: model().predict(X, batchsize=2)),
    case("predict-unbuilt-rank-3", ValueError, r"Conv2D 'conv2d' expects inputs of rank 4", lambda env: Sequential([Conv2D(2, 3), Flatten(), Dense(2)]).predict(np.zeros((2, 8, 8)), verbose=0)),
    # The training loop belongs to another developer: these document what it still lets through.
    case("fit-class_weight-string-key", TypeError, r"fit: class_weight", lambda env: fit(class_weight={"a": 2.0})),
    case("fit-class_weight-negative-key", ValueError, r"fit: class_weight", lambda env: fit(class_weight={-1: 2.0})),
    case("fit-sample_weight-nan", ValueError, r"fit: sample_weight", lambda env: fit(sample_weight=np.array([1, 1, 1, NAN]))),
    case("fit-initial_epoch-negative", ValueError, r"fit: initial_epoch", lambda env: fit(initial_epoch=-1)),
    case("fit-initial_epoch-string", (ValueError, TypeError), r"fit: initial_epoch", lambda env: fit(initial_epoch="a")),
    case("fit-steps_per_epoch-zero", ValueError, r"fit: steps_per_epoch", lambda env: fit(steps_per_epoch=0)),
    case("fit-steps_per_epoch-string", (ValueError, TypeError), r"fit: steps_per_epoch", lambda env: fit(steps_per_epoch="a")),
    case("fit-validation_freq-zero", ValueError, r"fit: validation_freq", lambda env: fit(validation_data=(X, Y), validation_freq=0)),
    case("fit-validation_batch_size-zero", ValueError, r"fit: validation_batch_size", lambda env: fit(validation_data=(X, Y), validation_batch_size=0)),
    case("fit-y-nan-mse", ValueError, r"fit: y contains .*NaN", lambda env: fit(y=np.full((4, 3), NAN), loss="mse")),
    case("fit-x-strings-names-fit", TypeError, r"fit: x must hold numbers", lambda env: fit(np.array([["a"]] * 4))),
    case("evaluate-without-y", ValueError, r"evaluate: y", lambda env: compiled().evaluate(X, verbose=0)),
]

CALLBACK_CASES = [
    case("EarlyStopping-patience-negative", ValueError, r"EarlyStopping: patience must be an int >= 0\. Received: patience=-1", lambda env: callbacks.EarlyStopping(patience=-1)),
    case("EarlyStopping-patience-string", TypeError, r"EarlyStopping: patience must be an int >= 0\. Received: patience='3'", lambda env: callbacks.EarlyStopping(patience="3")),
    case("EarlyStopping-mode-unknown", ValueError, r"EarlyStopping: mode must be one of 'auto', 'min', 'max'\. Received: mode='minimum'", lambda env: callbacks.EarlyStopping(mode="minimum")),
    case("EarlyStopping-monitor-int", TypeError, r"EarlyStopping: monitor must be a non-empty log key", lambda env: callbacks.EarlyStopping(monitor=3)),
    case("EarlyStopping-monitor-no-direction", ValueError, r"EarlyStopping: cannot tell whether monitor='foo' should be minimised", lambda env: callbacks.EarlyStopping(monitor="foo")),
    case("EarlyStopping-min_delta-nan", ValueError, r"EarlyStopping: min_delta must be a finite number\. Received: min_delta=nan", lambda env: callbacks.EarlyStopping(min_delta=NAN)),
    case("EarlyStopping-baseline-string", TypeError, r"EarlyStopping: baseline must be a number or None", lambda env: callbacks.EarlyStopping(baseline="a")),
    case("EarlyStopping-verbose-string", TypeError, r"EarlyStopping: verbose must be an int >= 0\. Received: verbose='a'", lambda env: callbacks.EarlyStopping(verbose="a")),
    case("EarlyStopping-misspelled-patiense", TypeError, r"EarlyStopping.__init__\(\) got an unexpected keyword argument 'patiense'", lambda env: callbacks.EarlyStopping(patiense=3)),
    case("EarlyStopping-hooks-without-model", ValueError, r"EarlyStopping: no model is set.*set_model\(model\)", lambda env: early_stop_without_model()),
    case("EarlyStopping.load_state_dict-wrong-keys", ValueError, r"EarlyStopping\.load_state_dict: state must have exactly the keys", lambda env: callbacks.EarlyStopping().load_state_dict({"x": 1})),
    case("ModelCheckpoint-filepath-none", TypeError, r"ModelCheckpoint: filepath must be a str or path", lambda env: callbacks.ModelCheckpoint(None)),
    case("ModelCheckpoint-filepath-empty", ValueError, r"ModelCheckpoint: filepath must name a file", lambda env: callbacks.ModelCheckpoint("")),
    case("ModelCheckpoint-filepath-folder", ValueError, r"ModelCheckpoint: filepath must name a file, not an existing folder", lambda env: callbacks.ModelCheckpoint(env.folder("ckpts"))),
    case("ModelCheckpoint-filepath-bad-format", ValueError, r"ModelCheckpoint: filepath is not a valid format string", lambda env: callbacks.ModelCheckpoint(env.missing("m{epoch.keras"))),
    case("ModelCheckpoint-save_freq-zero", ValueError, r"ModelCheckpoint: save_freq must be an int >= 1\. Received: save_freq=0", lambda env: callbacks.ModelCheckpoint(env.missing("m.keras"), save_freq=0)),
    case("ModelCheckpoint-save_freq-string", TypeError, r"ModelCheckpoint: save_freq must be an int >= 1\. Received: save_freq='batch'", lambda env: callbacks.ModelCheckpoint(env.missing("m.keras"), save_freq="batch")),
    case("ModelCheckpoint-period-zero", ValueError, r"ModelCheckpoint: period must be an int >= 1", lambda env: callbacks.ModelCheckpoint(env.missing("m.keras"), period=0)),
    case("ModelCheckpoint-hooks-without-model", ValueError, r"ModelCheckpoint: no model is set", lambda env: checkpoint_without_model(env)),
    case("ReduceLROnPlateau-factor-one", ValueError, r"ReduceLROnPlateau: factor must be a finite number in \[0, 1\)\. Received: factor=1\.0", lambda env: callbacks.ReduceLROnPlateau(factor=1.0)),
    case("ReduceLROnPlateau-min_lr-negative", ValueError, r"ReduceLROnPlateau: min_lr must be a finite number >= 0", lambda env: callbacks.ReduceLROnPlateau(min_lr=-1)),
    case("ReduceLROnPlateau-cooldown-negative", ValueError, r"ReduceLROnPlateau: cooldown must be an int >= 0", lambda env: callbacks.ReduceLROnPlateau(cooldown=-1)),
    case("ReduceLROnPlateau-without-optimizer", ValueError, r"ReduceLROnPlateau needs a model whose optimizer has a learning_rate", lambda env: callbacks.ReduceLROnPlateau(monitor="loss").on_epoch_end(0, {"loss": 1.0})),
    case("LearningRateScheduler-schedule-number", TypeError, r"LearningRateScheduler: schedule must be a function", lambda env: callbacks.LearningRateScheduler(0.1)),
    case("LearningRateScheduler-schedule-returns-nan", ValueError, r"LearningRateScheduler: schedule must return a finite float >= 0\. Received: nan", lambda env: fit(callbacks=[callbacks.LearningRateScheduler(lambda epoch: NAN)])),
    case("CSVLogger-filename-none", TypeError, r"CSVLogger: filename must be a non-empty path", lambda env: callbacks.CSVLogger(None)),
    case("CSVLogger-separator-two-chars", ValueError, r"CSVLogger: separator must be a single character", lambda env: callbacks.CSVLogger(env.missing("log.csv"), separator=",,")),
    case("LambdaCallback-unknown-hook", TypeError, r"LambdaCallback: unknown hook 'on_epoch_ed'", lambda env: callbacks.LambdaCallback(on_epoch_ed=print)),
    case("LambdaCallback-hook-not-callable", TypeError, r"LambdaCallback: on_epoch_end must be a function", lambda env: callbacks.LambdaCallback(on_epoch_end=3)),
    case("TensorBoard-log_dir-none", TypeError, r"TensorBoard: log_dir must be a non-empty path", lambda env: callbacks.TensorBoard(log_dir=None)),
    case("TensorBoard-update_freq-unknown", ValueError, r"TensorBoard: update_freq must be 'epoch', 'batch' or an int >= 1", lambda env: callbacks.TensorBoard(log_dir=env.root, update_freq="step")),
    case("TensorBoard-histogram_freq-negative", ValueError, r"TensorBoard: histogram_freq must be an int >= 0", lambda env: callbacks.TensorBoard(log_dir=env.root, histogram_freq=-1)),
    case("Progbar-target-string", TypeError, r"Progbar: target must be an int >= 0 or None", lambda env: callbacks.Progbar("a")),
    case("Progbar-target-negative", ValueError, r"Progbar: target must be an int >= 0 or None\. Received: target=-5", lambda env: callbacks.Progbar(-5)),
    case("Progbar-width-zero", ValueError, r"Progbar: width must be an int >= 1", lambda env: callbacks.Progbar(10, width=0)),
    case("Progbar-verbose-five", ValueError, r"Progbar: verbose must be one of 0, 1, 2, 'auto'\. Received: verbose=5", lambda env: callbacks.Progbar(10, verbose=5)),
    case("Progbar.update-current-string", TypeError, r"Progbar\.update: current must be an int >= 0\. Received: current='a'", lambda env: callbacks.Progbar(10, stream=io.StringIO()).update("a")),
    case("CallbackList-callbacks-int", TypeError, r"CallbackList: callbacks must be a list or tuple", lambda env: callbacks.CallbackList(3)),
    case("History.load_state_dict-not-a-dict", TypeError, r"History\.load_state_dict: state must be a dict", lambda env: callbacks.History().load_state_dict(3)),
]

DATA_CASES = [
    case("cifar100.load_data-label_mode-unknown", ValueError, r"cifar100\.load_data: label_mode must be 'fine' or 'coarse'\. Received: label_mode='medium'", lambda env: datasets.cifar100.load_data("medium")),
    case("cifar100.load_data-misspelled-labelmode", TypeError, r"load_data\(\) got an unexpected keyword argument 'labelmode'", lambda env: datasets.cifar100.load_data(labelmode="fine")),
    case("mnist.load_data-files-missing", FileNotFoundError, r"(?s)MNIST is not on this machine.*train-images-idx3-ubyte\.gz", lambda env: datasets.mnist.load_data()),
    case("cifar10.load_data-files-missing", FileNotFoundError, r"(?s)CIFAR-10 is not on this machine.*cifar-10-binary\.tar\.gz", lambda env: datasets.cifar10.load_data()),
    case("digits.load_data-image_size-zero", ValueError, r"digits\.load_data: image_size sides must be at least 1\. Received: image_size=\(0, 8\)", lambda env: datasets.digits.load_data(image_size=(0, 8))),
    case("digits.load_data-image_size-int", TypeError, r"digits\.load_data: image_size must be None or a pair of integers", lambda env: datasets.digits.load_data(image_size=8)),
    case("digits.load_data-interpolation-unknown", ValueError, r"digits\.load_data: interpolation must be one of 'bilinear', 'nearest'\. Received: interpolation='cubic'", lambda env: datasets.digits.load_data(interpolation="cubic")),
    case("image_folder-path-missing", FileNotFoundError, r"image_folder: image folder '.*missing' does not exist", lambda env: datasets.image_folder(env.missing())),
    case("image_folder-path-int", TypeError, r"image_folder: path must be a directory path\. Received: path=3", lambda env: datasets.image_folder(3)),
    case("image_folder-path-is-a-file", ValueError, r"image_folder: path must be a directory with one sub-folder per class; '.*notes\.txt' is a file", lambda env: datasets.image_folder(env.file())),
    case("image_folder-no-class-folders", ValueError, r"image_folder: .* has no class sub-folders", lambda env: datasets.image_folder(env.folder("empty"))),
    case("image_folder-class-without-images", ValueError, r"image_folder: class folder\(s\) 'cat' .*hold no image files", lambda env: datasets.image_folder(env.class_without_images())),
    case("image_folder-undecodable-image", ValueError, r"image_folder: cannot read image file .*a\.png.*on_error='skip'", lambda env: datasets.image_folder(env.garbage_images())),
    case("image_folder-nothing-readable", ValueError, r"image_folder: none of the 1 image files could be read", lambda env: quietly(lambda: datasets.image_folder(env.garbage_images(), on_error="skip"))),
    case("image_folder-on_error-unknown", ValueError, r"image_folder: on_error must be 'raise' or 'skip'\. Received: on_error='ignore'", lambda env: datasets.image_folder(env.garbage_images(), on_error="ignore")),
    case("image_folder-color_mode-unknown", ValueError, r"image_folder: color_mode must be one of 'rgb', 'grayscale', 'rgba'\. Received: color_mode='bw'", lambda env: datasets.image_folder(env.garbage_images(), color_mode="bw")),
    case("image_folder-validation_split-too-big", ValueError, r"image_folder: validation_split must be between 0 and 1\. Received: validation_split=1\.5", lambda env: datasets.image_folder(env.garbage_images(), validation_split=1.5, subset="training", seed=1)),
    case("image_folder-validation_split-string", TypeError, r"image_folder: validation_split must be a float in \(0, 1\)", lambda env: datasets.image_folder(env.garbage_images(), validation_split="a", subset="training", seed=1)),
    case("image_folder-subset-unknown", ValueError, r"image_folder: subset must be one of .*Received: subset='train'", lambda env: datasets.image_folder(env.garbage_images(), validation_split=0.2, subset="train", seed=1)),
    case("image_folder-subset-without-split", ValueError, r"image_folder: If subset is set, validation_split must be set", lambda env: datasets.image_folder(env.garbage_images(), subset="training")),
    case("image_folder-split-without-seed", ValueError, r"image_folder: validation_split with shuffling needs a seed", lambda env: datasets.image_folder(env.garbage_images(), validation_split=0.2, subset="training")),
    case("image_folder-seed-string", TypeError, r"image_folder: seed must be an integer or None\. Received: seed='a'", lambda env: datasets.image_folder(env.garbage_images(), validation_split=0.2, subset="training", seed="a")),
    case("image_folder-class_names-string", TypeError, r"image_folder: class_names must be a list of folder names", lambda env: datasets.image_folder(env.garbage_images(), class_names="cat")),
    case("image_folder-class_names-missing-folder", ValueError, r"image_folder: class_names must name distinct sub-folders .*\['dog'\]", lambda env: datasets.image_folder(env.garbage_images(), class_names=["dog"])),
    case("image_folder-image_size-negative", ValueError, r"image_folder: image_size sides must be at least 1", lambda env: datasets.image_folder(env.garbage_images(), image_size=(-1, 3))),
    case("image_folder-misspelled-colour_mode", TypeError, r"image_folder\(\) got an unexpected keyword argument 'colour_mode'", lambda env: datasets.image_folder(env.garbage_images(), colour_mode="rgb")),
    case("ImageFolderDataset-path-missing", FileNotFoundError, r"ImageFolderDataset: image folder '.*missing' does not exist", lambda env: datasets.ImageFolderDataset(env.missing())),
    case("ImageFolderDataset-subset-both", ValueError, r"ImageFolderDataset: subset must be one of \('training', 'validation'\) or None\. Received: subset='both'", lambda env: datasets.ImageFolderDataset(env.garbage_images(), validation_split=0.5, subset="both", seed=1)),
    # neighbours
    case("KNeighborsClassifier-n_neighbors-zero", ValueError, r"KNeighborsClassifier: n_neighbors must be an int >= 1\. Received: n_neighbors=0", lambda env: neighbors.KNeighborsClassifier(0)),
    case("KNeighborsClassifier-n_neighbors-string", TypeError, r"KNeighborsClassifier: n_neighbors must be an int >= 1\. Received: n_neighbors='3'", lambda env: neighbors.KNeighborsClassifier("3")),
    case("KNeighborsClassifier-metric-unknown", ValueError, r"KNeighborsClassifier: metric must be one of 'l2', .*Received: metric='l3'", lambda env: neighbors.KNeighborsClassifier(metric="l3")),
    case("KNeighborsClassifier-weights-unknown", ValueError, r"KNeighborsClassifier: weights must be one of 'uniform', 'distance'\. Received: weights='dist'", lambda env: neighbors.KNeighborsClassifier(weights="dist")),
    case("KNeighborsClassifier-batch_size-zero", ValueError, r"KNeighborsClassifier: batch_size must be an int >= 1 or None\. Received: batch_size=0", lambda env: neighbors.KNeighborsClassifier(batch_size=0)),
    case("KNeighborsClassifier-device-unknown", ValueError, r"KNeighborsClassifier: device must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch\.device\. Received: device='tpu'", lambda env: neighbors.KNeighborsClassifier(device="tpu")),
    case("KNeighborsClassifier-misspelled-n_neighbours", TypeError, r"unexpected keyword argument 'n_neighbours'", lambda env: neighbors.KNeighborsClassifier(n_neighbours=3)),
    case("KNeighborsClassifier.fit-k-above-samples", ValueError, r"KNeighborsClassifier: n_neighbors must be between 1 and the number of training samples \(6\)\. Received: n_neighbors=10", lambda env: neighbors.KNeighborsClassifier(10).fit(KNN_X, KNN_Y)),
    case("KNeighborsClassifier.fit-x-nan", ValueError, r"KNeighborsClassifier: x contains NaN or infinity", lambda env: neighbors.KNeighborsClassifier(1).fit(np.full((3, 2), NAN), [0, 1, 0])),
    case("KNeighborsClassifier.fit-x-empty", ValueError, r"KNeighborsClassifier: x is empty: .*shape \(0, 2\)", lambda env: neighbors.KNeighborsClassifier(1).fit(np.zeros((0, 2)), [])),
    case("KNeighborsClassifier.fit-x-1d", ValueError, r"KNeighborsClassifier: x must have a leading samples axis", lambda env: neighbors.KNeighborsClassifier(1).fit(np.zeros(3), [0, 1, 0])),
    case("KNeighborsClassifier.fit-y-too-short", ValueError, r"KNeighborsClassifier: y must have one label per sample: x has 6 samples\. Received: y with 2 labels", lambda env: neighbors.KNeighborsClassifier(1).fit(KNN_X, [0, 1])),
    case("KNeighborsClassifier.fit-y-one-hot", ValueError, r"KNeighborsClassifier: y must be a 1-D array of class labels.*y\.argmax\(axis=1\)", lambda env: neighbors.KNeighborsClassifier(1).fit(KNN_X, np.eye(6))),
    case("KNeighborsClassifier.fit-x-strings", TypeError, r"KNeighborsClassifier: x must hold numbers .*dtype <U1", lambda env: neighbors.KNeighborsClassifier(1).fit(np.array([["a"]] * 6), KNN_Y)),
    case("KNeighborsClassifier.fit-x-ragged", TypeError, r"KNeighborsClassifier: x must be a NumPy array or tensor of numbers; could not convert list", lambda env: neighbors.KNeighborsClassifier(1).fit([[1, 2], [3]], [0, 1])),
    case("KNeighborsClassifier.fit-y-nan", ValueError, r"KNeighborsClassifier: y contains NaN or infinity", lambda env: neighbors.KNeighborsClassifier(1).fit(KNN_X, np.array([0, 1, NAN, 0, 1, 0]))),
    case("KNeighborsClassifier.predict-not-fitted", ValueError, r"KNeighborsClassifier: this model is not fitted yet: call fit\(x_train, y_train\)", lambda env: neighbors.KNeighborsClassifier(1).predict(KNN_X)),
    case("KNeighborsClassifier.predict-x-other-features", ValueError, r"KNeighborsClassifier: x has 3 features per sample .*fitted on 2", lambda env: knn().predict(np.zeros((2, 3)))),
    case("KNeighborsClassifier.predict-x-inf", ValueError, r"KNeighborsClassifier: x contains NaN or infinity", lambda env: knn().predict(np.full((2, 2), INF))),
    case("KNeighborsClassifier.kneighbors-n_neighbors-zero", ValueError, r"KNeighborsClassifier: n_neighbors must be between 1 and the number of training samples", lambda env: knn().kneighbors(KNN_X, n_neighbors=0)),
    case("KNeighborsClassifier.kneighbors-n_neighbors-string", TypeError, r"KNeighborsClassifier: n_neighbors must be an integer\. Received: n_neighbors='2'", lambda env: knn().kneighbors(KNN_X, n_neighbors="2")),
    case("KNeighborsClassifier.score-y-too-short", ValueError, r"KNeighborsClassifier: y must have one label per sample", lambda env: knn().score(KNN_X, KNN_Y[:2])),
    case("select-ks-zero", ValueError, r"select: ks must be one or more integers >= 1\. Received: ks=\(0,\)", lambda env: neighbors.select(KNN_X, KNN_Y, ks=(0,))),
    case("select-ks-empty", ValueError, r"select: ks must be one or more integers >= 1\. Received: ks=\(\)", lambda env: neighbors.select(KNN_X, KNN_Y, ks=())),
    case("select-metrics-unknown", ValueError, r"select: metric must be one of .*Received: metric='l9'", lambda env: neighbors.select(KNN_X, KNN_Y, metrics=("l9",))),
    case("select-cv-one", ValueError, r"select: cv must be between 2 and the number of samples \(6\)\. Received: cv=1", lambda env: neighbors.select(KNN_X, KNN_Y, cv=1)),
    case("select-cv-string", TypeError, r"select: cv must be an int >= 1\. Received: cv='3'", lambda env: neighbors.select(KNN_X, KNN_Y, cv="3")),
    case("select-cv-and-validation_split", ValueError, r"select: pass either cv or validation_split, not both", lambda env: neighbors.select(KNN_X, KNN_Y, cv=2, validation_split=0.5)),
    case("select-validation_split-one", ValueError, r"select: validation_split must be a fraction between 0 and 1 .*validation_split=1\.0", lambda env: neighbors.select(KNN_X, KNN_Y, validation_split=1.0)),
    case("select-validation_split-string", TypeError, r"select: validation_split must be a fraction .*validation_split='a'", lambda env: neighbors.select(KNN_X, KNN_Y, validation_split="a")),
    case("select-ks-above-fold-size", ValueError, r"select: ks must not exceed the number of training samples in a fold \(3\)", lambda env: neighbors.select(KNN_X, KNN_Y, ks=(9,), cv=2)),
    case("select-seed-string", TypeError, r"select: seed must be an int >= 0\. Received: seed='a'", lambda env: neighbors.select(KNN_X, KNN_Y, seed="a")),
    case("select-misspelled-k", TypeError, r"select\(\) got an unexpected keyword argument 'k'", lambda env: neighbors.select(KNN_X, KNN_Y, k=(1,))),
]

SIGNAL_ARITHMETIC_UTILS_CASES = [
    case("correlate2d-mode-misspelled", ValueError, r"correlate2d: mode must be one of 'full', 'valid', 'same'\. Received: mode='valdi'", lambda env: signal.correlate2d(IMAGE, KERNEL, mode="valdi")),
    case("correlate2d-mode-int", ValueError, r"correlate2d: mode must be one of .*Received: mode=1", lambda env: signal.correlate2d(IMAGE, KERNEL, mode=1)),
    case("correlate2d-boundary-unknown", ValueError, r"correlate2d: boundary must be one of 'fill', .*Received: boundary='reflect'", lambda env: signal.correlate2d(IMAGE, KERNEL, boundary="reflect")),
    case("correlate2d-image-string", TypeError, r"correlate2d: image must have a numeric .*dtype\. Received: image\.dtype=<U3", lambda env: signal.correlate2d("abc", KERNEL)),
    case("correlate2d-kernel-object", TypeError, r"correlate2d: kernel must have a numeric .*kernel\.dtype=object", lambda env: signal.correlate2d(IMAGE, object())),
    case("correlate2d-image-bool", TypeError, r"correlate2d: image must have a numeric .*image\.dtype=bool", lambda env: signal.correlate2d(IMAGE.astype(bool), KERNEL)),
    case("correlate2d-image-1d", ValueError, r"correlate2d: image must have shape \(h, w\), \(h, w, c\) or \(b, h, w, c\)\. Received: image\.shape=\(5,\)", lambda env: signal.correlate2d(np.ones(5), KERNEL)),
    case("correlate2d-image-5d", ValueError, r"correlate2d: image must have shape .*image\.shape=\(1, 1, 1, 1, 1\)", lambda env: signal.correlate2d(np.ones((1, 1, 1, 1, 1)), KERNEL)),
    case("correlate2d-image-empty", ValueError, r"correlate2d: image must not be empty\. Received: image\.shape=\(0, 5\)", lambda env: signal.correlate2d(np.ones((0, 5)), KERNEL)),
    case("correlate2d-kernel-empty", ValueError, r"correlate2d: kernel must not be empty\. Received: kernel\.shape=\(0, 3\)", lambda env: signal.correlate2d(IMAGE, np.ones((0, 3)))),
    case("correlate2d-kernel-1d", ValueError, r"correlate2d: kernel must have shape \(kh, kw\)", lambda env: signal.correlate2d(IMAGE, np.ones(3))),
    case("correlate2d-channels-mismatch", ValueError, r"correlate2d: kernel channels must match image channels", lambda env: signal.correlate2d(np.ones((5, 5, 3)), np.ones((3, 3, 2)))),
    case("correlate2d-valid-kernel-too-big", ValueError, r"correlate2d: for mode='valid' with channels, the kernel must fit inside the image", lambda env: signal.correlate2d(np.ones((5, 5, 3)), np.ones((7, 7, 3)), mode="valid")),
    case("correlate2d-fillvalue-string", TypeError, r"correlate2d: fillvalue must be a number\. Received: fillvalue='a'", lambda env: signal.correlate2d(IMAGE, KERNEL, fillvalue="a")),
    case("correlate2d-fillvalue-complex", ValueError, r"correlate2d: fillvalue is complex but the data is real", lambda env: signal.correlate2d(IMAGE, KERNEL, fillvalue=1j)),
    case("correlate2d-misspelled-mod", TypeError, r"correlate2d\(\) got an unexpected keyword argument 'mod'", lambda env: signal.correlate2d(IMAGE, KERNEL, mod="full")),
    case("convolve2d-mode-unknown", ValueError, r"convolve2d: mode must be one of .*Received: mode='circular'", lambda env: signal.convolve2d(IMAGE, KERNEL, mode="circular")),
    case("pad-negative", ValueError, r"pad: pad must be a non-negative int, .*Received: pad=-1", lambda env: signal.pad(IMAGE, -1)),
    case("pad-float", ValueError, r"pad: pad must be a non-negative int, .*Received: pad=1\.5", lambda env: signal.pad(IMAGE, 1.5)),
    case("pad-three-values", ValueError, r"pad: pad must be .*Received: pad=\(1, 2, 3\)", lambda env: signal.pad(IMAGE, (1, 2, 3))),
    case("pad-mode-unknown", ValueError, r"pad: mode must be one of 'zero', .*Received: mode='constant'", lambda env: signal.pad(IMAGE, 1, mode="constant")),
    case("pad-image-1d", ValueError, r"pad: image must have shape .*image\.shape=\(4,\)", lambda env: signal.pad(np.ones(4), 1)),
    case("pad-empty-axis-reflect", ValueError, r"pad: an empty axis \(size 0\) can only be padded with mode='zero'", lambda env: signal.pad(np.ones((0, 3)), 1, mode="reflect")),
    case("same_padding-stride-zero", ValueError, r"same_padding: stride must be an int >= 1\. Received: stride=0", lambda env: signal.same_padding(5, 3, 0)),
    case("same_padding-input_size-string", TypeError, r"same_padding: input_size must be an int >= 1\. Received: input_size='5'", lambda env: signal.same_padding("5", 3)),
    case("conv_output_size-stride-zero", ValueError, r"conv_output_size: stride must be an int >= 1\. Received: stride=0", lambda env: arithmetic.conv_output_size(5, 3, 0)),
    case("conv_output_size-input_size-negative", ValueError, r"conv_output_size: input_size .*input_size=-5", lambda env: arithmetic.conv_output_size(-5, 3)),
    case("conv_output_size-kernel-zero", ValueError, r"conv_output_size: kernel .*kernel=0", lambda env: arithmetic.conv_output_size(5, 0)),
    case("conv_output_size-input_size-float", TypeError, r"conv_output_size: input_size .*input_size=5\.5", lambda env: arithmetic.conv_output_size(5.5, 3)),
    case("conv_output_size-padding-unknown", ValueError, r"conv_output_size: padding must be one of 'valid', 'same', 'full'\. Received: padding='half'", lambda env: arithmetic.conv_output_size(5, 3, padding="half")),
    case("conv_output_size-padding-int", TypeError, r"conv_output_size: padding must be one of .*padding=1", lambda env: arithmetic.conv_output_size(5, 3, padding=1)),
    case("pool_output_size-pool-zero", ValueError, r"pool_output_size: pool must be an int >= 1\. Received: pool=0", lambda env: arithmetic.pool_output_size(5, 0)),
    case("conv_params-in_channels-negative", ValueError, r"conv_params: in_channels .*in_channels=-1", lambda env: arithmetic.conv_params(-1, 2, 3)),
    case("conv_params-kernel-string", TypeError, r"conv_params: kernel must be an int or a \(height, width\) pair\. Received: kernel='3'", lambda env: arithmetic.conv_params(1, 2, "3")),
    case("conv_params-kernel-three-values", TypeError, r"conv_params: kernel must be .*kernel=\(3, 3, 3\)", lambda env: arithmetic.conv_params(1, 2, (3, 3, 3))),
    case("receptive_fields-model-int", TypeError, r"receptive_fields: model must be a cnnkit Sequential or functional model\. Received: model of type int", lambda env: arithmetic.receptive_fields(3)),
    case("receptive_fields-not-built", ValueError, r"receptive_fields needs a built model", lambda env: arithmetic.receptive_fields(Sequential([Dense(2)]))),
    case("multiply_adds-model-string", TypeError, r"multiply_adds: model must be a cnnkit Sequential or functional model", lambda env: arithmetic.multiply_adds("x")),
    case("max_batch_size-memory_bytes-zero", ValueError, r"max_batch_size: memory_bytes must be > 0", lambda env: arithmetic.max_batch_size(model(), 0)),
    case("max_batch_size-memory_bytes-string", TypeError, r"max_batch_size: memory_bytes must be a number of bytes.*'1GB'", lambda env: arithmetic.max_batch_size(model(), "1GB")),
    case("max_batch_size-optimizer-unknown", ValueError, r"max_batch_size: optimizer must be one of .*optimizer='lion'", lambda env: arithmetic.max_batch_size(model(), 10**9, optimizer="lion")),
    case("training_memory-batch_size-zero", ValueError, r"training_memory: batch_size must be an int >= 1\. Received: batch_size=0", lambda env: memory.training_memory(model(), 0)),
    case("training_memory-optimizer-misspelled", ValueError, r"training_memory: optimizer must be one of .*Did you mean 'adam'\?", lambda env: memory.training_memory(model(), 2, "adamm")),
    case("training_memory-model-int", TypeError, r"training_memory: model must be a cnnkit Sequential or functional model\. Received: model of type int", lambda env: memory.training_memory(3, 2)),
    case("training_memory-not-built", ValueError, r"training_memory needs a built model", lambda env: memory.training_memory(Sequential([Dense(2)]), 2)),
    case("to_categorical-negative-label", ValueError, r"to_categorical: y must hold class labels >= 0; received a label -1", lambda env: utils.to_categorical([0, -1])),
    case("to_categorical-label-out-of-range", ValueError, r"to_categorical: label 5 is out of range for num_classes=3", lambda env: utils.to_categorical([0, 5], 3)),
    case("to_categorical-num_classes-zero", ValueError, r"to_categorical: num_classes must be a positive int\. Received: num_classes=0", lambda env: utils.to_categorical([0], 0)),
    case("to_categorical-num_classes-string", TypeError, r"to_categorical: num_classes .*num_classes='3'", lambda env: utils.to_categorical([0], "3")),
    case("to_categorical-fractional", ValueError, r"to_categorical: y must hold integer class labels; received fractional values", lambda env: utils.to_categorical([0.5])),
    case("to_categorical-nan", ValueError, r"to_categorical: y must hold integer class labels; received NaN or infinite", lambda env: utils.to_categorical([NAN])),
    case("to_categorical-strings", TypeError, r"to_categorical: y must hold integer class labels\. Received: an array of dtype <U1", lambda env: utils.to_categorical(["a", "b"])),
    case("to_categorical-none", TypeError, r"to_categorical: y must be an array of integer class labels\. Received: None", lambda env: utils.to_categorical(None)),
    case("to_categorical-ragged", TypeError, r"to_categorical: y must be an array .*could not convert list", lambda env: utils.to_categorical([[1], [2, 3]])),
    case("to_categorical-misspelled-num_class", TypeError, r"to_categorical\(\) got an unexpected keyword argument 'num_class'", lambda env: utils.to_categorical([0], num_class=3)),
    case("set_random_seed-negative", ValueError, r"set_random_seed: seed must be an int >= 0 .*Received: seed=-1", lambda env: utils.set_random_seed(-1)),
    case("set_random_seed-string", TypeError, r"set_random_seed: seed .*seed='1'", lambda env: utils.set_random_seed("1")),
    case("set_random_seed-float", TypeError, r"set_random_seed: seed .*seed=1\.5", lambda env: utils.set_random_seed(1.5)),
    case("set_random_seed-too-big", ValueError, r"set_random_seed: seed must be .*< 2\*\*64", lambda env: utils.set_random_seed(2**70)),
    case("set_device-unknown", ValueError, r"set_device: unknown device 'gpu'\. Accepted: 'auto', 'cpu', 'cuda'", lambda env: config.set_device("gpu")),
    case("set_device-none", ValueError, r"set_device: unknown device 'None'", lambda env: config.set_device(None)),
    case("set_device-missing-cuda-device", ValueError, r"set_device: .*(CUDA|cuda)", lambda env: config.set_device("cuda:99")),
    case("set_device-meta", ValueError, r"set_device: unsupported device type 'meta'", lambda env: config.set_device("meta")),
    case("set_precision-unknown", ValueError, r"set_precision: precision must be one of 'float32', 'bfloat16', 'float16'\. Received: precision='fp16'", lambda env: config.set_precision("fp16")),
    case("set_precision-int", TypeError, r"set_precision: precision must be one of .*precision=16", lambda env: config.set_precision(16)),
    case("zoo.get-unknown-model", ValueError, r"zoo\.get: unknown model 'lenet'.*Did you mean 'lenet5'\?", lambda env: cnnkit.zoo.get("lenet")),
]

SAVING_CASES = [
    case("load_model-missing-file", FileNotFoundError, r"no model file at '.*missing\.keras'", lambda env: load_model(env.missing("missing.keras"))),
    case("load_model-garbage-file", ValueError, r"'.*garbage\.keras' is not a readable cnnkit file", lambda env: load_model(env.file("garbage.keras", b"\x00garbage" * 10))),
    case("load_model-empty-file", ValueError, r"'.*empty\.keras' is not a readable cnnkit file", lambda env: load_model(env.file("empty.keras", b""))),
    case("load_model-folder", FileNotFoundError, r"no model file at '.*models'", lambda env: load_model(env.folder("models"))),
    case("load_model-weights-only-file", ValueError, r"'.*weights\.keras' is a safetensors file but not a cnnkit cnnkit\.model file", lambda env: load_model(env.weights_file())),
    case("load_weights-missing-file", FileNotFoundError, r"no model file at '.*missing\.keras'", lambda env: model().load_weights(env.missing("missing.keras"))),
    case("load_weights-garbage-file", ValueError, r"'.*garbage\.keras' is not a readable cnnkit file", lambda env: model().load_weights(env.file("garbage.keras", b"\x00garbage" * 10))),
    case("load_weights-other-architecture", ValueError, r"'.*weights\.keras' does not fit this model", lambda env: Sequential([Input((8, 8, 1)), Flatten(), Dense(3)]).load_weights(env.weights_file())),
    case("save-not-built", ValueError, r"Sequential 'sequential': save needs a built model", lambda env: Sequential([Dense(2)]).save(env.missing("model.keras"))),
    # saving.py belongs to another developer: these document what it still lets through.
    case("save-to-a-folder", ValueError, r"save: filepath", lambda env: model().save(env.folder("out"))),
    case("save-filepath-none", TypeError, r"save: filepath", lambda env: model().save(None)),
    case("load_model-filepath-none", TypeError, r"load_model: filepath", lambda env: load_model(None)),
]

# fmt: on

ALL_CASES = (
    LAYER_CASES
    + MODEL_CASES
    + TRAINING_CASES
    + CALLBACK_CASES
    + DATA_CASES
    + SIGNAL_ARITHMETIC_UTILS_CASES
    + SAVING_CASES
)


@pytest.fixture
def env(tmp_path, monkeypatch) -> Env:
    """Scratch space; no dataset can be found or downloaded; process settings restored after."""
    monkeypatch.setenv("CNNKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("CNNKIT_DATASETS_URL", (tmp_path / "no-mirror").as_uri())
    monkeypatch.setattr(_locate, "SYSTEM_DIRS", ())
    monkeypatch.setattr(config, "_state", dict(config._state))
    return Env(tmp_path)


def test_the_battery_is_large_and_ids_are_unique():
    ids = [param.id for param in ALL_CASES]
    assert len(ids) >= 100
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("call", "error", "pattern"), ALL_CASES)
def test_bad_input_raises_a_clear_error(env, call, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        call(env)
    assert not isinstance(info.value, _RAW_ERRORS), f"raw {type(info.value).__name__}"
    raised_in = Path(str(info.traceback[-1].path)).resolve()
    assert raised_in in _BATTERY or _LIBRARY in raised_in.parents, (
        f"raised inside {raised_in}, not by cnnkit: {info.value!r}"
    )
