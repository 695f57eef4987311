"""Uploads over the GraphQL multipart request spec, against a real uvicorn: the happy path and
every refusal, each leaving nothing behind (no dataset, no temporary file, no open spool) and the
server up, with no stack trace for the client or in the log."""

from __future__ import annotations

import io
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from .conftest import Env, Server, mall_customers, start_server, tree

pytestmark = pytest.mark.slow

DATA = Path(__file__).parents[1] / "data"
UPLOAD = """
mutation Upload($file: Upload!, $name: String) {
  uploadDataset(file: $file, name: $name) {
    __typename
    ... on DatasetImported { alreadyPresent dataset { id name rows bundled
                             columns { name role } } }
    ... on InvalidInput { message errors { field message } }
    ... on Unauthorized { message }
  }
}"""
PREFLIGHT = {"GraphQL-Require-Preflight": "1"}
LIMIT = 300_000  # SEGMENTATION_MAX_UPLOAD_BYTES for these servers


def multipart(content: bytes, filename: str = "customers.csv", *, name: str | None = None,
              mapping: dict | None = None, extra_files: dict | None = None,
              variables: dict | None = None) -> dict:
    operations = {"query": UPLOAD, "variables": variables or {"file": None, "name": name}}
    files = {"0": (filename, content, "text/csv"), **(extra_files or {})}
    return {"data": {"operations": json.dumps(operations),
                     "map": json.dumps(mapping or {"0": ["variables.file"]})},
            "files": files}


def upload(server: Server, content: bytes, filename: str = "customers.csv",
           headers: dict[str, str] | None = None, **kwargs: object) -> httpx.Response:
    return httpx.post(f"{server.url}/graphql", headers=PREFLIGHT if headers is None else headers,
                      timeout=60, **multipart(content, filename, **kwargs))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Env:
    """One store and one server for the module (each test checks it left nothing behind)."""
    root = tmp_path_factory.mktemp("uploads")
    data = root / "customers.csv"
    mall_customers().to_csv(data, index=False)
    env = Env(root=root, models_dir=root / "models", key_file=root / "secrets" / "key",
              data=data)
    env.train()
    return env


@pytest.fixture(scope="module")
def server(trained: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("uploads-log") / "server.log"
    srv = start_server({**trained.vars(), "SEGMENTATION_MAX_UPLOAD_BYTES": str(LIMIT)}, log)
    try:
        srv.gql("{ datasets { id } }")  # the bundled dataset is imported: the baseline
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def untouched(trained: Env, server: Server) -> Iterator[None]:
    """After the test: the stores hold exactly what they held, the server holds no deleted file
    open, still answers, and logged no stack trace."""
    before = tree(trained.datasets_dir), tree(trained.models_dir)
    yield
    server.wait_for_no_deleted_open_files()
    assert (tree(trained.datasets_dir), tree(trained.models_dir)) == before
    assert server.healthy()
    assert "Traceback" not in server.log_text()


def test_upload_then_train_on_it(trained: Env, server: Server) -> None:
    r = upload(server, (DATA / "online_retail_rfm.csv").read_bytes()[:LIMIT // 2].rsplit(
        b"\n", 1)[0] + b"\n", "rfm.csv", name="RFM sample")
    assert r.status_code == 200, r.text
    result = r.json()["data"]["uploadDataset"]
    assert result["__typename"] == "DatasetImported", result
    dataset = result["dataset"]
    assert dataset["name"] == "RFM sample" and dataset["bundled"] is False
    assert {c["name"]: c["role"] for c in dataset["columns"]}["Monetary"] == "NUMERIC"
    again = upload(server, (DATA / "online_retail_rfm.csv").read_bytes()[:LIMIT // 2].rsplit(
        b"\n", 1)[0] + b"\n", "other-name.csv").json()["data"]["uploadDataset"]
    assert again["alreadyPresent"] is True and again["dataset"]["id"] == dataset["id"]
    trained_model = server.gql(
        'mutation T($d: ID) { train(input: {datasetId: $d, k: 2}) { __typename '
        "... on TrainSuccess { model { datasetId features } } } }", {"d": dataset["id"]},
        timeout=120)["data"]["train"]
    assert trained_model["model"] == {"datasetId": dataset["id"],
                                      "features": ["Recency", "Frequency", "Monetary"]}
    server.wait_for_no_deleted_open_files()


def test_authorization_header_also_passes_the_csrf_check(trained: Env, server: Server) -> None:
    r = upload(server, b"a,b\n1,2\n3,4\n5,6\n", headers={"Authorization": "Bearer anything"})
    assert r.status_code == 200  # no key configured: any Authorization header will do
    assert r.json()["data"]["uploadDataset"]["__typename"] in {"DatasetImported", "InvalidInput"}


def test_no_preflight_header_is_refused_before_the_body_is_read(
        server: Server, untouched: None) -> None:
    boundary = "b0undary"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 50000000\r\n"
            b"Content-Type: multipart/form-data; boundary=" + boundary.encode() + b"\r\n\r\n"
            + b"--" + boundary.encode() + b"\r\n")  # 50 MB announced, a few bytes sent
        received = b""
        while b"\r\n\r\n" not in received and (chunk := sock.recv(4096)):
            received += chunk
    assert received.startswith(b"HTTP/1.1 400"), received
    r = upload(server, b"a,b\n1,2\n", headers={})
    assert r.status_code == 400 and "GraphQL-Require-Preflight" in r.text
    r = upload(server, b"a,b\n1,2\n", headers={"GraphQL-Require-Preflight": ""})
    assert r.status_code == 400


def test_over_the_cap_is_413_declared_or_streamed(server: Server, untouched: None) -> None:
    big = b"a,b\n" + b"1,2\n" * (LIMIT // 4)
    r = upload(server, big)
    assert r.status_code == 413 and "SEGMENTATION_MAX_UPLOAD_BYTES" in r.text
    request = httpx.Request("POST", f"{server.url}/graphql",
                            headers=PREFLIGHT, **multipart(big))  # type: ignore[arg-type]
    body = request.read()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 65536):
            yield body[i:i + 65536]

    streamed = httpx.post(f"{server.url}/graphql", content=chunks(), timeout=30,
                          headers={**PREFLIGHT, "Content-Type": request.headers["Content-Type"]})
    assert streamed.status_code == 413


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "empty"),
        (b"age,income\n30,40\n31\n32,44,9\n", "line 3"),
        (bytes(range(256)) * 64, "binary"),
        (b"name,city\nAnn,Oslo\nBob,Rome\nCy,Bern\n", "only numbers"),
        (b"a,b\n", "no rows of data"),
    ],
    ids=["empty-file", "ragged-csv", "binary-junk", "no-numeric-column", "header-only"],
)
def test_unusable_files_are_invalid_input_naming_file(
        server: Server, untouched: None, content: bytes, needle: str) -> None:
    r = upload(server, content)
    assert r.status_code == 200, r.text
    result = r.json()["data"]["uploadDataset"]
    assert result["__typename"] == "InvalidInput", result
    assert {e["field"] for e in result["errors"]} == {"file"}
    text = " ".join(e["message"] for e in result["errors"]).lower()
    assert needle.lower() in text, text
    assert "Traceback" not in r.text


def test_a_parquet_file_that_lies_about_its_schema(server: Server, untouched: None) -> None:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"age": list(range(100)), "income": [float(i) for i in range(100)]}),
                   buffer, compression="NONE")
    data = bytearray(buffer.getvalue())
    middle = len(data) // 3  # inside the column chunks, before the footer
    data[middle:middle + 200] = b"\xff" * 200
    r = upload(server, bytes(data), "customers.parquet")
    result = r.json()["data"]["uploadDataset"]
    assert result["__typename"] == "InvalidInput", result
    assert result["errors"][0]["field"] == "file"


def test_a_file_name_is_never_a_path(trained: Env, server: Server) -> None:
    before = {p.name for p in trained.root.iterdir()}
    r = upload(server, b"age,income\n30,40\n31,41\n32,44\n", "../../../etc/evil.csv")
    result = r.json()["data"]["uploadDataset"]
    assert result["__typename"] == "DatasetImported", result
    name = result["dataset"]["name"]
    assert "/" not in name and ".." not in name
    assert {p.name for p in trained.root.iterdir()} == before  # nothing beside the stores
    assert not Path("/etc/evil.csv").exists()
    server.wait_for_no_deleted_open_files()


@pytest.mark.parametrize(
    ("mapping", "variables", "extra"),
    [
        ({"0": ["variables.nothing"]}, None, None),
        ({"0": ["variables.file.deeper"]}, None, None),
        ({"0": ["query"]}, None, None),
        ({"7": ["variables.file"]}, None, None),
        ({"0": ["variables.file"], "1": ["variables.file"]}, None,
         {"1": ("b.csv", b"x,y\n1,2\n", "text/csv")}),
        ({"0": ["variables.file"]}, None, {"1": ("junk.bin", b"\x00" * 1000, "x/y")}),
        ({"0": "variables.file"}, None, None),
        ([["0", "variables.file"]], None, None),
    ],
    ids=["points-nowhere", "points-below-a-null", "outside-variables", "names-a-missing-part",
         "two-files-for-one-variable", "a-file-map-does-not-use", "paths-not-a-list",
         "map-not-an-object"],
)
def test_malformed_maps_are_refused_with_400(
        server: Server, untouched: None, mapping: object, variables: dict | None,
        extra: dict | None) -> None:
    r = upload(server, b"a,b\n1,2\n3,4\n", mapping=mapping, variables=variables,  # type: ignore[arg-type]
               extra_files=extra)
    assert r.status_code == 400, r.text
    assert "map" in r.text and "Traceback" not in r.text


def test_a_map_pointing_at_another_variable_is_a_graphql_error(
        server: Server, untouched: None) -> None:
    r = upload(server, b"a,b\n1,2\n3,4\n", mapping={"0": ["variables.name"]},
               variables={"file": "not a file", "name": None})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body.get("data") is None or body["data"]["uploadDataset"]["__typename"] == (
        "InvalidInput")
    assert "Traceback" not in r.text


def test_operations_that_are_not_an_object(server: Server, untouched: None) -> None:
    r = httpx.post(f"{server.url}/graphql", headers=PREFLIGHT, timeout=30,
                   data={"operations": "[1, 2]", "map": "{}"},
                   files={"x": ("x.csv", b"a\n1\n", "text/csv")})
    assert r.status_code == 400
    r = httpx.post(f"{server.url}/graphql", headers=PREFLIGHT, timeout=30,
                   data={"operations": "{not json", "map": "{}"},
                   files={"x": ("x.csv", b"a\n1\n", "text/csv")})
    assert r.status_code == 400


def test_upload_as_plain_json_is_invalid_input(server: Server) -> None:
    result = server.gql(UPLOAD, {"file": "a,b\n1,2\n"})["data"]["uploadDataset"]
    assert result["__typename"] == "InvalidInput"
    assert result["errors"][0]["field"] == "file"


def test_uploads_get_the_upload_limit_and_json_keeps_its_own(
        env: Env, server_factory: Callable[..., Server]) -> None:
    default = server_factory(env.vars())  # SEGMENTATION_MAX_UPLOAD_BYTES: 256 MiB
    rows = b"".join(b"%d,%d,%d.5\n" % (i, i % 90, i % 150) for i in range(400_000))
    big = b"customer_id,age,income\n" + rows
    assert len(big) > 5 * 1024 * 1024 > 4 * 1024 * 1024  # over the JSON limit
    r = upload(default, big, "big.csv")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["uploadDataset"]["dataset"]["rows"] == 400_000
    json_body = b'{"query": "{ health { status } }", "padding": "' + b" " * len(big) + b'"}'
    r = httpx.post(f"{default.url}/graphql", content=json_body, timeout=60,
                   headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and "SEGMENTATION_MAX_BODY_BYTES" in r.text
