"""The upload size limit, enforced while the body streams in rather than after reading it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Receive = Callable[[], Awaitable[dict[str, Any]]]


class TooLarge(Exception):
    """The request body passed the upload limit; the server answers 413."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"the upload is larger than the server's limit of {limit:,} bytes "
            f"({limit / 2**20:g} MiB; cnnkit serve --max-upload-mb sets it)"
        )


def declared_too_large(headers: Any, limit: int) -> bool:
    """Whether the Content-Length header already says the body passes ``limit`` bytes."""
    declared = headers.get("content-length")
    return declared is not None and declared.isdigit() and int(declared) > limit


def limited_receive(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises TooLarge as soon as the body's bytes so far pass ``limit``,
    so a client streaming gigabytes (chunked, no Content-Length) is stopped at the limit."""
    received = 0

    async def receive_within_limit() -> dict[str, Any]:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise TooLarge(limit)
        return message

    return receive_within_limit
