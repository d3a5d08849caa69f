"""Signal processing from the lecture: 2D correlation/convolution and padding of images.

``correlate2d`` is what a CNN layer computes (no flip); ``convolve2d`` flips the filter. Both
follow ``scipy.signal`` for 2-D input and extend it to channels, several filters and batches.
"""

from __future__ import annotations

from cnnkit.arithmetic import same_padding as same_padding
from cnnkit.signal._correlate import convolve2d as convolve2d
from cnnkit.signal._correlate import correlate2d as correlate2d
from cnnkit.signal._pad import pad as pad

__all__ = ["correlate2d", "convolve2d", "pad", "same_padding"]
