"""One training per model store, and its progress visible to other processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from segmentation_core.enums import TrainingStage
from segmentation_core.errors import TrainingInProgressError
from segmentation_core.progress import STATUS_FILE, TrainingTracker

HOLDER = """
import sys, time
from pathlib import Path
from segmentation_core.enums import TrainingStage
from segmentation_core.progress import TrainingTracker
tracker = TrainingTracker(Path(sys.argv[1]))
with tracker.running("abc") as run:
    run.update(TrainingStage.SCANNING, 3, 9)
    print("holding", flush=True)
    time.sleep(600)
"""


def test_status_is_published_and_cleared(tmp_path: Path) -> None:
    tracker = TrainingTracker(tmp_path)
    assert tracker.status() is None
    with tracker.running("ds1") as run:
        status = TrainingTracker(tmp_path).status()  # another reader of the same folder
        assert status is not None and status.stage is TrainingStage.LOADING
        assert status.dataset_id == "ds1" and status.started_at.endswith("Z")
        run.update(TrainingStage.FITTING, 1, 1)
        status = TrainingTracker(tmp_path).status()
        assert status is not None and (status.stage, status.completed, status.total) == (
            TrainingStage.FITTING, 1, 1)
        with pytest.raises(TrainingInProgressError):
            with TrainingTracker(tmp_path).running("ds2"):
                pass
    assert tracker.status() is None and not (tmp_path / STATUS_FILE).exists()


def test_another_process_sees_the_training_and_a_killed_one_leaves_nothing_stuck(
    tmp_path: Path,
) -> None:
    repo = Path(__file__).resolve().parents[2]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        cwd=repo,
        env={**os.environ, "PYTHONPATH": str(repo)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        status = TrainingTracker(tmp_path).status()
        assert status is not None and (status.stage, status.completed, status.total) == (
            TrainingStage.SCANNING, 3, 9)
        with pytest.raises(TrainingInProgressError):
            with TrainingTracker(tmp_path).running(None):
                pass
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        # the status file is left behind, but its process is gone: no training runs
        assert json.loads((tmp_path / STATUS_FILE).read_text())["pid"] == holder.pid
        assert TrainingTracker(tmp_path).status() is None
        with TrainingTracker(tmp_path).running(None):  # the lock died with its process
            pass
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
