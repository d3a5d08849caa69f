"""The zoo's lenet5, small_cnn and resnet as a PyTorch user writes them (NCHW, torch.nn), each
returning logits: the hand-written side of bench/bench_gpu_fit.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from bench_forward import HandWrittenLeNet5
from torch import nn


class LeNet5(HandWrittenLeNet5):
    """bench_forward's LeNet-5 without the final softmax (the loss takes logits)."""

    def forward(self, x):
        x = F.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = F.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = x.flatten(1)
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


def conv_bn(channels_in: int, channels_out: int, kernel: int = 3, stride: int = 1) -> list:
    """A bias-free convolution and its batch normalization (momentum 0.1 = Keras' 0.9)."""
    return [
        nn.Conv2d(channels_in, channels_out, kernel, stride, kernel // 2, bias=False),
        nn.BatchNorm2d(channels_out, eps=1e-3, momentum=0.1),
    ]


class SmallCnn(nn.Module):
    """cnnkit.zoo's small_cnn: two conv-BN-ReLU-pool blocks, a dropout MLP head."""

    def __init__(self, size: int = 28, channels: int = 1, width: int = 32, units: int = 128):
        super().__init__()
        self.features = nn.Sequential(
            *conv_bn(channels, width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            *conv_bn(width, 2 * width),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Dropout(0.3),
            nn.Linear(2 * width * (size // 4) ** 2, units),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(units, 10),
        )

    def forward(self, x):
        return self.features(x)


class Block(nn.Module):
    """Two conv-BN layers added to the input (a strided 1x1 conv-BN shortcut when needed)."""

    def __init__(self, channels_in: int, channels_out: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(
            *conv_bn(channels_in, channels_out, stride=stride),
            nn.ReLU(),
            *conv_bn(channels_out, channels_out),
        )
        self.shortcut = (
            nn.Sequential(*conv_bn(channels_in, channels_out, kernel=1, stride=stride))
            if stride != 1 or channels_in != channels_out
            else nn.Identity()
        )

    def forward(self, x):
        return torch.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    """cnnkit.zoo's resnet (ResNet-8 by default): stem, three stages, global pooling."""

    def __init__(self, channels: int = 1, width: int = 16):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(channels, width), nn.ReLU())
        self.stages = nn.Sequential(
            Block(width, width, 1), Block(width, 2 * width, 2), Block(2 * width, 4 * width, 2)
        )
        self.head = nn.Linear(4 * width, 10)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)).mean(dim=(2, 3)))
