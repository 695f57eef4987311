"""Bad input gets the same typed errors on Spark as on the local engine."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from segmentation_core.enums import Transform
from segmentation_core.errors import DataValidationError, InvalidParameterError
from segmentation_core.results import FeatureChoice, TrainingParams
from tests.spark.conftest import customers_table, train_local


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """500 customers plus columns made to fail: negative balances, a constant, an out-of-range
    age (as the bundled spec's age column is 18..100)."""
    table = customers_table(500, seed=3)
    table["balance"] = [str(v) for v in range(-5, 495)]
    table["constant"] = "7"
    path = tmp_path_factory.mktemp("small") / "small.csv"
    table.to_csv(path, index=False)
    return path


def problems(exc: pytest.ExceptionInfo[DataValidationError]) -> list[tuple[str | None, str]]:
    return [(p.column, p.reason) for p in exc.value.problems]


def both(spark: object, path: Path, params: TrainingParams, tmp: Path) -> tuple[list, list]:
    """The problems each engine reports for the same training."""
    from segmentation_core.spark import train_spark

    with pytest.raises(DataValidationError) as on_spark:
        train_spark(str(path), params, spark=spark)  # type: ignore[arg-type]
    with pytest.raises(DataValidationError) as locally:
        train_local(path, params, tmp / "datasets")
    return problems(on_spark), problems(locally)


@pytest.mark.parametrize(
    "features",
    [
        pytest.param((FeatureChoice("nope"), FeatureChoice("age")), id="missing-column"),
        pytest.param((FeatureChoice("tier"), FeatureChoice("age")), id="not-numeric"),
        pytest.param((FeatureChoice("signup"), FeatureChoice("age")), id="ignored-dates"),
        pytest.param((FeatureChoice("customer_id"), FeatureChoice("age")), id="identifier"),
        pytest.param((FeatureChoice("age"), FeatureChoice("age")), id="chosen-twice"),
        pytest.param(
            (FeatureChoice("balance", Transform.LOG), FeatureChoice("age")), id="log-of-negative"
        ),
        pytest.param((FeatureChoice("constant"), FeatureChoice("age")), id="constant"),
    ],
)
def test_feature_errors_are_the_local_ones(
    spark: object, small_csv: Path, tmp_path: Path, features: tuple[FeatureChoice, ...]
) -> None:
    on_spark, locally = both(spark, small_csv, TrainingParams(features=features), tmp_path)
    assert on_spark == locally


def test_out_of_range_values_are_named(spark: object, tmp_path: Path) -> None:
    table = customers_table(300, seed=4)
    table.loc[[3, 9], "age"] = ["150", "7"]
    path = tmp_path / "ages.csv"
    table.to_csv(path, index=False)
    on_spark, locally = both(spark, path, TrainingParams(), tmp_path)
    assert on_spark == locally == [("age", "must be between 18 and 100, got 150, 7")]


def test_too_few_rows(spark: object, tmp_path: Path) -> None:
    path = tmp_path / "few.csv"
    customers_table(6, seed=5).to_csv(path, index=False)
    on_spark, locally = both(spark, path, TrainingParams(), tmp_path)
    assert on_spark == locally
    assert "needs at least 11" in on_spark[0][1]


def test_an_empty_table_is_refused(spark: object, tmp_path: Path) -> None:
    from segmentation_core.spark import train_spark

    path = tmp_path / "empty.csv"
    path.write_text("age,annual_income\n")
    with pytest.raises(DataValidationError, match="no rows of data"):
        train_spark(str(path), spark=spark)  # type: ignore[arg-type]
    folder = tmp_path / "empty.parquet"
    pd.DataFrame({"age": pd.Series([], dtype="float64")}).to_parquet(folder)
    with pytest.raises(DataValidationError, match="no rows of data"):
        train_spark(str(folder), spark=spark)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "uri",
    [
        pytest.param("{tmp}/no-such-table.csv", id="missing-file"),
        pytest.param("{tmp}/no-such-folder/", id="missing-folder"),
        pytest.param("file://{tmp}/nothing-here.parquet", id="missing-file-uri"),
        pytest.param("nosuchscheme://bucket/customers.csv", id="unknown-scheme"),
    ],
)
def test_an_unreadable_uri_is_a_typed_error(spark: object, tmp_path: Path, uri: str) -> None:
    from segmentation_core.spark import train_spark

    target = uri.format(tmp=tmp_path)
    with pytest.raises(DataValidationError) as exc:
        train_spark(target, spark=spark)  # type: ignore[arg-type]
    (problem,) = exc.value.problems
    assert problem.column is None and problem.reason.startswith(f"cannot read {target}: ")


def test_a_binary_file_is_refused_like_an_upload(spark: object, tmp_path: Path) -> None:
    from segmentation_core.spark import train_spark

    path = tmp_path / "blob.csv"
    path.write_bytes(b"age,income\n1,2\n\x00\x01\x02")
    with pytest.raises(DataValidationError, match="binary data"):
        train_spark(str(path), spark=spark)  # type: ignore[arg-type]


def test_bad_parameters_are_refused_before_reading(spark: object) -> None:
    from segmentation_core.spark import train_spark

    with pytest.raises(InvalidParameterError) as exc:
        train_spark("nosuchscheme://never/read", TrainingParams(k_min=1), spark=spark)  # type: ignore[arg-type]
    assert exc.value.parameter == "k_min"
    with pytest.raises(InvalidParameterError):
        train_spark(
            "nosuchscheme://never/read",
            dataclasses.replace(TrainingParams(), features=()),
            spark=spark,  # type: ignore[arg-type]
        )
