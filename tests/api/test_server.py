"""Against real uvicorn processes on loopback, with plain httpx and raw sockets as clients."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from segmentation_core import ModelStore, generate_customers

from .conftest import CUSTOMER, PREDICT, TRAIN, Env, Server, mall_customers

pytestmark = pytest.mark.slow

HEALTH = "{ health { modelLoaded modelVersion trainingInProgress } }"


def big_dataset(path: Path, rows: int = 1_000_000) -> Path:
    """A seeded customer table large enough that training takes a second or two."""
    generate_customers(rows, seed=3).frame.to_csv(path, index=False)
    return path


def test_predict_against_real_server(trained: Env, server_factory: Callable[..., Server]) -> None:
    server = server_factory(trained.vars())
    body = server.gql(PREDICT, {"c": CUSTOMER})
    prediction = body["data"]["predict"]
    assert prediction["__typename"] == "Prediction"
    assert sum(p["probability"] for p in prediction["probabilities"]) == pytest.approx(1.0)
    health = server.gql(HEALTH)["data"]["health"]
    assert health == {"modelLoaded": True, "modelVersion": trained.store().active_version(),
                      "trainingInProgress": False}


def test_20mb_body_is_refused_before_it_is_sent(trained: Env,
                                               server_factory: Callable[..., Server]) -> None:
    server = server_factory(trained.vars())
    port = int(server.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: application/json\r\nContent-Length: 20971520\r\n\r\n")
        sock.sendall(b"{" + b" " * 65_535)  # 64 KiB of the announced 20 MiB
        received = b""
        while b"too large" not in received and (chunk := sock.recv(4096)):
            received += chunk  # the server closes the connection after its answer
        response = received.decode()
    assert response.startswith("HTTP/1.1 413"), response
    assert "Request body too large" in response
    # The server is still healthy afterwards.
    assert server.gql(HEALTH)["data"]["health"]["modelLoaded"] is True


def test_refuses_to_start_on_all_interfaces_without_a_key(
        env: Env, server_factory: Callable[..., Server]) -> None:
    server = server_factory(env.vars(), host="0.0.0.0", wait=False)
    code = server.process.wait(30)
    log = server.log.read_text()
    assert code != 0
    assert "Refusing to serve on 0.0.0.0 without SEGMENTATION_API_KEY" in log
    assert "export SEGMENTATION_API_KEY=" in log


def test_mounted_style_serving_refuses_at_first_request(
        env: Env, server_factory: Callable[..., Server]) -> None:
    # `--lifespan off` stands in for a host server that never runs our lifespan (Reflex's
    # backend): the guard then finds the exposed socket itself, answers 503 and shuts down.
    server = server_factory(env.vars(), host="0.0.0.0", extra=("--lifespan", "off"), wait=False)
    deadline = time.monotonic() + 30
    response = None
    while time.monotonic() < deadline and server.process.poll() is None:
        try:
            response = httpx.post(f"{server.url}/graphql", json={"query": HEALTH}, timeout=2)
            break
        except httpx.TransportError:
            time.sleep(0.1)
    assert response is not None, server.log.read_text()
    assert response.status_code == 503
    assert "SEGMENTATION_API_KEY" in response.text
    server.process.wait(30)
    assert "Refusing to serve on 0.0.0.0" in server.log.read_text()


def test_all_interfaces_with_a_key_serves_and_guards_train(
        trained: Env, server_factory: Callable[..., Server]) -> None:
    server = server_factory({**trained.vars(), "SEGMENTATION_API_KEY": "a-long-key"},
                            host="0.0.0.0")
    assert server.gql(PREDICT, {"c": CUSTOMER})["data"]["predict"]["__typename"] == "Prediction"
    assert server.gql(TRAIN)["data"]["train"]["__typename"] == "Unauthorized"
    ok = server.gql(TRAIN, headers={"Authorization": "Bearer a-long-key"})
    assert ok["data"]["train"]["__typename"] == "TrainSuccess"


def test_predictions_keep_flowing_during_training(
        trained: Env, server_factory: Callable[..., Server], tmp_path: Path) -> None:
    big = big_dataset(tmp_path / "big.csv")
    server = server_factory({**trained.vars(), "SEGMENTATION_DATA": str(big)})
    before = server.gql(HEALTH)["data"]["health"]["modelVersion"]
    outcome: dict[str, dict] = {}
    trainer = threading.Thread(target=lambda: outcome.update(train=server.gql(TRAIN, timeout=120)))
    seen_training = 0
    results: list[str] = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        trainer.start()
        while trainer.is_alive():
            r = client.post("/graphql", json={"query": PREDICT, "variables": {"c": CUSTOMER}})
            assert r.status_code == 200, r.text
            body = r.json()
            assert "errors" not in body, body
            results.append(body["data"]["predict"]["__typename"])
            health = client.post("/graphql", json={"query": HEALTH}).json()["data"]["health"]
            seen_training += health["trainingInProgress"]
        trainer.join()
    assert outcome["train"]["data"]["train"]["__typename"] == "TrainSuccess"
    assert set(results) == {"Prediction"}
    assert seen_training >= 3, f"only {seen_training} predictions ran during training"
    after = server.gql(HEALTH)["data"]["health"]["modelVersion"]
    assert after == outcome["train"]["data"]["train"]["model"]["version"] != before


def test_a_second_process_serves_the_new_model_within_a_second(
        trained: Env, server_factory: Callable[..., Server]) -> None:
    a = server_factory(trained.vars())
    b = server_factory(trained.vars())
    old = trained.store().active_version()
    assert b.gql(HEALTH)["data"]["health"]["modelVersion"] == old
    new = a.gql(TRAIN, {"input": {"k": 3}})["data"]["train"]["model"]["version"]
    # The switch happened when A's training stored the model, just before A answered: the
    # second counts from there (a training itself may take longer than a second on a busy box).
    switched_at = time.monotonic()
    assert new != old
    with httpx.Client(base_url=b.url, timeout=5) as client:
        while True:
            body = client.post("/graphql", json={"query": HEALTH}).json()
            if body["data"]["health"]["modelVersion"] == new:
                break
            assert time.monotonic() - switched_at < 1.0, "process B still serves the old model"
            time.sleep(0.02)
    switch = time.monotonic() - switched_at
    assert switch < 1.0
    clusters = b.gql("{ model { k } clusters { clusterId } }")["data"]
    assert clusters["model"]["k"] == 3 and len(clusters["clusters"]) == 3


def test_kill_9_during_training_keeps_the_previous_model(
        trained: Env, server_factory: Callable[..., Server], tmp_path: Path) -> None:
    previous = trained.store().active_version()
    big = big_dataset(tmp_path / "big.csv")
    env_vars = {**trained.vars(), "SEGMENTATION_DATA": str(big)}
    server = server_factory(env_vars)
    trainer = threading.Thread(target=_train_ignoring_disconnect, args=(server,), daemon=True)
    trainer.start()
    deadline = time.monotonic() + 30
    while not server.gql(HEALTH)["data"]["health"]["trainingInProgress"]:
        assert time.monotonic() < deadline, "training never started"
        time.sleep(0.01)
    os.killpg(server.process.pid, signal.SIGKILL)
    server.process.wait(10)
    trainer.join(10)

    store = ModelStore(trained.models_dir, trained.key_file)
    assert store.active_version() == previous
    assert store.load(previous).info.version == previous

    restarted = server_factory(env_vars)
    health = restarted.gql(HEALTH)["data"]["health"]
    assert health == {"modelLoaded": True, "modelVersion": previous, "trainingInProgress": False}
    predicted = restarted.gql(PREDICT, {"c": CUSTOMER})["data"]["predict"]
    assert predicted["__typename"] == "Prediction"
    # The training lock died with the killed process: a new training is not blocked.
    retrain = restarted.gql(TRAIN, {"input": {"k": 3}}, timeout=120)["data"]["train"]
    assert retrain["__typename"] == "TrainSuccess"


def _train_ignoring_disconnect(server: Server) -> None:
    try:
        server.gql(TRAIN, timeout=60)
    except (httpx.TransportError, AssertionError):
        pass  # the server was killed mid-request: expected


def test_mall_dataset_trains_through_the_server(env: Env,
                                                server_factory: Callable[..., Server]) -> None:
    assert len(mall_customers()) == 200
    server = server_factory(env.vars())
    assert server.gql(PREDICT, {"c": CUSTOMER})["data"]["predict"]["__typename"] == (
        "ModelNotTrained")
    result = server.gql(TRAIN)["data"]["train"]
    assert result["__typename"] == "TrainSuccess"
    assert 2 <= result["model"]["k"] <= 10
    assert result["model"]["nCustomers"] == 200
