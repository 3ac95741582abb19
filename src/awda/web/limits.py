"""Request body limits: a body over its limit is refused with 413 problem+json before any handler runs.

A declared `Content-Length` over the limit is refused without reading the body; a body without one
(chunked) is counted as it streams in and refused once it passes the limit. Either way the route
never runs, so nothing is written. Multipart bodies (uploads) have their own, larger limit.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from awda.settings import Settings
from awda.web.problems import problem

TITLE = "Request body too large"
UPLOAD_TYPES = frozenset({"multipart/form-data"})


class BodyTooLarge(HTTPException):
    """The streamed body passed its limit; raised from `receive`, so the route's handler never starts."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, TITLE)
        self.limit = limit


def limit_for(content_type: str | None, max_body_bytes: int, max_upload_bytes: int) -> int:
    """The upload limit for multipart bodies, the body limit for everything else (JSON, forms, bytes)."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return max_upload_bytes if media_type in UPLOAD_TYPES else max_body_bytes


def declared_length(value: str | None) -> int | None:
    """The Content-Length as a number; None when absent or unreadable (the stream is counted instead)."""
    if value is None or not value.strip().isdigit():
        return None
    return int(value.strip())


def too_large(limit: int) -> JSONResponse:
    detail = f"the request body is larger than {limit} bytes"
    return problem(413, TITLE, detail, headers={"Connection": "close"}, max_bytes=limit)


class BodyLimit:
    """Pure ASGI middleware (no buffering): refuses declared or streamed bodies over the limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        limit = limit_for(headers.get("content-type"), self.max_body_bytes, self.max_upload_bytes)
        declared = declared_length(headers.get("content-length"))
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as error:
            if started:  # a handler that answered before reading its body: nothing left to refuse
                raise
            await too_large(error.limit)(scope, receive, send)


async def _body_too_large(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, BodyTooLarge)
    return too_large(error.limit)


def install(app: FastAPI, settings: Settings) -> None:
    """Add the limits from AWDA_MAX_BODY_BYTES and AWDA_MAX_UPLOAD_BYTES (docs/settings.md)."""
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.add_exception_handler(BodyTooLarge, _body_too_large)
