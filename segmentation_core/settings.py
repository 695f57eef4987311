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


@dataclass(frozen=True)
class CoreSettings:
    """Where the core reads its data and keeps its models and signing key."""

    data_path: Path  # SEGMENTATION_DATA
    models_dir: Path  # SEGMENTATION_MODELS_DIR
    signing_key_file: Path  # SEGMENTATION_SIGNING_KEY_FILE (outside the store on purpose)


def _path_from_env(name: str, default: Path) -> Path:
    """``$name`` as an absolute path (relative values are taken from the current directory)."""
    raw = os.environ.get(name, "").strip()
    return Path(raw).expanduser().resolve() if raw else default


def get_settings() -> CoreSettings:
    """The current settings from the environment.

    ``SEGMENTATION_DATA`` (default ``<root>/data/customers.csv``), ``SEGMENTATION_MODELS_DIR``
    (default ``<root>/models``) and ``SEGMENTATION_SIGNING_KEY_FILE`` (default
    ``<root>/.secrets/model-signing.key``; it must lie outside the model store, so whoever can
    write into the store cannot also forge signatures).
    """
    return CoreSettings(
        data_path=_path_from_env("SEGMENTATION_DATA", PROJECT_ROOT / "data" / "customers.csv"),
        models_dir=_path_from_env("SEGMENTATION_MODELS_DIR", PROJECT_ROOT / "models"),
        signing_key_file=_path_from_env(
            "SEGMENTATION_SIGNING_KEY_FILE", PROJECT_ROOT / ".secrets" / "model-signing.key"
        ),
    )
