"""Model history against real uvicorn processes sharing one store: every switch and rename
reaches the other worker within a second, every refusal is typed and changes nothing, and with a
key set every state-changing mutation without it is Unauthorized and changes nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from .conftest import Env, Server, start_server, tree

pytestmark = pytest.mark.slow

ACTIVATE = """mutation A($v: String!) { activateModel(version: $v) { __typename
  ... on ModelActivated { model { version } previousVersion } ... on NotFound { message }
  ... on Conflict { message } ... on Unauthorized { message } } }"""
ROLLBACK = """mutation { rollbackModel { __typename ... on ModelActivated { model { version } }
  ... on Conflict { message } ... on Unauthorized { message } } }"""
RENAME = """mutation N($v: String!, $c: Int!, $n: String!) {
  renameSegment(version: $v, clusterId: $c, name: $n) { __typename
    ... on SegmentRenamed { segment { name } } ... on InvalidInput { errors { field message } }
    ... on NotFound { message } ... on Unauthorized { message } } }"""
DELETE = """mutation D($v: String!) { deleteModel(version: $v) { __typename
  ... on Deleted { id } ... on NotFound { message } ... on Conflict { message }
  ... on Unauthorized { message } } }"""
SERVED = "{ health { modelVersion } clusters { name } }"


def within_a_second(server: Server, check: Callable[[dict[str, Any]], bool]) -> float:
    """Seconds until ``check`` holds for the server's SERVED answer (fails past one second)."""
    started = time.monotonic()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        while True:
            data = client.post("/graphql", json={"query": SERVED}).json()["data"]
            if check(data):
                return time.monotonic() - started
            assert time.monotonic() - started < 1.0, f"still serving {data}"
            time.sleep(0.02)


@pytest.fixture
def two(trained: Env, server_factory: Callable[..., Server]) -> tuple[Env, Server, Server, str,
                                                                        str]:
    older = trained.store().active_version()
    assert older is not None
    newer = trained.train(k=3)
    return trained, server_factory(trained.vars()), server_factory(trained.vars()), older, newer


def test_switches_and_renames_reach_the_other_worker_within_a_second(two) -> None:
    env, a, b, older, newer = two
    assert b.gql(SERVED)["data"]["health"]["modelVersion"] == newer
    result = a.gql(ACTIVATE, {"v": older})["data"]["activateModel"]
    assert result == {"__typename": "ModelActivated", "model": {"version": older},
                      "previousVersion": newer}
    within_a_second(b, lambda d: d["health"]["modelVersion"] == older)

    assert a.gql(ROLLBACK)["data"]["rollbackModel"]["model"]["version"] == newer
    within_a_second(b, lambda d: d["health"]["modelVersion"] == newer)

    renamed = a.gql(RENAME, {"v": newer, "c": 0, "n": "Weekend regulars"})["data"]
    assert renamed["renameSegment"]["segment"]["name"] == "Weekend regulars"
    within_a_second(b, lambda d: d["clusters"][0]["name"] == "Weekend regulars")
    predicted = b.gql("""mutation { predictRows(columns: ["age", "annual_income",
        "spending_score", "purchase_frequency"], rows: [[30, 80, 85, 20]]) {
        ... on BatchPrediction { predictions { probabilities { segmentName } } } } }""")
    names = [p["segmentName"] for p in
             predicted["data"]["predictRows"]["predictions"][0]["probabilities"]]
    assert names[0] == "Weekend regulars"


def test_refusals_are_typed_and_change_nothing(two) -> None:
    env, a, _, older, newer = two
    before = tree(env.models_dir)
    generation = env.store().generation()
    nope = "20990101T000000000000Z-deadbeef"
    taken = a.gql("{ clusters { name } }")["data"]["clusters"][1]["name"]
    cases = [
        (ACTIVATE, {"v": nope}, "activateModel", "NotFound", None),
        (RENAME, {"v": nope, "c": 0, "n": "x"}, "renameSegment", "NotFound", None),
        (DELETE, {"v": nope}, "deleteModel", "NotFound", None),
        (RENAME, {"v": newer, "c": 0, "n": "  "}, "renameSegment", "InvalidInput", "name"),
        (RENAME, {"v": newer, "c": 0, "n": "y" * 200}, "renameSegment", "InvalidInput", "name"),
        (RENAME, {"v": newer, "c": 0, "n": taken.upper()}, "renameSegment", "InvalidInput",
         "name"),
        (RENAME, {"v": newer, "c": 99, "n": "z"}, "renameSegment", "InvalidInput", "clusterId"),
        (DELETE, {"v": newer}, "deleteModel", "Conflict", None),
    ]
    for query, variables, field, typename, error_field in cases:
        body = a.gql(query, variables)
        result = body["data"][field]
        assert result["__typename"] == typename, (variables, result)
        if error_field:
            assert [e["field"] for e in result["errors"]] == [error_field]
        assert "errors" not in body
    assert tree(env.models_dir) == before and env.store().generation() == generation
    assert a.healthy() and "Traceback" not in a.log_text()


def test_rollback_with_no_history_is_a_conflict(env: Env,
                                                server_factory: Callable[..., Server]) -> None:
    only = env.train()
    server = server_factory(env.vars())
    result = server.gql(ROLLBACK)["data"]["rollbackModel"]
    assert result["__typename"] == "Conflict" and "nothing to roll back" in result["message"]
    assert env.store().active_version() == only


KEY = "s3cret-key-for-tests"
GUARDED = {
    "train": ("mutation { train { __typename } }", None),
    "uploadDataset": None,  # multipart: sent below
    "deleteDataset": ("mutation D($id: ID!) { deleteDataset(id: $id) { __typename } }", "id"),
    "activateModel": ("mutation A($v: String!) { activateModel(version: $v) { __typename } }",
                      "older"),
    "rollbackModel": ("mutation { rollbackModel { __typename } }", None),
    "renameSegment": ("mutation R($v: String!) { renameSegment(version: $v, clusterId: 0, "
                      'name: "Hijacked") { __typename } }', "newer"),
    "deleteModel": ("mutation D($v: String!) { deleteModel(version: $v) { __typename } }",
                    "older"),
    "scoreDataset": ("mutation S($id: ID!) { scoreDataset(datasetId: $id) { __typename } }",
                     "id"),
}


@pytest.fixture
def keyed(two, tmp_path: Path) -> Iterator[tuple[Env, Server, dict[str, str]]]:
    env, _, _, older, newer = two
    server = start_server({**env.vars(), "SEGMENTATION_API_KEY": KEY}, tmp_path / "keyed.log")
    try:
        upload = httpx.post(
            f"{server.url}/graphql", headers={"Authorization": f"Bearer {KEY}"}, timeout=60,
            data={"operations": '{"query": "mutation U($f: Upload!) { uploadDataset(file: $f) '
                                '{ ... on DatasetImported { dataset { id } } } }", '
                                '"variables": {"f": null}}',
                  "map": '{"0": ["variables.f"]}'},
            files={"0": ("extra.csv", b"a,b\n1,2\n3,4\n5,6\n7,9\n", "text/csv")})
        dataset = upload.json()["data"]["uploadDataset"]["dataset"]["id"]
        yield env, server, {"id": dataset, "older": older, "newer": newer}
    finally:
        server.stop()


@pytest.mark.parametrize("header", [None, "Bearer wrong-key", f"Basic {KEY}"],
                         ids=["no-header", "wrong-key", "wrong-scheme"])
def test_every_state_changing_mutation_needs_the_key(keyed, header: str | None) -> None:
    env, server, ids = keyed
    before = (tree(env.models_dir), tree(env.datasets_dir), tree(env.exports_dir))
    headers = {"Authorization": header} if header else {}
    for field, spec in GUARDED.items():
        if spec is None:
            r = httpx.post(
                f"{server.url}/graphql", timeout=30,
                headers={**headers, "GraphQL-Require-Preflight": "1"},
                data={"operations": '{"query": "mutation U($f: Upload!) { uploadDataset(file: '
                                    '$f) { __typename } }", "variables": {"f": null}}',
                      "map": '{"0": ["variables.f"]}'},
                files={"0": ("new.csv", b"a,b\n1,2\n3,4\n5,6\n8,8\n", "text/csv")})
            body = r.json()
        else:
            query, variable = spec
            variables = {query.split("$")[1].split(":")[0]: ids[variable]} if variable else None
            body = server.gql(query, variables, headers=headers)
        assert body["data"][field] == {"__typename": "Unauthorized"}, (field, body)
    assert (tree(env.models_dir), tree(env.datasets_dir), tree(env.exports_dir)) == before
    server.wait_for_no_deleted_open_files()
    # Reads and predictions need no key.
    assert server.gql("{ models { version } }")["data"]["models"]
    assert "Traceback" not in server.log_text()
