"""Keras 2's ``keras.preprocessing`` spellings of cnnkit's utilities (``preprocessing.image``)."""

from cnnkit.preprocessing import image as image
