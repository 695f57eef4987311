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


def load_settings() -> WebSettings:
    """Read the settings from the environment (called per use, so tests can change the env)."""
    return WebSettings(
        graphql_url=os.environ.get(
            "SEGMENTATION_GRAPHQL_URL", f"http://127.0.0.1:{_backend_port()}/graphql"
        ),
        timeout_s=float(os.environ.get("SEGMENTATION_WEB_TIMEOUT", "10")),
        train_timeout_s=float(os.environ.get("SEGMENTATION_WEB_TRAIN_TIMEOUT", "300")),
        status_every_s=float(os.environ.get("SEGMENTATION_WEB_STATUS_EVERY", "15")),
    )
