"""The API's settings, read from environment variables once per ``get_api_settings()`` call.

Every value has a default that works on a developer's machine; the core's own settings (data path,
model store, datasets, signing key, the upload limit ``SEGMENTATION_MAX_UPLOAD_BYTES``) live in
``segmentation_core.settings``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from segmentation_core.settings import int_from_env

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


@dataclass(frozen=True)
class ApiSettings:
    """Everything the API layer can be configured with.

    The query limits (depth, aliases, tokens) are constants of ``graph_api.execution``.
    """

    #: SEGMENTATION_API_KEY: when set, state-changing mutations need
    #: ``Authorization: Bearer <key>``.
    api_key: str | None = None
    #: SEGMENTATION_MAX_BATCH: most customers one ``predictBatch`` accepts.
    max_batch_size: int = 10_000
    #: SEGMENTATION_MAX_BODY_BYTES: larger request bodies get 413 before they are read whole.
    #: 10,000 customers as JSON variables take about 1 MB, so 4 MiB leaves room.
    max_body_bytes: int = 4 * 1024 * 1024
    #: SEGMENTATION_CORS_ORIGINS: comma-separated origins allowed cross-origin; empty = same-origin.
    cors_origins: tuple[str, ...] = ()
    #: SEGMENTATION_MODEL_CHECK_INTERVAL: seconds between checks of the store's active pointer.
    #: 0.5 s leaves room for loading, so every worker serves a new model within one second.
    model_check_interval: float = 0.5
    #: SEGMENTATION_ALLOW_INSECURE_BIND=1 accepts a non-loopback bind without a key (behind a
    #: trusted proxy that authenticates); the refusal is the default.
    allow_insecure_bind: bool = False
    #: SEGMENTATION_GRAPHIQL_ASSETS: the node_modules folder holding GraphiQL's browser assets.
    graphiql_assets_dir: Path = PROJECT_ROOT / ".tools" / "node_modules"
    #: SEGMENTATION_EXPORTS_DIR: where scoreDataset leaves scored files for download (and
    #: POST /score spools its bodies); default: ``exports/`` beside the model store.
    exports_dir: Path | None = None
    #: SEGMENTATION_EXPORT_TTL: seconds a download link stays valid (at least 600).
    export_ttl_seconds: int = 30 * 60


def get_api_settings() -> ApiSettings:
    """Read the API settings from the environment (defaults work locally)."""
    origins = os.environ.get("SEGMENTATION_CORS_ORIGINS", "")
    assets = os.environ.get("SEGMENTATION_GRAPHIQL_ASSETS", "").strip()
    exports = os.environ.get("SEGMENTATION_EXPORTS_DIR", "").strip()
    return ApiSettings(
        api_key=os.environ.get("SEGMENTATION_API_KEY") or None,
        max_batch_size=int_from_env("SEGMENTATION_MAX_BATCH", ApiSettings.max_batch_size),
        max_body_bytes=int_from_env(
            "SEGMENTATION_MAX_BODY_BYTES", ApiSettings.max_body_bytes, 1024
        ),
        cors_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
        model_check_interval=_float(
            "SEGMENTATION_MODEL_CHECK_INTERVAL", ApiSettings.model_check_interval
        ),
        allow_insecure_bind=os.environ.get("SEGMENTATION_ALLOW_INSECURE_BIND", "") in ("1", "true"),
        graphiql_assets_dir=Path(assets) if assets else ApiSettings.graphiql_assets_dir,
        exports_dir=Path(exports).expanduser().resolve() if exports else None,
        export_ttl_seconds=int_from_env(
            "SEGMENTATION_EXPORT_TTL", ApiSettings.export_ttl_seconds, 600
        ),
    )
