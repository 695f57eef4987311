"""ASGI middleware: request body size limit and the bind guard."""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graph_api import bind_guard

logger = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """Raised inside ``receive`` once a body passes the limit."""


class BodySizeLimit:
    """Answer 413 to bodies over ``max_bytes``.

    A declared Content-Length over the limit is refused before a byte of the body is read; a
    chunked body is counted as it streams and refused as soon as it passes the limit, so a
    20 MB body is never held in memory.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await self._refuse(send, 400, "Invalid Content-Length header.")
                    return
                if declared > self.max_bytes:
                    await self._refuse(send, 413, self._message())
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
                if received > self.max_bytes:
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
                await self._refuse(send, 413, self._message())

    def _message(self) -> str:
        return (
            f"Request body too large: the limit is {self.max_bytes} bytes "
            "(SEGMENTATION_MAX_BODY_BYTES)."
        )

    @staticmethod
    async def _refuse(send: Send, status: int, text: str) -> None:
        response = PlainTextResponse(text, status_code=status, headers={"Connection": "close"})
        await response({"type": "http"}, _no_receive, send)


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
    """Answer 503 with instructions once the process was found exposed without a key.

    Checked on the first request too, so it holds when the app is mounted into a server that
    never runs our lifespan (Reflex's backend).
    """

    def __init__(self, app: ASGIApp, check: BindCheck) -> None:
        self.app = app
        self.bind_check = check

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        check = self.bind_check
        if scope["type"] == "http":
            if not check.done:
                check.run(final=True)
            if check.refusal is not None:
                await PlainTextResponse(check.refusal, status_code=503)(scope, receive, send)
                return
        await self.app(scope, receive, send)
