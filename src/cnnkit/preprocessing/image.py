"""``keras.preprocessing.image``: the image file helpers (also in ``cnnkit.utils``) and Keras
2's ImageDataGenerator with its iterators."""

from cnnkit.preprocessing._image_data_generator import ImageDataGenerator as ImageDataGenerator
from cnnkit.preprocessing._iterators import DirectoryIterator as DirectoryIterator
from cnnkit.preprocessing._iterators import Iterator as Iterator
from cnnkit.preprocessing._iterators import NumpyArrayIterator as NumpyArrayIterator
from cnnkit.utils import array_to_img as array_to_img
from cnnkit.utils import img_to_array as img_to_array
from cnnkit.utils import load_img as load_img
from cnnkit.utils import save_img as save_img
