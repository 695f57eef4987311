"""`web.api_client` against the real API app in process (httpx.ASGITransport), no mocks."""

from __future__ import annotations

import math

import pytest

from web import api_client
from web.api_client import (
    ApiProtocolError,
    ApiUnavailable,
    Customer,
    InvalidInput,
    ModelInfo,
    ModelNotTrained,
    Prediction,
    Unauthorized,
)

pytestmark = pytest.mark.anyio
URL = "http://api.test/graphql"
CUSTOMER = Customer(age=35, annual_income=80.0, spending_score=70, purchase_frequency=20)


async def test_health_reports_the_active_model(asgi_client, trained_store) -> None:
    health = await api_client.fetch_health(client=asgi_client, url=URL)
    active = (trained_store.models_dir / "ACTIVE").read_text().strip()
    assert health.status == "ok"
    assert health.model_loaded is True
    assert health.model_version == active


async def test_dashboard_is_one_consistent_snapshot(asgi_client) -> None:
    d = await api_client.fetch_dashboard(client=asgi_client, url=URL)
    assert d.model is not None and d.elbow is not None
    assert [c.cluster_id for c in d.clusters] == list(range(d.model.k))
    assert math.isclose(sum(c.share for c in d.clusters), 1.0, abs_tol=1e-6)
    assert sum(c.size for c in d.clusters) == d.model.n_customers
    assert d.model.features == (
        "age",
        "annual_income",
        "spending_score",
        "purchase_frequency",
    )
    assert all(tuple(f.feature for f in c.features) == d.model.features for c in d.clusters)
    assert d.elbow.optimal_k == d.model.k
    assert d.model.k in {p.k for p in d.elbow.points}
    assert d.model.trained_at  # shown as "time trained" on the dashboard


async def test_predict_returns_a_typed_prediction(asgi_client) -> None:
    d = await api_client.fetch_dashboard(client=asgi_client, url=URL)
    result = await api_client.predict(CUSTOMER, client=asgi_client, url=URL)
    assert isinstance(result, Prediction)
    names = {c.cluster_id: c.name for c in d.clusters}
    assert result.segment_name == names[result.cluster_id]
    assert 0 <= result.confidence <= 1
    assert math.isclose(sum(p.probability for p in result.probabilities), 1.0, abs_tol=1e-6)
    assert {p.cluster_id for p in result.probabilities} == set(names)


async def test_out_of_range_age_is_invalid_input_on_that_field(asgi_client) -> None:
    bad = Customer(age=12, annual_income=80.0, spending_score=70, purchase_frequency=20)
    result = await api_client.predict(bad, client=asgi_client, url=URL)
    assert isinstance(result, InvalidInput)
    assert [e.field for e in result.errors] == ["age"]


async def test_batch_keeps_order_and_names_the_bad_row(asgi_client) -> None:
    young = Customer(age=20, annual_income=30.0, spending_score=90, purchase_frequency=40)
    result = await api_client.predict_batch([CUSTOMER, young], client=asgi_client, url=URL)
    assert isinstance(result, tuple) and len(result) == 2
    single = await api_client.predict(young, client=asgi_client, url=URL)
    assert isinstance(single, Prediction)
    assert result[1].cluster_id == single.cluster_id

    bad = Customer(age=35, annual_income=-1.0, spending_score=70, purchase_frequency=20)
    invalid = await api_client.predict_batch([CUSTOMER, bad], client=asgi_client, url=URL)
    assert isinstance(invalid, InvalidInput)
    assert [e.field for e in invalid.errors] == ["customers[1].annualIncome"]


async def test_fresh_store_reports_no_model(empty_store, make_asgi_client) -> None:
    async with make_asgi_client(empty_store) as client:
        health = await api_client.fetch_health(client=client, url=URL)
        dashboard = await api_client.fetch_dashboard(client=client, url=URL)
        result = await api_client.predict(CUSTOMER, client=client, url=URL)
        batch = await api_client.predict_batch([CUSTOMER], client=client, url=URL)
    assert health.model_loaded is False
    assert dashboard.model is None and dashboard.clusters == () and dashboard.elbow is None
    assert isinstance(result, ModelNotTrained) and result.message
    assert isinstance(batch, ModelNotTrained)


async def test_train_needs_the_key_when_the_server_has_one(empty_store, make_asgi_client) -> None:
    async with make_asgi_client(empty_store, api_key="s3cret") as client:
        refused = await api_client.train(client=client, url=URL)
        wrong = await api_client.train(api_key="nope", client=client, url=URL)
        trained = await api_client.train(api_key="s3cret", k=3, client=client, url=URL)
        after = await api_client.fetch_dashboard(client=client, url=URL)
    assert isinstance(refused, Unauthorized) and isinstance(wrong, Unauthorized)
    assert isinstance(trained, ModelInfo) and trained.k == 3
    assert after.model is not None and after.model.version == trained.version
    assert len(after.clusters) == 3


async def test_nonsense_train_parameters_are_invalid_input(asgi_client) -> None:
    result = await api_client.train(k_min=6, k_max=3, client=asgi_client, url=URL)
    assert isinstance(result, InvalidInput)
    assert result.errors


async def test_graphql_errors_raise_protocol_error(asgi_client) -> None:
    # 2**40 is no GraphQL Int: a validation error in the top-level `errors`, not a result.
    huge = Customer(age=35, annual_income=80.0, spending_score=70, purchase_frequency=2**40)
    with pytest.raises(ApiProtocolError, match="purchaseFrequency|Int") as info:
        await api_client.predict(huge, client=asgi_client, url=URL)
    assert info.value.errors


async def test_unreachable_api_raises_unavailable() -> None:
    with pytest.raises(ApiUnavailable, match="cannot be reached"):
        await api_client.fetch_health(url="http://127.0.0.1:9/graphql")


async def test_non_graphql_answer_raises_unavailable(asgi_client) -> None:
    with pytest.raises(ApiUnavailable, match="404"):
        await api_client.fetch_health(client=asgi_client, url="http://api.test/not-graphql")


async def test_timeout_is_reported_as_unavailable(monkeypatch) -> None:
    # A listening socket that never answers: the client must give up, not hang.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        monkeypatch.setenv("SEGMENTATION_WEB_TIMEOUT", "0.3")
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/graphql"
        with pytest.raises(ApiUnavailable, match="did not answer"):
            await api_client.fetch_health(url=url)


def test_customer_input_uses_graphql_names() -> None:
    assert CUSTOMER.to_input() == {
        "age": 35,
        "annualIncome": 80.0,
        "spendingScore": 70,
        "purchaseFrequency": 20,
    }
