"""Shared test set-up: Keras (the oracle) runs on the PyTorch backend, never TensorFlow."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")
