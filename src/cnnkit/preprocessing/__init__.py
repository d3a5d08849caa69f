"""Keras 2's ``keras.preprocessing`` spellings of cnnkit's utilities (``preprocessing.image``, ``image_dataset_from_directory``)."""

from cnnkit.preprocessing import image as image
from cnnkit.utils import image_dataset_from_directory as image_dataset_from_directory
