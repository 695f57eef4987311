"""CPU per ``predict`` request through the ASGI apps in-process (no HTTP server, no sockets).

    .venv/bin/python benchmarks/api_inprocess.py [--profile] [-n 3000]

Calls the GraphQL app (graph_api.app) and the bare route (benchmarks/bare_predict_app.py) the way
uvicorn would, on a uvloop loop, and prints the best and median of 5 runs of ``n`` requests each.
Without server and client noise, it is the tool for measuring one change to the request path;
``--profile`` prints cProfile's top functions of the GraphQL path (sorted by own time).
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import uvloop  # noqa: E402

from benchmarks.api_throughput import CUSTOMER, PREDICT  # noqa: E402
from segmentation_core import ModelStore, generate_customers, train_model  # noqa: E402

App = Any


def scope(path: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }


async def requests(app: App, path: str, body: bytes, n: int) -> bytes:
    """Send ``n`` requests; return the last response body."""
    template = scope(path, body)
    last = b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal last
        if message["type"] == "http.response.body":
            last = message["body"]

    for _ in range(n):
        await app(dict(template), receive, send)
    return last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=3000, help="requests per run")
    parser.add_argument("--profile", action="store_true", help="cProfile the GraphQL path")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "customers.csv"
        generate_customers(5_000, seed=42).frame.to_csv(data, index=False)
        os.environ.update({"SEGMENTATION_MODELS_DIR": f"{tmp}/models",
                           "SEGMENTATION_DATA": str(data),
                           "SEGMENTATION_SIGNING_KEY_FILE": f"{tmp}/signing.key",
                           "SEGMENTATION_DATASETS_DIR": f"{tmp}/datasets",
                           "SEGMENTATION_EXPORTS_DIR": f"{tmp}/exports"})
        os.environ.pop("SEGMENTATION_API_KEY", None)
        ModelStore(Path(f"{tmp}/models"), Path(f"{tmp}/signing.key")).save(train_model(data))
        from graph_api.app import create_app

        bare = importlib.import_module("benchmarks.bare_predict_app").app
        apps = [
            ("GraphQL predict", create_app(), "/graphql",
             json.dumps({"query": PREDICT, "variables": {"c": CUSTOMER}}).encode(), b"Prediction"),
            ("bare route", bare, "/predict", json.dumps({"customer": CUSTOMER}).encode(),
             b"clusterId"),
        ]
        loop = uvloop.new_event_loop()
        for name, app, path, body, expect in apps:
            last = loop.run_until_complete(requests(app, path, body, 300))  # warm-up
            if expect not in last:
                raise RuntimeError(f"{name}: unexpected response {last[:200]!r}")
        if args.profile:
            _, app, path, body, _ = apps[0]
            profiler = cProfile.Profile()
            profiler.enable()
            loop.run_until_complete(requests(app, path, body, args.n))
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(40)
            return
        print("| path (in-process, uvloop) | CPU per request, best of 5 | median |")
        print("| --- | --- | --- |")
        for name, app, path, body, _ in apps:
            runs = []
            for _ in range(5):
                t0 = time.process_time()
                loop.run_until_complete(requests(app, path, body, args.n))
                runs.append((time.process_time() - t0) / args.n * 1e6)
            print(f"| {name} | {min(runs):.1f} us | {statistics.median(runs):.1f} us |")


if __name__ == "__main__":
    main()
