"""Version 2 through ``schema.execute``: any-feature models, version-pinned predictions, history,
renames, comparisons, datasets, bulk scoring, and how each rejected input is named."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from graph_api.context import Context
from graph_api.schema import schema
from graph_api.settings import ApiSettings

from .conftest import CUSTOMER, PREDICT, Env, make_context

DATA = Path(__file__).parents[1] / "data"
RFM = DATA / "online_retail_rfm.csv"

MODEL_FIELDS = """version k active datasetId datasetName engine source missingValues
    minSegmentShare stability features notes rowsDropped
    featureSpecs { name label unit transform min max trainingMin trainingMax median }"""
TRAIN = """
mutation Train($input: TrainInput) {
  train(input: $input) {
    __typename
    ... on TrainSuccess { model { MODEL_FIELDS } }
    ... on InvalidInput { message errors { field message } }
  }
}""".replace("MODEL_FIELDS", MODEL_FIELDS)
RECORD = """
mutation R($values: [FeatureValueInput!]!, $version: String) {
  predictRecord(values: $values, version: $version) {
    __typename
    ... on Prediction { clusterId segmentName confidence modelVersion
                        probabilities { probability } }
    ... on InvalidInput { message errors { field message } }
    ... on ModelNotTrained { message }
  }
}"""
ROWS = """
mutation Rows($columns: [String!]!, $rows: [[Float!]!]!, $version: String) {
  predictRows(columns: $columns, rows: $rows, version: $version) {
    __typename
    ... on BatchPrediction { count modelVersion predictions { clusterId segmentName confidence } }
    ... on InvalidInput { message errors { field message } }
    ... on ModelNotTrained { message }
  }
}"""
ACTIVATE = """
mutation A($v: String!) { activateModel(version: $v) { __typename
  ... on ModelActivated { model { version active } previousVersion }
  ... on NotFound { message } ... on Conflict { message } ... on Unauthorized { message } } }"""
ROLLBACK = """
mutation { rollbackModel { __typename
  ... on ModelActivated { model { version active } previousVersion }
  ... on NotFound { message } ... on Conflict { message } } }"""
RENAME = """
mutation N($v: String!, $c: Int!, $n: String!) {
  renameSegment(version: $v, clusterId: $c, name: $n) {
  __typename ... on SegmentRenamed { segment { clusterId name } }
  ... on InvalidInput { errors { field message } } ... on NotFound { message } } }"""
DELETE_MODEL = """
mutation D($v: String!) { deleteModel(version: $v) { __typename ... on Deleted { id }
  ... on NotFound { message } ... on Conflict { message } } }"""
SCORE = """
mutation S($d: ID!, $v: String) { scoreDataset(datasetId: $d, version: $v) { __typename
  ... on ScoredDataset { datasetId version rows scoredRows downloadUrl expiresAt
                         segments { clusterId segmentName customers } }
  ... on InvalidInput { errors { field message } } ... on NotFound { message }
  ... on ModelNotTrained { message } } }"""
RFM_FEATURES = [{"column": "Recency", "transform": "LOG"}, {"column": "Frequency"},
                {"column": "Monetary", "transform": "AUTO"}]


def run(query: str, ctx: Context, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=ctx))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


@pytest.fixture
def rfm(trained: Env) -> tuple[Env, Context, str, dict[str, Any]]:
    """The bundled-data model, then an RFM model (3 features, LOG) trained through the API."""
    dataset = trained.workspace().datasets.import_file(RFM).dataset
    ctx = make_context(trained)
    result = run(TRAIN, ctx, {"input": {"datasetId": dataset.id, "features": RFM_FEATURES,
                                        "k": 3}})["train"]
    assert result["__typename"] == "TrainSuccess", result
    return trained, ctx, dataset.id, result["model"]


def test_train_on_a_dataset_with_a_recipe(rfm: tuple[Env, Context, str, dict]) -> None:
    env, ctx, dataset_id, model = rfm
    assert model["k"] == 3 and model["active"] is True
    assert model["datasetId"] == dataset_id and model["datasetName"] == "online_retail_rfm"
    assert model["features"] == ["Recency", "Frequency", "Monetary"]
    specs = {s["name"]: s for s in model["featureSpecs"]}
    assert specs["Recency"]["transform"] == "LOG" and specs["Recency"]["min"] == 0
    assert specs["Monetary"]["transform"] == "LOG"  # AUTO: skewed and non-negative
    assert specs["Frequency"]["trainingMin"] <= specs["Frequency"]["median"] <= specs[
        "Frequency"]["trainingMax"]
    assert model["missingValues"] == "DROP" and model["minSegmentShare"] == 0.02
    models = run("{ models { version active datasetId } }", ctx)["models"]
    assert [m["version"] for m in models][0] == model["version"]  # newest first
    assert [m["active"] for m in models] == [True, False]


def test_predict_on_an_any_feature_model_points_to_predict_record(rfm) -> None:
    _, ctx, _, _ = rfm
    result = run(PREDICT, ctx, {"c": CUSTOMER})["predict"]
    assert result["__typename"] == "InvalidInput"
    assert "predictRecord" in result["message"]
    assert "predictRecord" in result["errors"][0]["message"]


def test_predict_record_and_predict_rows_agree(rfm) -> None:
    _, ctx, _, model = rfm
    values = [{"feature": "Monetary", "value": 1200.0}, {"feature": "Recency", "value": 12},
              {"feature": "Frequency", "value": 4}]
    single = run(RECORD, ctx, {"values": values})["predictRecord"]
    assert single["__typename"] == "Prediction", single
    assert single["modelVersion"] == model["version"]
    assert sum(p["probability"] for p in single["probabilities"]) == pytest.approx(1.0)
    rows = run(ROWS, ctx, {"columns": ["Frequency", "Recency", "Monetary"],
                           "rows": [[4, 12, 1200.0], [1, 300, 20.0]]})["predictRows"]
    assert rows["__typename"] == "BatchPrediction" and rows["count"] == 2
    first = rows["predictions"][0]
    assert (first["clusterId"], first["segmentName"]) == (single["clusterId"],
                                                          single["segmentName"])
    assert first["confidence"] == pytest.approx(single["confidence"])


@pytest.mark.parametrize(
    ("values", "fields"),
    [
        ([{"feature": "Recency", "value": -3}, {"feature": "Frequency", "value": 1},
          {"feature": "Monetary", "value": 5}], ["values[0].value"]),
        ([{"feature": "Recency", "value": 3}, {"feature": "Frequency", "value": 1},
          {"feature": "Monetary", "value": 5}, {"feature": "Age", "value": 5}],
         ["values[3].feature"]),
        ([{"feature": "Recency", "value": 3}, {"feature": "Frequency", "value": 1}], ["values"]),
        ([{"feature": "Recency", "value": 3}, {"feature": "Recency", "value": 1}],
         ["values[1].feature"]),
    ],
    ids=["log-feature-below-0", "unknown-feature", "missing-feature", "feature-twice"],
)
def test_predict_record_names_the_bad_value(rfm, values: list[dict], fields: list[str]) -> None:
    _, ctx, _, _ = rfm
    result = run(RECORD, ctx, {"values": values})["predictRecord"]
    assert result["__typename"] == "InvalidInput", result
    assert [e["field"] for e in result["errors"]] == fields


def test_predict_rows_names_rows_and_columns(rfm) -> None:
    _, ctx, _, _ = rfm
    columns = ["Recency", "Frequency", "Monetary"]
    rows = [[1, 1, 1]] * 5
    rows = [*rows[:3], [-1, 1, 1], [1, 1]]
    result = run(ROWS, ctx, {"columns": columns, "rows": rows})["predictRows"]
    assert result["__typename"] == "InvalidInput"
    assert [e["field"] for e in result["errors"]] == ["rows[4]"]
    rows[4] = [1, 1, 1]
    result = run(ROWS, ctx, {"columns": columns, "rows": rows})["predictRows"]
    assert [e["field"] for e in result["errors"]] == ["rows[3].Recency"]
    result = run(ROWS, ctx, {"columns": ["Recency", "Frequency", "revenue"],
                             "rows": [[1, 1, 1]]})["predictRows"]
    assert [e["field"] for e in result["errors"]] == ["columns[2]", "columns"]
    small = make_context(rfm[0], ApiSettings(max_batch_size=2))
    result = run(ROWS, small, {"columns": columns, "rows": [[1, 1, 1]] * 3})["predictRows"]
    assert result["errors"] == [{"field": "rows", "message": "at most 2 rows, got 3"}]


def test_predictions_with_a_stored_version(rfm) -> None:
    env, ctx, _, model = rfm
    bundled_version = run("{ models { version } }", ctx)["models"][1]["version"]
    pinned = run(PREDICT.replace("$c: CustomerInput!", "$c: CustomerInput!, $v: String")
                 .replace("predict(customer: $c)", "predict(customer: $c, version: $v)"),
                 ctx, {"c": CUSTOMER, "v": bundled_version})["predict"]
    assert pinned["__typename"] == "Prediction"
    rows = run(ROWS, ctx, {"columns": ["age", "annual_income", "spending_score",
                                       "purchase_frequency"], "rows": [[30, 80, 85, 20]],
                           "version": bundled_version})["predictRows"]
    assert rows["modelVersion"] == bundled_version
    assert rows["predictions"][0]["segmentName"] == pinned["segmentName"]
    unknown = run(RECORD, ctx, {"values": [], "version": "20990101T000000000000Z-deadbeef"})
    assert unknown["predictRecord"]["__typename"] == "InvalidInput"
    assert [e["field"] for e in unknown["predictRecord"]["errors"]] == ["version"]


def test_activate_rollback_and_delete(rfm) -> None:
    env, ctx, _, model = rfm
    older = run("{ models { version } }", ctx)["models"][1]["version"]
    activated = run(ACTIVATE, ctx, {"v": older})["activateModel"]
    assert activated == {"__typename": "ModelActivated",
                         "model": {"version": older, "active": True},
                         "previousVersion": model["version"]}
    assert run("{ model { version } }", ctx)["model"]["version"] == older
    back = run(ROLLBACK, ctx)["rollbackModel"]
    assert back["model"]["version"] == model["version"]
    assert back["previousVersion"] == older
    again = run(ROLLBACK, ctx)["rollbackModel"]
    assert again["model"]["version"] == older
    nothing = run(ROLLBACK, ctx)["rollbackModel"]
    assert nothing["__typename"] == "Conflict", nothing
    active = run("{ model { version } }", ctx)["model"]["version"]
    refused = run(DELETE_MODEL, ctx, {"v": active})["deleteModel"]
    assert refused["__typename"] == "Conflict"
    assert run(DELETE_MODEL, ctx, {"v": "nope"})["deleteModel"]["__typename"] == "NotFound"
    assert run(ACTIVATE, ctx, {"v": "nope"})["activateModel"]["__typename"] == "NotFound"
    other = model["version"] if active != model["version"] else older
    assert run(DELETE_MODEL, ctx, {"v": other})["deleteModel"] == {"__typename": "Deleted",
                                                                   "id": other}
    assert [m["version"] for m in run("{ models { version } }", ctx)["models"]] == [active]


@pytest.mark.parametrize(
    ("cluster", "name", "field"),
    [(0, "   ", "name"), (0, "x" * 200, "name"), (0, "DUPLICATE", "name"),
     (7, "Fine", "clusterId")],
    ids=["empty", "200-characters", "duplicate", "unknown-segment"],
)
def test_rename_refusals(rfm, cluster: int, name: str, field: str) -> None:
    _, ctx, _, model = rfm
    if name == "DUPLICATE":
        name = run("{ clusters { name } }", ctx)["clusters"][1]["name"].lower()
    result = run(RENAME, ctx, {"v": model["version"], "c": cluster, "n": name})["renameSegment"]
    assert result["__typename"] == "InvalidInput", result
    assert [e["field"] for e in result["errors"]] == [field]


def test_renamed_segment_shows_everywhere(rfm) -> None:
    _, ctx, _, model = rfm
    result = run(RENAME, ctx, {"v": model["version"], "c": 1, "n": "  Loyal big spenders "})
    assert result["renameSegment"] == {"__typename": "SegmentRenamed",
                                       "segment": {"clusterId": 1, "name": "Loyal big spenders"}}
    assert run("{ clusters { name } }", ctx)["clusters"][1]["name"] == "Loyal big spenders"
    batch = run(ROWS.replace("confidence }", "confidence probabilities { segmentName } }"), ctx,
                {"columns": ["Recency", "Frequency", "Monetary"], "rows": [[1, 1, 1]]})
    names = [p["segmentName"] for p in batch["predictRows"]["predictions"][0]["probabilities"]]
    assert names[1] == "Loyal big spenders"
    unknown = run(RENAME, ctx, {"v": "nope", "c": 0, "n": "x"})["renameSegment"]
    assert unknown["__typename"] == "NotFound"


def test_compare_models(rfm) -> None:
    _, ctx, dataset_id, model = rfm
    result = run("""
      query C($a: String!, $b: String!) { compareModels(a: $a, b: $b) { __typename
        ... on ModelComparison { a { version } b { version } datasetId customers
                                 adjustedRandIndex flows { fromClusterId toClusterId customers } }
        ... on NotFound { message } ... on InvalidInput { errors { field } } } }""",
                 ctx, {"a": model["version"], "b": model["version"]})["compareModels"]
    assert result["__typename"] == "ModelComparison", result
    assert result["datasetId"] == dataset_id and result["adjustedRandIndex"] == pytest.approx(1)
    assert sum(f["customers"] for f in result["flows"]) == result["customers"] == 4338
    missing = run("""query { compareModels(a: "nope", b: "nope") { __typename } }""", ctx)
    assert missing["compareModels"]["__typename"] == "NotFound"


def test_datasets_and_their_columns(rfm) -> None:
    _, ctx, dataset_id, _ = rfm
    datasets = run("{ datasets { id name rows bundled } }", ctx)["datasets"]
    assert {d["id"] for d in datasets} >= {dataset_id}
    assert sum(d["bundled"] for d in datasets) == 1
    one = run("""query D($id: ID!) { dataset(id: $id) { name rows preview(limit: 2)
                 columns { name role missing suggestedTransform } } }""", ctx,
              {"id": dataset_id})["dataset"]
    assert one["rows"] == 4338 and len(one["preview"]) == 2
    roles = {c["name"]: c["role"] for c in one["columns"]}
    assert roles == {"CustomerID": "IDENTIFIER", "Recency": "NUMERIC", "Frequency": "NUMERIC",
                     "Monetary": "NUMERIC"}
    assert run('{ dataset(id: "0000000000000000") { id } }', ctx)["dataset"] is None


def test_delete_dataset_rules(rfm) -> None:
    env, ctx, dataset_id, _ = rfm
    query = """mutation X($id: ID!) { deleteDataset(id: $id) { __typename ... on Deleted { id }
               ... on Conflict { message } ... on NotFound { message } } }"""
    assert run(query, ctx, {"id": dataset_id})["deleteDataset"]["__typename"] == "Conflict"
    bundled = next(d["id"] for d in run("{ datasets { id bundled } }", ctx)["datasets"]
                   if d["bundled"])
    assert run(query, ctx, {"id": bundled})["deleteDataset"]["__typename"] == "Conflict"
    assert run(query, ctx, {"id": "ffffffffffffffff"})["deleteDataset"]["__typename"] == (
        "NotFound")


@pytest.mark.parametrize(
    ("train_input", "fields"),
    [
        ({"features": [{"column": "Recency"}, {"column": "Revenue"}]}, ["features[1].column"]),
        ({"features": [{"column": "Recency"}, {"column": "CustomerID"}]},
         ["features[1].column"]),
        ({"features": []}, ["features"]),
        ({"minSegmentShare": 0.9}, ["minSegmentShare"]),
        ({"kMin": 1}, ["kMin"]),
    ],
    ids=["unknown-column", "identifier-column", "no-features", "share-too-large", "kmin-1"],
)
def test_train_refusals_name_the_input(rfm, train_input: dict, fields: list[str]) -> None:
    env, ctx, dataset_id, model = rfm
    result = run(TRAIN, ctx, {"input": {"datasetId": dataset_id, **train_input}})["train"]
    assert result["__typename"] == "InvalidInput", result
    assert [e["field"] for e in result["errors"]] == fields
    assert env.store().active_version() == model["version"]


def test_train_on_an_unknown_dataset(trained: Env) -> None:
    result = run(TRAIN, make_context(trained), {"input": {"datasetId": "ffffffffffffffff"}})
    assert [e["field"] for e in result["train"]["errors"]] == ["datasetId"]


def test_train_without_input_keeps_version_1(env: Env) -> None:
    ctx = make_context(env)
    model = run(TRAIN, ctx)["train"]["model"]
    assert model["features"] == ["age", "annual_income", "spending_score", "purchase_frequency"]
    assert [s["transform"] for s in model["featureSpecs"]] == ["NONE"] * 4
    names = {c["name"] for c in run("{ clusters { name } }", ctx)["clusters"]}
    from segmentation_core import train_model

    assert names == set(train_model(env.data).segment_names)


def test_score_dataset(rfm) -> None:
    env, ctx, dataset_id, model = rfm
    result = run(SCORE, ctx, {"d": dataset_id})["scoreDataset"]
    assert result["__typename"] == "ScoredDataset", result
    assert result["rows"] == result["scoredRows"] == 4338
    assert sum(s["customers"] for s in result["segments"]) == 4338
    assert result["downloadUrl"].startswith("/exports/") and result["version"] == model["version"]
    token = result["downloadUrl"].rsplit("/", 1)[1]
    path, filename = ctx.exports.resolve(token)
    assert filename == "online_retail_rfm-scored.csv"
    header = path.read_text().splitlines()[0]
    assert header == ("CustomerID,Recency,Frequency,Monetary,segment_id,segment_name,"
                      "confidence,score_problem")
    assert run(SCORE, ctx, {"d": "ffffffffffffffff"})["scoreDataset"]["__typename"] == "NotFound"
    unknown = run(SCORE, ctx, {"d": dataset_id, "v": "nope"})["scoreDataset"]
    assert unknown["__typename"] == "NotFound"


def test_score_dataset_without_a_model(env: Env) -> None:
    ctx = make_context(env)
    bundled = run("{ datasets { id } }", ctx)["datasets"][0]["id"]
    assert run(SCORE, ctx, {"d": bundled})["scoreDataset"]["__typename"] == "ModelNotTrained"


def test_health_reports_no_training(trained: Env) -> None:
    health = run("{ health { training { stage } trainingInProgress } }", make_context(trained))
    assert health["health"] == {"training": None, "trainingInProgress": False}
