"""A Spark-trained model served by the API like any other: a real uvicorn on the store the Spark
engine wrote, answering the model's info, its segments with drivers, a prediction and a rename."""

from __future__ import annotations

from pathlib import Path

from segmentation_core.model import SegmentationModel
from segmentation_core.store import ModelStore
from tests.api.conftest import start_server
from tests.spark.conftest import REPO_ROOT

QUERY = """
{ model { version engine source k features featureSpecs { name } }
  clusters { clusterId name size drivers { feature zScore } } }
"""
PREDICT = """
mutation P($v: [FeatureValueInput!]!) {
  predictRecord(values: $v) {
    __typename ... on Prediction { clusterId segmentName confidence }
    ... on InvalidInput { errors { field message } }
  }
}
"""
RENAME = """
mutation R($v: String!) {
  renameSegment(version: $v, clusterId: 0, name: "Lake Customers") { __typename }
}
"""


def test_the_api_serves_a_spark_trained_model(
    big_spark: SegmentationModel, big_csv: Path, tmp_path: Path
) -> None:
    models, key = tmp_path / "models", tmp_path / "secrets" / "signing.key"
    version = ModelStore(models, key).save(big_spark)
    server = start_server(
        {
            "SEGMENTATION_MODELS_DIR": str(models),
            "SEGMENTATION_SIGNING_KEY_FILE": str(key),
            "SEGMENTATION_DATA": str(REPO_ROOT / "data" / "customers.csv"),
            "SEGMENTATION_DATASETS_DIR": str(tmp_path / "datasets"),
        },
        tmp_path / "server.log",
    )
    try:
        data = server.gql(QUERY)["data"]
        model = data["model"]
        assert model["version"] == version and model["engine"] == "spark"
        assert model["source"] == str(big_csv) and model["k"] == big_spark.info.k
        assert [s["name"] for s in model["featureSpecs"]] == list(big_spark.spec.columns)
        sizes = [c["size"] for c in data["clusters"]]
        assert sizes == [p.size for p in big_spark.info.profiles]
        assert all(len(c["drivers"]) == len(model["features"]) for c in data["clusters"])

        values = [{"feature": "age", "value": 25}, {"feature": "annual_income", "value": 40},
                  {"feature": "spending_score", "value": 82},
                  {"feature": "purchase_frequency", "value": 38}]
        answer = server.gql(PREDICT, {"v": values})["data"]["predictRecord"]
        expected = big_spark.predict_record({v["feature"]: v["value"] for v in values})
        assert answer["__typename"] == "Prediction"
        assert answer["clusterId"] == expected.cluster_id
        assert answer["segmentName"] == expected.segment_name

        renamed = server.gql(RENAME, {"v": version})["data"]["renameSegment"]
        assert renamed["__typename"] == "SegmentRenamed"
        names = [c["name"] for c in server.gql(QUERY)["data"]["clusters"]]
        assert names[0] == "Lake Customers"
    finally:
        server.stop()
