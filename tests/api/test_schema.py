"""The schema executed directly (``schema.execute``): payloads, typed errors, contract rules."""

from __future__ import annotations

import asyncio
import logging

import pandas as pd
import pytest

from graph_api.schema import schema
from graph_api.settings import ApiSettings

from .conftest import CUSTOMER, PREDICT, PREDICT_BATCH, TRAIN, Env, make_context


def run(query: str, ctx: object, variables: dict | None = None) -> dict:
    result = asyncio.run(schema.execute(query, variable_values=variables, context_value=ctx))
    assert result.errors is None, result.errors
    assert result.data is not None
    return result.data


def test_fresh_store_reports_not_trained(env: Env) -> None:
    ctx = make_context(env)
    data = run("{ health { status modelLoaded modelVersion trainingInProgress } "
               "model { version } clusters { clusterId } elbow { optimalK } }", ctx)
    assert data == {
        "health": {"status": "ok", "modelLoaded": False, "modelVersion": None,
                   "trainingInProgress": False},
        "model": None, "clusters": [], "elbow": None,
    }
    assert run(PREDICT, ctx, {"c": CUSTOMER})["predict"]["__typename"] == "ModelNotTrained"
    batch = run(PREDICT_BATCH, ctx, {"c": [CUSTOMER]})["predictBatch"]
    assert batch["__typename"] == "ModelNotTrained"
    assert "train" in batch["message"]


def test_train_then_read_model_clusters_and_elbow(env: Env) -> None:
    ctx = make_context(env)
    result = run(TRAIN, ctx)["train"]
    assert result["__typename"] == "TrainSuccess"
    model = result["model"]
    assert model["nCustomers"] == 200
    assert model["features"] == ["age", "annual_income", "spending_score", "purchase_frequency"]
    assert model["version"] == env.store().active_version()

    data = run("{ health { modelLoaded modelVersion } model { version k } "
               "clusters { clusterId name size share features { feature mean median min max std } }"
               " elbow { optimalK elbowK points { k inertia silhouette } } }", ctx)
    assert data["health"] == {"modelLoaded": True, "modelVersion": model["version"]}
    assert data["model"] == {"version": model["version"], "k": model["k"]}
    clusters = data["clusters"]
    assert [c["clusterId"] for c in clusters] == list(range(model["k"]))
    assert sum(c["size"] for c in clusters) == 200
    assert sum(c["share"] for c in clusters) == pytest.approx(1.0)
    assert [c["size"] for c in clusters] == sorted((c["size"] for c in clusters), reverse=True)
    for c in clusters:
        assert [f["feature"] for f in c["features"]] == model["features"]
        assert all(f["min"] <= f["mean"] <= f["max"] for f in c["features"])
    elbow = data["elbow"]
    assert elbow["optimalK"] == model["k"]
    assert [p["k"] for p in elbow["points"]] == list(range(2, 11))


def test_train_with_fixed_k(env: Env) -> None:
    result = run(TRAIN, make_context(env), {"input": {"k": 4}})["train"]
    assert result["__typename"] == "TrainSuccess"
    assert result["model"]["k"] == 4


def test_predict_payload(trained: Env) -> None:
    ctx = make_context(trained)
    p = run(PREDICT, ctx, {"c": CUSTOMER})["predict"]
    assert p["__typename"] == "Prediction"
    k = len(p["probabilities"])
    assert 0 <= p["clusterId"] < k
    assert 0.0 <= p["confidence"] <= 1.0
    assert sum(x["probability"] for x in p["probabilities"]) == pytest.approx(1.0)
    assert [x["clusterId"] for x in p["probabilities"]] == list(range(k))
    chosen = p["probabilities"][p["clusterId"]]
    assert chosen["probability"] == pytest.approx(p["confidence"])
    assert chosen["segmentName"] == p["segmentName"]
    names = [c["name"] for c in run("{ clusters { name } }", ctx)["clusters"]]
    assert p["segmentName"] == names[p["clusterId"]]


def test_predict_out_of_range_names_each_field(trained: Env) -> None:
    bad = {"age": 150, "annualIncome": -5.0, "spendingScore": 0, "purchaseFrequency": 3}
    p = run(PREDICT, make_context(trained), {"c": bad})["predict"]
    assert p["__typename"] == "InvalidInput"
    fields = {e["field"]: e["message"] for e in p["errors"]}
    assert set(fields) == {"age", "annualIncome", "spendingScore"}
    assert "150" in fields["age"] and "18" in fields["age"]


def test_batch_is_validated_whole(trained: Env) -> None:
    customers = [dict(CUSTOMER) for _ in range(6)]
    customers[3]["age"] = 12
    customers[5]["spendingScore"] = 101
    customers[5]["annualIncome"] = -1.0
    b = run(PREDICT_BATCH, make_context(trained), {"c": customers})["predictBatch"]
    assert b["__typename"] == "InvalidInput"
    assert [e["field"] for e in b["errors"]] == [
        "customers[3].age", "customers[5].annualIncome", "customers[5].spendingScore"]
    assert "nothing was predicted" in b["message"]


def test_batch_predictions_match_single_predictions(trained: Env) -> None:
    ctx = make_context(trained)
    customers = [
        {"age": 20 + i, "annualIncome": 15.0 + 7 * i, "spendingScore": 5 + 9 * i,
         "purchaseFrequency": i * 2}
        for i in range(10)
    ]
    b = run(PREDICT_BATCH, ctx, {"c": customers})["predictBatch"]
    assert b["__typename"] == "BatchPrediction"
    assert b["count"] == 10
    for customer, item in zip(customers, b["predictions"], strict=True):
        single = run(PREDICT, ctx, {"c": customer})["predict"]
        assert item["clusterId"] == single["clusterId"]
        assert item["segmentName"] == single["segmentName"]
        assert item["confidence"] == pytest.approx(single["confidence"])
        assert sum(p["probability"] for p in item["probabilities"]) == pytest.approx(1.0)


def test_empty_batch_gives_empty_predictions(trained: Env) -> None:
    b = run(PREDICT_BATCH, make_context(trained), {"c": []})["predictBatch"]
    assert b == {"__typename": "BatchPrediction", "count": 0, "predictions": []}


def test_batch_size_limit(trained: Env) -> None:
    ctx = make_context(trained, ApiSettings(max_batch_size=5))
    b = run(PREDICT_BATCH, ctx, {"c": [CUSTOMER] * 6})["predictBatch"]
    assert b["__typename"] == "InvalidInput"
    assert b["errors"] == [{"field": "customers", "message": "at most 5 customers, got 6"}]
    ok = run(PREDICT_BATCH, ctx, {"c": [CUSTOMER] * 5})["predictBatch"]
    assert ok["__typename"] == "BatchPrediction"


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"c": {**CUSTOMER, "age": "thirty"}}, "Int cannot represent"),
        ({"c": {**CUSTOMER, "age": 2**31}}, "non 32-bit signed integer"),
        ({"c": {k: v for k, v in CUSTOMER.items() if k != "age"}}, "age"),
    ],
    ids=["string-for-int", "int-over-32-bits", "missing-field"],
)
def test_wrong_graphql_types_are_standard_errors(trained: Env, variables: dict,
                                                 message: str) -> None:
    result = asyncio.run(schema.execute(PREDICT, variable_values=variables,
                                        context_value=make_context(trained)))
    assert result.data is None
    assert result.errors and message in result.errors[0].message


@pytest.mark.parametrize(
    ("train_input", "field"),
    [
        ({"kMin": 1}, "kMin"),
        ({"kMin": 5, "kMax": 3}, "kMax"),
        ({"k": 1}, "k"),
        ({"k": 500}, "k"),
        ({"kMax": 1_000_000}, "kMax"),
        ({"randomState": -1}, "randomState"),
    ],
    ids=["kmin-below-2", "kmax-below-kmin", "k-below-2", "k-above-rows", "absurd-kmax",
         "negative-seed"],
)
def test_train_input_out_of_range(trained: Env, train_input: dict, field: str) -> None:
    before = trained.store().active_version()
    result = run(TRAIN, make_context(trained), {"input": train_input})["train"]
    assert result["__typename"] == "InvalidInput", result
    assert [e["field"] for e in result["errors"]] == [field]
    assert trained.store().active_version() == before


def test_bad_dataset_is_invalid_input_and_keeps_the_model(trained: Env) -> None:
    frame = pd.read_csv(trained.data)
    frame.loc[4, "age"] = 7
    frame.loc[9, "spending_score"] = 250
    frame.to_csv(trained.data, index=False)
    before = trained.store().active_version()
    ctx = make_context(trained)
    result = run(TRAIN, ctx)["train"]
    assert result["__typename"] == "InvalidInput"
    by_field = {e["field"]: e["message"] for e in result["errors"]}
    assert set(by_field) == {"age", "spending_score"}
    assert "4" in by_field["age"] and "9" in by_field["spending_score"]
    assert trained.store().active_version() == before
    assert run("{ model { version } }", ctx)["model"]["version"] == before


def test_api_key_guards_train(trained: Env) -> None:
    settings = ApiSettings(api_key="s3cret-key")
    before = trained.store().active_version()
    for header in (None, "Bearer wrong", "Basic s3cret-key", "Bearer s3cret-keyX"):
        result = run(TRAIN, make_context(trained, settings, header))["train"]
        assert result["__typename"] == "Unauthorized"
        assert "Authorization: Bearer" in result["message"]
    assert trained.store().active_version() == before
    ok = run(TRAIN, make_context(trained, settings, "Bearer s3cret-key"))["train"]
    assert ok["__typename"] == "TrainSuccess"
    assert trained.store().active_version() != before
    # Predictions need no key.
    p = run(PREDICT, make_context(trained, settings), {"c": CUSTOMER})["predict"]
    assert p["__typename"] == "Prediction"


def test_second_concurrent_train_gets_training_in_progress(trained: Env) -> None:
    ctx = make_context(trained)

    async def both() -> list[str]:
        results = await asyncio.gather(
            schema.execute(TRAIN, context_value=ctx), schema.execute(TRAIN, context_value=ctx))
        return [r.data["train"]["__typename"] for r in results]  # type: ignore[index]

    assert sorted(asyncio.run(both())) == ["TrainSuccess", "TrainingInProgress"]


def test_unexpected_errors_are_masked_and_logged_with_an_id(
        env: Env, caplog: pytest.LogCaptureFixture) -> None:
    # A store path that is a file makes saving fail with an OSError: a server-side fault.
    env.models_dir.write_text("not a folder")
    ctx = make_context(env)
    with caplog.at_level(logging.ERROR, logger="graph_api"):
        result = asyncio.run(schema.execute(TRAIN, context_value=ctx))
    assert result.data is None
    [error] = result.errors or []
    assert error.message.startswith("Unexpected error (id ")
    error_id = error.extensions["errorId"]
    assert "not a folder" not in error.message and "Traceback" not in error.message
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged and logged[0].exc_info is not None


def test_syntax_and_validation_errors_are_not_masked(trained: Env) -> None:
    ctx = make_context(trained)
    result = asyncio.run(schema.execute("{ health { status ", context_value=ctx))
    assert result.errors and result.errors[0].message.startswith("Syntax Error")
    result = asyncio.run(schema.execute("{ nope }", context_value=ctx))
    assert result.errors and "Cannot query field 'nope'" in result.errors[0].message


def test_a_tampered_new_version_is_refused_and_the_old_model_keeps_serving(
        trained: Env, caplog: pytest.LogCaptureFixture) -> None:
    settings = ApiSettings(model_check_interval=0.0)  # check the pointer on every request
    ctx = make_context(trained, settings)
    old = trained.store().active_version()
    new = trained.train(k=3)  # activated by "another process"
    pipeline = trained.models_dir / new / "pipeline.joblib"
    pipeline.write_bytes(pipeline.read_bytes()[:-1] + b"\x00")  # one byte changed

    async def requests() -> list[str]:
        versions = []
        for _ in range(20):
            data = await schema.execute("{ health { modelVersion } }", context_value=ctx)
            versions.append(data.data["health"]["modelVersion"])  # type: ignore[index]
            await asyncio.sleep(0.02)
        return versions

    with caplog.at_level(logging.ERROR, logger="graph_api"):
        versions = asyncio.run(requests())
    assert set(versions) == {old}
    assert run(PREDICT, ctx, {"c": CUSTOMER})["predict"]["__typename"] == "Prediction"
    refused = [r for r in caplog.records if new in r.getMessage()]
    assert len(refused) == 1  # logged once, not retried every check
