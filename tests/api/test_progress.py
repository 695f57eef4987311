"""Training progress against real uvicorn processes: ``health.training`` from a worker that is not
training, and the ``trainingProgress`` subscription over graphql-transport-ws with a real
websocket client."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.sync.client import ClientConnection, connect

from segmentation_core import generate_customers

from .conftest import TRAIN, Env, Server

pytestmark = pytest.mark.slow

STAGES = ["LOADING", "SCANNING", "FITTING", "PROFILING", "STORING"]
SUBSCRIBE = "subscription { trainingProgress { stage completed total startedAt datasetId } }"


def ws_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/graphql"


@contextlib.contextmanager
def subscribe(server: Server) -> Iterator[ClientConnection]:
    """A graphql-transport-ws connection with the trainingProgress subscription started."""
    with connect(ws_url(server), subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        ws.send(json.dumps({"type": "connection_init"}))
        assert json.loads(ws.recv(timeout=10))["type"] == "connection_ack"
        ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        yield ws


def messages_until_complete(ws: ClientConnection, timeout: float) -> list[dict[str, Any]]:
    received = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.1, deadline - time.monotonic())))
        received.append(message)
        if message["type"] in {"complete", "error"}:
            return received


def test_without_a_training_the_subscription_completes_at_once(
        trained: Env, server_factory: Callable[..., Server]) -> None:
    server = server_factory(trained.vars())
    started = time.monotonic()
    with subscribe(server) as ws:
        assert messages_until_complete(ws, 5) == [{"id": "1", "type": "complete"}]
    assert time.monotonic() - started < 2


def test_progress_is_visible_from_every_worker_while_a_training_runs(
        trained: Env, server_factory: Callable[..., Server], tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    generate_customers(1_000_000, seed=3).frame.to_csv(big, index=False)
    env_vars = {**trained.vars(), "SEGMENTATION_DATA": str(big)}
    a, b = server_factory(env_vars), server_factory(env_vars)
    outcome: dict[str, Any] = {}
    trainer = threading.Thread(
        target=lambda: outcome.update(train=a.gql(TRAIN, {"input": {"k": 4}}, timeout=300)))
    trainer.start()
    deadline = time.monotonic() + 120
    while (status := b.gql("{ health { training { stage completed total } "
                           "trainingInProgress } }")["data"]["health"])["training"] is None:
        assert trainer.is_alive() and time.monotonic() < deadline, outcome
        time.sleep(0.05)
    assert status["trainingInProgress"] is True
    assert status["training"]["stage"] in STAGES
    assert 0 <= status["training"]["completed"] <= status["training"]["total"]

    with subscribe(b) as ws:  # the worker that is NOT training
        received = messages_until_complete(ws, 300)
    trainer.join(300)
    assert outcome["train"]["data"]["train"]["__typename"] == "TrainSuccess", outcome
    assert received[-1] == {"id": "1", "type": "complete"}
    updates = [m["payload"]["data"]["trainingProgress"] for m in received[:-1]]
    assert updates and all(m["type"] == "next" for m in received[:-1])
    order = [STAGES.index(u["stage"]) for u in updates]
    assert order == sorted(order), order  # stages only move forward
    assert all(0 <= u["completed"] <= u["total"] for u in updates)
    assert len({json.dumps(u, sort_keys=True) for u in updates}) == len(updates)  # on change
    assert b.gql("{ health { training { stage } trainingInProgress } }")["data"]["health"] == {
        "training": None, "trainingInProgress": False}
