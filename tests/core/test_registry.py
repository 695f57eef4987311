"""The model registry: listing, activation stack, rollback, delete, segment names, generation."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import logging
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from segmentation_core import (
    ModelIntegrityError,
    ModelStore,
    SegmentationModel,
)
from segmentation_core.errors import ConflictError, InvalidParameterError, NotFoundError
from segmentation_core.store import MAX_NAME_LENGTH, check_segment_name
from segmentation_core.training import new_version_id


def _copy(model: SegmentationModel) -> SegmentationModel:
    """The same fitted model under a new version id (a second training, without the wait)."""
    return SegmentationModel(
        dataclasses.replace(model.info, version=new_version_id()), model.spec, model.pipeline
    )


def _save(store: ModelStore, model: SegmentationModel, n: int) -> list[str]:
    return [store.save(_copy(model)) for _ in range(n)]


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the store (but the lock) and its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


def _stack(store: ModelStore) -> list[str]:
    return list(store.registry_state().stack)


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


# -- listing -------------------------------------------------------------------------------------


def test_records_list_every_version_newest_first_without_unpickling(
    store: ModelStore, model: SegmentationModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = _save(store, model, 3)
    store.activate(b)

    def no_unpickling(*args: object, **kwargs: object) -> None:
        raise AssertionError("listing must not unpickle")

    monkeypatch.setattr("segmentation_core.store.joblib.load", no_unpickling)
    records = store.records()
    assert [r.info.version for r in records] == [c, b, a]
    assert [r.active for r in records] == [False, True, False]
    for record in records:
        assert record.info == dataclasses.replace(model.info, version=record.info.version)
        assert record.spec == model.spec
    assert store.record(a) == records[2]
    assert store.record(b).active


def test_record_of_an_unknown_version_is_not_found(
    store: ModelStore, model: SegmentationModel
) -> None:
    assert store.records() == []
    store.save(model)
    for version in ("20990101T000000000000Z-00000000", "../models", ".tmp-x", ""):
        with pytest.raises(NotFoundError) as caught:
            store.record(version)
        assert (caught.value.kind, caught.value.identifier) == ("model", version)


def test_listing_leaves_out_a_broken_version_and_logs_it(
    store: ModelStore, model: SegmentationModel, caplog: pytest.LogCaptureFixture
) -> None:
    a, b, c = _save(store, model, 3)
    pipeline = store.root / b / "pipeline.joblib"
    pipeline.write_bytes(pipeline.read_bytes()[:-1] + b"\x00")
    (store.root / "20000101T000000000000Z-deadbeef").mkdir()  # a folder with nothing signed
    with caplog.at_level(logging.WARNING, logger="segmentation_core.store"):
        records = store.records()
    assert [r.info.version for r in records] == [c, a]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"model {b} is left out of the list" in logged
    assert "pipeline.joblib was changed" in logged
    assert "20000101T000000000000Z-deadbeef is left out" in logged
    with pytest.raises(ModelIntegrityError, match="pipeline.joblib was changed"):
        store.record(b)


# -- activation and rollback ---------------------------------------------------------------------


def test_activate_returns_the_previous_version(store: ModelStore, model: SegmentationModel) -> None:
    a, b = _save(store, model, 2)
    assert store.activate(a) == b
    assert store.active_version() == a and store.load_active().version == a
    generation = store.generation()
    before = _snapshot(store.root)
    assert store.activate(a) == a  # already active: nothing changes
    assert store.generation() == generation and _snapshot(store.root) == before
    assert _stack(store) == [a, b, a]


@pytest.mark.parametrize("version", ["20990101T000000000000Z-00000000", "../x", "a/b", ""])
def test_activating_an_unknown_version_changes_nothing(
    store: ModelStore, model: SegmentationModel, version: str
) -> None:
    store.save(model)
    before = _snapshot(store.root)
    with pytest.raises(NotFoundError):
        store.activate(version)
    assert _snapshot(store.root) == before


def test_a_version_failing_verification_is_not_activated(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b = _save(store, model, 2)
    metadata = store.root / a / "metadata.json"
    metadata.write_text(metadata.read_text().replace('"k": ', '"k":  '))
    before = _snapshot(store.root)
    with pytest.raises(ModelIntegrityError, match="metadata.json was changed"):
        store.activate(a)
    assert _snapshot(store.root) == before and store.active_version() == b


def test_rollback_walks_back_through_the_activations(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b, c = _save(store, model, 3)  # each save activates: stack a, b, c
    assert store.rollback() == b and store.active_version() == b
    assert store.rollback() == a and store.load_active().version == a
    before = _snapshot(store.root)
    with pytest.raises(ConflictError, match=f"nothing to roll back to: {a} is the only model"):
        store.rollback()
    assert _snapshot(store.root) == before
    assert store.versions() == [a, b, c]  # rollback never deletes


def test_activations_form_a_stack(store: ModelStore, model: SegmentationModel) -> None:
    a, b, c = _save(store, model, 3)
    for version in (a, b, c, c):  # the second c is already active: not pushed
        store.activate(version)
    assert _stack(store) == [a, b, c, a, b, c]
    walked = [store.rollback() for _ in range(5)]
    assert walked == [b, a, c, b, a]
    with pytest.raises(ConflictError):
        store.rollback()


def test_the_stack_survives_a_restart(store: ModelStore, model: SegmentationModel) -> None:
    a, b, c = _save(store, model, 3)
    store.activate(a)
    again = ModelStore(store.root, store.key_file)
    assert again.registry_state() == store.registry_state()
    assert again.active_version() == a
    assert again.rollback() == c
    assert ModelStore(store.root, store.key_file).rollback() == b


def test_rollback_on_an_empty_store_is_a_conflict(store: ModelStore) -> None:
    with pytest.raises(ConflictError, match="no model has been activated"):
        store.rollback()
    store.root.mkdir(parents=True)
    with pytest.raises(ConflictError, match="no model has been activated"):
        store.rollback()


def test_rollback_skips_deleted_and_broken_versions(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b, c, d = _save(store, model, 4)
    store.delete(c)
    (store.root / b / "signature.json").unlink()  # b fails verification
    assert store.rollback() == a
    assert _stack(store) == [a]


def test_rollback_with_only_deleted_versions_below_is_a_conflict(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b = _save(store, model, 2)
    shutil.rmtree(store.root / a)  # gone behind the store's back
    before = _snapshot(store.root)
    with pytest.raises(ConflictError, match=f"every model active before {b} has since been"):
        store.rollback()
    assert _snapshot(store.root) == before


# -- delete --------------------------------------------------------------------------------------


def test_delete_removes_a_version_and_its_stack_entries(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b, c = _save(store, model, 3)
    store.activate(b)
    store.activate(c)  # stack a, b, c, b, c
    store.delete(b)
    assert store.versions() == [a, c]
    assert _stack(store) == [a, c]
    assert [r.info.version for r in store.records()] == [c, a]
    assert not list(store.root.glob(".tmp-*"))
    with pytest.raises(NotFoundError):
        store.record(b)
    assert store.rollback() == a


def test_deleting_the_active_version_is_a_conflict_and_changes_nothing(
    store: ModelStore, model: SegmentationModel
) -> None:
    a, b = _save(store, model, 2)
    before = _snapshot(store.root)
    with pytest.raises(ConflictError, match=f"model {b} is the active model"):
        store.delete(b)
    assert _snapshot(store.root) == before
    assert store.load_active().version == b


def test_deleting_an_unknown_version_is_not_found(
    store: ModelStore, model: SegmentationModel
) -> None:
    store.save(model)
    before = _snapshot(store.root)
    for version in ("20990101T000000000000Z-00000000", "../models", ".lock"):
        with pytest.raises(NotFoundError) as caught:
            store.delete(version)
        assert (caught.value.kind, caught.value.identifier) == ("model", version)
    assert _snapshot(store.root) == before


# -- segment names -------------------------------------------------------------------------------


def test_rename_round_trip(store: ModelStore, model: SegmentationModel) -> None:
    a, b = _save(store, model, 2)
    original = model.segment_names
    profile = store.rename_segment(a, 2, "  Weekend Regulars ")
    assert (profile.cluster_id, profile.name) == (2, "Weekend Regulars")
    assert profile == dataclasses.replace(model.info.profiles[2], name="Weekend Regulars")
    expected = tuple("Weekend Regulars" if i == 2 else n for i, n in enumerate(original))
    loaded = store.load(a)
    assert loaded.version == a and loaded.segment_names == expected
    assert loaded.info.profiles[2].name == "Weekend Regulars"
    assert store.record(a).info.profiles[2].name == "Weekend Regulars"
    assert {r.info.version: r.info.profiles[2].name for r in store.records()} == {
        a: "Weekend Regulars",
        b: original[2],
    }
    assert store.load(b).segment_names == original  # other versions keep their names
    X = np.array([model.info.profiles[2].centre])
    assert loaded.predict_batch(X).prediction(0).segment_name == "Weekend Regulars"
    assert store.active_version() == b and store.versions() == [a, b]
    # a second rename keeps the first; a fresh store instance reads both
    store.rename_segment(a, 0, "Core")
    names = ModelStore(store.root, store.key_file).load(a).segment_names
    assert names[0] == "Core" and names[2] == "Weekend Regulars"


def test_renaming_to_the_own_name_is_fine(store: ModelStore, model: SegmentationModel) -> None:
    version = store.save(model)
    current = model.segment_names[1]
    generation = store.generation()
    assert store.rename_segment(version, 1, current).name == current  # nothing to change
    assert store.generation() == generation
    assert store.rename_segment(version, 1, current.upper()).name == current.upper()
    assert store.load(version).segment_names[1] == current.upper()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "cannot be empty"),
        ("   \t ", "cannot be empty"),
        ("x" * (MAX_NAME_LENGTH + 1), "at most 60 characters; this one has 61"),
        ("y" * 200, "this one has 200"),
        ("Big\x00Spenders", "printable characters; character 4 is U+0000 (a control character)"),
        ("Big\nSpenders", "character 4 is U+000A"),
        ("Big\tSpenders", "U+0009"),
        ("Big\u200bSpenders", "U+200B (an invisible formatting character)"),
        ("Big\u00a0Spenders", "U+00A0 (a space other than the plain space)"),
        ("Big\u2028Spenders", "U+2028 (a line separator)"),
        ("Big\x1b[31mSpenders", "U+001B"),
    ],
)
def test_invalid_names_are_refused(
    store: ModelStore, model: SegmentationModel, name: str, reason: str
) -> None:
    version = store.save(model)
    before = _snapshot(store.root)
    with pytest.raises(InvalidParameterError, match=re.escape(reason)) as caught:
        store.rename_segment(version, 0, name)
    assert caught.value.parameter == "name"
    assert _snapshot(store.root) == before


def test_names_are_unique_ignoring_case(store: ModelStore, model: SegmentationModel) -> None:
    version = store.save(model)
    store.rename_segment(version, 0, "Champions")
    for taken in ("champions", " CHAMPIONS ", model.segment_names[3].lower()):
        with pytest.raises(InvalidParameterError, match="already called") as caught:
            store.rename_segment(version, 1, taken)
        assert caught.value.parameter == "name"
    # the name freed by a rename can be taken by another segment
    store.rename_segment(version, 0, "Loyal")
    assert store.rename_segment(version, 1, "champions").name == "champions"


def test_sixty_printable_characters_are_a_valid_name(
    store: ModelStore, model: SegmentationModel
) -> None:
    version = store.save(model)
    name = "Ünïcødé & ‘quotes’ — 60 chars " + "z" * 30
    assert len(name) == MAX_NAME_LENGTH
    assert store.rename_segment(version, 4, name).name == name
    assert store.load(version).segment_names[4] == name
    assert check_segment_name(" a ") == "a"


@pytest.mark.parametrize("cluster_id", [-1, 5, 99, True])
def test_unknown_cluster_id_is_refused(
    store: ModelStore, model: SegmentationModel, cluster_id: int
) -> None:
    assert model.info.k == 5
    version = store.save(model)
    with pytest.raises(InvalidParameterError, match="has segments 0..4") as caught:
        store.rename_segment(version, cluster_id, "Fine Name")
    assert caught.value.parameter == "cluster_id"


def test_renaming_in_an_unknown_version_is_not_found(
    store: ModelStore, model: SegmentationModel
) -> None:
    store.save(model)
    with pytest.raises(NotFoundError) as caught:
        store.rename_segment("20990101T000000000000Z-00000000", 0, "Fine Name")
    assert caught.value.kind == "model"


def test_tampered_names_are_refused(store: ModelStore, model: SegmentationModel) -> None:
    a, b = _save(store, model, 2)
    store.rename_segment(b, 0, "Champions")
    path = store.root / b / "names.json"
    signed = json.loads(path.read_text())
    assert signed["version"] == b and signed["names"] == {"0": "Champions"}
    signed["names"]["0"] = "=HYPERLINK(\"http://evil\")"
    path.write_text(json.dumps(signed))
    with pytest.raises(ModelIntegrityError, match="segment names .* does not verify"):
        store.load(b)
    with pytest.raises(ModelIntegrityError, match="segment names"):
        store.load_active()
    with pytest.raises(ModelIntegrityError, match="segment names"):
        store.record(b)
    assert [r.info.version for r in store.records()] == [a]


def test_names_moved_to_another_version_are_refused(
    store: ModelStore, model: SegmentationModel, tmp_path: Path
) -> None:
    a, b = _save(store, model, 2)
    store.rename_segment(a, 0, "Champions")
    shutil.copy(store.root / a / "names.json", store.root / b / "names.json")
    with pytest.raises(ModelIntegrityError, match=f"signed for version '{a}'"):
        store.load(b)
    # names signed by another installation's key
    other = ModelStore(tmp_path / "other", tmp_path / "other-secrets" / "key")
    other.save(SegmentationModel(dataclasses.replace(model.info, version=a), model.spec,
                                 model.pipeline))  # the same version id under another key
    other.rename_segment(a, 1, "Theirs")
    shutil.copy(other.root / a / "names.json", store.root / a / "names.json")
    with pytest.raises(ModelIntegrityError, match="does not verify"):
        store.load(a)


# -- generation, the ACTIVE copy and old stores --------------------------------------------------


def test_generation_changes_on_every_write_and_only_then(
    store: ModelStore, model: SegmentationModel
) -> None:
    seen = [store.generation()]

    def changed() -> None:
        seen.append(store.generation())
        assert seen[-1] > seen[-2]
        # the ACTIVE copy for readers of store format 1 follows every switch
        assert (store.root / "ACTIVE").read_text().strip() == store.active_version()

    def unchanged() -> None:
        assert store.generation() == seen[-1]

    a = store.save(_copy(model))
    changed()
    b = store.save(_copy(model))
    changed()
    store.activate(a)
    changed()
    store.activate(a)
    unchanged()
    store.rollback()
    changed()
    store.rename_segment(a, 0, "Champions")
    changed()
    store.rename_segment(a, 0, "Champions")
    unchanged()
    store.delete(a)
    changed()
    for failing in (
        lambda: store.delete(b),
        lambda: store.rollback(),
        lambda: store.activate(a),
        lambda: store.rename_segment(b, 0, ""),
    ):
        with pytest.raises((ConflictError, NotFoundError, InvalidParameterError)):
            failing()
        unchanged()


def test_a_store_written_before_the_registry_still_works(
    store: ModelStore, model: SegmentationModel
) -> None:
    # what today's code wrote: version folders and an ACTIVE file, no registry, no names
    a, b = _save(store, model, 2)
    (store.root / "registry.json").unlink()
    (store.root / "ACTIVE").write_text(f"{a}\n")
    # ... and metadata of format 1 as version 1 of the core wrote it (no version 2 fields)
    path = store.root / a / "metadata.json"
    metadata = json.loads(path.read_text())
    for name in ("dataset_id", "dataset_name", "engine", "source", "missing_values",
                 "min_segment_share", "stability", "rows_dropped", "notes"):
        del metadata["info"][name]
    path.write_text(json.dumps(metadata))
    _resign(store, a)

    assert store.registry_state().stack == (a,) and store.generation() == 0
    assert store.active_version() == a and store.load_active().version == a
    assert [(r.info.version, r.active) for r in store.records()] == [(b, False), (a, True)]
    with pytest.raises(ConflictError, match="only model"):
        store.rollback()
    store.rename_segment(a, 0, "Champions")  # the first write creates the registry
    assert store.generation() == 1 and store.load(a).segment_names[0] == "Champions"
    assert store.activate(b) == a
    assert _stack(store) == [a, b]
    assert store.rollback() == a
    assert (store.root / "ACTIVE").read_text().strip() == a


def test_a_corrupt_registry_is_refused(store: ModelStore, model: SegmentationModel) -> None:
    store.save(model)
    path = store.root / "registry.json"
    for content in ("{", '{"format": "segmentation-registry/9", "generation": 1, "stack": []}',
                    '{"format": "segmentation-registry/1", "generation": 1, "stack": ["../x"]}'):
        path.write_text(content)
        with pytest.raises(ModelIntegrityError, match="registry"):
            store.active_version()


def test_an_interrupted_rename_reaches_the_workers_at_the_next_write(
    store: ModelStore, model: SegmentationModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    version = store.save(model)
    generation = store.generation()

    def crash(self: ModelStore, state: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(ModelStore, "_commit", crash)
    with pytest.raises(OSError, match="simulated crash"):
        store.rename_segment(version, 0, "Champions")  # names written, registry not
    monkeypatch.undo()
    assert store.generation() == generation  # the workers have not been told
    assert store.load(version).segment_names[0] == "Champions"  # but the name is on disk
    assert store.activate(version) == version  # a write that changes nothing else ...
    assert store.generation() > generation  # ... still tells them


# -- concurrency in threads (processes: below) -----------------------------------------------


def test_concurrent_renames_of_one_name_let_exactly_one_win(
    store: ModelStore, model: SegmentationModel
) -> None:
    version = store.save(model)
    barrier = threading.Barrier(5)
    outcomes: dict[int, str] = {}

    def rename(cluster_id: int) -> None:
        mine = ModelStore(store.root, store.key_file)
        barrier.wait()
        try:
            mine.rename_segment(version, cluster_id, "Champions")
            outcomes[cluster_id] = "renamed"
        except InvalidParameterError:
            outcomes[cluster_id] = "refused"

    threads = [threading.Thread(target=rename, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["refused"] * 4 + ["renamed"]
    winner = next(i for i, o in outcomes.items() if o == "renamed")
    names = store.load(version).segment_names
    assert names[winner] == "Champions" and names.count("Champions") == 1


def test_concurrent_writers_in_threads_lose_nothing(
    store: ModelStore, model: SegmentationModel
) -> None:
    versions = _save(store, model, 3)
    start_generation, start_stack = store.generation(), _stack(store)
    rounds, workers = 12, 4
    barrier = threading.Barrier(workers)
    effective: list[int] = [0] * workers
    activations: list[int] = [0] * workers
    errors: list[BaseException] = []

    def work(w: int) -> None:
        mine = ModelStore(store.root, store.key_file)
        try:
            barrier.wait()
            for i in range(rounds):
                target = versions[(w + i) % len(versions)]
                if mine.activate(target) != target:
                    effective[w] += 1
                    activations[w] += 1
                mine.rename_segment(versions[0], w, f"worker {w} round {i}")
                effective[w] += 1
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    _assert_consistent(store)
    assert store.generation() == start_generation + sum(effective)
    assert len(_stack(store)) == len(start_stack) + sum(activations)
    names = store.load(versions[0]).segment_names
    assert names[:workers] == tuple(f"worker {w} round {rounds - 1}" for w in range(workers))


def _assert_consistent(store: ModelStore) -> None:
    """What must hold after anything: every version verifies and loads, the stack names only
    existing versions, the active one loads, the ACTIVE copy names the active version."""
    versions = store.versions()
    assert [r.info.version for r in store.records()] == versions[::-1]
    for version in versions:
        store.load(version)
    state = store.registry_state()
    assert set(state.stack) <= set(versions)
    assert state.active is not None and store.load_active().version == state.active
    assert (store.root / "ACTIVE").read_text().strip() == state.active


def _assert_recoverable(store: ModelStore) -> None:
    """What a kill -9 at any instant must leave: every listed version verifies (the listing
    leaves none out), the active one loads, the stack and the ACTIVE copy name only stored
    versions."""
    versions = store.versions()
    assert [r.info.version for r in store.records()] == versions[::-1]
    state = store.registry_state()
    assert set(state.stack) <= set(versions)
    assert state.active is not None and store.load_active().version == state.active
    assert (store.root / "ACTIVE").read_text().strip() in versions


# -- kill -9 and concurrent processes ------------------------------------------------------------

#: A process that forks one child per command and runs one registry operation in it; with a
#: ``pause_at`` of N the child stops just before its N-th file-system step (fsync, replace,
#: rename, unlink, rmdir), says so, and waits for the SIGKILL. Forking saves importing scikit-learn
#: once per kill.
_ZYGOTE = r"""
import dataclasses, json, os, signal, sys
from segmentation_core.model import SegmentationModel
from segmentation_core.store import ModelStore
from segmentation_core.training import new_version_id

store = ModelStore(sys.argv[1], sys.argv[2])
base = store.load_active()
OPS = ("save", "activate", "rollback", "rename", "delete")


def out(**message):
    os.write(1, (json.dumps(message) + "\n").encode())


def fresh():
    info = dataclasses.replace(base.info, version=new_version_id())
    return SegmentationModel(info, base.spec, base.pipeline)


def arm(pause_at):
    calls = [0]
    for name in ("fsync", "replace", "rename", "unlink", "rmdir"):
        def step(*args, _original=getattr(os, name), _name=name, **kwargs):
            calls[0] += 1
            if calls[0] == pause_at:
                out(paused=_name)
                while True:
                    signal.pause()
            return _original(*args, **kwargs)
        setattr(os, name, step)


def inactive():
    active = store.active_version()
    return [v for v in store.versions() if v != active]


def run(op, seq, pause_at):
    active = store.active_version()
    started = {"pid": os.getpid(), "op": op}
    if op == "save":
        model = fresh()
        started.update(target=model.version, before=active)
        action = lambda: store.save(model)
    elif op == "activate":
        target = inactive()[seq % len(inactive())]
        started.update(target=target, before=active)
        action = lambda: store.activate(target)
    elif op == "rollback":
        store.activate(inactive()[seq % len(inactive())])
        started.update(target=active, before=store.active_version())
        action = store.rollback
    elif op == "rename":
        cluster = seq % base.info.k
        name = f"name {seq}"
        old = store.load(active).segment_names[cluster]
        started.update(target=name, before=old, version=active, cluster=cluster)
        action = lambda: store.rename_segment(active, cluster, name)
    else:
        target = store.save(fresh())
        store.activate(active)  # the target stays in the stack, below the top
        started.update(target=target, before=store.active_version())
        action = lambda: store.delete(target)
    out(**started)
    if pause_at:
        arm(pause_at)
    action()
    out(done=True)


out(ready=True)
for line in sys.stdin:
    command = json.loads(line)
    pid = os.fork()
    if pid == 0:
        try:
            if command["op"] == "loop":
                seq = command["seq"]
                while True:
                    run(OPS[seq * 7 % 5], seq, 0)
                    seq += 1
            run(command["op"], command["seq"], command["pause_at"])
        except BaseException as exc:
            out(error=repr(exc))
        finally:
            os._exit(0)
    out(exit=os.waitpid(pid, 0)[1])
"""


class _Zygote:
    """The forking helper process above, driven through its stdin and stdout."""

    def __init__(self, store: ModelStore, repo_root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE, str(store.root), str(store.key_file)],
            cwd=repo_root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(repo_root), "OPENBLAS_NUM_THREADS": "1",
                 "OMP_NUM_THREADS": "1"},
        )
        self.pending = b""
        assert self.read() == {"ready": True}

    def send(self, **command: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command).encode() + b"\n")
        self.process.stdin.flush()

    def read(self) -> dict[str, Any]:
        """The next message (one JSON line); unbuffered reads, so ``select`` sees every byte."""
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while b"\n" not in self.pending:
            ready, _, _ = select.select([fd], [], [], 120)  # a bound, not a pace
            assert ready, "the helper process said nothing for 120 s"
            chunk = os.read(fd, 65536)
            assert chunk, f"the helper process ended (exit code {self.process.wait()})"
            self.pending += chunk
        line, _, self.pending = self.pending.partition(b"\n")
        message: dict[str, Any] = json.loads(line)
        assert "error" not in message, message["error"]
        return message

    def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        message = self.read()
        while "exit" not in message:  # what the child said before the kill reached it
            message = self.read()
        status = message["exit"]
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait() == 0


def _assert_atomic(store: ModelStore, started: dict[str, Any], completed: bool) -> None:
    """The interrupted operation either happened or did not; ``completed``: it happened."""
    op, target, before = started["op"], started["target"], started["before"]
    active = store.active_version()
    if op in ("save", "activate", "rollback"):
        assert active in ((target,) if completed else (before, target))
    elif op == "rename":
        name = store.load(started["version"]).segment_names[started["cluster"]]
        assert name in ((target,) if completed else (before, target))
    else:  # delete; that the stack names only stored versions _assert_recoverable checks
        assert active == before
        if completed:
            assert target not in store.versions() + list(store.registry_state().stack)


@pytest.mark.slow
@pytest.mark.parametrize("op", ["save", "activate", "rollback", "rename", "delete"])
def test_kill_at_every_step_leaves_a_loadable_store(
    store: ModelStore, model: SegmentationModel, repo_root: Path, op: str
) -> None:
    _save(store, model, 3)
    zygote = _Zygote(store, repo_root)
    generation = store.generation()
    pause_at = 1
    while True:
        zygote.send(op=op, seq=pause_at, pause_at=pause_at)
        started = zygote.read()
        outcome = zygote.read()
        if "paused" in outcome:
            zygote.kill(started["pid"])
        else:
            assert outcome == {"done": True} and zygote.read() == {"exit": 0}
        _assert_recoverable(store)
        _assert_atomic(store, started, completed="paused" not in outcome)
        assert store.generation() >= generation
        generation = store.generation()
        if "paused" not in outcome:
            break
        pause_at += 1
    zygote.close()
    assert pause_at > 4  # every operation takes several steps, and each was interrupted once
    store.activate(store.versions()[0])  # the next write clears what the kills left
    assert not list(store.root.glob(".tmp-*"))
    _assert_consistent(store)


@pytest.mark.slow
def test_kill_at_arbitrary_instants_leaves_a_loadable_store(
    store: ModelStore, model: SegmentationModel, repo_root: Path
) -> None:
    _save(store, model, 3)
    zygote = _Zygote(store, repo_root)
    for run, operations in enumerate((1, 3, 6, 10, 15)):
        zygote.send(op="loop", seq=1000 * run)  # seq numbers (and so names) differ per run
        done, pid = 0, 0
        while done < operations:  # operations run back to back: the kill lands anywhere in one
            message = zygote.read()
            pid = message.get("pid", pid)
            done += message.get("done", False)
        zygote.kill(pid)
        _assert_recoverable(store)
    zygote.close()
    store.activate(store.versions()[0])
    assert not list(store.root.glob(".tmp-*"))
    _assert_consistent(store)


_WRITER = r"""
import json, sys
from segmentation_core.store import ModelStore
store = ModelStore(sys.argv[1], sys.argv[2])
worker, rounds, versions = int(sys.argv[3]), int(sys.argv[4]), json.loads(sys.argv[5])
print("ready", flush=True)
sys.stdin.readline()
effective = activations = 0
for i in range(rounds):
    target = versions[(worker + i) % len(versions)]
    if store.activate(target) != target:
        effective += 1
        activations += 1
    store.rename_segment(versions[0], worker, f"process {worker} round {i}")
    effective += 1
print(json.dumps({"effective": effective, "activations": activations}), flush=True)
"""


@pytest.mark.slow
def test_concurrent_writers_in_processes_lose_nothing(
    store: ModelStore, model: SegmentationModel, repo_root: Path
) -> None:
    versions = _save(store, model, 3)
    start_generation, start_stack = store.generation(), _stack(store)
    rounds, workers = 10, 3
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(store.root), str(store.key_file), str(w),
             str(rounds), json.dumps(versions)],
            cwd=repo_root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(repo_root)},
        )
        for w in range(workers)
    ]
    for p in processes:  # all imported and waiting: then they start together
        assert p.stdout is not None and p.stdout.readline().strip() == b"ready"
    for p in processes:
        assert p.stdin is not None
        p.stdin.write(b"go\n")
        p.stdin.flush()
    reports = []
    for p in processes:
        out, _ = p.communicate(timeout=240)
        assert p.returncode == 0
        reports.append(json.loads(out))
    _assert_consistent(store)
    assert store.generation() == start_generation + sum(r["effective"] for r in reports)
    assert len(_stack(store)) == len(start_stack) + sum(r["activations"] for r in reports)
    names = store.load(versions[0]).segment_names
    assert names[:workers] == tuple(f"process {w} round {rounds - 1}" for w in range(workers))
