"""Fixtures for the API tests: a private model store per test, real data, real servers.

Every test gets its own SEGMENTATION_MODELS_DIR, signing key file and dataset in a temporary
folder; the repository's models/ is never touched.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from graph_api.context import Context
from graph_api.exports import ExportStore
from graph_api.service import ModelService
from graph_api.settings import ApiSettings
from segmentation_core import ModelStore, train_model
from segmentation_core.settings import CoreSettings
from segmentation_core.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]
#: The public Mall Customers data (tests/data holds copies of the shared reference sets).
MALL = Path(__file__).parents[1] / "data" / "mall_customers.csv"

PREDICT = """
mutation Predict($c: CustomerInput!) {
  predict(customer: $c) {
    __typename
    ... on Prediction { clusterId segmentName confidence
                        probabilities { clusterId segmentName probability } }
    ... on InvalidInput { message errors { field message } }
    ... on ModelNotTrained { message }
  }
}"""

PREDICT_BATCH = """
mutation Batch($c: [CustomerInput!]!) {
  predictBatch(customers: $c) {
    __typename
    ... on BatchPrediction { count predictions { clusterId segmentName confidence
                                                 probabilities { probability } } }
    ... on InvalidInput { message errors { field message } }
    ... on ModelNotTrained { message }
  }
}"""

TRAIN = """
mutation Train($input: TrainInput) {
  train(input: $input) {
    __typename
    ... on TrainSuccess { model { version k silhouette nCustomers features } }
    ... on InvalidInput { message errors { field message } }
    ... on Unauthorized { message }
    ... on TrainingInProgress { message }
  }
}"""

CUSTOMER = {"age": 30, "annualIncome": 80.0, "spendingScore": 85, "purchaseFrequency": 20}


def mall_customers() -> pd.DataFrame:
    """The Mall Customers data (real, 200 rows) in the default spec's columns.

    The public data has no purchase frequency; a seeded column loosely tied to the spending score
    stands in for it, so the table fits the bundled four-feature spec.
    """
    mall = pd.read_csv(MALL)
    rng = np.random.default_rng(7)
    score = mall["Spending Score (1-100)"]
    frequency = np.clip(np.round(score / 4 + rng.normal(0, 3, len(mall))), 0, None).astype(int)
    return pd.DataFrame(
        {
            "customer_id": mall["CustomerID"],
            "age": mall["Age"],
            "annual_income": mall["Annual Income (k$)"],
            "spending_score": score,
            "purchase_frequency": frequency,
        }
    )


@dataclass
class Env:
    """One test's private stores, key file and dataset, exported as environment variables."""

    root: Path
    models_dir: Path
    key_file: Path
    data: Path

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def core(self) -> CoreSettings:
        return CoreSettings(data_path=self.data, models_dir=self.models_dir,
                            signing_key_file=self.key_file, datasets_dir=self.datasets_dir)

    def workspace(self) -> Workspace:
        return Workspace.from_settings(self.core)

    def store(self) -> ModelStore:
        return ModelStore(self.models_dir, self.key_file)

    def train(self, **params: int) -> str:
        """Train on the dataset with the core and activate the model; returns its version."""
        from segmentation_core import TrainingParams

        return self.store().save(train_model(self.data, TrainingParams(**params)))

    def vars(self) -> dict[str, str]:
        return {
            "SEGMENTATION_MODELS_DIR": str(self.models_dir),
            "SEGMENTATION_SIGNING_KEY_FILE": str(self.key_file),
            "SEGMENTATION_DATA": str(self.data),
            "SEGMENTATION_DATASETS_DIR": str(self.datasets_dir),
            "SEGMENTATION_EXPORTS_DIR": str(self.exports_dir),
        }


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    """A private store and the Mall dataset; SEGMENTATION_* variables point at them."""
    data = tmp_path / "customers.csv"
    mall_customers().to_csv(data, index=False)
    e = Env(root=tmp_path, models_dir=tmp_path / "models", key_file=tmp_path / "secrets" / "key",
            data=data)
    for name, value in e.vars().items():
        monkeypatch.setenv(name, value)
    for name in ("SEGMENTATION_API_KEY", "SEGMENTATION_CORS_ORIGINS", "SEGMENTATION_MAX_BATCH",
                 "SEGMENTATION_MAX_BODY_BYTES", "SEGMENTATION_ALLOW_INSECURE_BIND",
                 "SEGMENTATION_MAX_UPLOAD_BYTES", "SEGMENTATION_MAX_ROWS",
                 "SEGMENTATION_EXPORT_TTL"):
        monkeypatch.delenv(name, raising=False)
    return e


@pytest.fixture
def trained(env: Env) -> Env:
    """The private store with one active model trained on the Mall data."""
    env.train()
    return env


def make_context(env: Env, settings: ApiSettings | None = None,
                 authorization: str | None = None) -> Context:
    """A resolver context over the env's store, as the app builds it per request."""
    settings = settings or ApiSettings()
    service = ModelService(env.workspace(), settings.model_check_interval)
    service.load_active()
    return Context(service=service, settings=settings, exports=ExportStore(env.exports_dir),
                   authorization=authorization)


def free_port() -> int:
    """A free TCP port on 127.0.0.1 chosen by the OS."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A real uvicorn process serving graph_api.app:app."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    def gql(self, query: str, variables: dict | None = None, timeout: float = 30,
            headers: dict[str, str] | None = None) -> dict:
        r = httpx.post(f"{self.url}/graphql", json={"query": query, "variables": variables},
                       timeout=timeout, headers=headers)
        assert r.status_code == 200, r.text
        return r.json()

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])

    def healthy(self) -> bool:
        """Whether the server still answers a GraphQL query."""
        body = self.gql("{ health { status } }")
        return body == {"data": {"health": {"status": "ok"}}}

    def deleted_open_files(self) -> list[str]:
        """Files the server process holds open that were deleted (e.g. spooled uploads)."""
        found = []
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.endswith("(deleted)") and not target.startswith("/memfd:"):
                found.append(target)
        return found

    def wait_for_no_deleted_open_files(self, timeout: float = 10) -> None:
        """Wait until the process holds no deleted file open (uploads closed after a request)."""
        deadline = time.monotonic() + timeout
        while (held := self.deleted_open_files()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert held == [], held

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_server(env_vars: dict[str, str], log: Path, host: str = "127.0.0.1",
                 extra: tuple[str, ...] = (), wait: bool = True) -> Server:
    """Start uvicorn in its own process group and wait until /graphql answers."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEGMENTATION_")}
    env.update(env_vars, PYTHONPATH=str(ROOT))
    with log.open("wb") as fh:  # the child keeps its own copy of the handle
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "graph_api.app:app", "--host", host, "--port",
             str(port), "--loop", "uvloop", "--http", "httptools", "--no-access-log", *extra],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    server = Server(process, f"http://127.0.0.1:{port}", log)
    if wait:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited: {log.read_text()}")
            try:
                httpx.post(f"{server.url}/graphql", json={"query": "{ health { status } }"},
                           timeout=2)
                return server
            except httpx.TransportError:
                time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"server did not start: {log.read_text()}")
    return server


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., Server]]:
    """Start real uvicorn servers; every one is stopped at the end of the test."""
    started: list[Server] = []

    def factory(env_vars: dict[str, str], **kwargs: object) -> Server:
        server = start_server(env_vars, tmp_path / f"server-{len(started)}.log", **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


def tree(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (relative path -> size), to prove nothing was left behind."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*"))
            if p.is_file()}
