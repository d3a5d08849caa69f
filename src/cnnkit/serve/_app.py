"""The HTTP app: ``POST /predict`` classifies uploaded images, ``GET /health`` describes the model.

Starlette and uvicorn are imported only here and only when an app is made, so ``cnnkit`` works
without them; ``pip install cnnkit[serve]`` adds them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from ._batcher import Batcher
from ._images import decode_image, model_input_shape
from ._limits import TooLarge, declared_too_large, limited_receive

#: Files one request may carry (the upload limit bounds their bytes).
MAX_FILES = 256
HOW_TO_SEND = (
    "send images as multipart/form-data fields 'file' or 'files', or one image as the raw "
    "body with an image/* Content-Type"
)


def _starlette() -> Any:
    """The starlette modules, or an ImportError saying which extra installs them."""
    try:
        import starlette.applications
        import starlette.exceptions
        import starlette.requests
        import starlette.responses
        import starlette.routing
    except ImportError as exc:
        raise ImportError(
            "cnnkit serve needs starlette, uvicorn and python-multipart: "
            "pip install 'cnnkit[serve]'"
        ) from exc
    return starlette


class _Refused(Exception):
    """A request the server answers with ``status`` and a message instead of predictions."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def create_app(
    model: Any,
    class_names: Sequence[str] | None = None,
    *,
    max_upload_mb: float = 10,
    max_batch: int = 32,
    batch_wait_ms: float = 5,
) -> Any:
    """A Starlette app serving ``model``'s predictions over HTTP, batching concurrent requests.

    Args:
        model: a cnnkit image classifier taking uint8 images scaled to [0, 1], as
            ``cnnkit train`` makes them (``input_shape`` (None, h, w, c), c in 1, 3, 4).
        class_names: a name per output class; None answers with label numbers only.
        max_upload_mb: largest request body, in MiB; larger ones get 413 while streaming.
        max_batch: images per model call at most.
        batch_wait_ms: how long a request waits for others to share its model call, in ms.

    Example:
        >>> import cnnkit
        >>> app = create_app(cnnkit.zoo.get("small_cnn"))  # doctest: +SKIP
        >>> import uvicorn; uvicorn.run(app, port=8000)  # doctest: +SKIP
    """
    starlette = _starlette()
    if not max_upload_mb > 0:
        raise ValueError(f"max_upload_mb must be > 0. Received: max_upload_mb={max_upload_mb!r}")
    service = _Service(starlette, model, class_names, int(max_upload_mb * 2**20), max_batch)
    service.batcher = Batcher(service.scores, max_batch, batch_wait_ms / 1000)
    service.info["batch_wait_ms"] = batch_wait_ms

    async def http_error(request: Any, exc: Any) -> Any:
        return service.json({"error": exc.detail}, status_code=exc.status_code)

    @contextlib.asynccontextmanager
    async def lifespan(app: Any):
        async with service.batcher.running():
            yield

    routes = [
        starlette.routing.Route("/predict", service.predict, methods=["POST"]),
        starlette.routing.Route("/health", service.health, methods=["GET"]),
    ]
    return starlette.applications.Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={starlette.exceptions.HTTPException: http_error},
    )


class _Service:
    """The endpoints' shared state: the model, its description and the batching queue."""

    def __init__(
        self,
        starlette: Any,
        model: Any,
        class_names: Sequence[str] | None,
        limit: int,
        max_batch: int,
    ) -> None:
        self.starlette, self.model, self.limit = starlette, model, limit
        self.json = starlette.responses.JSONResponse
        self.model_input = model_input_shape(model)
        self.classes = int(model.output_shape[-1])
        self.names = _checked_names(class_names, self.classes)
        self.max_batch = max_batch
        self.batcher: Batcher | None = None
        self.info = {
            "model": getattr(model, "name", type(model).__name__),
            "input_shape": list(self.model_input),
            "classes": self.classes,
            "class_names": self.names,
            "max_batch": max_batch,
            "max_upload_bytes": limit,
        }

    def scores(self, images: np.ndarray) -> np.ndarray:
        """The model's outputs for uint8 images, scaled to [0, 1] as ``cnnkit train`` feeds them."""
        scaled = images.astype(np.float32) / np.float32(255)
        return np.asarray(self.model.predict(scaled, batch_size=self.max_batch, verbose=0))

    async def health(self, request: Any) -> Any:
        """``GET /health``: status, what the model takes and answers, model calls so far."""
        counts = {"predict_calls": self.batcher.calls, "images_predicted": self.batcher.images}
        return self.json({"status": "ok", **self.info, **counts})

    async def predict(self, request: Any) -> Any:
        """``POST /predict``: each uploaded image's top classes, or an error with its reason."""
        try:
            top_k = _top_k(request.query_params.get("top_k", "5"), self.classes)
            uploads = await _uploads(self.starlette, request, self.limit)
            images = await asyncio.to_thread(_decode_all, uploads, self.model_input)
            scores = await self.batcher.predict(images)
        except _Refused as refused:
            return self.json({"error": str(refused)}, status_code=refused.status)
        if not np.isfinite(scores).all():
            message = "the model outputs NaN or infinite scores: its weights are broken"
            return self.json({"error": message}, status_code=500)
        answers = [_answer(name, row, top_k, self.names) for (name, _), row in zip(uploads, scores)]
        return self.json({"predictions": answers})


def _checked_names(class_names: Sequence[str] | None, classes: int) -> list[str] | None:
    if class_names is None:
        return None
    names = list(class_names)
    if len(names) != classes or not all(isinstance(name, str) for name in names):
        raise ValueError(
            f"class_names must be {classes} strings, one per class the model predicts. "
            f"Received: {len(names)} names"
        )
    return names


def _top_k(text: str, classes: int) -> int:
    if not text.isdigit() or int(text) < 1:
        raise _Refused(422, f"top_k must be a positive integer. Received: top_k={text!r}")
    return min(int(text), classes)


async def _uploads(starlette: Any, request: Any, limit: int) -> list[tuple[str, bytes]]:
    """(name, bytes) of each uploaded image, read within the size limit."""
    if declared_too_large(request.headers, limit):
        raise _Refused(413, str(TooLarge(limit)))
    limited = starlette.requests.Request(request.scope, limited_receive(request.receive, limit))
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("multipart/form-data"):
            uploads = await _form_files(limited, limit)
        elif content_type.startswith("image/"):
            body = bytearray()
            async for chunk in limited.stream():
                body += chunk
            uploads = [("body", bytes(body))]
        else:
            raise _Refused(415, f"{HOW_TO_SEND}. Received: Content-Type {content_type!r}")
    except TooLarge as exc:
        raise _Refused(413, str(exc)) from exc
    if not uploads:
        raise _Refused(422, f"no image in the request: {HOW_TO_SEND}")
    return uploads


async def _form_files(request: Any, limit: int) -> list[tuple[str, bytes]]:
    form = await request.form(max_files=MAX_FILES, max_part_size=limit)
    uploads = []
    for field in ("file", "files"):
        for value in form.getlist(field):
            if isinstance(value, str):
                raise _Refused(422, f"form field {field!r} holds text, not a file: {HOW_TO_SEND}")
            uploads.append((value.filename or field, await value.read()))
    await form.close()
    return uploads


def _decode_all(uploads: list[tuple[str, bytes]], model_input: tuple[int, int, int]) -> np.ndarray:
    """The uploads as one uint8 batch, or a 422 naming the first file that is not an image."""
    try:
        return np.stack([decode_image(data, model_input, name) for name, data in uploads])
    except ValueError as exc:
        raise _Refused(422, str(exc)) from exc


def _answer(name: str, row: np.ndarray, top_k: int, names: list[str] | None) -> dict[str, Any]:
    """One image's top classes, best first."""
    top = []
    for label in np.argsort(-row, kind="stable")[:top_k]:
        entry: dict[str, Any] = {"label": int(label), "probability": float(row[label])}
        if names is not None:
            entry["class_name"] = names[label]
        top.append(entry)
    return {"file": name, "top": top}


def run_server(app: Any, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve ``app`` with uvicorn until interrupted (Ctrl+C)."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError(
            "cnnkit serve needs starlette, uvicorn and python-multipart: "
            "pip install 'cnnkit[serve]'"
        ) from exc
    uvicorn.run(app, host=host, port=port, log_level="info")
