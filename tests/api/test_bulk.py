"""Bulk scoring against a real uvicorn: ``POST /score`` (status codes, the scored format, the
spool removed however the answer ends) and the ``/exports/`` downloads ``scoreDataset`` leaves
(signed, expiring, served as attachments)."""

from __future__ import annotations

import csv
import io
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from graph_api.exports import ExportStore, download_name

from .conftest import Env, Server, mall_customers, start_server, tree

pytestmark = pytest.mark.slow

LIMIT = 5_000_000  # SEGMENTATION_MAX_UPLOAD_BYTES for the module's server
SCORE_DATASET = """
mutation S($d: ID!) { scoreDataset(datasetId: $d) { __typename
  ... on ScoredDataset { rows scoredRows downloadUrl expiresAt segments { customers } }
  ... on NotFound { message } ... on Unauthorized { message } } }"""
SCORED = ["segment_id", "segment_name", "confidence", "score_problem"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Env:
    root = tmp_path_factory.mktemp("bulk")
    data = root / "customers.csv"
    mall_customers().to_csv(data, index=False)
    env = Env(root=root, models_dir=root / "models", key_file=root / "secrets" / "key",
              data=data)
    env.train(k=3)
    env.train()
    return env


@pytest.fixture(scope="module")
def server(trained: Env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    log = tmp_path_factory.mktemp("bulk-log") / "server.log"
    srv = start_server({**trained.vars(), "SEGMENTATION_MAX_UPLOAD_BYTES": str(LIMIT)}, log)
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def clean(trained: Env, server: Server) -> Iterator[None]:
    """After the test: no spool left in the exports folder, no deleted file held open, the
    server up, no stack trace in its log."""
    yield
    deadline = time.monotonic() + 10
    while tree(trained.exports_dir / ".incoming") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert tree(trained.exports_dir / ".incoming") == {}
    server.wait_for_no_deleted_open_files()
    assert server.healthy()
    assert "Traceback" not in server.log_text()


def score(server: Server, body: bytes, version: str | None = None) -> httpx.Response:
    params = {"version": version} if version else None
    return httpx.post(f"{server.url}/score", content=body, params=params, timeout=60,
                      headers={"Content-Type": "text/csv"})


def customers_csv() -> bytes:
    frame = mall_customers().head(50)
    frame.insert(1, "note", ["plain"] * len(frame))
    frame.loc[3, "note"] = "=HYPERLINK(\"http://evil\")"
    frame.loc[4, "note"] = "-5"
    frame.loc[5, "note"] = "@SUM(A1)"
    text = frame.to_csv(index=False)
    lines = text.splitlines()
    cells = lines[8].split(",")
    cells[frame.columns.get_loc("age")] = ""  # a missing feature on data row 7
    lines[8] = ",".join(cells)
    cells = lines[9].split(",")
    cells[frame.columns.get_loc("spending_score")] = "lots"  # not a number on data row 8
    lines[9] = ",".join(cells)
    return ("\n".join(lines) + "\n").encode()


def test_score_streams_the_scored_csv(trained: Env, server: Server, clean: None) -> None:
    body = customers_csv()
    r = score(server, body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["x-model-version"] == trained.store().active_version()
    rows = list(csv.reader(io.StringIO(r.text)))
    source = list(csv.reader(io.StringIO(body.decode())))
    assert rows[0] == source[0] + SCORED
    assert len(rows) == len(source)
    assert [row[0] for row in rows[1:]] == [row[0] for row in source[1:]]  # input order
    assert rows[4][1] == "'=HYPERLINK(\"http://evil\")" and rows[6][1] == "'@SUM(A1)"
    assert rows[5][1] == "-5"
    for data_row in (8, 9):
        assert rows[data_row][-4:-1] == ["", "", ""] and rows[data_row][-1], rows[data_row]
    scored = [row for row in rows[1:] if not row[-1]]
    assert len(scored) == 48
    # The same customer as a GraphQL prediction: same segment.
    first = dict(zip(source[0], source[1], strict=True))
    customer = {"age": int(first["age"]), "annualIncome": float(first["annual_income"]),
                "spendingScore": int(first["spending_score"]),
                "purchaseFrequency": int(first["purchase_frequency"])}
    predicted = server.gql("mutation P($c: CustomerInput!) { predict(customer: $c) { "
                           "... on Prediction { clusterId segmentName } } }", {"c": customer})
    assert rows[1][-4:-2] == [str(predicted["data"]["predict"]["clusterId"]),
                              predicted["data"]["predict"]["segmentName"]]


def test_score_with_an_older_version(trained: Env, server: Server, clean: None) -> None:
    older = trained.store().versions()[0]
    r = score(server, customers_csv(), version=older)
    assert r.status_code == 200 and r.headers["x-model-version"] == older
    assert {row[-4] for row in csv.reader(io.StringIO(r.text))} - {"segment_id", ""} <= {
        "0", "1", "2"}


@pytest.mark.parametrize(
    ("body", "version", "status", "needle"),
    [
        (b"customer_id,age,annual_income\n1,30,40\n", None, 400, "spending_score"),
        (bytes(range(256)) * 100, None, 400, "binary"),
        (b"", None, 400, ""),
        (b"age\n30\n", "20990101T000000000000Z-deadbeef", 404, "version"),
    ],
    ids=["missing-feature-column", "binary-junk", "empty-body", "unknown-version"],
)
def test_score_refusals(server: Server, clean: None, body: bytes, version: str | None,
                        status: int, needle: str) -> None:
    r = score(server, body, version)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/plain")
    assert needle in r.text and "Traceback" not in r.text


def test_score_without_a_model_is_409(env: Env, server_factory: Callable[..., Server]) -> None:
    fresh = server_factory(env.vars())
    r = score(fresh, b"age\n30\n")
    assert r.status_code == 409 and "train" in r.text


def test_a_300_mb_body_is_refused_before_it_is_read(server: Server, clean: None) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /score HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\n"
                     b"Content-Length: 314572800\r\n\r\nage,annual_income\n")
        received = b""
        while b"\r\n\r\n" not in received and (chunk := sock.recv(4096)):
            received += chunk
    assert received.startswith(b"HTTP/1.1 413"), received


def test_a_streamed_body_past_the_limit_is_413_and_its_spool_removed(
        server: Server, clean: None) -> None:
    line = b"1,30,40.0,50,12\n"

    def chunks() -> Iterator[bytes]:
        yield b"customer_id,age,annual_income,spending_score,purchase_frequency\n"
        for _ in range(LIMIT // (len(line) * 1000) + 2):
            yield line * 1000

    r = httpx.post(f"{server.url}/score", content=chunks(), timeout=60,
                   headers={"Content-Type": "text/csv"})
    assert r.status_code == 413 and "SEGMENTATION_MAX_UPLOAD_BYTES" in r.text


def test_a_client_leaving_mid_stream_leaves_no_spool(trained: Env, server: Server,
                                                     clean: None) -> None:
    header = b"customer_id,age,annual_income,spending_score,purchase_frequency\n"
    body = header + b"".join(b"%d,30,40.5,50,12\n" % i for i in range(220_000))  # ~4.5 MB
    assert len(body) < LIMIT
    with httpx.Client(timeout=60) as client, client.stream(
            "POST", f"{server.url}/score", content=body,
            headers={"Content-Type": "text/csv"}) as r:
        assert r.status_code == 200
        next(r.iter_bytes())  # a first piece, then hang up


def test_score_dataset_download(trained: Env, server: Server, clean: None) -> None:
    bundled = next(d for d in server.gql("{ datasets { id bundled } }")["data"]["datasets"]
                   if d["bundled"])
    result = server.gql(SCORE_DATASET, {"d": bundled["id"]})["data"]["scoreDataset"]
    assert result["__typename"] == "ScoredDataset", result
    assert result["rows"] == result["scoredRows"] == 200
    url = result["downloadUrl"]
    assert url.startswith("/exports/")
    r = httpx.get(server.url + url)
    assert r.status_code == 200
    assert r.headers["content-disposition"] == 'attachment; filename="customers-scored.csv"'
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][-4:] == SCORED and len(rows) == 201
    token = url.rsplit("/", 1)[1]
    export_id, expiry, mac = token.split(".")
    flipped = mac[:-1] + ("A" if mac[-1] != "A" else "B")
    for bad in (f"{export_id}.{expiry}.{flipped}", f"{export_id}.{int(expiry) + 999}.{mac}",
                f"{'A' * 22}.{expiry}.{mac}", "nothing", "..%2F..%2Fetc%2Fpasswd"):
        assert httpx.get(f"{server.url}/exports/{bad}").status_code == 404, bad
    assert httpx.get(server.url + url).status_code == 200  # the real one still works


def test_an_expired_download_is_gone(trained: Env, server: Server, clean: None) -> None:
    exports = ExportStore(trained.exports_dir)  # the same folder, hence the same key
    export = exports.reserve("old data", now=time.time() - 3 * 3600)
    exports.temporary_path(export).write_text("a\n1\n")
    exports.publish(export)
    r = httpx.get(server.url + export.url)
    assert r.status_code == 410 and "expired" in r.text
    assert not export.path.exists()


def test_the_sweep_removes_expired_exports(tmp_path: Path) -> None:
    exports = ExportStore(tmp_path / "exports", ttl_seconds=600)
    old = exports.reserve("a", now=time.time() - 3600)
    exports.temporary_path(old).write_text("x")
    exports.publish(old)
    fresh = exports.reserve("b")
    exports.temporary_path(fresh).write_text("y")
    exports.publish(fresh)
    assert exports.sweep() == 1
    assert not old.path.exists() and fresh.path.exists()
    assert exports.resolve(fresh.token)[1] == "b-scored.csv"


@pytest.mark.parametrize(
    ("dataset", "filename"),
    [("Online retail RFM", "Online_retail_RFM-scored.csv"),
     ("../../etc/passwd", "passwd-scored.csv"),
     ('q"uote\r\nX-Injected: 1.csv', "q_uote_X-Injected_1-scored.csv"),
     ("", "dataset-scored.csv")],
    ids=["spaces", "path", "header-injection", "empty"],
)
def test_download_names_are_sanitised(dataset: str, filename: str) -> None:
    assert download_name(dataset) == filename
