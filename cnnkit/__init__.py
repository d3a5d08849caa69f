"""cnnkit: build, train and understand convolutional neural networks, Keras-style, on PyTorch."""

__version__ = "0.1.0"
