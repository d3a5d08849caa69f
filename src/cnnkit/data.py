"""tf.data's names used by Keras scripts: ``AUTOTUNE`` and the lazy ``Dataset`` of batches
that ``cnnkit.utils.image_dataset_from_directory`` returns."""

from cnnkit._dataset import AUTOTUNE as AUTOTUNE
from cnnkit._dataset import Dataset as Dataset
