"""The core's settings, read from environment variables with defaults that work in a checkout.

Read once per call of :func:`get_settings` (not at import), so tests and the CLI can point the
core at another store by setting the environment before calling it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root: the folder holding ``segmentation_core/``.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: Default largest file a dataset import (or an upload, or a scored body) may have: 256 MiB.
DEFAULT_MAX_UPLOAD_BYTES = 256 * 1024 * 1024
#: Default most rows a dataset may have on the local engine. A table is held in memory while it
#: is imported (about 100 bytes a row for a typical 7-column export), so 10 million rows stay
#: near 1 GB; larger tables belong on the Spark engine.
DEFAULT_MAX_ROWS = 10_000_000


@dataclass(frozen=True)
class CoreSettings:
    """Where the core reads its data and keeps its models and signing key."""

    data_path: Path  # SEGMENTATION_DATA
    models_dir: Path  # SEGMENTATION_MODELS_DIR
    signing_key_file: Path  # SEGMENTATION_SIGNING_KEY_FILE (outside the store on purpose)
    datasets_dir: Path = PROJECT_ROOT / "data" / "datasets"  # SEGMENTATION_DATASETS_DIR
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES  # SEGMENTATION_MAX_UPLOAD_BYTES
    max_rows: int = DEFAULT_MAX_ROWS  # SEGMENTATION_MAX_ROWS
    spark_master: str | None = None  # SPARK_MASTER (None: spark-submit's master, else local[*])
    spark_remote: str | None = None  # SPARK_REMOTE: a Spark Connect URL, e.g. sc://host:15002


def _path_from_env(name: str, default: Path) -> Path:
    """``$name`` as an absolute path (relative values are taken from the current directory)."""
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser().resolve() if raw else default


def int_from_env(name: str, default: int, minimum: int = 1) -> int:
    """``$name`` as a whole number of at least ``minimum`` (``default`` when unset or blank);
    a clear error names the variable and the bad value. The API's settings use it too."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def _text_from_env(name: str) -> str | None:
    """``$name`` trimmed, or None when unset or blank."""
    return os.environ.get(name, "").strip() or None


def get_settings() -> CoreSettings:
    """The current settings from the environment.

    ``SEGMENTATION_DATA`` (default ``<root>/data/customers.csv``), ``SEGMENTATION_MODELS_DIR``
    (default ``<root>/models``) and ``SEGMENTATION_SIGNING_KEY_FILE`` (default
    ``<root>/.secrets/model-signing.key``; it must lie outside the model store, so whoever can
    write into the store cannot also forge signatures), ``SEGMENTATION_DATASETS_DIR`` (default
    ``<root>/data/datasets``), ``SEGMENTATION_MAX_UPLOAD_BYTES`` (default 256 MiB) and
    ``SEGMENTATION_MAX_ROWS`` (default 10,000,000). The Spark engine
    (``segmentation_core.spark``) reads ``SPARK_MASTER`` (default: the master ``spark-submit``
    was given, else ``local[*]``) and ``SPARK_REMOTE`` (a Spark Connect URL such as
    ``sc://host:15002``; when set it wins over ``SPARK_MASTER``).
    """
    return CoreSettings(
        data_path=_path_from_env("SEGMENTATION_DATA", PROJECT_ROOT / "data" / "customers.csv"),
        models_dir=_path_from_env("SEGMENTATION_MODELS_DIR", PROJECT_ROOT / "models"),
        signing_key_file=_path_from_env(
            "SEGMENTATION_SIGNING_KEY_FILE", PROJECT_ROOT / ".secrets" / "model-signing.key"
        ),
        datasets_dir=_path_from_env(
            "SEGMENTATION_DATASETS_DIR", PROJECT_ROOT / "data" / "datasets"
        ),
        max_upload_bytes=int_from_env(
            "SEGMENTATION_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES
        ),
        max_rows=int_from_env("SEGMENTATION_MAX_ROWS", DEFAULT_MAX_ROWS),
        spark_master=_text_from_env("SPARK_MASTER"),
        spark_remote=_text_from_env("SPARK_REMOTE"),
    )
