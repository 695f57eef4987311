"""Settings of the web layer, read once from environment variables with defaults that work locally.

The UI talks to the GraphQL API over HTTP only. By default that is the API mounted on this very
Reflex backend (one port serves UI, backend and `/graphql`), so the URL follows the backend port
Reflex exports to its backend process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


def _backend_port() -> int:
    """The port of the Reflex backend this process serves (3000 in prod, 8000 in dev)."""
    for name in ("REFLEX_BACKEND_PORT", "PORT"):
        value = os.environ.get(name, "").strip()
        if value.isdigit():
            return int(value)
    try:
        import reflex as rx

        port = rx.config.get_config().backend_port
        if port:
            return int(port)
    except Exception:  # noqa: BLE001 - outside a Reflex project there is no config: use the default
        pass
    return 3000


def _seconds(name: str, default: float) -> float:
    """A positive number of seconds from `$name`; a clear error names a bad value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise ValueError(f"{name} must be more than 0 seconds, got {raw!r}")
    return value


def _bytes(name: str, default: int) -> int:
    """A positive number of bytes from `$name`; a clear error names a bad value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) <= 0:
        raise ValueError(f"{name} must be a positive number of bytes, got {raw!r}")
    return int(raw)


def web_host() -> str:
    """The interface to bind (`SEGMENTATION_WEB_HOST`, default loopback).

    Separate from `load_settings()` because rxconfig.py needs it while Reflex is still loading
    that config, when the backend-port lookup of `load_settings()` would recurse into it.
    """
    return os.environ.get("SEGMENTATION_WEB_HOST", "").strip() or "127.0.0.1"


def allowed_origins() -> list[str]:
    """Origins whose pages may call this backend (Reflex's CORS and websocket checks).

    Reflex's default is every origin, and it applies that to the mounted GraphQL app too, which
    would let any web page a user visits call `/graphql` (and `train`, when no key is set). So
    only the app's own origins are allowed, plus `SEGMENTATION_CORS_ORIGINS` (the API's setting).
    """
    port = os.environ.get("PORT", "").strip() or "3000"
    hosts = ["127.0.0.1", "localhost", "[::1]"]
    host = web_host()
    if host not in (*hosts, "0.0.0.0", "::"):
        hosts.append(host)
    extra = [o.strip() for o in os.environ.get("SEGMENTATION_CORS_ORIGINS", "").split(",")]
    return [f"http://{h}:{port}" for h in hosts] + [o for o in extra if o]


@dataclass(frozen=True)
class WebSettings:
    """Everything the web layer can be configured with."""

    #: The GraphQL endpoint the UI calls (`SEGMENTATION_GRAPHQL_URL`).
    graphql_url: str
    #: Timeout for ordinary queries and predictions, in seconds (`SEGMENTATION_WEB_TIMEOUT`).
    timeout_s: float
    #: Timeout for the `train` mutation, which fits several K-Means models
    #: (`SEGMENTATION_WEB_TRAIN_TIMEOUT`).
    train_timeout_s: float
    #: How often the dashboard refreshes the API status, in seconds
    #: (`SEGMENTATION_WEB_STATUS_EVERY`).
    status_every_s: float
    #: The interface `make run` binds to (`SEGMENTATION_WEB_HOST`). Loopback by default; the API
    #: refuses to serve on another interface unless `SEGMENTATION_API_KEY` is set.
    host: str
    #: The largest file the upload zones send (`SEGMENTATION_MAX_UPLOAD_BYTES`, the API's own
    #: limit, which it enforces: the browser refuses a larger file before sending a byte).
    max_upload_bytes: int = 256 * 1024 * 1024
    #: Whether `SEGMENTATION_GRAPHQL_URL` names another server than the API mounted on this
    #: backend (then the API's `/exports/...` links are resolved against that server).
    api_elsewhere: bool = False


def load_settings() -> WebSettings:
    """Read the settings from the environment (called per use, so tests can change the env)."""
    return WebSettings(
        graphql_url=os.environ.get(
            "SEGMENTATION_GRAPHQL_URL", f"http://127.0.0.1:{_backend_port()}/graphql"
        ),
        timeout_s=_seconds("SEGMENTATION_WEB_TIMEOUT", 10.0),
        train_timeout_s=_seconds("SEGMENTATION_WEB_TRAIN_TIMEOUT", 300.0),
        status_every_s=_seconds("SEGMENTATION_WEB_STATUS_EVERY", 15.0),
        host=web_host(),
        max_upload_bytes=_bytes("SEGMENTATION_MAX_UPLOAD_BYTES", 256 * 1024 * 1024),
        api_elsewhere=bool(os.environ.get("SEGMENTATION_GRAPHQL_URL")),
    )
