"""The Starlette app: ``uvicorn graph_api.app:app`` serves the GraphQL API on /graphql.

The same ``app`` is mounted into the Reflex backend (``rx.App(api_transformer=app)``), where its
lifespan may not run; the model service is then created on the first request instead. Either
way the active model is loaded once, not per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import AsyncIterator
from typing import Any

import orjson
from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import MissingQueryError
from strawberry.http import process_result
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from graph_api import bind_guard
from graph_api.context import Context
from graph_api.graphiql import ASSETS_ROUTE, GraphiQLPage, load_page
from graph_api.middleware import BindCheck, BindGuard, BodySizeLimit
from graph_api.schema import schema
from graph_api.service import ModelService
from graph_api.settings import ApiSettings, get_api_settings
from segmentation_core.settings import CoreSettings, get_settings
from segmentation_core.store import ModelStore

logger = logging.getLogger(__name__)


class ServiceHolder:
    """Creates the model service once, at start-up or on the first request, whichever is first."""

    def __init__(self, settings: ApiSettings, core_settings: CoreSettings | None) -> None:
        self.settings = settings
        self._core_settings = core_settings
        self._service: ModelService | None = None
        self._lock = asyncio.Lock()

    @property
    def ready(self) -> bool:
        """Whether the service exists (created by the lifespan or a first request)."""
        return self._service is not None

    def create(self) -> ModelService:
        """Build the service and load the active model (blocking; runs once)."""
        if self._service is None:
            core = self._core_settings or get_settings()
            store = ModelStore.from_settings(core)
            service = ModelService(store, core.data_path, core.models_dir,
                                   self.settings.model_check_interval)
            service.load_active()
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


class GraphQLView(GraphQL[Context, None]):
    """Strawberry's ASGI view with our context, offline GraphiQL and a lean JSON POST path.

    ``POST application/json`` (what every client sends) is handled here in a few lines: read the
    body, check its shape as Strawberry does (same 400 messages), execute, write the JSON. That
    skips Strawberry's generic request adapters, content-type parsing with the email package and
    sub-response merging. GET, GraphiQL and every other content type go through Strawberry's view
    unchanged.
    """

    def __init__(self, holder: ServiceHolder, page: GraphiQLPage) -> None:
        super().__init__(schema, subscription_protocols=(), multipart_uploads_enabled=False)
        self.holder = holder
        self.page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            headers = dict(scope["headers"])
            content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
            if content_type == b"application/json":
                status, body, media = await self._post_json(headers, receive)
                await _send(send, status, body, media)
                return
        await super().__call__(scope, receive, send)

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
                       authorization=request.headers.get("authorization"))

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
    """Build the API app. Settings default to the environment (read now, at creation)."""
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
        watcher = asyncio.create_task(bind_check.watch())
        try:
            yield
        finally:
            watcher.cancel()

    middleware = [
        # Outermost: a process exposed without a key answers nothing else.
        Middleware(BindGuard, check=bind_check),
        Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes),
    ]
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=["Authorization", "Content-Type"],
            )
        )
    routes = [
        Route("/graphql", GraphQLView(holder, page), methods=["GET", "POST"]),
        Route(ASSETS_ROUTE + "/{path:path}", page.serve, methods=["GET"]),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.service_holder = holder
    return app


app = create_app()
