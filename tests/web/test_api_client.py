"""`web.api_client` against the real API app in process (httpx.ASGITransport), no mocks."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import pytest

from web import api_client
from web.api_client import (
    ApiProtocolError,
    ApiUnavailable,
    Conflict,
    DatasetImported,
    FeatureChoice,
    FeatureValue,
    InvalidInput,
    ModelActivated,
    ModelComparison,
    ModelInfo,
    ModelNotTrained,
    Prediction,
    ScoredDataset,
    SegmentRenamed,
    Unauthorized,
)

pytestmark = pytest.mark.anyio
URL = "http://api.test/graphql"
MALL = Path(__file__).resolve().parents[1] / "data" / "mall_customers.csv"
BUNDLED = [
    ("age", 35.0),
    ("annual_income", 80.0),
    ("spending_score", 70.0),
    ("purchase_frequency", 20.0),
]
VALUES = [FeatureValue(name, value) for name, value in BUNDLED]


async def test_health_reports_the_active_model(asgi_client, trained_store) -> None:
    health = await api_client.fetch_health(client=asgi_client, url=URL)
    assert health.status == "ok" and health.model_loaded is True
    assert health.model_version and health.training is None


async def test_dashboard_is_one_consistent_snapshot(asgi_client) -> None:
    d = await api_client.fetch_dashboard(client=asgi_client, url=URL)
    assert d.model is not None and d.elbow is not None
    assert [c.cluster_id for c in d.clusters] == list(range(d.model.k))
    assert math.isclose(sum(c.share for c in d.clusters), 1.0, abs_tol=1e-6)
    assert d.model.features == tuple(name for name, _ in BUNDLED)
    assert [s.name for s in d.model.feature_specs] == list(d.model.features)
    assert d.model.spec("age").label and d.model.spec("age").min == 18
    assert all(len(c.drivers) == 4 for c in d.clusters)
    assert d.elbow.optimal_k == d.model.k
    assert d.models[0].version == d.model.version and d.models[0].active
    pinned = await api_client.fetch_dashboard(d.model.version, client=asgi_client, url=URL)
    assert pinned.model == d.model
    missing = await api_client.fetch_dashboard("no-such-version", client=asgi_client, url=URL)
    assert missing.model is None and missing.clusters == ()


async def test_predict_record_returns_a_typed_prediction(asgi_client) -> None:
    d = await api_client.fetch_dashboard(client=asgi_client, url=URL)
    result = await api_client.predict_record(VALUES, client=asgi_client, url=URL)
    assert isinstance(result, Prediction)
    names = {c.cluster_id: c.name for c in d.clusters}
    assert result.segment_name == names[result.cluster_id]
    assert math.isclose(sum(p.probability for p in result.probabilities), 1.0, abs_tol=1e-6)
    bad = [FeatureValue("age", 12.0), *VALUES[1:]]
    invalid = await api_client.predict_record(bad, client=asgi_client, url=URL)
    assert isinstance(invalid, InvalidInput)
    assert [e.field for e in invalid.errors] == ["values[0].value"]


async def test_fresh_store_reports_no_model(empty_store, make_asgi_client) -> None:
    async with make_asgi_client(empty_store) as client:
        health = await api_client.fetch_health(client=client, url=URL)
        dashboard = await api_client.fetch_dashboard(client=client, url=URL)
        home = await api_client.fetch_home(client=client, url=URL)
        result = await api_client.predict_record(VALUES, client=client, url=URL)
        models = await api_client.fetch_models(client=client, url=URL)
    assert health.model_loaded is False
    assert dashboard.model is None and dashboard.clusters == () and dashboard.models == ()
    assert home.model is None and models == ()
    assert isinstance(result, ModelNotTrained) and result.message


async def test_state_changes_need_the_key_when_the_server_has_one(
    empty_store, make_asgi_client
) -> None:
    async with make_asgi_client(empty_store, api_key="s3cret") as client:
        refused = await api_client.train(client=client, url=URL)
        wrong = await api_client.train(api_key="nope", client=client, url=URL)
        upload = await api_client.upload_dataset(
            MALL.read_bytes(), "mall.csv", client=client, url=URL
        )
        trained = await api_client.train(api_key="s3cret", k=3, client=client, url=URL)
        after = await api_client.fetch_dashboard(client=client, url=URL)
    assert isinstance(refused, Unauthorized) and isinstance(wrong, Unauthorized)
    assert isinstance(upload, Unauthorized)
    assert isinstance(trained, ModelInfo) and trained.k == 3
    assert after.model is not None and after.model.version == trained.version


async def test_nonsense_train_parameters_are_invalid_input(asgi_client) -> None:
    result = await api_client.train(k_min=6, k_max=3, client=asgi_client, url=URL)
    assert isinstance(result, InvalidInput)
    assert result.errors


async def _chunks(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_the_mall_customers_flow(empty_store, make_asgi_client) -> None:
    """Upload (streamed), train on two columns, rename, compare, roll back, score, download."""
    async with make_asgi_client(empty_store) as client:
        imported = await api_client.upload_dataset(
            _chunks(MALL.read_bytes()),
            "mall_customers.csv",
            name="mall_customers",
            content_type="text/csv",
            client=client,
            url=URL,
        )
        assert isinstance(imported, DatasetImported) and not imported.already_present
        dataset = imported.dataset
        assert dataset.rows == 200
        roles = {c.name: c.role for c in dataset.columns}
        assert roles["CustomerID"] == "IDENTIFIER" and roles["Gender"] == "CATEGORICAL"
        listed = await api_client.fetch_datasets(client=client, url=URL)
        assert dataset.id in [d.id for d in listed.datasets]

        bad = await api_client.train(
            dataset_id=dataset.id,
            features=[FeatureChoice("Age"), FeatureChoice("Gender")],
            client=client,
            url=URL,
        )
        assert isinstance(bad, InvalidInput)
        assert [e.field for e in bad.errors] == ["features[1].column"]

        features = [
            FeatureChoice("Annual Income (k$)", "NONE"),
            FeatureChoice("Spending Score (1-100)", "NONE"),
        ]
        first = await api_client.train(
            dataset_id=dataset.id, features=features, client=client, url=URL
        )
        assert isinstance(first, ModelInfo) and first.k == 5
        assert first.silhouette == pytest.approx(0.5547, abs=1e-3)
        second = await api_client.train(
            dataset_id=dataset.id, features=features, k=3, client=client, url=URL
        )
        assert isinstance(second, ModelInfo) and second.k == 3

        renamed = await api_client.rename_segment(
            second.version, 0, "Our regulars", client=client, url=URL
        )
        assert isinstance(renamed, SegmentRenamed) and renamed.segment.name == "Our regulars"
        clash = await api_client.rename_segment(
            second.version, 1, "our REGULARS", client=client, url=URL
        )
        assert isinstance(clash, InvalidInput) and clash.errors[0].field == "name"

        compared = await api_client.compare_models(
            first.version, second.version, client=client, url=URL
        )
        assert isinstance(compared, ModelComparison) and compared.customers == 200
        assert 0 < compared.adjusted_rand_index < 1
        assert sum(f.customers for f in compared.flows) == 200

        back = await api_client.rollback_model(client=client, url=URL)
        assert isinstance(back, ModelActivated) and back.model.version == first.version
        assert isinstance(await api_client.rollback_model(client=client, url=URL), Conflict)
        again = await api_client.activate_model(second.version, client=client, url=URL)
        assert isinstance(again, ModelActivated) and again.model.version == second.version

        scored = await api_client.score_dataset(dataset.id, client=client, url=URL)
        assert isinstance(scored, ScoredDataset) and scored.scored_rows == 200
        assert sum(s.customers for s in scored.segments) == 200
        assert "Our regulars" in {s.segment_name for s in scored.segments}
        download = await client.get("http://api.test" + scored.download_url)
        rows = list(csv.DictReader(io.StringIO(download.text)))
        assert len(rows) == 200
        assert list(rows[0])[-4:] == ["segment_id", "segment_name", "confidence", "score_problem"]


async def test_an_unusable_file_is_refused_with_the_reason(asgi_client) -> None:
    result = await api_client.upload_dataset(
        b"name\nAda\nBob\n", "names.csv", client=asgi_client, url=URL
    )
    assert isinstance(result, InvalidInput)
    assert result.errors[0].field == "file" and result.errors[0].message


async def test_graphql_errors_raise_protocol_error(asgi_client) -> None:
    with pytest.raises(ApiProtocolError) as info:
        await api_client._execute("{ nonsense }", client=asgi_client, url=URL)
    assert info.value.errors


async def test_unreachable_api_raises_unavailable() -> None:
    with pytest.raises(ApiUnavailable, match="cannot be reached"):
        await api_client.fetch_health(url="http://127.0.0.1:9/graphql")


async def test_non_graphql_answer_raises_unavailable(asgi_client) -> None:
    with pytest.raises(ApiUnavailable, match="404"):
        await api_client._execute(
            "{ health { status } }", client=asgi_client, url="http://api.test/not-graphql"
        )


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
