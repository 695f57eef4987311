"""ASGI middleware: request body size limit and the bind guard."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Callable

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_api import bind_guard

logger = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised inside ``receive`` once a body passes the limit."""


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def is_multipart(scope: Scope) -> bool:
    """Whether an HTTP request declares a ``multipart/form-data`` body."""
    content_type = _header(scope, b"content-type") or b""
    return content_type.split(b";", 1)[0].strip().lower() == b"multipart/form-data"


#: A byte limit, or a function giving it (read per request, e.g. from lazily read settings).
Limit = int | Callable[[], int]


def _value(limit: Limit) -> int:
    return limit() if callable(limit) else limit


class BodySizeLimit:
    """Answer 413 to bodies over the limit: ``max_bytes``, or ``multipart_max_bytes`` for a
    ``multipart/form-data`` body (uploads) when given (each an int or a function giving one).

    A declared Content-Length over the limit is refused before a byte of the body is read; a
    chunked body is counted as it streams and refused as soon as it passes the limit, so a
    20 MB body is never held in memory. The refusal is raised inside ``receive``, so whatever
    the app was doing with the body (Starlette's form parser, a spool file) unwinds through its
    own clean-up first.
    """

    def __init__(self, app: ASGIApp, max_bytes: Limit,
                 multipart_max_bytes: Limit | None = None,
                 setting: str = "SEGMENTATION_MAX_BODY_BYTES") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.multipart_max_bytes = multipart_max_bytes
        self.setting = setting

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = _value(self.max_bytes), self.setting
        if self.multipart_max_bytes is not None and is_multipart(scope):
            limit, setting = _value(self.multipart_max_bytes), "SEGMENTATION_MAX_UPLOAD_BYTES"
        declared = _header(scope, b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await self._refuse(send, 400, "Invalid Content-Length header.")
                return
            if length > limit:
                await self._refuse(send, 413, self._message(limit, setting))
                return
            # The HTTP server delivers no more than the declared length: nothing to count.
            await self.app(scope, receive, send)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, 413, self._message(limit, setting))

    @staticmethod
    def _message(limit: int, setting: str) -> str:
        return f"Request body too large: the limit is {limit} bytes ({setting})."

    @staticmethod
    async def _refuse(send: Send, status: int, text: str) -> None:
        response = PlainTextResponse(text, status_code=status, headers={"Connection": "close"})
        await response({"type": "http"}, _no_receive, send)


class MultipartCsrfGuard:
    """Refuse ``multipart/form-data`` requests a browser could send cross-site (HTTP 400).

    A multipart POST is a CORS "simple request": any web page can make a visitor's browser send
    one, without a preflight. Such a request is refused unless it carries ``Authorization`` or a
    non-empty ``GraphQL-Require-Preflight`` header, which a page on another origin cannot add
    without a preflight the server never grants (Apollo Server's CSRF prevention). Checked on
    the headers alone, before a byte of the body is read.
    """

    MESSAGE = (
        "Multipart requests (file uploads) need a `GraphQL-Require-Preflight: 1` or an "
        "`Authorization` header; this protects against cross-site request forgery."
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and is_multipart(scope)
            and _header(scope, b"authorization") is None
            and not (_header(scope, b"graphql-require-preflight") or b"").strip()
        ):
            await BodySizeLimit._refuse(send, 400, self.MESSAGE)
            return
        await self.app(scope, receive, send)


async def _no_receive() -> Message:  # pragma: no cover - responses never read the request
    return {"type": "http.disconnect"}


class BindCheck:
    """Whether this process listens beyond loopback without an API key."""

    def __init__(self, api_key: str | None, allow_insecure: bool) -> None:
        self.api_key = api_key
        self.allow_insecure = allow_insecure
        self.done = False
        self.refusal: str | None = None

    def run(self, final: bool = False) -> bool:
        """Check the listening sockets; True once the check could be made.

        ``final`` is for request time: a request arrived, so the server has bound whatever it
        listens on; no TCP listener then means it is not TCP (a test client, a Unix socket).
        """
        if self.done:
            return True
        addresses = bind_guard.listening_addresses()
        if addresses is not None and not addresses and not final:
            return False  # the server has not bound its socket yet
        self.done = True
        exposed = bind_guard.exposed_address(self.api_key, self.allow_insecure)
        if exposed is not None:
            self.refusal = str(bind_guard.UnsafeBindError(exposed))
            logger.critical(self.refusal)
            os.kill(os.getpid(), signal.SIGTERM)  # ask the server to shut down cleanly
        return True

    async def watch(self) -> None:
        """Run the check as soon as the server has bound (uvicorn binds after the lifespan)."""
        for _ in range(500):
            if self.run():
                return
            await asyncio.sleep(0.02)


class BindGuard:
    """Answer 503 with instructions (and refuse websockets) once the process was found exposed
    without a key.

    Checked on the first request too, so it holds when the app is mounted into a server that
    never runs our lifespan (Reflex's backend).
    """

    def __init__(self, app: ASGIApp, check: BindCheck) -> None:
        self.app = app
        self.bind_check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        check = self.bind_check
        if scope["type"] in ("http", "websocket"):
            if not check.done:
                check.run(final=True)
            if check.refusal is not None:
                if scope["type"] == "websocket":  # refuse the handshake (HTTP 403)
                    await send({"type": "websocket.close", "code": 1008})
                    return
                await PlainTextResponse(check.refusal, status_code=503)(scope, receive, send)
                return
        await self.app(scope, receive, send)
