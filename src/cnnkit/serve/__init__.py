"""Serve a trained model over HTTP, and shrink it to int8 for CPU inference.

- ``create_app(model, class_names)``: a Starlette app with ``POST /predict`` (uploaded images
  -> top classes and probabilities, concurrent requests batched into one model call) and
  ``GET /health``; ``run_server(app)`` runs it with uvicorn (``cnnkit serve MODEL``).
- ``Batcher``: the micro-batching queue behind ``/predict``.
- ``decode_image``: uploaded bytes read with cnnkit's image-file checks, at the model's size.
- ``quantize_int8(model, calibration_images)``: a copy with int8 Dense layers for CPU
  inference, checked to keep the float32 top class (``bench/bench_int8.py``).

The web parts need ``pip install 'cnnkit[serve]'`` (starlette, uvicorn, python-multipart),
imported only when an app is made.
"""

from __future__ import annotations

from ._app import create_app as create_app
from ._app import run_server as run_server
from ._batcher import Batcher as Batcher
from ._images import decode_image as decode_image
from ._quantize import quantize_int8 as quantize_int8
