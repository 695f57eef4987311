"""`web.api_client` against contract-shaped answers (CONTRACT.md version 2), without the API.

What goes out is checked too: variables named as the contract names them, and an upload that is
a valid GraphQL multipart request (parsed here by Starlette's own multipart parser, the one the
API runs on) carrying `GraphQL-Require-Preflight`. The same functions run against the real API
in test_api_client.py.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route

from tests.web import payloads
from web import api_client
from web.api_client import (
    ApiProtocolError,
    Conflict,
    DatasetImported,
    FeatureChoice,
    FeatureValue,
    InvalidInput,
    ModelActivated,
    ModelComparison,
    ModelInfo,
    NotFound,
    Prediction,
    ScoredDataset,
    SegmentRenamed,
    TrainingInProgress,
    Unauthorized,
    UploadRefused,
)

pytestmark = pytest.mark.anyio
URL = "http://api.test/graphql"


class FakeApi:
    """Answers each operation (by operation name) with a canned `data`, and records requests."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.requests: list[dict[str, Any]] = []

    def client(self) -> httpx.AsyncClient:
        def handle(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            self.requests.append({"body": body, "headers": dict(request.headers)})
            name = body["query"].split("(")[0].split("{")[0].split()[-1]
            answer = self.answers[name]
            if isinstance(answer, httpx.Response):
                return answer
            return httpx.Response(200, json={"data": answer})

        return httpx.AsyncClient(transport=httpx.MockTransport(handle))

    @property
    def variables(self) -> dict[str, Any]:
        return self.requests[-1]["body"]["variables"]


async def test_dashboard_parses_every_v2_field_and_asks_for_the_version() -> None:
    api = FakeApi({"Dashboard": payloads.dashboard()})
    async with api.client() as client:
        d = await api_client.fetch_dashboard("v2", client=client, url=URL)
    assert api.variables == {"version": "v2"}
    assert d.model is not None and d.model.k == 5 and d.model.active
    assert [s.label for s in d.model.feature_specs] == ["Annual Income", "Spending Score"]
    assert d.model.spec("Annual Income (k$)").unit == "k$"
    assert d.model.stability == 0.93
    assert d.clusters[1].drivers[0].feature == "Spending Score (1-100)"
    assert d.clusters[1].drivers[0].direction == "HIGHER"
    assert d.clusters[0].categories[0].value == "Female"
    assert [m.version for m in d.models] == ["v2", "v1"]
    assert d.elbow is not None and d.elbow.points[0].eligible  # absent -> eligible


async def test_training_progress_rides_on_health() -> None:
    training = {
        "stage": "SCANNING",
        "completed": 3,
        "total": 9,
        "startedAt": "2026-12-01T10:00:00+00:00",
        "datasetId": "ds-mall",
    }
    api = FakeApi({"Health": {"health": payloads.health(training)}})
    async with api.client() as client:
        health = await api_client.fetch_health(client=client, url=URL)
    assert health.training is not None
    assert (health.training.stage, health.training.completed, health.training.total) == (
        "SCANNING",
        3,
        9,
    )


async def test_datasets_and_one_dataset_with_columns() -> None:
    api = FakeApi(
        {
            "Datasets": {
                "health": payloads.health(),
                "datasets": [payloads.dataset(columns=False)],
                "model": {
                    "version": "v2",
                    "k": 5,
                    "datasetId": "ds-mall",
                    "datasetName": "mall_customers",
                },
            },
            "Dataset": {"dataset": payloads.dataset()},
        }
    )
    async with api.client() as client:
        page = await api_client.fetch_datasets(client=client, url=URL)
        one = await api_client.fetch_dataset("ds-mall", client=client, url=URL)
    assert [d.id for d in page.datasets] == ["ds-mall"] and page.datasets[0].columns == ()
    assert page.active_version == "v2" and page.training is None
    assert api.variables == {"id": "ds-mall"}
    assert one is not None
    roles = {c.name: c.role for c in one.columns}
    assert roles["CustomerID"] == "IDENTIFIER" and roles["Gender"] == "CATEGORICAL"
    revenue = one.columns[-1]
    assert (revenue.suggested_transform, revenue.missing, revenue.skewness) == ("LOG", 3, 3.2)
    assert one.columns[1].top_values[0].count == 112


async def test_train_sends_the_recipe_and_reads_every_outcome() -> None:
    outcomes = [
        {"__typename": "TrainSuccess", "model": payloads.model("v3")},
        {
            "__typename": "InvalidInput",
            "message": "bad feature",
            "errors": [{"field": "features[1].column", "message": "Gender is not numeric"}],
        },
        {"__typename": "TrainingInProgress", "message": "A training runs."},
        {"__typename": "Unauthorized", "message": "Key needed."},
    ]
    results = []
    for outcome in outcomes:
        api = FakeApi({"Train": {"train": outcome}})
        async with api.client() as client:
            results.append(
                await api_client.train(
                    dataset_id="ds-mall",
                    features=[FeatureChoice("Annual Income (k$)", "NONE"), FeatureChoice("Gender")],
                    k_min=2,
                    k_max=8,
                    min_segment_share=0.05,
                    api_key="k3y",
                    client=client,
                    url=URL,
                )
            )
    assert api.variables == {
        "input": {
            "datasetId": "ds-mall",
            "features": [
                {"column": "Annual Income (k$)", "transform": "NONE"},
                {"column": "Gender", "transform": "AUTO"},
            ],
            "kMin": 2,
            "kMax": 8,
            "minSegmentShare": 0.05,
        }
    }
    assert api.requests[-1]["headers"]["authorization"] == "Bearer k3y"
    assert isinstance(results[0], ModelInfo) and results[0].version == "v3"
    assert isinstance(results[1], InvalidInput)
    assert results[1].errors[0].field == "features[1].column"
    assert isinstance(results[2], TrainingInProgress)
    assert isinstance(results[3], Unauthorized)


async def test_history_mutations() -> None:
    activated = {
        "__typename": "ModelActivated",
        "previousVersion": "v2",
        "model": payloads.model("v1"),
    }
    api = FakeApi(
        {
            "ActivateModel": {"activateModel": activated},
            "RollbackModel": {
                "rollbackModel": {"__typename": "Conflict", "message": "Nothing to roll back to."}
            },
            "RenameSegment": {
                "renameSegment": {"__typename": "SegmentRenamed", "segment": payloads.clusters()[2]}
            },
            "CompareModels": {"compareModels": payloads.comparison()},
            "Models": {"models": [payloads.model("v2"), payloads.model("v1", active=False)]},
        }
    )
    async with api.client() as client:
        result = await api_client.activate_model("v1", client=client, url=URL)
        assert api.variables == {"version": "v1"}
        rollback = await api_client.rollback_model(client=client, url=URL)
        renamed = await api_client.rename_segment("v2", 2, "Savers", client=client, url=URL)
        assert api.variables == {"version": "v2", "clusterId": 2, "name": "Savers"}
        compared = await api_client.compare_models("v1", "v2", client=client, url=URL)
        assert api.variables == {"a": "v1", "b": "v2", "datasetId": None}
        models = await api_client.fetch_models(client=client, url=URL)
    assert isinstance(result, ModelActivated) and result.previous_version == "v2"
    assert isinstance(rollback, Conflict) and "roll back" in rollback.message
    assert isinstance(renamed, SegmentRenamed) and renamed.segment.cluster_id == 2
    assert isinstance(compared, ModelComparison) and compared.adjusted_rand_index == 0.72
    assert sum(f.customers for f in compared.flows) == compared.customers
    assert [m.active for m in models] == [True, False]


async def test_predict_record_and_score() -> None:
    prediction = {
        "__typename": "Prediction",
        "clusterId": 1,
        "segmentName": "Big spenders",
        "confidence": 0.8,
        "probabilities": [
            {"clusterId": 1, "segmentName": "Big spenders", "probability": 0.8},
            {"clusterId": 0, "segmentName": "Average", "probability": 0.2},
        ],
    }
    scored = {
        "__typename": "ScoredDataset",
        "datasetId": "ds-x",
        "version": "v2",
        "rows": 3,
        "scoredRows": 2,
        "downloadUrl": "/exports/abc.csv",
        "expiresAt": "2026-12-01T11:00:00+00:00",
        "segments": [{"clusterId": 0, "segmentName": "Average", "customers": 2}],
    }
    api = FakeApi(
        {"PredictRecord": {"predictRecord": prediction}, "ScoreDataset": {"scoreDataset": scored}}
    )
    async with api.client() as client:
        result = await api_client.predict_record(
            [FeatureValue("Annual Income (k$)", 90.0), FeatureValue("Spending Score (1-100)", 80)],
            client=client,
            url=URL,
        )
        assert api.variables["values"][0] == {"feature": "Annual Income (k$)", "value": 90.0}
        score = await api_client.score_dataset("ds-x", client=client, url=URL)
    assert isinstance(result, Prediction) and result.segment_name == "Big spenders"
    assert isinstance(score, ScoredDataset) and score.scored_rows == 2
    missing = FakeApi(
        {"ScoreDataset": {"scoreDataset": {"__typename": "NotFound", "message": "no"}}}
    )
    async with missing.client() as client:
        assert isinstance(await api_client.score_dataset("x", client=client, url=URL), NotFound)


async def test_an_unknown_member_is_a_protocol_error() -> None:
    api = FakeApi({"RollbackModel": {"rollbackModel": {"__typename": "Surprise"}}})
    async with api.client() as client:
        with pytest.raises(ApiProtocolError, match="Surprise"):
            await api_client.rollback_model(client=client, url=URL)


# ---------------------------------------------------------------------------------------------
# Uploads: a real multipart parser on the other side


def _upload_app(seen: dict[str, Any], *, limit: int | None = None) -> Starlette:
    async def graphql(request: Request):  # noqa: ANN202
        seen["headers"] = dict(request.headers)
        if not request.headers.get("graphql-require-preflight") and not request.headers.get(
            "authorization"
        ):
            return PlainTextResponse("preflight header required", status_code=400)
        if limit is not None:
            size = 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    return PlainTextResponse("Request body too large", status_code=413)
        async with request.form() as form:
            operations = json.loads(form["operations"])
            mapping = json.loads(form["map"])
            upload = form["0"]
            content = await upload.read()
            seen.update(
                operations=operations,
                map=mapping,
                filename=upload.filename,
                content_type=upload.content_type,
                content=content,
            )
        dataset = payloads.dataset()
        dataset["name"] = operations["variables"]["name"] or upload.filename
        return JSONResponse(
            {
                "data": {
                    "uploadDataset": {
                        "__typename": "DatasetImported",
                        "alreadyPresent": False,
                        "dataset": dataset,
                    }
                }
            }
        )

    return Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])


async def _chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def test_upload_is_a_streamed_graphql_multipart_request() -> None:
    seen: dict[str, Any] = {}
    csv = b"id,income\n1,20\n2,30\n"
    transport = httpx.ASGITransport(app=_upload_app(seen))
    async with httpx.AsyncClient(transport=transport) as client:
        result = await api_client.upload_dataset(
            _chunks(csv),
            'my "shop".csv',
            name="Shop",
            content_type="text/csv",
            client=client,
            url=URL,
        )
    assert isinstance(result, DatasetImported) and result.dataset.name == "Shop"
    assert seen["headers"]["graphql-require-preflight"] == "1"
    assert seen["map"] == {"0": ["variables.file"]}
    assert seen["operations"]["variables"] == {"file": None, "name": "Shop"}
    assert "uploadDataset(file: $file, name: $name)" in seen["operations"]["query"]
    assert seen["content"] == csv and seen["content_type"] == "text/csv"
    assert seen["filename"] == "my %22shop%22.csv"


async def test_an_oversized_upload_is_refused_with_the_reason() -> None:
    seen: dict[str, Any] = {}
    transport = httpx.ASGITransport(app=_upload_app(seen, limit=100))
    async with httpx.AsyncClient(transport=transport) as client:
        result = await api_client.upload_dataset(b"x" * 1000, "big.csv", client=client, url=URL)
    assert result == UploadRefused(413, "Request body too large")


async def test_an_unusable_file_is_invalid_input_on_the_file_field() -> None:
    invalid = {
        "__typename": "InvalidInput",
        "message": "Not a table",
        "errors": [{"field": "file", "message": "line 3 has 4 fields, the header 2"}],
    }

    async def graphql(request: Request):  # noqa: ANN202
        async with request.form():
            pass
        return JSONResponse({"data": {"uploadDataset": invalid}})

    app = Starlette(routes=[Route("/graphql", graphql, methods=["POST"])])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as client:
        result = await api_client.upload_dataset(
            b"a,b\n1,2\n1,2,3,4\n", "x.csv", client=client, url=URL
        )
    assert isinstance(result, InvalidInput)
    assert result.errors[0].field == "file" and "line 3" in result.errors[0].message


def test_download_links_follow_the_api_server(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENTATION_GRAPHQL_URL", raising=False)
    assert api_client.download_href("/exports/a.csv") == "/exports/a.csv"  # same server
    monkeypatch.setenv("SEGMENTATION_GRAPHQL_URL", "http://api.example:8000/graphql")
    assert api_client.download_href("/exports/a.csv") == "http://api.example:8000/exports/a.csv"
