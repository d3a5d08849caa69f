"""Keras-style layers on PyTorch: ``from cnnkit.layers import Conv2D, MaxPooling2D, Dense``."""

from cnnkit.layers._activation import Activation as Activation
from cnnkit.layers._activation import LeakyReLU as LeakyReLU
from cnnkit.layers._activation import ReLU as ReLU
from cnnkit.layers._activation import Softmax as Softmax
from cnnkit.layers._augment_base import RandomImageLayer as RandomImageLayer
from cnnkit.layers._augment_geometric import RandomCrop as RandomCrop
from cnnkit.layers._augment_geometric import RandomFlip as RandomFlip
from cnnkit.layers._augment_geometric import RandomRotation as RandomRotation
from cnnkit.layers._augment_geometric import RandomTranslation as RandomTranslation
from cnnkit.layers._augment_geometric import RandomZoom as RandomZoom
from cnnkit.layers._augment_photometric import RandomBrightness as RandomBrightness
from cnnkit.layers._augment_photometric import RandomContrast as RandomContrast
from cnnkit.layers._augment_photometric import RandomErasing as RandomErasing
from cnnkit.layers._base import Layer as Layer
from cnnkit.layers._borders import Cropping2D as Cropping2D
from cnnkit.layers._borders import UpSampling2D as UpSampling2D
from cnnkit.layers._borders import ZeroPadding2D as ZeroPadding2D
from cnnkit.layers._conv import Conv2D as Conv2D
from cnnkit.layers._conv1d import Conv1D as Conv1D
from cnnkit.layers._conv_transpose import Conv2DTranspose as Conv2DTranspose
from cnnkit.layers._core import Dense as Dense
from cnnkit.layers._core import Flatten as Flatten
from cnnkit.layers._core import Input as Input
from cnnkit.layers._core import InputLayer as InputLayer
from cnnkit.layers._depthwise import DepthwiseConv2D as DepthwiseConv2D
from cnnkit.layers._depthwise import SeparableConv2D as SeparableConv2D
from cnnkit.layers._lambda import Identity as Identity
from cnnkit.layers._lambda import Lambda as Lambda
from cnnkit.layers._merge import Add as Add
from cnnkit.layers._merge import Average as Average
from cnnkit.layers._merge import Concatenate as Concatenate
from cnnkit.layers._merge import Dot as Dot
from cnnkit.layers._merge import Maximum as Maximum
from cnnkit.layers._merge import Minimum as Minimum
from cnnkit.layers._merge import Multiply as Multiply
from cnnkit.layers._merge import Subtract as Subtract
from cnnkit.layers._merge import add as add
from cnnkit.layers._merge import average as average
from cnnkit.layers._merge import concatenate as concatenate
from cnnkit.layers._merge import dot as dot
from cnnkit.layers._merge import maximum as maximum
from cnnkit.layers._merge import minimum as minimum
from cnnkit.layers._merge import multiply as multiply
from cnnkit.layers._merge import subtract as subtract
from cnnkit.layers._noise import GaussianNoise as GaussianNoise
from cnnkit.layers._noise import SpatialDropout2D as SpatialDropout2D
from cnnkit.layers._normalization import Normalization as Normalization
from cnnkit.layers._pooling import AveragePooling2D as AveragePooling2D
from cnnkit.layers._pooling import GlobalAveragePooling2D as GlobalAveragePooling2D
from cnnkit.layers._pooling import GlobalMaxPooling2D as GlobalMaxPooling2D
from cnnkit.layers._pooling import MaxPooling2D as MaxPooling2D
from cnnkit.layers._pooling1d import AveragePooling1D as AveragePooling1D
from cnnkit.layers._pooling1d import GlobalAveragePooling1D as GlobalAveragePooling1D
from cnnkit.layers._pooling1d import GlobalMaxPooling1D as GlobalMaxPooling1D
from cnnkit.layers._pooling1d import MaxPooling1D as MaxPooling1D
from cnnkit.layers._preprocessing import CenterCrop as CenterCrop
from cnnkit.layers._preprocessing import Rescaling as Rescaling
from cnnkit.layers._preprocessing import Resizing as Resizing
from cnnkit.layers._regularization import BatchNormalization as BatchNormalization
from cnnkit.layers._regularization import Dropout as Dropout
from cnnkit.layers._reshaping import Permute as Permute
from cnnkit.layers._reshaping import RepeatVector as RepeatVector
from cnnkit.layers._reshaping import Reshape as Reshape
from cnnkit.layers._sample_normalization import GroupNormalization as GroupNormalization
from cnnkit.layers._sample_normalization import LayerNormalization as LayerNormalization

# Keras' aliases
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
SeparableConvolution2D = SeparableConv2D
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
Convolution1D = Conv1D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D
