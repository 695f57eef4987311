"""A Spark-trained model is an ordinary stored model: signed, loaded, served by the local path."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from segmentation_core.model import SegmentationModel
from segmentation_core.store import ModelStore
from tests.spark.test_equivalence import features_of


def test_a_spark_model_round_trips_through_the_store(
    big_spark: SegmentationModel, big_csv: Path, tmp_path: Path
) -> None:
    store = ModelStore(tmp_path / "models", tmp_path / "secrets" / "signing.key")
    version = store.save(big_spark)
    loaded = store.load(version)
    assert store.active_version() == version
    assert loaded.info == big_spark.info
    assert loaded.info.engine == "spark" and loaded.info.source == str(big_csv)
    assert loaded.spec == big_spark.spec
    X = features_of(big_csv, big_spark)[:20_000]
    X = X[~np.isnan(X).any(axis=1)]
    a, b = big_spark.predict_batch(X), loaded.predict_batch(X)
    np.testing.assert_array_equal(a.cluster_ids, b.cluster_ids)
    np.testing.assert_array_equal(a.probabilities, b.probabilities)
    one = loaded.predict_record(dict(zip(loaded.spec.columns, X[0].tolist(), strict=True)))
    assert one.cluster_id == int(a.cluster_ids[0]) and one.confidence == a.confidence[0]
    renamed = loaded.with_names({0: "Core Customers"})
    assert renamed.predict_one(X[0].tolist()).segment_name in renamed.segment_names


def test_the_stored_pipeline_is_a_real_scikit_learn_pipeline(
    big_spark: SegmentationModel, big_csv: Path
) -> None:
    """FeatureRecipe -> StandardScaler -> KMeans with Spark's statistics and centres: the
    pipeline's own predict agrees with the core's predictor."""
    names = [name for name, _ in big_spark.pipeline.steps]
    assert names == ["recipe", "standardscaler", "kmeans"]
    X = features_of(big_csv, big_spark)[:20_000]
    X = X[~np.isnan(X).any(axis=1)]
    np.testing.assert_array_equal(
        big_spark.pipeline.predict(X), big_spark.predict_batch_unchecked(X).cluster_ids
    )
    kmeans = big_spark.pipeline[-1]
    assert not hasattr(kmeans, "labels_")  # the rows it would describe live on the cluster
    assert kmeans.cluster_centers_.shape == (big_spark.info.k, len(big_spark.spec.features))
