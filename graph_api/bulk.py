"""Bulk scoring over plain HTTP: ``POST /score`` (a CSV in, the scored CSV streamed out) and
``GET /exports/<token>`` (a file ``scoreDataset`` wrote, served as an attachment).

``POST /score`` spools the body to a temporary file (the route's ``BodySizeLimit`` answers 413
past ``SEGMENTATION_MAX_UPLOAD_BYTES``; the spool is removed then too), asks the core to score it
with the served model (or ``?version=``), and answers a problem found while opening the file
(unreadable CSV, a missing feature column) with 400 and a plain-text reason BEFORE any of the 200
is sent. Then the scored CSV is streamed: the core produces each block in a worker thread while
the event loop sends the previous one. The spool is deleted when the answer ends, however it
ends (a client that disconnects included).
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import anyio
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from graph_api.errors import describe_file_problem
from graph_api.exports import ExportExpired, ExportNotFound, ExportStore
from graph_api.service import ModelService
from segmentation_core.errors import (
    DataValidationError,
    ModelNotTrainedError,
    NotFoundError,
)
from segmentation_core.scoring import score_file

logger = logging.getLogger(__name__)

#: Bytes gathered from the request before one write to the spool file.
SPOOL_WRITE_BYTES = 1 << 20


class Endpoint:
    """A request handler as an ASGI app (so a route can wrap it in middleware)."""

    def __init__(self, handler: Callable[[Request], Awaitable[Response]]) -> None:
        self.handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        response = await self.handler(request)
        try:
            await response(scope, receive, send)
        except ClientDisconnect:
            logger.debug("The client left during %s %s", scope["method"], scope["path"])


class ClosingStreamingResponse(StreamingResponse):
    """A StreamingResponse that closes its iterator however the answer ends.

    Starlette stops iterating when the client disconnects but leaves the async generator
    suspended until the garbage collector finalises it; closing it here runs its clean-up
    (the spool's removal) at once.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            close = getattr(self.body_iterator, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()


async def spool(request: Request, folder: Path) -> Path:
    """The request body in a new temporary file in ``folder`` (removed again on any failure)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".score-", suffix=".csv", dir=folder)
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            pending: list[bytes] = []
            size = 0
            async for chunk in request.stream():
                pending.append(chunk)
                size += len(chunk)
                if size >= SPOOL_WRITE_BYTES:
                    fh.write(b"".join(pending))  # page-cache copy: ~0.1 ms per MB
                    pending, size = [], 0
            fh.write(b"".join(pending))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


async def in_thread(iterator: Iterator[bytes], cleanup: Callable[[], None]) -> AsyncIterator[bytes]:
    """The iterator's items, each produced in a worker thread (the core's scoring reads ahead
    with its own threads meanwhile).

    When the stream ends for any reason (done, an error, the client gone), the iterator is
    closed and ``cleanup`` runs, in a thread, shielded from cancellation. A cancellation while a
    step runs waits for that step, so the iterator is never used by two threads at once.
    """

    def finish() -> None:
        try:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()
        finally:
            cleanup()

    try:
        while (chunk := await run_in_threadpool(next, iterator, None)) is not None:
            yield chunk
    finally:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(finish)


def _text(status: int, message: str) -> PlainTextResponse:
    return PlainTextResponse(message + "\n", status_code=status)


def score_endpoint(get_service: Callable[[], Awaitable[ModelService]],
                   spool_dir: Callable[[], Path]) -> Endpoint:
    """``POST /score[?version=...]``: body a CSV, answer the scored CSV (streamed)."""

    async def score(request: Request) -> Response:
        if request.method != "POST":
            return _text(405, "Use POST with a CSV body.")
        service = await get_service()
        version = request.query_params.get("version") or None
        try:
            model, _ = await service.model(version)
        except ModelNotTrainedError:
            return _text(409, "No model has been trained yet: run the `train` mutation first.")
        except NotFoundError:
            return _text(404, f"There is no model version {version!r}.")
        path = await spool(request, spool_dir())
        try:
            job = await run_in_threadpool(score_file, model, path)
        except DataValidationError as exc:
            path.unlink(missing_ok=True)
            reasons = "; ".join(describe_file_problem(p) for p in exc.problems)
            return _text(400, f"The CSV cannot be scored: {reasons}")
        except BaseException:
            path.unlink(missing_ok=True)
            raise

        def remove_spool() -> None:
            path.unlink(missing_ok=True)

        return ClosingStreamingResponse(
            in_thread(job.chunks(), remove_spool),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="scored.csv"',
                     "X-Model-Version": model.version, "Cache-Control": "no-store"},
        )

    return Endpoint(score)


def export_endpoint(get_exports: Callable[[], Awaitable[ExportStore]]) -> Endpoint:
    """``GET /exports/<token>``: a scored file, as an attachment; 404 forged, 410 expired."""

    async def download(request: Request) -> Response:
        exports = await get_exports()
        token = str(request.path_params.get("token", ""))
        try:
            path, filename = await run_in_threadpool(exports.resolve, token)
        except ExportExpired:
            return _text(410, "This download link has expired; score the dataset again.")
        except ExportNotFound:
            return _text(404, "Not Found")
        return FileResponse(
            path, media_type="text/csv; charset=utf-8", filename=filename,
            headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
        )

    return Endpoint(download)
