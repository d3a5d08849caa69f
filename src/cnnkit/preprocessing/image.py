"""``keras.preprocessing.image``: the image file helpers, also in ``cnnkit.utils``."""

from cnnkit.utils import array_to_img as array_to_img
from cnnkit.utils import img_to_array as img_to_array
from cnnkit.utils import load_img as load_img
from cnnkit.utils import save_img as save_img
