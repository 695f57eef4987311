"""The model store: signed model versions and a registry that steers them.

Layout of ``root`` (``SEGMENTATION_MODELS_DIR``)::

    registry.json               the registry: the activation stack and a generation counter
                                (see below), replaced atomically; polled by every worker
    ACTIVE                      the active version id (one line): a copy kept for readers of
                                store format 1 (older code, scripts); never read while
                                registry.json exists
    <version>/metadata.json     ModelInfo + FeatureSpec as JSON (plain data)
    <version>/pipeline.joblib   the fitted [FeatureRecipe,] StandardScaler, KMeans pipeline
    <version>/signature.json    HMAC-SHA256 over the version id and the sha256 of both files
    <version>/names.json        the segment names a user gave (optional), signed on its own
    .lock                       serialises writers (flock)
    .tmp-*                      a write in progress, or one a crash interrupted (the next
                                write removes it)

``registry.json`` is ``{"format": "segmentation-registry/1", "generation": G, "stack": [...]}``:
``stack`` lists activated versions oldest first, the LAST one is the active version; ``generation``
grows with every registry write (save, activate, rollback, rename, delete), so a worker that
polls this one small file knows when to refresh cached models and names. A store written before
the registry existed (only ``ACTIVE``) reads as a stack of one at generation 0.

Every write takes the writer lock, first removes what crashed writes left behind, then changes
the store in an order where a crash at any instant leaves a store that loads: new files are
written to temporary names, fsynced and renamed into place, and ``registry.json`` is replaced
(write a temporary file, fsync it, ``os.replace``, fsync the folder) as the commit point.

Pickle runs code when loaded, so ``load`` proves a version is ours before unpickling anything:
the signature must verify under the key kept OUTSIDE the store (``SEGMENTATION_SIGNING_KEY_FILE``,
created on first save with mode 0600 in a 0700 folder), it must name the requested version (so
versions cannot be swapped), and each file's bytes must hash to the signed value. The bytes that
were hashed are the bytes parsed and unpickled (no re-reading), and a pipeline from another
scikit-learn version is refused rather than loaded with a warning. ``names.json`` is verified the
same way (its HMAC binds the version id and the names) before it is applied. Listing
(:meth:`ModelStore.records`) verifies and reads metadata only; it never unpickles.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import io
import json
import logging
import os
import re
import secrets
import shutil
import stat
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import sklearn
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.pipeline import Pipeline

from segmentation_core.errors import (
    ConflictError,
    InvalidParameterError,
    ModelIntegrityError,
    ModelNotTrainedError,
    NotFoundError,
)
from segmentation_core.features import FeatureSpec
from segmentation_core.model import SegmentationModel
from segmentation_core.results import ClusterProfile, ModelInfo, ModelRecord
from segmentation_core.serialization import (
    info_from_dict,
    info_to_dict,
    spec_from_dict,
    spec_to_dict,
)
from segmentation_core.settings import CoreSettings, get_settings

logger = logging.getLogger(__name__)

FORMAT = "segmentation-model/1"
REGISTRY_FORMAT = "segmentation-registry/1"
NAMES_FORMAT = "segmentation-names/1"
REGISTRY_FILE = "registry.json"
ACTIVE_FILE = "ACTIVE"
METADATA_FILE = "metadata.json"
PIPELINE_FILE = "pipeline.joblib"
SIGNATURE_FILE = "signature.json"
NAMES_FILE = "names.json"
SIGNED_FILES = (METADATA_FILE, PIPELINE_FILE)
#: Longest segment name, in characters after trimming.
MAX_NAME_LENGTH = 60
#: Most entries the activation stack keeps (the oldest are forgotten first).
MAX_STACK = 100
_TMP_PREFIX = ".tmp-"
_DELETED_PREFIX = f"{_TMP_PREFIX}deleted-"
_VERSION_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_KEY_BYTES = 32
#: A signature or names file is a few kilobytes at most; refuse to parse anything much larger.
_MAX_SIGNATURE_BYTES = 64 * 1024
_MAX_NAMES_BYTES = 64 * 1024
#: The registry holds at most MAX_STACK version ids (~40 bytes each).
_MAX_REGISTRY_BYTES = 64 * 1024


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


def _read_bounded(path: Path, limit: int) -> bytes:
    """A small file's bytes; ValueError if it holds more than ``limit`` bytes."""
    with open(path, "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{path.name} is larger than {limit} bytes")
    return data


def _is_within(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()


def _name_key(name: str) -> str:
    """What two names must not share within a model: compatibility-normalised, case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


#: Why a character is not printable, by its Unicode category.
_UNPRINTABLE = {
    "Cc": "a control character",
    "Cf": "an invisible formatting character",
    "Cs": "a surrogate",
    "Co": "a private-use character",
    "Cn": "an unassigned code point",
    "Zl": "a line separator",
    "Zp": "a paragraph separator",
    "Zs": "a space other than the plain space",
}


def check_segment_name(name: str, taken: Iterable[str] = ()) -> str:
    """``name`` trimmed, if it is a valid segment name that none of ``taken`` already uses.

    The rule (contract, "Names"): 1-60 printable characters after trimming, unique within the
    model ignoring case. Anything else raises ``InvalidParameterError("name", reason)``.
    """
    if not isinstance(name, str):
        raise InvalidParameterError("name", "a segment name must be text")
    clean = name.strip()
    if not clean:
        raise InvalidParameterError("name", "a segment name cannot be empty")
    if len(clean) > MAX_NAME_LENGTH:
        raise InvalidParameterError(
            "name",
            f"a segment name has at most {MAX_NAME_LENGTH} characters; this one has {len(clean)}",
        )
    for position, char in enumerate(clean):
        if not char.isprintable():
            kind = _UNPRINTABLE.get(unicodedata.category(char), "not printable")
            raise InvalidParameterError(
                "name",
                f"a segment name can only hold printable characters; character {position + 1} "
                f"is U+{ord(char):04X} ({kind})",
            )
    key = _name_key(clean)
    for other in taken:
        if _name_key(other) == key:
            raise InvalidParameterError(
                "name",
                f"another segment of this model is already called {other!r} "
                "(names are compared ignoring case)",
            )
    return clean


def _renamed(info: ModelInfo, names: Mapping[int, str]) -> ModelInfo:
    """``info`` with some segments renamed (as ``SegmentationModel.with_names`` does)."""
    if not names:
        return info
    profiles = tuple(
        dataclasses.replace(p, name=names.get(p.cluster_id, p.name)) for p in info.profiles
    )
    return dataclasses.replace(info, profiles=profiles)


def _collapse(stack: Iterable[str]) -> tuple[str, ...]:
    """The stack without entries equal to the one below them (rollback would not move)."""
    out: list[str] = []
    for version in stack:
        if not out or out[-1] != version:
            out.append(version)
    return tuple(out)


@dataclass(frozen=True)
class RegistryState:
    """What ``registry.json`` holds: the activation stack (oldest first, the last one active) and
    the generation, which every registry write increases."""

    generation: int
    stack: tuple[str, ...]

    @property
    def active(self) -> str | None:
        """The active version (the top of the stack), None before the first save."""
        return self.stack[-1] if self.stack else None

    def pushed(self, version: str) -> RegistryState:
        """The next state after activating ``version``."""
        return RegistryState(self.generation + 1, (*self.stack, version)[-MAX_STACK:])

    def bumped(self, stack: tuple[str, ...] | None = None) -> RegistryState:
        """The next state with the same (or the given) stack."""
        return RegistryState(self.generation + 1, self.stack if stack is None else stack)


@dataclass(frozen=True)
class _Verified:
    """A version's verified, parsed metadata and names (nothing unpickled)."""

    info: ModelInfo  # segment names applied
    spec: FeatureSpec
    names: dict[int, str]  # the user's names only
    pipeline_bytes: bytes


def _parse_registry(raw: bytes) -> RegistryState:
    try:
        data = json.loads(raw)
        fmt, generation, stack = data["format"], data["generation"], data["stack"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelIntegrityError(
            f"the model registry {REGISTRY_FILE} is unreadable ({exc})"
        ) from exc
    if fmt != REGISTRY_FORMAT:
        raise ModelIntegrityError(f"the model registry has an unknown format {fmt!r}")
    if (
        not isinstance(generation, int)
        or isinstance(generation, bool)
        or generation < 0
        or not isinstance(stack, list)
        or not all(isinstance(v, str) and _VERSION_RE.fullmatch(v) for v in stack)
    ):
        raise ModelIntegrityError(f"the model registry {REGISTRY_FILE} holds invalid values")
    return RegistryState(generation, tuple(stack))


class ModelStore:
    """Versions of trained models in ``root``, signed with the key in ``key_file``, and the
    registry that says which one is active."""

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

    # -- the registry (polled) -------------------------------------------------------------------

    def registry_state(self) -> RegistryState:
        """The activation stack and generation, from ONE read of ``registry.json``.

        A store written before the registry existed reads as its ``ACTIVE`` version alone, at
        generation 0. ModelIntegrityError if the registry file is not one this store wrote.
        """
        try:
            raw = _read_bounded(self.root / REGISTRY_FILE, _MAX_REGISTRY_BYTES)
        except FileNotFoundError:
            legacy = self._legacy_active()
            return RegistryState(0, (legacy,) if legacy else ())
        except ValueError as exc:
            raise ModelIntegrityError(f"the model registry is unreadable ({exc})") from exc
        return _parse_registry(raw)

    def active_version(self) -> str | None:
        """The active version id, or None before the first save. Reads one small file."""
        return self.registry_state().active

    def generation(self) -> int:
        """A counter every registry write (save, activate, rollback, rename, delete) increases.

        Poll it (one small file read) and refresh cached models, names and lists when it changes;
        read it BEFORE reading what you cache, so a change made meanwhile shows at the next poll.
        """
        return self.registry_state().generation

    def _legacy_active(self) -> str | None:
        try:
            text = (self.root / ACTIVE_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return text or None

    # -- reading -------------------------------------------------------------------------------

    def versions(self) -> list[str]:
        """Every complete version in the store, oldest first (ids sort by time)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir() if p.is_dir() and _VERSION_RE.fullmatch(p.name)
        )

    def records(self) -> list[ModelRecord]:
        """Every stored version with its (renamed) info and whether it is active, newest first.

        Reads verified metadata only, never unpickles. A version that fails verification is left
        out and logged. ModelIntegrityError only for a store-wide problem (the signing key).
        """
        versions = self.versions()
        if not versions:
            return []
        active = self.active_version()
        key = self._read_key(create=False)
        out: list[ModelRecord] = []
        for version in reversed(versions):
            try:
                verified = self._verify(version, key)
            except ModelIntegrityError as exc:
                if (self.root / version).is_dir():  # else it was deleted while we listed
                    logger.warning("model %s is left out of the list: %s", version, exc)
                continue
            out.append(ModelRecord(verified.info, verified.spec, version == active))
        return out

    def record(self, version: str) -> ModelRecord:
        """One version's (renamed) info and active flag, verified, without unpickling.

        NotFoundError if the store has no such version; ModelIntegrityError if it is refused.
        """
        self._require(version)
        verified = self._verify(version, self._read_key(create=False))
        return ModelRecord(verified.info, verified.spec, version == self.active_version())

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
        """Verify and load one version with its segment names applied; ModelIntegrityError (with
        the reason) if it is refused or not in the store."""
        if not _VERSION_RE.fullmatch(version):
            raise ModelIntegrityError(f"{version!r} is not a valid model version id")
        if not (self.root / version).is_dir():
            raise ModelIntegrityError(f"model version {version!r} is not in the store {self.root}")
        verified = self._verify(version, self._read_key(create=False))
        pipeline = self._unpickle(verified.pipeline_bytes, version)
        return SegmentationModel(verified.info, verified.spec, pipeline)

    def _require(self, version: str) -> Path:
        """The folder of ``version``; NotFoundError if the store has none."""
        folder = self.root / version
        if not _VERSION_RE.fullmatch(version) or not folder.is_dir():
            raise NotFoundError("model", version)
        return folder

    def _verify(self, version: str, key: bytes) -> _Verified:
        """Signature, file hashes, metadata and names of one version, all checked."""
        folder = self.root / version
        contents = self._verified_contents(folder, version, key)
        metadata = self._parse_metadata(contents[METADATA_FILE], version)
        try:
            info = info_from_dict(metadata["info"])
            spec = spec_from_dict(metadata["spec"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelIntegrityError(f"model {version}: unreadable metadata ({exc})") from exc
        names = self._read_names(folder, version, key, {p.cluster_id for p in info.profiles})
        return _Verified(_renamed(info, names), spec, names, contents[PIPELINE_FILE])

    def _verified_contents(self, folder: Path, version: str, key: bytes) -> dict[str, bytes]:
        """The signed files' bytes, after the signature and every hash checked out."""
        try:
            signature = json.loads(_read_bounded(folder / SIGNATURE_FILE, _MAX_SIGNATURE_BYTES))
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

    def _read_names(
        self, folder: Path, version: str, key: bytes, cluster_ids: set[int]
    ) -> dict[int, str]:
        """The verified user names of a version (``{}`` without a names file)."""
        try:
            raw = _read_bounded(folder / NAMES_FILE, _MAX_NAMES_BYTES)
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ModelIntegrityError(f"model {version}: cannot read {NAMES_FILE} ({exc})") from exc
        try:
            data = json.loads(raw)
            claims = {k: data[k] for k in ("format", "version", "generation", "names", "key_id")}
            mac = str(data["hmac"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelIntegrityError(
                f"model {version}: {NAMES_FILE} is unreadable ({exc}); refusing to load it"
            ) from exc
        expected = hmac.new(key, _canonical(claims), hashlib.sha256).hexdigest()
        if claims["key_id"] != self._key_id(key) or not hmac.compare_digest(expected, mac):
            raise ModelIntegrityError(
                f"model {version}: the signature of its segment names ({NAMES_FILE}) does not "
                "verify; the file was altered or forged; refusing to load it"
            )
        if claims["version"] != version or claims["format"] != NAMES_FORMAT:
            raise ModelIntegrityError(
                f"model {version}: {NAMES_FILE} is signed for version {claims['version']!r}; "
                "refusing to load it"
            )
        names = claims["names"]
        try:
            parsed = {int(cid): str(name) for cid, name in names.items()}
        except (AttributeError, ValueError, TypeError) as exc:
            raise ModelIntegrityError(f"model {version}: {NAMES_FILE} holds bad names") from exc
        if not set(parsed) <= cluster_ids:
            raise ModelIntegrityError(f"model {version}: {NAMES_FILE} names unknown segments")
        return parsed

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
        with self._writing() as state:
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
            self._commit(state.pushed(version))
        return version

    def activate(self, version: str) -> str | None:
        """Make ``version`` the active model and return the version active before it.

        Activating the active version changes nothing (and returns it). NotFoundError for a
        version the store does not hold; ModelIntegrityError (nothing changed) for one that
        fails verification.
        """
        self._require(version)
        with self._writing() as state:
            self._require(version)
            previous = state.active
            if previous == version:
                return previous
            self._verify(version, self._read_key(create=False))
            self._commit(state.pushed(version))
        return previous

    def rollback(self) -> str:
        """Pop the active version off the stack and activate the one below it; return that one.

        Repeated rollbacks walk back through the activations. Versions deleted (or failing
        verification) meanwhile are skipped and dropped. ConflictError, with nothing changed,
        when there is nothing to go back to.
        """
        if not self.root.is_dir():
            raise ConflictError("nothing to roll back to: no model has been activated yet")
        with self._writing() as state:
            stack = list(state.stack)
            if not stack:
                raise ConflictError("nothing to roll back to: no model has been activated yet")
            current = stack.pop()
            others = any(v != current for v in stack)
            key: bytes | None = None
            while stack:
                candidate = stack[-1]
                if candidate != current and (self.root / candidate).is_dir():
                    key = key or self._read_key(create=False)
                    try:
                        self._verify(candidate, key)
                        break
                    except ModelIntegrityError as exc:
                        logger.warning("rollback skips model %s: %s", candidate, exc)
                stack.pop()
            if not stack:
                raise ConflictError(
                    f"nothing to roll back to: every model active before {current} has since "
                    "been deleted or fails verification"
                    if others
                    else f"nothing to roll back to: {current} is the only model in the "
                    "activation history"
                )
            self._commit(state.bumped(tuple(stack)))
            return stack[-1]

    def delete(self, version: str) -> None:
        """Remove a version that is not active (it also leaves the activation stack).

        NotFoundError for an unknown version; ConflictError (nothing changed) for the active one.
        """
        self._require(version)
        with self._writing() as state:
            folder = self._require(version)
            if version == state.active:
                raise ConflictError(
                    f"model {version} is the active model; activate another version before "
                    "deleting it"
                )
            # 1. forget it in the registry (a crash here leaves it stored, inactive, unstacked);
            state = state.bumped(_collapse(v for v in state.stack if v != version))
            self._commit(state)
            # 2. take it out of the store in one rename (a crash here leaves a .tmp-deleted-*
            #    folder that the next write removes, bumping the generation);
            doomed = self.root / f"{_DELETED_PREFIX}{version}-{secrets.token_hex(4)}"
            os.rename(folder, doomed)
            _fsync_dir(self.root)
            # 3. tell the workers it is gone, then free the space.
            self._commit(state.bumped())
            shutil.rmtree(doomed, ignore_errors=True)

    def rename_segment(self, version: str, cluster_id: int, name: str) -> ClusterProfile:
        """Give segment ``cluster_id`` of ``version`` the name ``name``; return its profile.

        The name is kept beside the version (signed ``names.json``), the version id is unchanged,
        and every load and listing applies it. NotFoundError for an unknown version;
        InvalidParameterError("cluster_id" / "name", reason) for an unknown segment or a name
        breaking the rule of :func:`check_segment_name`.
        """
        self._require(version)
        key = self._read_key(create=False)
        with self._writing() as state:
            folder = self._require(version)
            verified = self._verify(version, key)
            profiles = {p.cluster_id: p for p in verified.info.profiles}
            if (
                not isinstance(cluster_id, int)
                or isinstance(cluster_id, bool)
                or cluster_id not in profiles
            ):
                raise InvalidParameterError(
                    "cluster_id",
                    f"model {version} has segments 0..{verified.info.k - 1}; "
                    f"there is no segment {cluster_id!r}",
                )
            current = profiles[cluster_id]
            clean = check_segment_name(
                name, (p.name for cid, p in profiles.items() if cid != cluster_id)
            )
            if clean == current.name:
                return current
            names = dict(verified.names)
            names[cluster_id] = clean
            state = state.bumped()
            self._write_names(folder, version, names, state.generation, key)
            self._commit(state)
            return dataclasses.replace(current, name=clean)

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

    def _write_names(
        self, folder: Path, version: str, names: Mapping[int, str], generation: int, key: bytes
    ) -> None:
        claims = {
            "format": NAMES_FORMAT,
            "version": version,
            "generation": generation,
            "names": {str(cid): names[cid] for cid in sorted(names)},
            "key_id": self._key_id(key),
        }
        signed = dict(claims, hmac=hmac.new(key, _canonical(claims), hashlib.sha256).hexdigest())
        self._replace_file(folder / NAMES_FILE, json.dumps(signed, indent=2).encode())

    def _replace_file(self, target: Path, data: bytes) -> None:
        """Atomically give ``target`` the content ``data``: a synced temporary file in the store
        folder (the next write removes it if a crash leaves it), ``os.replace``, fsync."""
        tmp = self.root / f"{_TMP_PREFIX}{target.name}-{secrets.token_hex(4)}"
        try:
            _write_synced(tmp, data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        _fsync_dir(target.parent)

    def _commit(self, state: RegistryState) -> None:
        """Replace ``registry.json`` (the commit point of every write), then the ACTIVE copy."""
        payload = {"format": REGISTRY_FORMAT, "generation": state.generation,
                   "stack": list(state.stack)}
        self._replace_file(self.root / REGISTRY_FILE, json.dumps(payload).encode())
        self._sync_active_copy(state.active)

    def _sync_active_copy(self, active: str | None) -> None:
        if active is not None and self._legacy_active() != active:
            self._replace_file(self.root / ACTIVE_FILE, f"{active}\n".encode())

    @contextlib.contextmanager
    def _writing(self) -> Iterator[RegistryState]:
        """Hold the writer lock, repair what a crashed writer left, and yield the registry."""
        with self._writer_lock():
            yield self._recover()

    def _recover(self) -> RegistryState:
        """Clean up after a killed writer (we hold the writer lock, so any temporary file is a
        dead writer's): remove temporary files and half-deleted versions; bump the generation
        past an interrupted delete, or a rename whose names were written but not committed, so
        workers refresh; bring the ACTIVE copy up to date."""
        interrupted = self._remove_interrupted_writes()
        state = self.registry_state()
        floor = max((self._names_generation(v) for v in self.versions()), default=0)
        if interrupted or floor > state.generation:
            state = RegistryState(max(state.generation, floor) + 1, state.stack)
            self._commit(state)
        else:
            self._sync_active_copy(state.active)
        return state

    def _names_generation(self, version: str) -> int:
        """The generation a version's names file was written for (0 if none or unreadable);
        only used to notice a rename that was written but not committed."""
        try:
            data = json.loads(_read_bounded(self.root / version / NAMES_FILE, _MAX_NAMES_BYTES))
            generation = data["generation"]
        except (OSError, ValueError, KeyError, TypeError):
            return 0
        ok = isinstance(generation, int) and not isinstance(generation, bool)
        return generation if ok and 0 <= generation < 2**53 else 0

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def _remove_interrupted_writes(self) -> bool:
        """Remove leftovers of writes a crash interrupted; True if a delete was interrupted."""
        interrupted_delete = False
        for path in self.root.glob(f"{_TMP_PREFIX}*"):
            if path.is_dir():
                interrupted_delete |= path.name.startswith(_DELETED_PREFIX)
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        return interrupted_delete

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
