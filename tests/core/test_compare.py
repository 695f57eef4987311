"""Comparing two models on a dataset: agreement (adjusted Rand index) and customer flows."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.metrics import adjusted_rand_score

from segmentation_core import (
    DEFAULT_SPEC,
    DataValidationError,
    FeatureSpec,
    SegmentationModel,
    TrainingParams,
    train_model,
)
from segmentation_core.compare import adjusted_rand_index, compare_models
from segmentation_core.generator import GeneratedCustomers

INCOME, SCORE, AGE = "Annual Income (k$)", "Spending Score (1-100)", "Age"


@pytest.fixture(scope="module")
def mall_k5(mall_csv: Path) -> SegmentationModel:
    return train_model(mall_csv, TrainingParams(k=5), FeatureSpec.generic([INCOME, SCORE]))


@pytest.fixture(scope="module")
def mall_k3(mall_csv: Path) -> SegmentationModel:
    return train_model(mall_csv, TrainingParams(k=3), FeatureSpec.generic([INCOME, SCORE]))


@pytest.fixture(scope="module")
def mall_with_age(mall_csv: Path) -> SegmentationModel:
    return train_model(mall_csv, TrainingParams(k=4), FeatureSpec.generic([AGE, INCOME, SCORE]))


@pytest.fixture(scope="module")
def mall_table(mall_csv: Path) -> pa.Table:
    return pacsv.read_csv(mall_csv)


def _labels(model: SegmentationModel, frame: pd.DataFrame) -> np.ndarray:
    X = frame[list(model.spec.columns)].to_numpy(dtype=np.float64)
    return model.predict_batch(X).cluster_ids


def _expected_flows(
    a: SegmentationModel, b: SegmentationModel, frame: pd.DataFrame
) -> dict[tuple[int, int], int]:
    """The a x b table counted the slow way, one customer at a time."""
    counts: dict[tuple[int, int], int] = {}
    for i, j in zip(_labels(a, frame), _labels(b, frame), strict=True):
        counts[int(i), int(j)] = counts.get((int(i), int(j)), 0) + 1
    return counts


def test_a_model_compared_with_itself(mall_k5: SegmentationModel, mall_table: pa.Table) -> None:
    result = compare_models(mall_k5, mall_k5, mall_table, "mall")
    assert (result.a, result.b, result.dataset_id) == (mall_k5.version, mall_k5.version, "mall")
    assert result.customers == 200
    assert result.adjusted_rand_index == 1.0
    assert all(f.from_cluster_id == f.to_cluster_id for f in result.flows)
    assert all(f.from_name == f.to_name == mall_k5.segment_names[f.from_cluster_id]
               for f in result.flows)
    # the training customers fall into the segments they were trained into: 81/39/35/23/22
    assert [f.customers for f in result.flows] == [p.size for p in mall_k5.info.profiles]
    assert [f.customers for f in result.flows] == [81, 39, 35, 23, 22]


def test_two_models_of_different_k(
    mall_k5: SegmentationModel, mall_k3: SegmentationModel, mall_table: pa.Table, mall_csv: Path
) -> None:
    frame = pd.read_csv(mall_csv)
    result = compare_models(mall_k5, mall_k3, mall_table, "mall")
    assert result.customers == 200 == sum(f.customers for f in result.flows)
    expected = _expected_flows(mall_k5, mall_k3, frame)
    assert {(f.from_cluster_id, f.to_cluster_id): f.customers for f in result.flows} == expected
    assert all(f.customers > 0 for f in result.flows)
    cells = [(f.from_cluster_id, f.to_cluster_id) for f in result.flows]
    assert cells == sorted(cells)  # row by row
    for f in result.flows:
        assert f.from_name == mall_k5.segment_names[f.from_cluster_id]
        assert f.to_name == mall_k3.segment_names[f.to_cluster_id]
    ari = adjusted_rand_score(_labels(mall_k5, frame), _labels(mall_k3, frame))
    assert result.adjusted_rand_index == pytest.approx(ari, abs=1e-12)
    assert 0.3 < result.adjusted_rand_index < 0.95  # related, not the same partition
    swapped = compare_models(mall_k3, mall_k5, mall_table, "mall")
    assert swapped.adjusted_rand_index == pytest.approx(result.adjusted_rand_index, abs=1e-12)
    assert sorted((f.to_cluster_id, f.from_cluster_id, f.customers) for f in swapped.flows) == \
        sorted((f.from_cluster_id, f.to_cluster_id, f.customers) for f in result.flows)


def test_rows_one_model_cannot_score_are_left_out(
    mall_k5: SegmentationModel, mall_with_age: SegmentationModel, mall_csv: Path
) -> None:
    frame = pd.read_csv(mall_csv, dtype=str)  # text cells, read by the one numeric rule
    frame.loc[[3, 17, 44], AGE] = ["", "n/a", "thirty"]  # only the age model needs Age
    frame.loc[60, INCOME] = "1,234"  # neither model can read it
    frame.loc[61, SCORE] = " 77 "  # a number after trimming: scorable
    table = pa.Table.from_pandas(frame, preserve_index=False)
    result = compare_models(mall_k5, mall_with_age, table, "edited")
    assert result.customers == 196 == sum(f.customers for f in result.flows)
    kept = frame.drop(index=[3, 17, 44, 60]).astype({AGE: float, INCOME: float, SCORE: float})
    assert {(f.from_cluster_id, f.to_cluster_id): f.customers for f in result.flows} == \
        _expected_flows(mall_k5, mall_with_age, kept)
    ari = adjusted_rand_score(_labels(mall_k5, kept), _labels(mall_with_age, kept))
    assert result.adjusted_rand_index == pytest.approx(ari, abs=1e-12)
    # the model without Age alone scores every readable row
    alone = compare_models(mall_k5, mall_k5, table, "edited")
    assert alone.customers == 199


def test_values_out_of_a_models_range_are_left_out(
    model: SegmentationModel, planted_200: GeneratedCustomers
) -> None:
    frame = planted_200.frame.copy()
    frame.loc[[0, 1], "age"] = [10, 130]  # outside 18-100
    frame.loc[2, "spending_score"] = 0  # outside 1-100
    table = pa.Table.from_pandas(frame, preserve_index=False)
    assert model.spec == DEFAULT_SPEC.with_features(model.spec.features)
    result = compare_models(model, model, table, "planted")
    assert result.customers == 197 and result.adjusted_rand_index == 1.0


def test_renamed_segments_show_in_the_flows(
    mall_k5: SegmentationModel, mall_k3: SegmentationModel, mall_table: pa.Table
) -> None:
    renamed = mall_k3.with_names({0: "Everyone Else", 2: "Champions"})
    result = compare_models(mall_k5, renamed, mall_table, "mall")
    names = {f.to_cluster_id: f.to_name for f in result.flows}
    assert names[0] == "Everyone Else" and names[2] == "Champions"


def test_a_missing_feature_column_is_named(
    mall_k5: SegmentationModel, mall_with_age: SegmentationModel, mall_table: pa.Table
) -> None:
    table = mall_table.drop_columns([AGE])
    with pytest.raises(DataValidationError) as caught:
        compare_models(mall_k5, mall_with_age, table, "no-age")
    (problem,) = caught.value.problems
    assert problem.column == AGE
    assert f"model {mall_with_age.version} need" in problem.reason
    assert mall_k5.version not in problem.reason
    with pytest.raises(DataValidationError) as caught:
        compare_models(mall_k5, mall_with_age, table.drop_columns([INCOME]), "neither")
    assert [p.column for p in caught.value.problems] == [INCOME, AGE]
    assert "and model" in caught.value.problems[0].reason


def test_no_row_scorable_by_both_is_refused(
    mall_k5: SegmentationModel, mall_with_age: SegmentationModel, mall_table: pa.Table
) -> None:
    table = mall_table.set_column(
        mall_table.column_names.index(AGE), AGE, pa.array(["?"] * mall_table.num_rows)
    )
    with pytest.raises(DataValidationError, match="none of the dataset's 200 rows can be scored"):
        compare_models(mall_k5, mall_with_age, table, "x")
    assert compare_models(mall_k5, mall_k5, table, "x").customers == 200


@pytest.mark.parametrize("seed", range(6))
def test_adjusted_rand_index_equals_scikit_learn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k_a, k_b = [(1, 1, 1), (2, 2, 2), (50, 3, 4), (500, 5, 5), (1000, 1, 6), (7, 7, 2)][seed]
    a = rng.integers(0, k_a, n)
    b = a % k_b if seed % 2 else rng.integers(0, k_b, n)
    table = np.bincount(a * k_b + b, minlength=k_a * k_b).reshape(k_a, k_b)
    assert adjusted_rand_index(table) == adjusted_rand_score(a, b)


def test_a_million_rows(mall_k5: SegmentationModel, mall_k3: SegmentationModel) -> None:
    rng = np.random.default_rng(7)
    n = 1_000_000
    income, score = rng.uniform(10, 140, n), rng.uniform(1, 100, n)
    income[:1000] = np.nan  # left out
    table = pa.table({INCOME: income, SCORE: score})
    started = time.process_time()
    result = compare_models(mall_k5, mall_k3, table, "big")
    cpu = time.process_time() - started  # CPU time: what other processes do does not count
    assert result.customers == n - 1000 == sum(f.customers for f in result.flows)
    X = np.column_stack([income, score])[1000:]
    labels_a = mall_k5.predict_batch(X).cluster_ids
    labels_b = mall_k3.predict_batch(X).cluster_ids
    assert result.adjusted_rand_index == pytest.approx(
        adjusted_rand_score(labels_a, labels_b), abs=1e-12
    )
    assert cpu < 2.0, f"comparing a million rows took {cpu:.2f} s of CPU"
