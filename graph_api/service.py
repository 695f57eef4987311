"""The model service: what one worker process serves, kept in step with the model store.

Every request reads ``current()``: one attribute read plus, at most every ``check_interval``
seconds, a read of the store's small registry file (``ModelStore.generation()``). The generation
changes on every registry write (save, activate, rollback, rename, delete) by ANY process, so a
switch or a rename made through another worker reaches this one within a second. On a change the
active model is loaded again (verified, with its segment names) in a thread while the previous one
keeps serving, and installed as one ``(model, version, generation)`` tuple in one assignment: a
request sees the old model or the new one, never a mix.

Non-active versions (``version:`` arguments, champion/challenger) are loaded in a thread on first
use and kept in a small per-process cache that is emptied when the generation changes; registry
listings (``models``) are cached per generation too.

Training runs in a thread through ``Workspace.train`` (the event loop keeps serving predictions
from the previous model). One training at a time: a flag in this process answers a second call
at once, and the core's ``TrainingTracker`` (an advisory ``flock`` that dies with its process)
refuses a training while another process runs one.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool

from segmentation_core.errors import (
    ModelIntegrityError,
    ModelNotTrainedError,
    NotFoundError,
    TrainingInProgressError,
)
from segmentation_core.model import SegmentationModel
from segmentation_core.results import ModelRecord, TrainingParams, TrainingStatus
from segmentation_core.training import check_params
from segmentation_core.workspace import Workspace

logger = logging.getLogger(__name__)

#: Non-active model versions kept loaded per process (each holds a small pipeline).
VERSION_CACHE_SIZE = 4


@dataclass(frozen=True)
class Served:
    """The active model of this process, its version and the registry generation it matches."""

    model: SegmentationModel | None
    version: str | None
    generation: int


class ModelService:
    """Holds the active model for one process, loads other versions, and trains."""

    def __init__(self, workspace: Workspace, check_interval: float = 0.5) -> None:
        self.workspace = workspace
        self._store = workspace.models
        self._check_interval = check_interval
        self._served = Served(None, None, -1)
        self._next_check = 0.0
        self._reloading = False
        self._refused: int | None = None  # a generation whose model failed to load: not retried
        self._swap_lock = threading.Lock()
        self._versions: OrderedDict[str, SegmentationModel] = OrderedDict()
        self._records: tuple[int, list[ModelRecord]] | None = None
        self._cache_lock = threading.Lock()
        self._training = False

    # ---- the active model ----------------------------------------------------------------
    def load_active(self) -> None:
        """Load the store's active model now (blocking); used at start-up."""
        self._refresh()
        self._next_check = time.monotonic() + self._check_interval

    def current(self) -> Served:
        """What to serve this request with (never blocks beyond one tiny file read)."""
        now = time.monotonic()
        if now >= self._next_check:
            self._next_check = now + self._check_interval
            self._check_generation()
        return self._served

    @property
    def version(self) -> str | None:
        """Version of the model being served."""
        return self._served.version

    @property
    def training(self) -> bool:
        """Whether this process is training right now."""
        return self._training

    def training_status(self) -> TrainingStatus | None:
        """The running training of this model store, whichever process runs it."""
        return self.workspace.training_status()

    def _check_generation(self) -> None:
        try:
            generation = self._store.generation()
        except (OSError, ModelIntegrityError):
            logger.exception("Could not read the model registry")
            return
        if generation == self._served.generation or generation == self._refused or self._reloading:
            return
        self._reloading = True
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Called outside an event loop (e.g. schema.execute_sync in a script): load inline.
            self._reload()
            return
        loop.run_in_executor(None, self._reload)

    def _reload(self) -> None:
        try:
            self._refresh()
        finally:
            self._reloading = False

    def _refresh(self) -> None:
        """Read the registry (generation first), load its active model and install both.

        Blocking. The generation is read BEFORE the model, so a change made meanwhile shows at
        the next check. A model that fails verification is logged once per generation and not
        retried; the previous model keeps serving.
        """
        try:
            state = self._store.registry_state()
        except (OSError, ModelIntegrityError):
            logger.exception("Could not read the model registry")
            return
        version = state.active
        model: SegmentationModel | None = None
        if version is not None:
            try:
                model = self._store.load(version)
            except (ModelIntegrityError, ModelNotTrainedError, NotFoundError, OSError):
                self._refused = state.generation
                logger.exception("Could not load model %s; still serving %s", version,
                                 self._served.version)
                return
        with self._swap_lock:
            if state.generation < self._served.generation:
                return  # a slower reload of an older state must not replace a newer one
            self._served = Served(model, version, state.generation)
        with self._cache_lock:
            self._versions.clear()
            self._records = None
        if version is not None:
            logger.info("Serving model %s (registry generation %d)", version, state.generation)

    async def sync(self) -> None:
        """Catch up with the store now (after this process changed it), in a thread."""
        await run_in_threadpool(self._refresh)
        self._next_check = time.monotonic() + self._check_interval

    # ---- other versions --------------------------------------------------------------------
    async def model(self, version: str | None) -> tuple[SegmentationModel, str]:
        """The model to predict with: the active one (``version`` None) or a stored version.

        ModelNotTrainedError when nothing is active; NotFoundError for an unknown version.
        """
        served = self.current()
        if version is None or version == served.version:
            if served.model is None or served.version is None:
                raise ModelNotTrainedError("no model has been trained yet")
            return served.model, served.version
        with self._cache_lock:
            cached = self._versions.get(version)
            if cached is not None:
                self._versions.move_to_end(version)
                return cached, version
        model = await run_in_threadpool(self.workspace.model, version)
        with self._cache_lock:
            if self._served.generation == served.generation:
                self._versions[version] = model
                while len(self._versions) > VERSION_CACHE_SIZE:
                    self._versions.popitem(last=False)
        return model, version

    async def records(self) -> list[ModelRecord]:
        """Every stored version, newest first, from verified metadata (nothing unpickled)."""
        generation = self.current().generation
        with self._cache_lock:
            if self._records is not None and self._records[0] == generation:
                return self._records[1]
        records = await run_in_threadpool(self._store.records)
        with self._cache_lock:
            if self._served.generation == generation:
                self._records = (generation, records)
        return records

    async def record(self, version: str | None) -> ModelRecord | None:
        """One version's record (the active one when None; None before the first training).

        NotFoundError for an unknown version.
        """
        served = self.current()
        if version is None or version == served.version:
            if served.model is None:
                return None
            return ModelRecord(served.model.info, served.model.spec, True)
        for record in await self.records():
            if record.info.version == version:
                return record
        raise NotFoundError("model", version)

    # ---- training ------------------------------------------------------------------------
    async def train(self, dataset_id: str | None, params: TrainingParams) -> SegmentationModel:
        """Train on a stored dataset (the bundled one by default), store, activate and serve it.

        Raises InvalidParameterError / DataValidationError / NotFoundError (nothing changes) or
        TrainingInProgressError when another training runs, in this process or another.
        """
        check_params(params)
        if self._training:
            raise TrainingInProgressError("A training is already running on this server.")
        self._training = True
        try:
            return await run_in_threadpool(self._train_blocking, dataset_id, params)
        finally:
            self._training = False

    def _train_blocking(self, dataset_id: str | None, params: TrainingParams) -> SegmentationModel:
        model = self.workspace.train(dataset_id, params)
        self._refresh()
        self._next_check = time.monotonic() + self._check_interval
        logger.info("Trained and activated model %s (k=%d)", model.version, model.info.k)
        return model
