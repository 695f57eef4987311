"""Reading on Spark means what it means locally: the number rule, the roles, the CSV dialects."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from segmentation_core import columns as local_columns
from segmentation_core.numeric import MISSING_TOKENS, to_numeric
from segmentation_core.spark.reading import number_of, read_table, source_id, source_name

CELLS = [
    "12", " 12 ", "-3.5", "+7", ".5", "5.", "1e3", "1E-3", "-1.5e+2", "0", "-0",
    "1,234", "0x10", "12 kg", "1.2.3", "--1", "e5", "1e", ".", "+", "abc", "1d", "1f",
    "inf", "-inf", "Infinity", "NaN", "nan", "1e400", "-1e400", "1e-400",
    "", "   ", *MISSING_TOKENS, " NA ", "\tnull\n",
    *[f"{chr(c)}5{chr(c)}" for c in range(0x3001) if chr(c).isspace()],
    "\u200b5", "5\u00ad", "\ufeff5", "٣", "１２",
]


def test_the_number_rule_is_to_numeric(spark: object) -> None:
    from pyspark.sql import types as T

    frame = spark.createDataFrame([(c,) for c in CELLS], "c string")  # type: ignore[attr-defined]
    nc = number_of(frame["c"], T.StringType())
    rows = frame.select(nc.value.alias("v"), nc.missing.alias("m"), nc.invalid.alias("x"))
    got = rows.collect()
    expected = to_numeric(pa.array(CELLS, pa.string()))
    for i, cell in enumerate(CELLS):
        value = got[i]["v"]
        assert (value is None) == bool(np.isnan(expected.values[i])), cell
        if value is not None:
            assert value == expected.values[i] and math.copysign(1, value) == math.copysign(
                1, expected.values[i]
            ), cell
        assert got[i]["m"] == bool(expected.missing[i]), cell
        assert got[i]["x"] == bool(expected.invalid[i]), cell


def mixed_table(n: int = 600) -> pd.DataFrame:
    """A column of every role, and the borderline cases of the rules."""
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "CustomerID": np.arange(1, n + 1),  # integer, distinct, named ..ID: IDENTIFIER
            "order_id": rng.integers(0, n // 2, n),  # named id but repeats: NUMERIC
            "email": [f"user{i}@example.com" for i in range(n)],  # distinct text: IDENTIFIER
            "revenue": np.round(rng.lognormal(3, 1, n), 2),  # skewed: NUMERIC, suggests LOG
            "visits": rng.integers(0, 30, n).astype(str),  # numbers as text: NUMERIC
            "gender": rng.choice(["F", "M", " F", "n/a"], n),  # CATEGORICAL (n/a missing)
            "city": [f"city {i % 60}" for i in range(n)],  # 60 values: IGNORED
            "signup": [f"2024-01-{1 + i % 28:02d}" for i in range(n)],  # dates: IGNORED
            "empty": [""] * n,  # nothing: IGNORED
            "flag": rng.choice(["true", "false"], n),  # CATEGORICAL
        }
    )


def test_roles_and_summaries_are_the_dataset_stores(spark: object, tmp_path: Path) -> None:
    from segmentation_core.spark.columns import summarise

    path = tmp_path / "mixed.csv"
    mixed_table().to_csv(path, index=False)
    as_text = dict.fromkeys(mixed_table().columns, pa.string())
    text = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=as_text))
    local = {s.name: s for s in local_columns.summarise(text)}
    table = summarise(read_table(spark, str(path)).frame)  # type: ignore[arg-type]
    assert table.rows == 600
    for s in table.columns:
        expected = local[s.name]
        assert s.role == expected.role, s.name
        assert s.missing == expected.missing, s.name
        assert s.top_values == expected.top_values, s.name
        for stat in ("min", "max", "mean", "std", "skewness"):
            a, b = getattr(s, stat), getattr(expected, stat)
            assert (a is None) == (b is None), (s.name, stat)
            if a is not None:
                assert a == pytest.approx(b, rel=1e-9), (s.name, stat)
        assert s.suggested_transform == expected.suggested_transform, s.name


def test_parquet_types_follow_the_same_roles(spark: object, tmp_path: Path) -> None:
    from segmentation_core.spark.columns import summarise

    frame = pd.DataFrame(
        {
            "user_id": np.arange(100, 0, -1),
            "score": np.linspace(0.0, 9.9, 100),
            "with_nan": [float("nan")] * 10 + list(range(90)),
            "with_inf": [float("inf")] + list(range(99)),
            "active": [True, False] * 50,
            "joined": pd.date_range("2024-01-01", periods=100),
        }
    )
    path = tmp_path / "typed.parquet"
    frame.to_parquet(path, index=False)
    local = {s.name: s for s in local_columns.summarise(pq.read_table(path))}
    table = summarise(read_table(spark, str(path)).frame)  # type: ignore[arg-type]
    assert [(s.name, s.role) for s in table.columns] == [
        (name, local[name].role) for name in frame.columns
    ]
    assert {s.name: s.missing for s in table.columns}["with_nan"] == 10


@pytest.mark.parametrize(("delimiter", "bom"), [(";", False), ("\t", True), (",", True)])
def test_csv_dialects_are_sniffed(
    spark: object, tmp_path: Path, delimiter: str, bom: bool
) -> None:
    path = tmp_path / "dialect.csv"
    text = delimiter.join(["name", "amount", "note"]) + "\n"
    text += delimiter.join(["a", "1,5" if delimiter != "," else "15", '"x; y"']) + "\n"
    path.write_bytes(("\ufeff" if bom else "").encode() + text.encode())
    source = read_table(spark, str(path))  # type: ignore[arg-type]
    assert source.format == "csv" and source.delimiter == delimiter
    assert source.frame.columns == ["name", "amount", "note"]
    row = source.frame.collect()[0]
    assert row["note"] == ("x; y")


def test_parquet_is_recognised_in_a_file_or_a_folder(spark: object, tmp_path: Path) -> None:
    folder = tmp_path / "table"  # no suffix: recognised by the magic number of its first file
    folder.mkdir()
    pd.DataFrame({"a": [1, 2]}).to_parquet(folder / "part-0.parquet")
    (folder / "_SUCCESS").write_bytes(b"")
    for uri in (str(folder), f"file://{folder}", str(folder / "part-0.parquet")):
        source = read_table(spark, uri)  # type: ignore[arg-type]
        assert source.format == "parquet" and source.frame.count() == 2


def test_a_source_is_named_by_its_uri() -> None:
    assert source_name("s3a://lake/crm/customers/") == "customers"
    assert source_name("hdfs://nn:8020/data/customers.parquet") == "customers.parquet"
    assert source_name("/tmp/x/y.csv") == "y.csv"
    assert source_id("s3a://lake/crm/customers/") == source_id("s3a://lake/crm/customers/")
    assert source_id("s3a://a") != source_id("s3a://b")
    assert source_id("s3a://a").startswith("spark-") and len(source_id("s3a://a")) == 18
