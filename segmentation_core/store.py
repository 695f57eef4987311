"""The model store: signed, versioned models and an atomically switched active pointer.

Layout of ``root`` (``SEGMENTATION_MODELS_DIR``)::

    ACTIVE                      the active version id (one line), replaced atomically
    <version>/metadata.json     ModelInfo + FeatureSpec as JSON (plain data)
    <version>/pipeline.joblib   the fitted StandardScaler + KMeans pipeline
    <version>/signature.json    HMAC-SHA256 over the version id and the sha256 of both files
    .lock                       serialises writers (flock)
    .tmp-*                      a save in progress, or one a crash interrupted (the next save
                                removes it)

A save writes the version into a temporary folder, fsyncs every file and the folder, renames it
into place, then writes the new pointer to a temporary file, fsyncs it and ``os.replace``-s it over
``ACTIVE``. A crash at any instant leaves the previous pointer and the version it names intact.

Pickle runs code when loaded, so ``load`` proves a version is ours before unpickling anything:
the signature must verify under the key kept OUTSIDE the store (``SEGMENTATION_SIGNING_KEY_FILE``,
created on first save with mode 0600 in a 0700 folder), it must name the requested version (so
versions cannot be swapped), and each file's bytes must hash to the signed value. The bytes that
were hashed are the bytes parsed and unpickled (no re-reading), and a pipeline from another
scikit-learn version is refused rather than loaded with a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import stat
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from segmentation_core.errors import ModelIntegrityError, ModelNotTrainedError
from segmentation_core.model import SegmentationModel
from segmentation_core.serialization import (
    info_from_dict,
    info_to_dict,
    spec_from_dict,
    spec_to_dict,
)
from segmentation_core.settings import CoreSettings, get_settings

FORMAT = "segmentation-model/1"
ACTIVE_FILE = "ACTIVE"
METADATA_FILE = "metadata.json"
PIPELINE_FILE = "pipeline.joblib"
SIGNATURE_FILE = "signature.json"
SIGNED_FILES = (METADATA_FILE, PIPELINE_FILE)
_TMP_PREFIX = ".tmp-"
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_KEY_BYTES = 32
#: A signature file is a few hundred bytes; refuse to parse anything much larger.
_MAX_SIGNATURE_BYTES = 64 * 1024


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "xb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


class ModelStore:
    """Versions of trained models in ``root``, signed with the key in ``key_file``."""

    def __init__(self, root: Path, key_file: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.key_file = Path(key_file).expanduser().resolve()
        if _is_within(self.key_file, self.root):
            raise ModelIntegrityError(
                f"the signing key file {self.key_file} must lie outside the model store "
                f"{self.root}: "
                "whoever can write into the store must not be able to read the key"
            )

    @classmethod
    def from_settings(cls, settings: CoreSettings | None = None) -> ModelStore:
        """The store that ``SEGMENTATION_MODELS_DIR`` / ``SEGMENTATION_SIGNING_KEY_FILE`` name."""
        settings = settings or get_settings()
        return cls(settings.models_dir, settings.signing_key_file)

    # -- reading -------------------------------------------------------------------------------

    def active_version(self) -> str | None:
        """The active version id, or None before the first save. Reads one small file."""
        try:
            text = (self.root / ACTIVE_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    def versions(self) -> list[str]:
        """Every complete version in the store, oldest first (ids sort by time)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.fullmatch(p.name)
        )

    def load_active(self) -> SegmentationModel:
        """The active model; ModelNotTrainedError if none, ModelIntegrityError if refused."""
        version = self.active_version()
        if version is None:
            raise ModelNotTrainedError(
                f"no model has been trained yet (store {self.root}); "
                "run `python -m segmentation_core train` or the train mutation"
            )
        return self.load(version)

    def load(self, version: str) -> SegmentationModel:
        """Verify and load one version; ModelIntegrityError (with the reason) if it is refused."""
        if not _VERSION_RE.fullmatch(version):
            raise ModelIntegrityError(f"{version!r} is not a valid model version id")
        folder = self.root / version
        if not folder.is_dir():
            raise ModelIntegrityError(f"model version {version!r} is not in the store {self.root}")
        contents = self._verified_contents(folder, version)
        metadata = self._parse_metadata(contents[METADATA_FILE], version)
        pipeline = self._unpickle(contents[PIPELINE_FILE], version)
        return SegmentationModel(
            info_from_dict(metadata["info"]), spec_from_dict(metadata["spec"]), pipeline
        )

    def _verified_contents(self, folder: Path, version: str) -> dict[str, bytes]:
        """The signed files' bytes, after the signature and every hash checked out."""
        key = self._read_key(create=False)
        try:
            raw = (folder / SIGNATURE_FILE).read_bytes()[: _MAX_SIGNATURE_BYTES + 1]
            if len(raw) > _MAX_SIGNATURE_BYTES:
                raise ValueError("too large")
            signature = json.loads(raw)
            claims = {name: signature[name] for name in ("format", "version", "files", "key_id")}
            mac = str(signature["hmac"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelIntegrityError(
                f"model {version}: the signature file is missing or unreadable ({exc}); "
                "refusing to load it"
            ) from exc
        if claims["format"] != FORMAT:
            raise ModelIntegrityError(f"model {version}: unknown store format {claims['format']!r}")
        if claims["key_id"] != self._key_id(key):
            raise ModelIntegrityError(
                f"model {version} was signed with another key (key id {claims['key_id']}, this "
                f"store's key is {self._key_id(key)}): it is not a model this installation wrote; "
                "refusing to load it"
            )
        expected = hmac.new(key, _canonical(claims), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, mac):
            raise ModelIntegrityError(
                f"model {version}: the signature does not verify; its signature file was "
                "altered or forged; refusing to load it"
            )
        if claims["version"] != version:
            raise ModelIntegrityError(
                f"the files in {folder.name!r} are signed as version {claims['version']!r}: "
                "files were moved or swapped between versions; refusing to load them"
            )
        if not isinstance(claims["files"], dict) or set(claims["files"]) != set(SIGNED_FILES):
            raise ModelIntegrityError(f"model {version}: the signature covers unexpected files")
        contents: dict[str, bytes] = {}
        for name in SIGNED_FILES:
            try:
                data = (folder / name).read_bytes()
            except OSError as exc:
                raise ModelIntegrityError(f"model {version}: cannot read {name} ({exc})") from exc
            if not hmac.compare_digest(
                hashlib.sha256(data).hexdigest(), str(claims["files"][name])
            ):
                raise ModelIntegrityError(
                    f"model {version}: {name} was changed after it was signed (sha256 mismatch); "
                    "refusing to load it"
                )
            contents[name] = data
        return contents

    @staticmethod
    def _parse_metadata(data: bytes, version: str) -> dict[str, Any]:
        try:
            metadata: dict[str, Any] = json.loads(data)
            named = metadata["info"]["version"]
            written_by = dict(metadata["info"]["library_versions"]).get("scikit-learn")
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelIntegrityError(f"model {version}: unreadable metadata ({exc})") from exc
        if metadata.get("format") != FORMAT or named != version:
            raise ModelIntegrityError(f"model {version}: metadata names another version or format")
        if written_by != sklearn.__version__:
            raise ModelIntegrityError(
                f"model {version} was written by scikit-learn {written_by}, but this installation "
                f"has scikit-learn {sklearn.__version__}; a pickled pipeline is only trusted by "
                "the version that wrote it. Retrain with `python -m segmentation_core train`."
            )
        return metadata

    @staticmethod
    def _unpickle(data: bytes, version: str) -> Pipeline:
        with warnings.catch_warnings():
            # sklearn only warns when unpickling another version's estimator; we refuse instead
            warnings.simplefilter("error", InconsistentVersionWarning)
            try:
                pipeline = joblib.load(io.BytesIO(data))
            except InconsistentVersionWarning as exc:
                raise ModelIntegrityError(
                    f"model {version}: the pipeline was pickled by scikit-learn "
                    f"{exc.original_sklearn_version}, this installation has "
                    f"{exc.current_sklearn_version}; "
                    "retrain with `python -m segmentation_core train`"
                ) from exc
        if not isinstance(pipeline, Pipeline):
            raise ModelIntegrityError(
                f"model {version}: the artifact is not a scikit-learn Pipeline"
            )
        return pipeline

    # -- writing -------------------------------------------------------------------------------

    def save(self, model: SegmentationModel) -> str:
        """Write ``model`` as a new signed version, make it the active one and return its id.

        Writers are serialised with a lock file; readers never wait.
        """
        version = model.info.version
        if not _VERSION_RE.fullmatch(version):
            raise ModelIntegrityError(f"{version!r} is not a valid model version id")
        self.root.mkdir(parents=True, exist_ok=True)
        key = self._read_key(create=True)
        with self._writer_lock():
            self._remove_interrupted_saves()
            if (self.root / version).exists():
                raise ModelIntegrityError(
                    f"model version {version!r} already exists in {self.root}"
                )
            tmp = self.root / f"{_TMP_PREFIX}{version}-{secrets.token_hex(4)}"
            tmp.mkdir()
            try:
                self._write_version(tmp, model, key)
                os.rename(tmp, self.root / version)
                _fsync_dir(self.root)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            self._point_active_to(version)
        return version

    def _write_version(self, folder: Path, model: SegmentationModel, key: bytes) -> None:
        metadata = {
            "format": FORMAT,
            "info": info_to_dict(model.info),
            "spec": spec_to_dict(model.spec),
        }
        buffer = io.BytesIO()
        joblib.dump(model.pipeline, buffer)
        contents = {
            METADATA_FILE: json.dumps(metadata, indent=2, allow_nan=False).encode(),
            PIPELINE_FILE: buffer.getvalue(),
        }
        for name, data in contents.items():
            _write_synced(folder / name, data)
        claims = {
            "format": FORMAT,
            "version": model.info.version,
            "files": {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()},
            "key_id": self._key_id(key),
        }
        signature = dict(claims, hmac=hmac.new(key, _canonical(claims), hashlib.sha256).hexdigest())
        _write_synced(folder / SIGNATURE_FILE, json.dumps(signature, indent=2).encode())
        _fsync_dir(folder)

    def _point_active_to(self, version: str) -> None:
        tmp = self.root / f"{_TMP_PREFIX}{ACTIVE_FILE}-{secrets.token_hex(4)}"
        try:
            _write_synced(tmp, f"{version}\n".encode())
            os.replace(tmp, self.root / ACTIVE_FILE)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(self.root)

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _remove_interrupted_saves(self) -> None:
        """Leftovers of saves a crash interrupted (safe: we hold the writer lock)."""
        for path in self.root.glob(f"{_TMP_PREFIX}*"):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)

    # -- the signing key -----------------------------------------------------------------------

    @staticmethod
    def _key_id(key: bytes) -> str:
        """A public fingerprint of the key, so a foreign signature gets a clear message."""
        return hashlib.sha256(b"segmentation-key-id:" + key).hexdigest()[:16]

    def _read_key(self, *, create: bool) -> bytes:
        path = self.key_file
        if not path.exists():
            if not create:
                raise ModelIntegrityError(
                    f"the signing key {path} is missing, so no stored model can be verified; "
                    "retrain to create a new key and a model signed with it"
                )
            self._create_key()
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ModelIntegrityError(f"the signing key {path} is not a regular file")
        if info.st_mode & 0o077:
            raise ModelIntegrityError(
                f"the signing key {path} is readable by other users "
                f"(mode {stat.S_IMODE(info.st_mode):o}); "
                f"run `chmod 600 {path}`"
            )
        try:
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (ValueError, UnicodeDecodeError) as exc:
            raise ModelIntegrityError(f"the signing key {path} is not a hex key") from exc
        if len(key) < _KEY_BYTES:
            raise ModelIntegrityError(f"the signing key {path} is shorter than {_KEY_BYTES} bytes")
        return key

    def _create_key(self) -> None:
        folder = self.key_file.parent
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700, exist_ok=True)
            os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
        # write a complete key under a temporary name, then link it into place: a concurrent
        # reader never sees a half-written key, and if another process won the race we use theirs
        tmp = folder / f".{self.key_file.name}.{secrets.token_hex(4)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(_KEY_BYTES) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(tmp, self.key_file)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(folder)
