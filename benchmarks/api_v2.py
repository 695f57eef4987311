"""The API's version 2 figures against a real uvicorn (one worker, uvloop + httptools, loopback).

    PYTHONPATH=. .venv/bin/python benchmarks/api_v2.py [--rounds 5] [--quick]

(a) ``POST /score`` with the core issue's 1,000,000-row, 7-column customer CSV (about 36 MB;
    ``benchmarks/common.py``, shared with the core's benchmarks), sent and received by curl, end
    to end; beside it, in the same run and in fresh processes: the core
    scoring the same file in-process (``score_file(model, csv).chunks()`` written to a file, the
    bytes ``POST /score`` streams; the HTTP overhead is the difference) and the obvious pandas
    way (``read_csv``, the pipeline's ``predict``, ``to_csv``).
(b) That CSV uploaded through ``uploadDataset`` (a multipart request, curl) plus ``train`` on it
    with AUTO transforms: the two times and their sum. Each round uploads a different file (one
    extra row), so every upload is a real import.
(c) ``predictRows`` with 10,000 rows of 4 features, as one JSON request (httpx): rows/s with the
    object-per-row selection ``predictions { clusterId segmentName confidence }`` and with the
    flat lists ``clusterIds segmentNames confidences``, and rows per second of the server's CPU
    time (which depends less on how much of a core the server got); beside them graphql-core
    alone executing the same document and variables over precomputed answers (the floor).
(d) ``predict`` latency from one client (sequential, keep-alive) while the server trains on the
    1,000,000-row dataset, beside the same client with no training (same run): p50 and p99.

Medians over ``--rounds``; the approaches of (a) take turns. The machine is shared: each line says
how many of its cores other processes kept busy meanwhile (from /proc/stat minus this benchmark's
own processes), so a figure can be read against the load it was measured under.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import write_customer_csv  # noqa: E402
from segmentation_core import ModelStore, train_model  # noqa: E402

FEATURES = ["age", "annual_income", "spending_score", "purchase_frequency"]
PREDICT = (
    "mutation P($c: CustomerInput!) { predict(customer: $c) { __typename "
    "... on Prediction { clusterId segmentName confidence } } }"
)
ROWS_OBJECTS = (
    "mutation R($c: [String!]!, $r: [[Float!]!]!) { predictRows(columns: $c, rows: $r) { "
    "__typename ... on BatchPrediction { predictions { clusterId segmentName confidence } } } }"
)
ROWS_FLAT = (
    "mutation R($c: [String!]!, $r: [[Float!]!]!) { predictRows(columns: $c, rows: $r) { "
    "__typename ... on BatchPrediction { clusterIds segmentNames confidences } } }"
)
UPLOAD = ('{"query": "mutation U($f: Upload!) { uploadDataset(file: $f) { __typename '
          '... on DatasetImported { dataset { id rows } } ... on InvalidInput { errors '
          '{ field message } } } }", "variables": {"f": null}}')
TRAIN = ("mutation T($d: ID!, $f: [FeatureInput!]) { train(input: {datasetId: $d, features: $f})"
         " { __typename ... on TrainSuccess { model { version k silhouette featureSpecs "
         "{ name transform } } } ... on InvalidInput { errors { field message } } } }")
CUSTOMER = {"age": 34, "annualIncome": 72.5, "spendingScore": 77, "purchaseFrequency": 18}


# -- load accounting -------------------------------------------------------------------------------


def machine_busy() -> float:
    """Seconds of CPU time the whole machine has spent busy since boot."""
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu(server_pid: int) -> float:
    mine = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (mine.ru_utime + mine.ru_stime + kids.ru_utime + kids.ru_stime
            + process_cpu(server_pid))


class Load:
    """Cores kept busy by OTHER processes while a measurement ran."""

    def __init__(self, server_pid: int) -> None:
        self.server_pid = server_pid
        self.samples: list[float] = []

    @contextmanager
    def measure(self) -> Iterator[None]:
        busy, own, wall = machine_busy(), own_cpu(self.server_pid), time.monotonic()
        yield
        elapsed = time.monotonic() - wall
        others = (machine_busy() - busy) - (own_cpu(self.server_pid) - own)
        self.samples.append(max(0.0, others) / elapsed if elapsed > 0 else 0.0)

    def text(self) -> str:
        if not self.samples:
            return ""
        return (f"others kept {statistics.median(self.samples):.1f} of {os.cpu_count()} cores "
                f"busy (rounds {min(self.samples):.1f}-{max(self.samples):.1f})")


# -- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def uvicorn(env: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "graph_api.app:app", "--host", "127.0.0.1", "--port",
         str(port), "--workers", "1", "--loop", "uvloop", "--http", "httptools",
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)}, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.post(f"{url}/graphql", json={"query": "{ health { status } }"}, timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the API server did not start") from None
                time.sleep(0.1)
        yield url, process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)


def gql(url: str, query: str, variables: dict[str, Any] | None = None,
        timeout: float = 600) -> dict[str, Any]:
    r = httpx.post(f"{url}/graphql", json={"query": query, "variables": variables},
                   timeout=timeout)
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"])
    return dict(body["data"])


# -- (a) bulk scoring ---------------------------------------------------------------------------


def run_in_process(kind: str, model_dir: str, key: str, source: str, out: str) -> None:
    """One in-process scoring of ``source`` (run in a fresh process); prints its seconds."""
    store = ModelStore(Path(model_dir), Path(key))
    model = store.load_active()
    started = time.perf_counter()
    if kind == "core":  # what POST /score streams, written to a file (no fsync, as curl's)
        from segmentation_core.scoring import score_file

        with open(out, "wb") as fh:
            for chunk in score_file(model, Path(source)).chunks():
                fh.write(chunk)
    else:  # the obvious pandas way
        import pandas as pd

        frame = pd.read_csv(source)
        frame["segment_id"] = model.pipeline.predict(frame[list(model.spec.columns)])
        frame.to_csv(out, index=False)
    print(json.dumps({"seconds": time.perf_counter() - started}))


def in_process(kind: str, env: dict[str, str], source: Path, out: Path) -> float:
    result = subprocess.run(
        [sys.executable, __file__, "--run", kind, env["SEGMENTATION_MODELS_DIR"],
         env["SEGMENTATION_SIGNING_KEY_FILE"], str(source), str(out)],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        check=True,
    )
    return float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"])


def curl_score(url: str, source: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["curl", "-sS", "--fail", "-o", str(out), "-H", "Content-Type: text/csv",
                    "--data-binary", f"@{source}", f"{url}/score"], check=True)
    elapsed = time.perf_counter() - started
    with out.open("rb") as fh:
        header = fh.readline()
    if not header.rstrip().endswith(b"score_problem"):
        raise RuntimeError(f"unexpected answer: {header[:200]!r}")
    return elapsed


# -- (b) upload and train -------------------------------------------------------------------------


def curl_upload(url: str, source: Path) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(
        ["curl", "-sS", "--fail", "-H", "GraphQL-Require-Preflight: 1",
         "-F", f"operations={UPLOAD}", "-F", 'map={"0": ["variables.f"]}',
         "-F", f"0=@{source};type=text/csv", f"{url}/graphql"],
        check=True, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    answer = json.loads(result.stdout)["data"]["uploadDataset"]
    if answer["__typename"] != "DatasetImported":
        raise RuntimeError(answer)
    return elapsed, answer["dataset"]["id"]


def train(url: str, dataset_id: str) -> tuple[float, dict[str, Any]]:
    features = [{"column": c, "transform": "AUTO"} for c in FEATURES]
    started = time.perf_counter()
    answer = gql(url, TRAIN, {"d": dataset_id, "f": features})["train"]
    elapsed = time.perf_counter() - started
    if answer["__typename"] != "TrainSuccess":
        raise RuntimeError(answer)
    return elapsed, answer["model"]


# -- (c) predictRows ------------------------------------------------------------------------------


def rows_rate(url: str, pid: int, query: str, rows: list[list[float]],
              rounds: int) -> tuple[float, float]:
    """Rows/s of one request at a time (median), and rows per second of server CPU time."""
    body = json.dumps({"query": query, "variables": {"c": FEATURES, "r": rows}}).encode()
    times = []
    cpu = 0.0
    with httpx.Client(timeout=60) as client:
        for i in range(rounds + 1):
            before = process_cpu(pid)
            started = time.perf_counter()
            r = client.post(f"{url}/graphql", content=body,
                            headers={"Content-Type": "application/json"})
            elapsed = time.perf_counter() - started
            if r.status_code != 200 or '"BatchPrediction"' not in r.text[:100]:
                raise RuntimeError(r.text[:300])
            if i:  # the first request warms the caches
                times.append(elapsed)
                cpu += process_cpu(pid) - before
    return len(rows) / statistics.median(times), len(rows) * rounds / cpu


def graphql_core_floor(query: str, rows: list[list[float]], rounds: int) -> float:
    """graphql-core alone (no HTTP, no Strawberry) answering the same document and variables
    over precomputed predictions: rows/s, the floor of this stack."""
    from graphql import build_schema, parse
    from graphql import execute as graphql_execute

    schema = build_schema("""
      type Prediction { clusterId: Int! segmentName: String! confidence: Float! }
      type BatchPrediction { predictions: [Prediction!]! clusterIds: [Int!]!
                             segmentNames: [String!]! confidences: [Float!]! }
      type InvalidInput { message: String! }
      union PredictBatchResult = BatchPrediction | InvalidInput
      type Mutation { predictRows(columns: [String!]!, rows: [[Float!]!]!): PredictBatchResult! }
      type Query { ok: Boolean }""")
    n = len(rows)
    answer = {
        "__typename": "BatchPrediction",
        "predictions": [{"clusterId": i % 5, "segmentName": f"Segment {i % 5}",
                         "confidence": 0.5 + (i % 7) / 20} for i in range(n)],
        "clusterIds": [i % 5 for i in range(n)],
        "segmentNames": [f"Segment {i % 5}" for i in range(n)],
        "confidences": [0.5 + (i % 7) / 20 for i in range(n)],
    }
    mutation = schema.mutation_type
    assert mutation is not None
    mutation.fields["predictRows"].resolve = lambda *_a, **_k: answer
    union = schema.get_type("PredictBatchResult")
    union.resolve_type = lambda value, *_: value["__typename"]  # type: ignore[union-attr]
    document = parse(query)
    variables = {"c": FEATURES, "r": rows}
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        result = graphql_execute(schema, document, variable_values=variables)
        times.append(time.perf_counter() - started)
        assert not result.errors, result.errors  # type: ignore[union-attr]
    return n / statistics.median(times)


# -- (d) predictions during a training ---------------------------------------------------------


async def predict_latencies(port: int, stop: Callable[[], bool], least: int) -> list[float]:
    body = json.dumps({"query": PREDICT, "variables": {"c": CUSTOMER}}).encode()
    request = (f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = []
    while not stop() or len(latencies) < least:
        started = time.perf_counter()
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        payload = await reader.readexactly(length)
        latencies.append((time.perf_counter() - started) * 1e3)
        if b'"Prediction"' not in payload:
            raise RuntimeError(payload[:300])
    writer.close()
    return latencies


def p(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


# -- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="100,000 rows, 2 rounds (smoke)")
    parser.add_argument("--run", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        run_in_process(*args.run)
        return
    n_rows = 100_000 if args.quick else 1_000_000
    rounds = 2 if args.quick else args.rounds
    loadavg = os.getloadavg()

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        source = tmp / "customers.csv"
        write_customer_csv(source, n_rows)
        size_mb = source.stat().st_size / 1e6
        env = {"SEGMENTATION_MODELS_DIR": str(tmp / "models"),
               "SEGMENTATION_SIGNING_KEY_FILE": str(tmp / "signing.key"),
               "SEGMENTATION_DATASETS_DIR": str(tmp / "datasets"),
               "SEGMENTATION_EXPORTS_DIR": str(tmp / "exports"),
               "SEGMENTATION_DATA": str(ROOT / "data" / "customers.csv")}
        ModelStore(tmp / "models", tmp / "signing.key").save(
            train_model(ROOT / "data" / "customers.csv"))
        os.environ.pop("SEGMENTATION_API_KEY", None)

        with uvicorn(env) as (url, pid):
            port = int(url.rsplit(":", 1)[1])
            # (a) POST /score, the core in-process, pandas: in turns.
            results: dict[str, list[float]] = {"http": [], "core": [], "pandas": []}
            loads = {name: Load(pid) for name in results}
            curl_score(url, source, tmp / "warm.csv")
            for r in range(rounds):
                order = ["http", "core", "pandas"]
                for name in order[r % 3:] + order[: r % 3]:
                    out = tmp / f"out-{name}.csv"
                    with loads[name].measure():
                        if name == "http":
                            results[name].append(curl_score(url, source, out))
                        else:
                            results[name].append(in_process(name, env, source, out))
                    out.unlink(missing_ok=True)
            http, core, pandas = (statistics.median(results[k]) for k in ("http", "core",
                                                                            "pandas"))
            # (b) upload + train, each round a new file (one extra row).
            uploads: list[float] = []
            trainings: list[float] = []
            totals: list[float] = []
            load_b = Load(pid)
            dataset_id = ""
            model: dict[str, Any] = {}
            base = source.read_bytes()
            for r in range(rounds):
                variant = tmp / f"upload-{r}.csv"
                variant.write_bytes(base + f"{n_rows + 1 + r},40,50.5,50,10,Male,Pacific\n"
                                    .encode())
                with load_b.measure():
                    up, dataset_id = curl_upload(url, variant)
                    took, model = train(url, dataset_id)
                uploads.append(up)
                trainings.append(took)
                totals.append(up + took)
                variant.unlink()
            # (c) predictRows 10,000 x 4.
            rnd = random.Random(7)
            rows = [[rnd.randint(18, 90), round(rnd.uniform(10, 150), 1), rnd.randint(1, 100),
                     rnd.randint(0, 40)] for _ in range(10_000)]
            load_c = Load(pid)
            with load_c.measure():
                objects, objects_cpu = rows_rate(url, pid, ROWS_OBJECTS, rows, max(rounds, 5))
                flat, flat_cpu = rows_rate(url, pid, ROWS_FLAT, rows, max(rounds, 5))
                floor_objects = graphql_core_floor(ROWS_OBJECTS, rows, max(rounds, 5))
                floor_flat = graphql_core_floor(ROWS_FLAT, rows, max(rounds, 5))
            # (d) predict latency during a training on the uploaded dataset, then without.
            load_d = Load(pid)
            done = threading.Event()
            outcome: dict[str, Any] = {}

            def train_once() -> None:
                try:
                    outcome["seconds"], outcome["model"] = train(url, dataset_id)
                finally:
                    done.set()

            trainer = threading.Thread(target=train_once)
            with load_d.measure():
                trainer.start()
                deadline = time.monotonic() + 30
                while gql(url, "{ health { trainingInProgress } }")["health"][
                        "trainingInProgress"] is False:
                    if done.is_set() or time.monotonic() > deadline:
                        break
                    time.sleep(0.01)
                during = asyncio.run(predict_latencies(port, done.is_set, 50))
                trainer.join()
            quiet_until = time.monotonic() + 3.0
            idle = asyncio.run(predict_latencies(port, lambda: time.monotonic() > quiet_until,
                                                 len(during)))

    def ok(flag: bool) -> str:
        return "pass" if flag else "FAIL"

    speedup = pandas / http
    print(f"\nGraphQL API v2 on uvicorn (1 worker, uvloop + httptools), loopback, "
          f"{os.cpu_count()} cores, load average at start {loadavg[0]:.1f}"
          f"{' (--quick)' if args.quick else ''}; medians of {rounds} rounds\n")
    print("| measure | result | baseline (same run) | target | | machine |")
    print("| --- | --- | --- | --- | --- | --- |")
    print(f"| (a) `POST /score`, {n_rows:,} rows ({size_mb:.0f} MB), curl end to end | "
          f"{http:.2f} s | core in-process {core:.2f} s (HTTP overhead {http - core:+.2f} s); "
          f"pandas way {pandas:.2f} s | <= 1.2 s and >= 2x pandas | "
          f"{ok(http <= 1.2 and speedup >= 2)} ({speedup:.1f}x) | {loads['http'].text()} |")
    print(f"| (b) `uploadDataset` + `train` (AUTO), {n_rows:,} rows | "
          f"{statistics.median(totals):.2f} s | upload {statistics.median(uploads):.2f} s + "
          f"train {statistics.median(trainings):.2f} s (k={model.get('k')}) | <= 5 s | "
          f"{ok(statistics.median(totals) <= 5)} | {load_b.text()} |")
    print(f"| (c) `predictRows` 10,000 x 4, `predictions {{ clusterId segmentName confidence }}`"
          f" | {objects:,.0f} rows/s ({objects_cpu:,.0f} per server CPU-second) | graphql-core "
          f"alone over precomputed answers: {floor_objects:,.0f}/s | >= 50,000/s | "
          f"{ok(objects >= 50_000)} | {load_c.text()} |")
    print(f"| (c) `predictRows` 10,000 x 4, `clusterIds segmentNames confidences` | "
          f"{flat:,.0f} rows/s ({flat_cpu:,.0f} per server CPU-second) | graphql-core alone: "
          f"{floor_flat:,.0f}/s | >= 50,000/s | {ok(flat >= 50_000)} | |")
    print(f"| (d) `predict` during a {n_rows:,}-row training ({len(during)} requests) | "
          f"p50 {statistics.median(during):.2f} ms, p99 {p(during, 99):.2f} ms | no training: "
          f"p50 {statistics.median(idle):.2f} ms, p99 {p(idle, 99):.2f} ms | p99 < 50 ms | "
          f"{ok(p(during, 99) < 50)} | {load_d.text()} |")


if __name__ == "__main__":
    main()
