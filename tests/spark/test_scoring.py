"""Scoring on Spark equals the local scoring row for row, problem rows included."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_core.errors import DataValidationError
from segmentation_core.model import SegmentationModel
from segmentation_core.scoring import OUTPUT_COLUMNS, score_file
from tests.spark.conftest import customers_table


def read_parquet_folder(folder: Path) -> pa.Table:
    """A table Spark wrote, its part files in order (rows keep the input's order)."""
    return pq.read_table(sorted(folder.glob("part-*.parquet")))


def local_rows(model: SegmentationModel, path: Path) -> list[list[str]]:
    """The local scoring's CSV, parsed (header dropped)."""
    text = b"".join(score_file(model, path).chunks()).decode("utf-8")
    return list(csv.reader(io.StringIO(text, newline="")))[1:]


@pytest.fixture(scope="module")
def awkward_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3,000 customers and every kind of row that cannot be scored, plus cells a scored file
    must keep as they were (spaces, quotes, delimiters, formula-like text)."""
    table = customers_table(3000, seed=21)
    table["note"] = "plain"
    problems = {
        0: {"age": "abc"},
        1: {"annual_income": ""},
        2: {"spending_score": "150"},
        3: {"purchase_frequency": "-1", "age": "NA"},
        4: {"age": " 42 ", "note": "=SUM(A1:A9)"},
        5: {"note": 'says "hi", twice'},
        6: {"annual_income": "1e400"},
        7: {"age": "0x10", "spending_score": "12 kg"},
    }
    for row, cells in problems.items():
        for column, value in cells.items():
            table.loc[row, column] = value
    path = tmp_path_factory.mktemp("scoring") / "awkward.csv"
    table.to_csv(path, index=False)
    return path


def test_spark_scoring_equals_local_scoring_row_for_row(
    spark: object, big_spark: SegmentationModel, awkward_csv: Path, tmp_path: Path
) -> None:
    from segmentation_core.spark import score_spark

    out = tmp_path / "scored.parquet"
    summary = score_spark(big_spark, str(awkward_csv), str(out), spark=spark)  # type: ignore[arg-type]
    table = read_parquet_folder(out)
    with awkward_csv.open(newline="") as fh:
        source = list(csv.reader(fh))
    header, rows = source[0], source[1:]
    assert table.column_names == [*header, *OUTPUT_COLUMNS]
    assert table.num_rows == len(rows) == summary.rows
    # the original cells as they were (Spark reads an empty cell as null)
    for j, name in enumerate(header):
        cells = ["" if v is None else v for v in table.column(name).to_pylist()]
        assert cells == [r[j] for r in rows], name
    local = local_rows(big_spark, awkward_csv)
    width = len(header)
    ids = table.column("segment_id").to_pylist()
    names = table.column("segment_name").to_pylist()
    confidence = table.column("confidence").to_pylist()
    problems = table.column("score_problem").to_pylist()
    for i, expected in enumerate(local):
        segment_id, segment_name, conf, problem = expected[width:]
        assert ("" if ids[i] is None else str(ids[i])) == segment_id, i
        assert (names[i] or "") == segment_name, i
        assert ("" if confidence[i] is None else f"{confidence[i]:.4f}") == conf, i
        assert (problems[i] or "") == problem, i
    assert problems[:8] == [
        "age: not a number",
        "annual_income: missing",
        "spending_score: must be between 1 and 100",
        "age: missing; purchase_frequency: must be at least 0",
        None,
        None,
        "annual_income: not a number",
        "age: not a number; spending_score: not a number",
    ]
    scored = [p is None for p in problems]
    assert summary.scored_rows == sum(scored)
    assert [s.customers for s in summary.segments] == np.bincount(
        [i for i in ids if i is not None], minlength=big_spark.info.k
    ).tolist()


def test_parquet_sources_keep_their_types(
    spark: object, big_spark: SegmentationModel, tmp_path: Path
) -> None:
    from segmentation_core.spark import score_spark

    source = tmp_path / "typed.parquet"
    frame = pd.DataFrame(
        {
            "age": pd.array([25, None, 70, 44], dtype="Int64"),
            "annual_income": [40.0, 100.0, float("nan"), 70.0],
            "spending_score": [80, 20, 10, 50],
            "purchase_frequency": [38, 5, 3, float("inf")],
            "tier": ["gold", None, "bronze", "silver"],
        }
    )
    frame.to_parquet(source, index=False)
    out = tmp_path / "scored"
    score_spark(big_spark, str(source), str(out), spark=spark)  # type: ignore[arg-type]
    table = read_parquet_folder(out)
    original = pq.read_table(source)
    # Spark's types of the input are the output's (pandas' large strings are Spark strings)
    read = spark.read.parquet(str(source)).schema.fields  # type: ignore[attr-defined]
    written = spark.read.parquet(str(out)).schema.fields  # type: ignore[attr-defined]
    assert written[: len(read)] == read
    for name in original.column_names:
        got, expected = table.column(name).to_pylist(), original.column(name).to_pylist()
        assert [repr(v) for v in got] == [repr(v) for v in expected], name  # NaN, inf as they were
    assert table.schema.field("segment_id").type == pa.int32()
    problems = table.column("score_problem").to_pylist()
    assert problems == [
        None,
        "age: missing",
        "annual_income: missing",
        "purchase_frequency: not a number",
    ]
    first = big_spark.predict_one([25, 40.0, 80, 38])
    assert table.column("segment_id")[0].as_py() == first.cluster_id
    assert table.column("confidence")[0].as_py() == first.confidence


def test_a_missing_feature_column_is_the_local_error(
    spark: object, big_spark: SegmentationModel, tmp_path: Path
) -> None:
    from segmentation_core.spark import score_spark

    path = tmp_path / "partial.csv"
    customers_table(50, seed=2).drop(columns=["spending_score"]).to_csv(path, index=False)
    with pytest.raises(DataValidationError) as on_spark:
        score_spark(big_spark, str(path), str(tmp_path / "out"), spark=spark)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError) as locally:
        score_file(big_spark, path)
    assert [(p.column, p.reason) for p in on_spark.value.problems] == [
        (p.column, p.reason) for p in locally.value.problems
    ]


def test_scored_columns_are_not_overwritten(
    spark: object, big_spark: SegmentationModel, tmp_path: Path
) -> None:
    from segmentation_core.spark import score_spark

    path = tmp_path / "again.csv"
    table = customers_table(50, seed=2)
    table["segment_id"] = "3"
    table.to_csv(path, index=False)
    with pytest.raises(DataValidationError, match="already has a column 'segment_id'"):
        score_spark(big_spark, str(path), str(tmp_path / "out"), spark=spark)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError, match="must not be the table scored"):
        score_spark(big_spark, str(path), str(path), spark=spark)  # type: ignore[arg-type]
