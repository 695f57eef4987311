"""Scored files waiting for download: ``/exports/<token>`` links that verify themselves.

A token is ``<id>.<expiry>.<signature>``: a random id (128 bits, so unguessable), the expiry in
Unix seconds, and an HMAC-SHA256 over both with a secret every worker process shares. The secret
lives in ``<exports dir>/.download-key`` (32 random bytes, mode 0600, created by whichever process
needs it first; never the API key). A token whose signature does not verify is refused before
the disk is touched (404), an expired one answers 410, and expired files are removed by a sweep
that runs at start-up, on every new export and every few minutes.

Files are ``<id>.csv`` plus ``<id>.json`` (the download name and expiry) in the exports folder
(``SEGMENTATION_EXPORTS_DIR``); a scored file is written to a temporary name and renamed into
place, so a download never sees half a file.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

logger = logging.getLogger(__name__)

KEY_FILE = ".download-key"
_KEY_BYTES = 32
_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_TOKEN = re.compile(
    r"(?P<id>[A-Za-z0-9_-]{22})\.(?P<expiry>[0-9]{1,12})\.(?P<mac>[A-Za-z0-9_-]{43})"
)
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class ExportNotFound(LookupError):
    """The token is malformed, forged, or names no file."""


class ExportExpired(LookupError):
    """The token was genuine but its time is up."""


@dataclass(frozen=True)
class Export:
    """A reserved export: where to write the file, and the link that will serve it."""

    id: str
    path: Path
    token: str
    expires_at: float

    @property
    def url(self) -> str:
        """The download path on this server."""
        return f"/exports/{self.token}"

    @property
    def expires_at_iso(self) -> str:
        """The expiry as ISO 8601 UTC."""
        stamp = datetime.fromtimestamp(self.expires_at, UTC)
        return stamp.isoformat(timespec="seconds").replace("+00:00", "Z")


def download_name(dataset_name: str) -> str:
    """``<dataset>-scored.csv``, the dataset name reduced to letters, digits, ``.``, ``-`` and
    ``_`` (anything else becomes ``_``), so the header is a plain ``filename="..."``."""
    stem = _UNSAFE_NAME.sub("_", Path(dataset_name).stem if dataset_name else "").strip(" ._")
    return f"{(stem or 'dataset')[:80]}-scored.csv"


class ExportStore:
    """The exports folder: reserve, sign, verify, serve and sweep scored files."""

    def __init__(self, root: Path, ttl_seconds: float = 30 * 60) -> None:
        self.root = Path(root).expanduser().resolve()
        self.ttl_seconds = ttl_seconds
        self._key: bytes | None = None

    # ---- the shared secret ------------------------------------------------------------------
    def _secret(self) -> bytes:
        if self._key is None:
            self.root.mkdir(parents=True, exist_ok=True)
            path = self.root / KEY_FILE
            if not path.exists():
                tmp = self.root / f".{KEY_FILE}.{secrets.token_hex(4)}"
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    with os.fdopen(fd, "w", encoding="ascii") as fh:
                        fh.write(secrets.token_hex(_KEY_BYTES))
                        fh.flush()
                        os.fsync(fh.fileno())
                    with contextlib.suppress(FileExistsError):
                        os.link(tmp, path)  # another worker may have won: use theirs
                finally:
                    tmp.unlink(missing_ok=True)
            self._key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        return self._key

    def _mac(self, export_id: str, expiry: int) -> str:
        digest = hmac.new(self._secret(), f"{export_id}.{expiry}".encode(), hashlib.sha256)
        return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()

    # ---- writing ------------------------------------------------------------------------------
    def reserve(self, dataset_name: str, now: float | None = None) -> Export:
        """A new export id, its file path (not yet written) and its signed link."""
        now = time.time() if now is None else now
        export_id = secrets.token_urlsafe(16)
        expiry = int(now + self.ttl_seconds)
        self.root.mkdir(parents=True, exist_ok=True)
        meta = {"filename": download_name(dataset_name), "expires": expiry}
        (self.root / f"{export_id}.json").write_text(json.dumps(meta), encoding="utf-8")
        token = f"{export_id}.{expiry}.{self._mac(export_id, expiry)}"
        return Export(export_id, self.root / f"{export_id}.csv", token, float(expiry))

    def temporary_path(self, export: Export) -> Path:
        """Where to write the file before :meth:`publish` renames it into place."""
        return self.root / f".{export.id}.csv.tmp"

    def publish(self, export: Export) -> None:
        """Make the written file downloadable (one rename)."""
        os.replace(self.temporary_path(export), export.path)

    def discard(self, export: Export) -> None:
        """Remove everything of an export that failed."""
        for path in (self.temporary_path(export), export.path, self.root / f"{export.id}.json"):
            path.unlink(missing_ok=True)

    # ---- reading ------------------------------------------------------------------------------
    def resolve(self, token: str, now: float | None = None) -> tuple[Path, str]:
        """The file and download name of a genuine, unexpired token.

        ExportNotFound for a malformed or forged token or a missing file; ExportExpired once
        its time is up (the files are then removed).
        """
        match = _TOKEN.fullmatch(token)
        if match is None:
            raise ExportNotFound(token)
        export_id, expiry = match["id"], int(match["expiry"])
        if not hmac.compare_digest(match["mac"], self._mac(export_id, expiry)):
            raise ExportNotFound(token)
        now = time.time() if now is None else now
        if now >= expiry:
            self._remove(export_id)
            raise ExportExpired(token)
        path = self.root / f"{export_id}.csv"
        try:
            meta = json.loads((self.root / f"{export_id}.json").read_text(encoding="utf-8"))
            filename = str(meta["filename"])
        except (OSError, ValueError, KeyError):
            raise ExportNotFound(token) from None
        if not path.is_file():
            raise ExportNotFound(token)
        return path, filename

    # ---- sweeping ----------------------------------------------------------------------------
    def sweep(self, now: float | None = None) -> int:
        """Remove expired exports and abandoned temporary files; returns how many went."""
        now = time.time() if now is None else now
        if not self.root.is_dir():
            return 0
        removed = 0
        for meta_path in self.root.glob("*.json"):
            export_id = meta_path.stem
            if not _ID.fullmatch(export_id):
                continue
            try:
                expires = float(json.loads(meta_path.read_text(encoding="utf-8"))["expires"])
            except (OSError, ValueError, KeyError, TypeError):
                expires = 0.0
            if now >= expires:
                self._remove(export_id)
                removed += 1
        for tmp in self.root.glob(".*.csv.tmp"):
            with contextlib.suppress(OSError):
                if now - tmp.stat().st_mtime > self.ttl_seconds:
                    tmp.unlink()
        return removed

    def _remove(self, export_id: str) -> None:
        for suffix in (".csv", ".json"):
            (self.root / f"{export_id}{suffix}").unlink(missing_ok=True)
