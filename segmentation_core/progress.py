"""One training at a time per model store, and its progress, visible to every process.

A training holds an exclusive ``flock`` on ``<models>/.training.lock`` for its whole run (the
lock dies with its process, so a ``kill -9`` leaves nothing stuck), and writes where it is to
``<models>/.training.json`` at every step: stage, completed of total, start time, dataset and the
process id. Any process (another API worker, the CLI) reads that file to show progress; a file
left by a process that no longer runs is stale and reads as "no training".
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from segmentation_core.enums import TrainingStage
from segmentation_core.errors import TrainingInProgressError
from segmentation_core.results import TrainingStatus

LOCK_FILE = ".training.lock"
STATUS_FILE = ".training.json"
#: Seconds between two writes of the status file within a stage: readers poll a few times a
#: second, and each atomic replace costs milliseconds on a busy disk.
PUBLISH_EVERY = 0.2


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


class TrainingTracker:
    """Serialises trainings on one model store and publishes the running one's progress."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._status: TrainingStatus | None = None
        self._published_at = 0.0

    @contextlib.contextmanager
    def running(self, dataset_id: str | None) -> Iterator[TrainingTracker]:
        """Hold the training lock (TrainingInProgressError if another process holds it) and
        publish progress until the block ends."""
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise TrainingInProgressError(
                    "A training is already running on this model store."
                ) from None
            started = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
            self._status = TrainingStatus(TrainingStage.LOADING, 0, 1, started, dataset_id)
            self._publish()
            try:
                yield self
            finally:
                self._status = None
                with contextlib.suppress(FileNotFoundError):
                    (self.folder / STATUS_FILE).unlink()
        finally:
            os.close(fd)  # releases the lock

    def update(self, stage: TrainingStage, completed: int, total: int) -> None:
        """Publish a step of the running training (a ``Progress`` callback)."""
        previous = self._status
        if previous is None:
            return
        self._status = TrainingStatus(stage, completed, total, previous.started_at,
                                      previous.dataset_id)
        if (
            stage is previous.stage
            and completed < total
            and time.monotonic() - self._published_at < PUBLISH_EVERY
        ):
            return  # within a stage, a few writes a second are plenty
        self._publish()

    def _publish(self) -> None:
        status = self._status
        assert status is not None
        payload = {
            "stage": status.stage.value,
            "completed": status.completed,
            "total": status.total,
            "started_at": status.started_at,
            "dataset_id": status.dataset_id,
            "pid": os.getpid(),
        }
        # Replaced atomically so readers never see half a file; no fsync: it is ephemeral.
        tmp = self.folder / f".{STATUS_FILE}.{secrets.token_hex(4)}.tmp"
        tmp.write_text(json.dumps(payload), encoding="utf-8")
        os.replace(tmp, self.folder / STATUS_FILE)
        self._published_at = time.monotonic()

    def status(self) -> TrainingStatus | None:
        """The running training's status, from whichever process runs it; None when none runs."""
        try:
            data = json.loads((self.folder / STATUS_FILE).read_text(encoding="utf-8"))
            pid = int(data["pid"])
            status = TrainingStatus(
                stage=TrainingStage(data["stage"]),
                completed=int(data["completed"]),
                total=int(data["total"]),
                started_at=str(data["started_at"]),
                dataset_id=data.get("dataset_id"),
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return status if _alive(pid) else None
