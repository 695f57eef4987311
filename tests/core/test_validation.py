"""Every way a table can be refused, each naming the column, the rows and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_core import (
    DEFAULT_SPEC,
    DataValidationError,
    FeatureSpec,
    ModelStore,
    Problem,
    TrainingParams,
    load_table,
    train_model,
)


def _set(column: str, rows: list[int], value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame[column] = frame[column].astype(object)
        for r in rows:
            frame.loc[r, column] = value
        return frame

    return edit


# (edit of the 200 good customers, expected column, expected rows, words the reason must contain)
CASES = [
    pytest.param(
        lambda f: f.drop(columns=["spending_score"]),
        "spending_score",
        (),
        "required column is missing",
        id="missing-column",
    ),
    pytest.param(
        lambda f: f.drop(columns=["customer_id"]),
        "customer_id",
        (),
        "required column is missing",
        id="missing-id-column",
    ),
    pytest.param(_set("age", [3, 17], "abc"), "age", (3, 17), "must be numeric", id="non-numeric"),
    pytest.param(_set("annual_income", [5], ""), "annual_income", (5,), "empty", id="empty-cell"),
    pytest.param(_set("age", [8, 9], np.nan), "age", (8, 9), "empty or NaN", id="nan"),
    pytest.param(
        _set("age", [2, 40], 150),
        "age",
        (2, 40),
        "must be between 18 and 100, got 150",
        id="above-range",
    ),
    pytest.param(
        _set("spending_score", [7], 0),
        "spending_score",
        (7,),
        "between 1 and 100, got 0",
        id="below-range",
    ),
    pytest.param(
        _set("annual_income", [11], -5.5),
        "annual_income",
        (11,),
        "at least 0, got -5.5",
        id="negative-income",
    ),
    pytest.param(
        _set("purchase_frequency", [12], np.inf),
        "purchase_frequency",
        (12,),
        "finite",
        id="infinite",
    ),
    pytest.param(
        _set("customer_id", [10, 20], 1),
        "customer_id",
        (0, 10, 20),
        "ids must be unique",
        id="duplicate-ids",
    ),
    pytest.param(_set("customer_id", [4], ""), "customer_id", (4,), "id is empty", id="empty-id"),
    pytest.param(
        lambda f: f.assign(purchase_frequency=7),
        "purchase_frequency",
        (),
        "is constant",
        id="constant-column",
    ),
    pytest.param(lambda f: f.head(6), None, (), "needs at least 11", id="fewer-rows-than-k-max"),
    pytest.param(lambda f: f.head(0), None, (), "no data rows", id="no-rows"),
]


def _problem(err: DataValidationError, column: str | None) -> Problem:
    matches = [p for p in err.problems if p.column == column]
    assert matches, f"no problem about {column!r} in {err.problems}"
    return matches[0]


@pytest.mark.parametrize(("edit", "column", "rows", "reason"), CASES)
@pytest.mark.parametrize("via", ["dataframe", "csv"])
def test_bad_table_is_refused_with_column_rows_and_reason(
    customers_frame: pd.DataFrame,
    tmp_path: Path,
    edit: Callable[[pd.DataFrame], pd.DataFrame],
    column: str | None,
    rows: tuple[int, ...],
    reason: str,
    via: str,
) -> None:
    frame = edit(customers_frame)
    source: pd.DataFrame | Path = frame
    if via == "csv":
        source = tmp_path / "bad.csv"
        frame.to_csv(source, index=False)
    store = ModelStore(tmp_path / "models", tmp_path / "secrets" / "key")
    with pytest.raises(DataValidationError) as info:
        train_model(source, TrainingParams(), DEFAULT_SPEC)
    problem = _problem(info.value, column)
    assert reason in problem.reason
    assert problem.rows == rows
    assert reason in str(info.value)
    # nothing was written anywhere
    assert store.versions() == [] and not (tmp_path / "models").exists()


def test_every_problem_is_reported_at_once(customers_frame: pd.DataFrame) -> None:
    frame = _set("age", [1], 500)(_set("spending_score", [2], "lots")(customers_frame))
    frame = frame.drop(columns=["purchase_frequency"])
    with pytest.raises(DataValidationError) as info:
        load_table(frame, DEFAULT_SPEC)
    # a missing column stops before the values are read: it is the one problem to fix first
    assert [p.column for p in info.value.problems] == ["purchase_frequency"]
    with pytest.raises(DataValidationError) as info:
        load_table(
            _set("age", [1], 500)(_set("spending_score", [2], "lots")(customers_frame)),
            DEFAULT_SPEC,
        )
    assert {(p.column, p.rows) for p in info.value.problems} == {
        ("age", (1,)),
        ("spending_score", (2,)),
    }


def test_duplicated_header_in_csv_is_refused(tmp_path: Path, customers_frame: pd.DataFrame) -> None:
    path = tmp_path / "dup.csv"
    text = customers_frame.to_csv(index=False).splitlines()
    lines = [line + "," + line.split(",")[1] for line in text]  # repeat the age column
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match="column 'age': column header appears 2 times"):
        load_table(path, DEFAULT_SPEC)


def test_duplicated_header_in_dataframe_is_refused(customers_frame: pd.DataFrame) -> None:
    frame = pd.concat([customers_frame, customers_frame[["age"]]], axis=1)
    with pytest.raises(DataValidationError, match="appears 2 times"):
        load_table(frame, DEFAULT_SPEC)


def test_extra_columns_are_ignored_and_headers_trimmed(customers_frame: pd.DataFrame) -> None:
    frame = customers_frame.assign(Gender="Female", notes="x").rename(columns={"age": " age "})
    table = load_table(frame, DEFAULT_SPEC)
    assert table.columns == DEFAULT_SPEC.columns
    assert table.X.shape == (200, 4)
    assert table.X[0, 0] == customers_frame.loc[0, "age"]


def test_same_data_same_hash_from_csv_and_dataframe(
    customers_frame: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "c.csv"
    customers_frame.to_csv(path, index=False)
    assert load_table(path, DEFAULT_SPEC).sha256 == load_table(customers_frame, DEFAULT_SPEC).sha256


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        pytest.param(b"", "empty", id="empty-file"),
        pytest.param(b"\xff\xfe\x00garbage\x00\xff", "not a readable CSV", id="binary"),
    ],
)
def test_unreadable_files_are_refused(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=reason):
        load_table(path, DEFAULT_SPEC)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match="file not found"):
        load_table(tmp_path / "nope.csv", DEFAULT_SPEC)


def test_many_bad_rows_are_all_listed(customers_frame: pd.DataFrame) -> None:
    bad = list(range(0, 200, 2))
    with pytest.raises(DataValidationError) as info:
        load_table(_set("age", bad, 5)(customers_frame), DEFAULT_SPEC)
    problem = _problem(info.value, "age")
    assert problem.rows == tuple(bad)
    assert "got 5, 5, 5 and 97 more" in problem.reason
    assert "and 90 more" in str(problem)  # the message shows ten rows, then counts


def test_generic_spec_has_no_ranges_and_no_id(mall_csv: Path) -> None:
    spec = FeatureSpec.generic(["Annual Income (k$)", "Spending Score (1-100)"])
    table = load_table(mall_csv, spec)
    assert table.X.shape == (200, 2) and table.ids is None


def test_prediction_batches_need_no_ids_and_allow_duplicates(customers_frame: pd.DataFrame) -> None:
    frame = customers_frame.drop(columns=["customer_id"]).head(3).assign(purchase_frequency=9)
    table = load_table(frame, DEFAULT_SPEC, training=False)  # constant column: fine to predict
    assert table.ids is None and table.n_rows == 3
