"""The model service: the active model reference every request reads, and training.

Requests read ``current()``: one attribute read plus, at most every ``check_interval`` seconds, a
read of the store's small active-pointer file, so a model activated by another worker process is
picked up within a second without reloading anything per request. Loading runs in a thread and the
reference is swapped in one assignment, so a request sees either the old model or the new one.

Training runs in a thread (the event loop keeps serving predictions from the previous model), one at
a time per process and, through an advisory file lock in the store, one at a time across worker
processes. The lock dies with its process, so a ``kill -9`` mid-training leaves nothing stuck; the
store only switches its pointer after the new version is completely written.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from starlette.concurrency import run_in_threadpool

from segmentation_core.errors import (
    ModelIntegrityError,
    ModelNotTrainedError,
    TrainingInProgressError,
)
from segmentation_core.model import SegmentationModel
from segmentation_core.results import TrainingParams
from segmentation_core.store import ModelStore
from segmentation_core.training import check_params, train_model

logger = logging.getLogger(__name__)

LOCK_FILE_NAME = ".training.lock"


class ModelService:
    """Holds the active model for one process and trains new ones."""

    def __init__(self, store: ModelStore, data_path: Path, lock_dir: Path,
                 check_interval: float = 0.5) -> None:
        self._store = store
        self._data_path = data_path
        self._lock_path = lock_dir / LOCK_FILE_NAME
        self._check_interval = check_interval
        # (model, version) swapped as one tuple so readers never see a mixed pair.
        self._active: tuple[SegmentationModel | None, str | None] = (None, None)
        self._next_check = 0.0
        self._reloading = False
        self._refused: str | None = None  # a version that failed to load: not retried
        self._swap_lock = threading.Lock()
        self._training = False

    # ---- reading -------------------------------------------------------------------------
    def load_active(self) -> None:
        """Load the store's active model now (blocking); used at start-up."""
        try:
            version = self._store.active_version()
            if version is None:
                return
            model = self._store.load_active()
        except ModelNotTrainedError:
            return
        except (ModelIntegrityError, OSError):
            # Serve "not trained" rather than an unverified model; the log says why.
            logger.exception("The active model could not be loaded from the store")
            return
        self._install(model, version)
        self._next_check = time.monotonic() + self._check_interval

    def current(self) -> SegmentationModel | None:
        """The model to serve this request with (never blocks on I/O beyond a tiny file read)."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._check_interval
            self._check_pointer()
        return self._active[0]

    @property
    def version(self) -> str | None:
        """Version of the model being served."""
        return self._active[1]

    @property
    def training(self) -> bool:
        """Whether this process is training right now."""
        return self._training

    def _check_pointer(self) -> None:
        try:
            version = self._store.active_version()
        except OSError:
            logger.exception("Could not read the model store's active pointer")
            return
        if (version is None or version == self._active[1] or version == self._refused
                or self._reloading):
            return
        self._reloading = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Called outside an event loop (e.g. schema.execute_sync in a script): load inline.
            self._reload(version)
            return
        loop.run_in_executor(None, self._reload, version)

    def _reload(self, version: str) -> None:
        try:
            model = self._store.load(version)
            self._install(model, version)
            logger.info("Now serving model %s", version)
        except Exception:
            self._refused = version
            logger.exception("Could not load model %s; still serving %s", version,
                             self._active[1])
        finally:
            self._reloading = False

    def _install(self, model: SegmentationModel, version: str) -> None:
        with self._swap_lock:
            # A slower reload of an older version must not replace a newer one installed meanwhile.
            active = self._store.active_version()
            if active is not None and active != version and self._active[1] == active:
                return
            self._active = (model, version)

    # ---- training ------------------------------------------------------------------------
    async def train(self, params: TrainingParams) -> SegmentationModel:
        """Train on the configured dataset, store the model and serve it.

        Raises InvalidParameterError / DataValidationError (nothing changes) or
        TrainingInProgressError when another training runs, in this process or another.
        """
        check_params(params)
        if self._training:
            raise TrainingInProgressError("A training is already running on this server.")
        self._training = True
        try:
            return await run_in_threadpool(self._train_blocking, params)
        finally:
            self._training = False

    def _train_blocking(self, params: TrainingParams) -> SegmentationModel:
        with self._training_lock():
            model = train_model(self._data_path, params)
            version = self._store.save(model)
        self._install(model, version)
        self._next_check = time.monotonic() + self._check_interval
        logger.info("Trained and activated model %s (k=%d)", version, model.info.k)
        return model

    @contextlib.contextmanager
    def _training_lock(self) -> Iterator[None]:
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingInProgressError(
                    "A training is already running in another worker process."
                ) from None
            yield
        finally:
            os.close(fd)  # closing releases the lock
