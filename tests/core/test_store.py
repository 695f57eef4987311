"""The model store: versions, the atomic pointer, crashes, and refusing what is not ours."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import sklearn

from segmentation_core import (
    DEFAULT_SPEC,
    ModelIntegrityError,
    ModelNotTrainedError,
    ModelStore,
    SegmentationModel,
)
from segmentation_core.training import new_version_id

FEATURES = list(DEFAULT_SPEC.columns)


def _copy(model: SegmentationModel) -> SegmentationModel:
    """The same fitted model under a new version id (a second training, without the wait)."""
    return SegmentationModel(
        dataclasses.replace(model.info, version=new_version_id()), model.spec, model.pipeline
    )


def _resign(store: ModelStore, version: str) -> None:
    """Sign a version's current files with the store's key, following the documented format."""
    folder = store.root / version
    key = bytes.fromhex(store.key_file.read_text().strip())
    claims = {
        "format": "segmentation-model/1",
        "version": version,
        "files": {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in ("metadata.json", "pipeline.joblib")
        },
        "key_id": hashlib.sha256(b"segmentation-key-id:" + key).hexdigest()[:16],
    }
    body = json.dumps(claims, sort_keys=True, separators=(",", ":")).encode()
    claims["hmac"] = hmac.new(key, body, hashlib.sha256).hexdigest()
    (folder / "signature.json").write_text(json.dumps(claims))


def test_empty_store(store: ModelStore) -> None:
    assert store.active_version() is None and store.versions() == []
    with pytest.raises(ModelNotTrainedError, match="no model has been trained"):
        store.load_active()


def test_save_and_load_round_trip(store: ModelStore, model: SegmentationModel) -> None:
    version = store.save(model)
    assert version == model.info.version == store.active_version()
    assert store.versions() == [version]
    loaded = store.load_active()
    assert loaded.info == model.info and loaded.spec == model.spec
    X = np.array([[30, 40, 80, 35], [70, 30, 20, 4], [45, 70, 50, 16.0]])
    a, b = model.predict_batch(X), loaded.predict_batch(X)
    np.testing.assert_array_equal(a.cluster_ids, b.cluster_ids)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)


def test_new_version_becomes_active_and_old_ones_stay(
    store: ModelStore, model: SegmentationModel
) -> None:
    first = store.save(model)
    second = store.save(_copy(model))
    assert store.versions() == sorted([first, second])
    assert store.active_version() == second
    assert store.load(first).info.version == first
    with pytest.raises(ModelIntegrityError, match="already exists"):
        store.save(model)


def test_key_is_private_and_outside_the_store(
    store: ModelStore, model: SegmentationModel, tmp_path: Path
) -> None:
    store.save(model)
    assert stat.S_IMODE(store.key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.key_file.parent.stat().st_mode) == 0o700
    assert not store.key_file.is_relative_to(store.root)
    with pytest.raises(ModelIntegrityError, match="must lie outside the model store"):
        ModelStore(tmp_path / "models", tmp_path / "models" / "key")


def test_world_readable_key_is_refused(store: ModelStore, model: SegmentationModel) -> None:
    store.save(model)
    os.chmod(store.key_file, 0o644)
    with pytest.raises(ModelIntegrityError, match="readable by other users"):
        store.load_active()


def test_missing_key_is_refused(store: ModelStore, model: SegmentationModel) -> None:
    store.save(model)
    store.key_file.unlink()
    with pytest.raises(ModelIntegrityError, match="signing key .* is missing"):
        store.load_active()


@pytest.mark.parametrize("name", ["pipeline.joblib", "metadata.json"])
def test_tampered_file_is_refused(store: ModelStore, model: SegmentationModel, name: str) -> None:
    version = store.save(model)
    path = store.root / version / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ModelIntegrityError, match=f"{name} was changed after it was signed"):
        store.load_active()


def test_malicious_pickle_is_never_loaded(
    store: ModelStore, model: SegmentationModel, tmp_path: Path
) -> None:
    version = store.save(model)
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {marker}",))

    joblib.dump(Exploit(), store.root / version / "pipeline.joblib")
    # even with the hashes in the signature file rewritten, the HMAC gives it away
    sig_path = store.root / version / "signature.json"
    sig = json.loads(sig_path.read_text())
    sig["files"]["pipeline.joblib"] = hashlib.sha256(
        (store.root / version / "pipeline.joblib").read_bytes()
    ).hexdigest()
    sig_path.write_text(json.dumps(sig))
    with pytest.raises(ModelIntegrityError, match="signature does not verify"):
        store.load_active()
    assert not marker.exists()


def test_files_swapped_between_versions_are_refused(
    store: ModelStore, model: SegmentationModel
) -> None:
    first = store.save(model)
    second = store.save(_copy(model))
    # move version 1's files (metadata and signature too) into version 2's folder
    for name in ("metadata.json", "pipeline.joblib", "signature.json"):
        shutil.copy(store.root / first / name, store.root / second / name)
    with pytest.raises(ModelIntegrityError, match="signed as version .*swapped"):
        store.load(second)


def test_foreign_model_swapped_with_its_metadata_is_refused(
    store: ModelStore, model: SegmentationModel, tmp_path: Path
) -> None:
    ours = store.save(model)
    other = ModelStore(tmp_path / "other-models", tmp_path / "other-secrets" / "key")
    foreign = _copy(model)
    other.save(foreign)
    # the attacker copies the foreign version into our store and activates it in the registry
    shutil.copytree(other.root / foreign.info.version, store.root / foreign.info.version)
    registry = json.loads((store.root / "registry.json").read_text())
    registry["stack"].append(foreign.info.version)
    (store.root / "registry.json").write_text(json.dumps(registry))
    with pytest.raises(ModelIntegrityError, match="signed with another key"):
        store.load_active()
    # or swaps the foreign files, signature included, into our version's folder
    for name in ("metadata.json", "pipeline.joblib", "signature.json"):
        shutil.copy(other.root / foreign.info.version / name, store.root / ours / name)
    with pytest.raises(ModelIntegrityError, match="signed with another key"):
        store.load(ours)


def test_missing_signature_is_refused(store: ModelStore, model: SegmentationModel) -> None:
    version = store.save(model)
    (store.root / version / "signature.json").unlink()
    with pytest.raises(ModelIntegrityError, match="signature file is missing"):
        store.load(version)


@pytest.mark.parametrize("version", ["../escape", "", ".tmp-x", "a/b", "v1\n"])
def test_bad_version_ids_are_refused(store: ModelStore, version: str) -> None:
    with pytest.raises(ModelIntegrityError):
        store.load(version)


def test_other_scikit_learn_version_in_metadata_is_refused(
    store: ModelStore, model: SegmentationModel
) -> None:
    version = store.save(model)
    path = store.root / version / "metadata.json"
    meta = json.loads(path.read_text())
    meta["info"]["library_versions"] = [
        [n, "1.0.2" if n == "scikit-learn" else v] for n, v in meta["info"]["library_versions"]
    ]
    path.write_text(json.dumps(meta))
    _resign(store, version)  # a genuine signature: only the version differs
    with pytest.raises(ModelIntegrityError, match="written by scikit-learn 1.0.2"):
        store.load(version)


def test_pipeline_pickled_by_other_scikit_learn_is_refused(
    store: ModelStore, model: SegmentationModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = store.save(model)
    # pickle the pipeline as another scikit-learn release would (it records its version inside)
    monkeypatch.setattr(sklearn.base, "__version__", "1.0.2")
    joblib.dump(model.pipeline, store.root / version / "pipeline.joblib")
    monkeypatch.undo()
    _resign(store, version)
    with pytest.raises(ModelIntegrityError, match="pickled by scikit-learn 1.0.2"):
        store.load(version)


@pytest.mark.parametrize("fail_at", ["joblib.dump", "os.rename", "os.replace"])
def test_crash_during_save_keeps_the_previous_model(
    store: ModelStore, model: SegmentationModel, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    first = store.save(model)

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash")

    module, name = fail_at.split(".")
    monkeypatch.setattr(joblib if module == "joblib" else os, name, crash)
    with pytest.raises(OSError, match="simulated crash"):
        store.save(_copy(model))
    monkeypatch.undo()
    assert store.active_version() == first
    assert store.load_active().info.version == first
    for version in store.versions():
        store.load(version)  # whatever got renamed into place is complete and signed
    assert not list(store.root.glob(".tmp-*"))


_SAVE_LOOP = """
import dataclasses, sys
from segmentation_core import ModelStore, SegmentationModel, generate_customers, train_model
from segmentation_core.training import new_version_id
store = ModelStore(sys.argv[1], sys.argv[2])
model = train_model(generate_customers(200, seed=42).frame)
print("ready", flush=True)
while True:
    info = dataclasses.replace(model.info, version=new_version_id())
    store.save(SegmentationModel(info, model.spec, model.pipeline))
    print("saved", flush=True)
"""


@pytest.mark.slow
def test_process_killed_mid_save_leaves_a_loadable_store(
    store: ModelStore, model: SegmentationModel, repo_root: Path
) -> None:
    store.save(model)
    for saves in (1, 2, 3, 5):
        child = subprocess.Popen(
            [sys.executable, "-c", _SAVE_LOOP, str(store.root), str(store.key_file)],
            cwd=repo_root,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(repo_root)},
        )
        assert child.stdout is not None and child.stdout.readline().strip() == b"ready"
        for _ in range(saves):  # saves run back to back: the kill lands anywhere in the next one
            assert child.stdout.readline().strip() == b"saved"
        child.send_signal(signal.SIGKILL)
        child.wait()
        active = store.active_version()
        assert active is not None
        assert store.load_active().info.version == active
    versions = store.versions()
    assert len(versions) > 4
    for version in versions:
        store.load(version)
    store.save(_copy(model))  # the next save clears what the kills left half-written
    assert not list(store.root.glob(".tmp-*"))
