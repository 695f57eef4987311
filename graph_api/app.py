"""The Starlette app: ``uvicorn graph_api.app:app`` serves the API.

Routes: ``/graphql`` (GraphQL over HTTP, multipart uploads, graphql-transport-ws, GraphiQL),
``/score`` (bulk scoring of a CSV body) and ``/exports/<token>`` (downloads), plus GraphiQL's
offline assets. Each route gets the body limit that fits it.

The same ``app`` is mounted into the Reflex backend (``rx.App(api_transformer=app)``), where its
lifespan may not run; the services are then created on the first request instead. Either way the
active model is loaded once, not per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types.graphql import OperationType

from graph_api import bind_guard
from graph_api.bulk import export_endpoint, score_endpoint
from graph_api.context import Context
from graph_api.exports import ExportStore
from graph_api.graphiql import ASSETS_ROUTE, GraphiQLPage, load_page
from graph_api.middleware import BindCheck, BindGuard, BodySizeLimit, MultipartCsrfGuard
from graph_api.schema import schema
from graph_api.service import ModelService
from graph_api.settings import ApiSettings, get_api_settings
from segmentation_core.settings import CoreSettings, get_settings
from segmentation_core.workspace import Workspace

logger = logging.getLogger(__name__)


#: Seconds between sweeps of expired downloads while the app runs.
SWEEP_SECONDS = 300.0


class ServiceHolder:
    """Creates the services once, at start-up or on the first request, whichever is first.

    The core's settings are read then too (not at import), so an app built at import time (the
    module's ``app``, which Reflex mounts) follows the environment its server starts with.
    """

    def __init__(self, settings: ApiSettings, core_settings: CoreSettings | None) -> None:
        self.settings = settings
        self._core_settings = core_settings
        self._exports: ExportStore | None = None
        self._service: ModelService | None = None
        self._lock = asyncio.Lock()

    @property
    def core_settings(self) -> CoreSettings:
        """The core's settings (read from the environment on first use unless given)."""
        if self._core_settings is None:
            self._core_settings = get_settings()
        return self._core_settings

    @property
    def upload_limit(self) -> int:
        """SEGMENTATION_MAX_UPLOAD_BYTES: the largest upload or POST /score body."""
        return self.core_settings.max_upload_bytes

    @property
    def exports(self) -> ExportStore:
        """The exports folder (SEGMENTATION_EXPORTS_DIR, default ``exports/`` beside the store)."""
        if self._exports is None:
            self._exports = ExportStore(
                self.settings.exports_dir or self.core_settings.models_dir.parent / "exports",
                ttl_seconds=self.settings.export_ttl_seconds,
            )
        return self._exports

    @property
    def ready(self) -> bool:
        """Whether the service exists (created by the lifespan or a first request)."""
        return self._service is not None

    @property
    def spool_dir(self) -> Path:
        """Where POST /score keeps request bodies while it scores them."""
        return self.exports.root / ".incoming"

    def create(self) -> ModelService:
        """Build the service and load the active model (blocking; runs once)."""
        if self._service is None:
            core = self.core_settings
            service = ModelService(Workspace.from_settings(core),
                                   self.settings.model_check_interval)
            service.load_active()
            self.exports.sweep()
            self._service = service
            logger.info("Model service ready (store %s, model %s)", core.models_dir,
                        service.version or "none")
        return self._service

    async def get(self) -> ModelService:
        """The service; the first caller builds it in a thread, others wait for it."""
        if self._service is not None:
            return self._service
        async with self._lock:
            if self._service is None:
                await asyncio.to_thread(self.create)
        assert self._service is not None
        return self._service

    async def get_exports(self) -> ExportStore:
        """The exports folder (after the service exists, so start-up ran its sweep)."""
        await self.get()
        return self.exports

    async def sweep_forever(self) -> None:
        """Remove expired downloads every SWEEP_SECONDS while the app runs."""
        while True:
            await asyncio.sleep(SWEEP_SECONDS)
            try:
                await run_in_threadpool(self.exports.sweep)
            except OSError:
                logger.exception("Could not sweep the exports folder %s", self.exports.root)


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, offline GraphiQL, strict multipart uploads,
    graphql-transport-ws subscriptions and a lean JSON POST path.

    ``POST application/json`` (what every client sends) is handled here in a few lines: read the
    body, check its shape as Strawberry does (same 400 messages), call ``schema.execute``, write
    the JSON. That skips Strawberry's generic request adapters (content-type parsing with the
    email package, sub-response merging); execution is Strawberry's own. GET, GraphiQL,
    multipart uploads and websockets go through Strawberry's view. Multipart uploads arrive
    here only past the app's CSRF guard and body limit (see ``create_app``).
    """

    def __init__(self, holder: ServiceHolder, page: GraphiQLPage) -> None:
        super().__init__(
            schema,
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            multipart_uploads_enabled=True,
            allowed_origins=holder.settings.cors_origins,
        )
        self.holder = holder
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        if scope["method"] == "POST":
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            if content_type == b"application/json":
                status, body, media = await self._post_json(headers, receive)
                await _send(send, status, body, media)
                return
        # What Strawberry's GraphQL.__call__ does for HTTP, plus closing the request, which
        # closes the temporary files Starlette's form parser spooled uploads to.
        request = Request(scope=scope, receive=receive)
        try:
            try:
                response = await self.run(request)
            except HTTPException as exc:
                response = PlainTextResponse(exc.reason, status_code=exc.status_code)
            await response(scope, receive, send)
        finally:
            await request.close()

    async def _post_json(self, headers: dict[bytes, bytes],
                         receive: Receive) -> tuple[int, bytes, bytes]:
        try:
            data = decode_json(await _read_body(receive))
        except (ValueError, RecursionError):  # also UnicodeDecodeError; [[[[... nested 100k deep
            return _text(400, "Unable to parse request body as JSON")
        if isinstance(data, list):
            return _text(400, "Batching is not enabled")
        if not isinstance(data, dict):
            return _text(400, "The request body must be a JSON object with a `query`.")
        query, variables, extensions = (data.get("query"), data.get("variables"),
                                        data.get("extensions"))
        if not isinstance(query, str | None):
            return _text(400, "The GraphQL operation's `query` must be a string or null, "
                              "if provided.")
        if not isinstance(variables, dict | None):
            return _text(400, "The GraphQL operation's `variables` must be an object or null, "
                              "if provided.")
        if not isinstance(extensions, dict | None):
            return _text(400, "The GraphQL operation's `extensions` must be an object or null, "
                              "if provided.")
        authorization = headers.get(b"authorization")
        context = Context(service=await self.holder.get(), settings=self.holder.settings,
                          exports=self.holder.exports,
                          authorization=authorization.decode("latin-1") if authorization else None)
        try:
            result = await self.schema.execute(
                query, variable_values=variables, context_value=context,
                operation_name=data.get("operationName"),
                allowed_operation_types=POST_OPERATIONS, operation_extensions=extensions)
        except MissingQueryError:
            return _text(400, "No GraphQL query found in the request")
        except CannotGetOperationTypeError as exc:
            return _text(400, exc.as_http_error_reason())
        except InvalidOperationTypeError as exc:
            return _text(400, exc.as_http_error_reason("POST"))
        return 200, encode_json(process_result(result)), b"application/json"

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        service = await self.holder.get()
        return Context(service=service, settings=self.holder.settings,
                       exports=self.holder.exports,
                       authorization=request.headers.get("authorization"))

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, Any]:
        """The operation of a GraphQL multipart request, its files in place; strict.

        Strawberry's parser trusts ``map``; here a request whose ``map`` names a part that is
        not a file, points at no null placeholder in the operation's variables, maps two files
        to one variable, or that carries a file ``map`` does not use is refused with 400.
        """
        try:
            form_data = await request.get_form_data()
        except ValueError as exc:
            raise HTTPException(400, "Unable to parse the multipart body") from exc
        operations = _json_part(form_data.form, "operations")
        files_map = _json_part(form_data.form, "map")
        files = form_data.files
        check_multipart(operations, files_map, files)
        try:
            return replace_placeholders_with_files(operations, files_map, files)
        except (KeyError, IndexError, ValueError, TypeError) as exc:  # pragma: no cover
            raise HTTPException(400, "The multipart `map` does not match the operation") from exc

    async def render_graphql_ide(self, request: Request) -> Response:
        return HTMLResponse(self.page.html(request.scope.get("root_path", "")))

    def decode_json(self, data: str | bytes) -> object:
        try:
            decoded = super().decode_json(data)
        except RecursionError:
            raise HTTPException(400, "Unable to parse request body as JSON") from None
        # A JSON number or string is valid JSON but not a GraphQL request: 400, not a 500.
        if not isinstance(decoded, dict | list):
            raise HTTPException(400, "The request body must be a JSON object with a `query`.")
        return decoded


POST_OPERATIONS = frozenset(OperationType.from_http("POST"))


def _json_part(form: Any, name: str) -> Any:
    value = form.get(name)
    if not isinstance(value, str):
        raise HTTPException(400, f"The multipart request needs a `{name}` field (JSON).")
    try:
        return decode_json(value.encode())
    except (ValueError, RecursionError):
        raise HTTPException(400, f"The multipart `{name}` field is not valid JSON.") from None


def check_multipart(operations: Any, files_map: Any, files: Any) -> None:
    """Refuse (HTTP 400) a multipart request whose ``map`` does not fit its operation.

    The GraphQL multipart request spec: ``operations`` is the request (one, not a batch) with
    ``null`` where each file goes; ``map`` is ``{part name: [path, ...]}`` with paths like
    ``variables.file`` or ``variables.files.0``.
    """
    if not isinstance(operations, dict):
        raise HTTPException(400, "The multipart `operations` must be one JSON object "
                                 "(batching is not enabled).")
    if not isinstance(files_map, dict):
        raise HTTPException(400, "The multipart `map` must be a JSON object.")
    file_parts = {key for key, value in files.multi_items() if isinstance(value, UploadFile)}
    used: set[str] = set()
    for part, paths in files_map.items():
        if part not in file_parts:
            raise HTTPException(400, f"The multipart `map` names part {part!r}, which is not a "
                                     "file in the request.")
        if (not isinstance(paths, list) or not paths
                or not all(isinstance(p, str) for p in paths)):
            raise HTTPException(400, f"The multipart `map` entry {part!r} must be a non-empty "
                                     "list of paths.")
        for path in paths:
            if path in used:
                raise HTTPException(400, f"The multipart `map` puts more than one file at "
                                         f"{path!r}.")
            used.add(path)
            if not _is_null_placeholder(operations, path):
                raise HTTPException(400, f"The multipart `map` path {path!r} does not point at "
                                         "a null variable of the operation.")
    unused = sorted(file_parts - set(files_map))
    if unused:
        raise HTTPException(400, f"The request holds file part(s) {', '.join(unused)} that "
                                 "`map` does not use.")


def _is_null_placeholder(operations: dict[str, Any], path: str) -> bool:
    """Whether ``path`` (``variables.file``, ``variables.files.0``) names a null in operations."""
    keys = path.split(".")
    if len(keys) < 2 or keys[0] != "variables":
        return False
    target: Any = operations
    for key in keys:
        if isinstance(target, dict) and key in target:
            target = target[key]
        elif isinstance(target, list) and key.isdigit() and int(key) < len(target):
            target = target[int(key)]
        else:
            return False
    return target is None


#: 19 digits in a row: possibly an integer beyond 64 bits, which orjson would read as a float.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")


def decode_json(body: bytes) -> Any:
    """The request body as Python values, exactly as ``json.loads`` reads it, faster.

    orjson reads the usual body in a fraction of json's time. It refuses what RFC 8259 does not
    allow but Python's json reads (NaN, 1e400, lone surrogates, UTF-16, a BOM, nesting over
    1,024) and reads integers beyond 64 bits as floats; those bodies are read by json, so every
    body means what it meant before (and malformed ones still raise ValueError).
    """
    if _LONG_NUMBER.search(body) is None:
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError:
            pass
    return json.loads(body)


def encode_json(value: Any) -> bytes:
    """Compact JSON (UTF-8, not ASCII-escaped) for a GraphQL response; json for odd values."""
    try:
        return orjson.dumps(value)
    except TypeError:  # integers beyond 64 bits, non-str keys: what json.dumps accepts
        return json.dumps(value, separators=(",", ":")).encode()


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _text(status: int, text: str) -> tuple[int, bytes, bytes]:
    return status, text.encode(), b"text/plain; charset=utf-8"


async def _send(send: Send, status: int, body: bytes, media_type: bytes) -> None:
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [(b"content-type", media_type), (b"content-length", str(len(body)).encode())],
    })
    await send({"type": "http.response.body", "body": body})


def create_app(settings: ApiSettings | None = None,
               core_settings: CoreSettings | None = None) -> Starlette:
    """Build the API app. The API's settings default to the environment read now; the core's
    (stores, upload limit) are read when the services start."""
    settings = settings or get_api_settings()
    holder = ServiceHolder(settings, core_settings)
    page = load_page(settings.graphiql_assets_dir)
    bind_check = BindCheck(settings.api_key, settings.allow_insecure_bind)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        host = bind_guard.uvicorn_host_from_stack()
        if host is not None:
            # Raising here makes uvicorn exit ("Application startup failed") before it binds.
            bind_guard.ensure_safe_bind(host, settings.api_key, settings.allow_insecure_bind)
        await asyncio.to_thread(holder.create)
        tasks = [asyncio.create_task(bind_check.watch()),
                 asyncio.create_task(holder.sweep_forever())]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()

    middleware = [
        # Outermost: a process exposed without a key answers nothing else.
        Middleware(BindGuard, check=bind_check),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type", "GraphQL-Require-Preflight"],
            )
        )
    view = GraphQLView(holder, page)
    # Each route gets the body limit that fits it: JSON operations the small one, uploads and
    # bulk scoring the upload limit; multipart requests pass the CSRF guard before any of it.
    graphql_http = MultipartCsrfGuard(
        BodySizeLimit(view, settings.max_body_bytes,
                      multipart_max_bytes=lambda: holder.upload_limit)
    )
    score = BodySizeLimit(
        score_endpoint(holder.get, lambda: holder.spool_dir), lambda: holder.upload_limit,
        setting="SEGMENTATION_MAX_UPLOAD_BYTES",
    )
    routes = [
        Route("/graphql", graphql_http, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", view),
        Route("/score", score, methods=["POST"]),
        Route("/exports/{token}", export_endpoint(holder.get_exports), methods=["GET"]),
        Route(ASSETS_ROUTE + "/{path:path}", page.serve, methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.service_holder = holder
    return app


app = create_app()
