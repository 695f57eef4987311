"""Column roles and summaries (the contract's rules), checked against pandas on real data sets,
and the numeric reading they rest on."""

from __future__ import annotations

import datetime
import random
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from segmentation_core import numeric
from segmentation_core.columns import (
    HISTOGRAM_BINS,
    MAX_CATEGORIES,
    is_identifier_name,
    skew,
    summarise,
    summarise_column,
)
from segmentation_core.enums import ColumnRole, Transform
from segmentation_core.results import ColumnSummary, ValueCount
from segmentation_core.table_io import read_table_file

from .conftest import DATASETS, REPO_ROOT

NUMERIC, CATEGORICAL = ColumnRole.NUMERIC, ColumnRole.CATEGORICAL
IDENTIFIER, IGNORED = ColumnRole.IDENTIFIER, ColumnRole.IGNORED

REAL_FILES = {
    "mall": (
        DATASETS / "mall_customers.csv",
        {"CustomerID": IDENTIFIER, "Gender": CATEGORICAL, "Age": NUMERIC,
         "Annual Income (k$)": NUMERIC, "Spending Score (1-100)": NUMERIC},
    ),
    "wholesale": (
        DATASETS / "wholesale_customers.csv",
        {name: NUMERIC for name in ("Channel", "Region", "Fresh", "Milk", "Grocery", "Frozen",
                                    "Detergents_Paper", "Delicassen")},
    ),
    "rfm": (
        DATASETS / "online_retail_rfm.csv",
        {"CustomerID": IDENTIFIER, "Recency": NUMERIC, "Frequency": NUMERIC,
         "Monetary": NUMERIC},
    ),
    "bundled": (
        REPO_ROOT / "data" / "customers.csv",
        {"customer_id": IDENTIFIER, "age": NUMERIC, "annual_income": NUMERIC,
         "spending_score": NUMERIC, "purchase_frequency": NUMERIC},
    ),
}  # fmt: skip


def _summaries(path: Path) -> dict[str, ColumnSummary]:
    table, _ = read_table_file(path)
    return {s.name: s for s in summarise(table)}


def _column(cells: list[str | None], name: str = "x") -> ColumnSummary:
    return summarise_column(name, pa.array(cells, pa.string()))


def _check_against_pandas(summary: ColumnSummary, series: pd.Series) -> None:
    """Every statistic of a NUMERIC summary equals what pandas computes."""
    values = series.dropna()
    assert summary.missing == int(series.isna().sum())
    assert summary.distinct == values.nunique()
    assert summary.min == pytest.approx(values.min())
    assert summary.max == pytest.approx(values.max())
    assert summary.mean == pytest.approx(values.mean(), rel=1e-12)
    assert summary.median == pytest.approx(values.median(), rel=1e-12)
    assert summary.std == pytest.approx(values.std(ddof=1), rel=1e-9)
    assert summary.skewness == pytest.approx(values.skew(), rel=1e-9, abs=1e-12)
    counts, _ = np.histogram(values, bins=HISTOGRAM_BINS, range=(values.min(), values.max()))
    assert summary.histogram == tuple(int(c) for c in counts)
    assert summary.integer == bool((values == values.round()).all())


# -- the shared data sets --------------------------------------------------------------------------


@pytest.mark.parametrize("data", REAL_FILES, ids=list(REAL_FILES))
def test_roles_of_the_real_data_sets(data: str) -> None:
    path, roles = REAL_FILES[data]
    summaries = _summaries(path)
    assert {name: s.role for name, s in summaries.items()} == roles


@pytest.mark.parametrize("data", REAL_FILES, ids=list(REAL_FILES))
def test_numeric_summaries_equal_pandas(data: str) -> None:
    path, _ = REAL_FILES[data]
    frame = pd.read_csv(path)
    for name, summary in _summaries(path).items():
        if summary.role is NUMERIC:
            _check_against_pandas(summary, frame[name])
        else:
            assert summary.min is None and summary.mean is None and summary.histogram == ()
            assert summary.suggested_transform is Transform.NONE


def test_published_skewness_and_suggested_transforms() -> None:
    wholesale = _summaries(DATASETS / "wholesale_customers.csv")
    rfm = _summaries(DATASETS / "online_retail_rfm.csv")
    assert round(wholesale["Fresh"].skewness or 0, 4) == 2.5613
    assert round(rfm["Recency"].skewness or 0, 4) == 1.2460
    for name in ("Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"):
        assert wholesale[name].suggested_transform is Transform.LOG
    assert wholesale["Channel"].suggested_transform is Transform.NONE  # skewness 0.76
    assert wholesale["Region"].suggested_transform is Transform.NONE  # skewed left
    assert all(rfm[n].suggested_transform is Transform.LOG for n in ("Recency", "Monetary"))
    mall = _summaries(DATASETS / "mall_customers.csv")
    assert mall["Gender"].top_values == (ValueCount("Female", 112), ValueCount("Male", 88))
    assert (mall["Gender"].distinct, mall["Gender"].missing) == (2, 0)
    assert (mall["CustomerID"].distinct, mall["CustomerID"].integer) == (200, True)
    assert rfm["Monetary"].integer is False and rfm["Recency"].integer is True


# -- identifiers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("id", True), ("ID", True), ("customer_id", True), ("CustomerID", True),
        ("user id", True), ("client-Id", True), ("userId", True),
        ("idea", False), ("paid", False), ("identifier", False), ("id_card", False),
        ("", False),
    ],
)  # fmt: skip
def test_identifier_names(name: str, expected: bool) -> None:
    assert is_identifier_name(name) is expected


def test_identifier_rules() -> None:
    ids = [str(i) for i in range(1, 61)]
    shuffled = ids[30:] + ids[:30]
    assert _column(shuffled, "customer_id").role is IDENTIFIER  # not sorted: counted
    assert _column(ids[::-1], "CustomerID").role is IDENTIFIER
    assert _column(ids, "number").role is NUMERIC  # a distinct integer, but not named id
    assert _column(ids[:-1] + [""], "customer_id").role is NUMERIC  # one missing
    assert _column(ids[:-1] + ["1"], "customer_id").role is NUMERIC  # one repeated
    assert _column([f"{i}.5" for i in range(60)], "id").role is NUMERIC  # not whole numbers
    codes = [f"C{i:04d}" for i in range(60)]
    assert _column(codes, "code").role is IDENTIFIER  # text, distinct on every row
    assert _column(codes[:-1] + ["NA"], "code").role is IGNORED  # a missing one: free text
    assert _column(codes[:-1] + [" C0000 "], "code").role is IGNORED  # same once trimmed
    small = _column(["a", "b", "c"], "letter")
    assert small.role is IDENTIFIER and small.top_values == ()
    assert _column(["7", "8", "7"], "id").role is NUMERIC


# -- numeric, categorical, ignored -----------------------------------------------------------------


def test_numbers_with_missing_cells_and_spaces() -> None:
    summary = _column([" 1", "2 ", "", "NA", "n/a", "3.5", "-", None, "1e1"], "amount")
    assert summary.role is NUMERIC
    assert summary.missing == 5
    assert (summary.min, summary.max, summary.distinct) == (1.0, 10.0, 4)
    assert summary.mean == pytest.approx(16.5 / 4)
    assert summary.median == pytest.approx(2.75)
    assert summary.integer is False
    assert sum(summary.histogram) == 4 and len(summary.histogram) == HISTOGRAM_BINS


def test_a_column_with_no_value_at_all_is_ignored() -> None:
    summary = _column(["", "NA", " ", "null"])
    assert (summary.role, summary.missing, summary.distinct) == (IGNORED, 4, 0)
    assert summarise_column("x", pa.array([None, None], pa.float64())).role is IGNORED
    assert summarise_column("x", pa.array([None, None], pa.bool_())).role is IGNORED


def test_categorical_up_to_50_values_then_ignored() -> None:
    fifty = [f"v{i:02d}" for i in range(MAX_CATEGORIES)] * 2
    summary = _column(fifty)
    assert (summary.role, summary.distinct) == (CATEGORICAL, MAX_CATEGORIES)
    more = _column(fifty + ["v50"])
    assert (more.role, more.distinct, more.top_values) == (IGNORED, MAX_CATEGORIES + 1, ())


def test_top_values_most_frequent_first_ties_by_value_trimmed_and_missing_left_out() -> None:
    cells = ["b"] * 3 + [" a "] * 2 + ["a"] + ["c"] * 3 + ["", "NA", None] + ["d", "e", "f"]
    cells += [f"z{i}" for i in range(10)] + ["1", "2.5"]  # numbers are values of a text column
    summary = _column(cells)
    assert summary.role is CATEGORICAL
    assert summary.missing == 3
    assert summary.distinct == 18
    assert summary.top_values[:5] == (
        ValueCount("a", 3), ValueCount("b", 3), ValueCount("c", 3),
        ValueCount("1", 1), ValueCount("2.5", 1),
    )  # fmt: skip
    assert len(summary.top_values) == 10


def test_a_number_column_with_one_word_is_text() -> None:
    summary = _column([str(i % 80) for i in range(160)] + ["unknown"])
    assert summary.role is IGNORED and summary.distinct == 81 and summary.min is None
    unique = _column([str(i) for i in range(100)] + ["unknown"])  # text, distinct on every row
    assert unique.role is IDENTIFIER
    summary = _column(["1", "2", "inf"] * 3)  # not finite: not a number
    assert summary.role is CATEGORICAL and summary.distinct == 3


def test_text_after_many_numbers_is_still_text() -> None:
    cells = [str(i % 7) for i in range(5000)] + ["seven"]
    summary = _column(cells)
    assert summary.role is CATEGORICAL and summary.distinct == 8
    assert summary.top_values[0] == ValueCount("0", 715)


@pytest.mark.parametrize(
    "dates",
    [
        ["2024-01-03", "2024-02-11", "2023-12-31"],
        ["03/01/2024", "11/02/2024", "31/12/2023"],
        ["2024-01-03T10:15:00Z", "2024-01-03 10:16", "2024-01-03T10:17:00.5+01:00"],
        ["1.3.24", "2.3.24", "3.3.24"],
    ],
)
def test_text_dates_are_ignored(dates: list[str]) -> None:
    assert _column(dates * 3 + [""]).role is IGNORED  # few distinct: still not categorical
    assert _column(dates, "signup").role is IGNORED  # distinct on every row: not an id


def test_parquet_types() -> None:
    table = pa.table(
        {
            "joined": pa.array([datetime.date(2024, 1, d) for d in (1, 2, 2, 3)]),
            "vip": pa.array([True, False, True, None]),
            "spend": pa.array([1.5, None, float("nan"), 4.0]),
            "visits": pa.array([1, 2, 3, None], pa.int32()),
            "city": pa.array(["a", "b", "a", None]).dictionary_encode(),
            "tags": pa.array([[1], [2, 3], None, []]),
            "bad": pa.array([1.0, float("inf"), 2.0, 3.0]),
        }
    )
    summaries = {s.name: s for s in summarise(table)}
    assert (summaries["joined"].role, summaries["joined"].distinct) == (IGNORED, 3)
    vip = summaries["vip"]
    assert (vip.role, vip.missing, vip.top_values) == (
        CATEGORICAL, 1, (ValueCount("true", 2), ValueCount("false", 1))
    )  # fmt: skip
    spend = summaries["spend"]
    assert (spend.role, spend.missing, spend.mean) == (NUMERIC, 2, 2.75)
    assert (summaries["visits"].role, summaries["visits"].integer) == (NUMERIC, True)
    assert (summaries["city"].role, summaries["city"].missing) == (CATEGORICAL, 1)
    assert (summaries["tags"].role, summaries["tags"].missing) == (IGNORED, 1)
    assert summaries["bad"].role is IGNORED


def test_booleans_are_never_identifiers() -> None:
    assert summarise_column("flag_id", pa.array([True, False])).role is CATEGORICAL


# -- statistics ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind", ["narrow integers", "wide integers", "sorted ids", "floats", "negative and zero"]
)
def test_statistics_equal_pandas_on_both_paths(kind: str) -> None:
    rng = np.random.default_rng(3)
    n = 20_000
    if kind == "narrow integers":  # tallied
        values = rng.poisson(4, n).astype(float)
    elif kind == "wide integers":  # counted from the values
        values = np.round(rng.lognormal(10, 2, n))
    elif kind == "sorted ids":
        values = np.arange(5, n + 5, dtype=float)
    elif kind == "floats":
        values = np.round(rng.gamma(2.0, 30.0, n), 2)
        values[:3], values[3:6] = 0.0, -0.0  # one value, as pandas counts it
    else:
        values = np.round(rng.normal(0, 3, n))
        values[:5] = -0.0
    series = pd.Series(values)
    series[rng.random(n) < 0.05] = np.nan
    cells = ["" if np.isnan(v) else repr(float(v)) for v in series]
    summary = _column(cells, "amount")
    assert summary.role is NUMERIC
    _check_against_pandas(summary, series)


def test_skewness_is_none_without_spread_or_with_fewer_than_3_values() -> None:
    assert skew(np.array([1.0, 2.0])) is None
    assert skew(np.array([5.0, 5.0, 5.0, 5.0])) is None
    constant = _column(["7", "7", "7"])
    assert (constant.skewness, constant.std, constant.suggested_transform) == (
        None, 0.0, Transform.NONE
    )  # fmt: skip
    assert constant.histogram == (3,) + (0,) * (HISTOGRAM_BINS - 1)
    single = _column(["7", ""])
    assert (single.std, single.skewness, single.median) == (None, None, 7.0)


def test_log_is_suggested_only_for_non_negative_skewed_columns() -> None:
    skewed = [str(v) for v in [1, 1, 1, 2, 2, 3, 50, 100]]
    assert _column(skewed).suggested_transform is Transform.LOG
    assert _column(skewed + ["-1"]).suggested_transform is Transform.NONE
    assert _column([str(v) for v in [1, 2, 3, 4, 5]]).suggested_transform is Transform.NONE


def test_numbers_at_the_limits_of_floats_give_no_infinite_statistic() -> None:
    summary = _column(["-1e308", "1e308", "1.7e308", "0"], "huge")
    assert summary.role is NUMERIC and (summary.min, summary.max) == (-1e308, 1.7e308)
    assert summary.std is None and summary.skewness is None  # the sums overflow
    assert summary.median == 5e307
    assert summary.histogram == (1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1)


def test_histogram_bins_from_min_to_max() -> None:
    summary = _column([str(v) for v in [0, 1, 5.9, 6, 11.9, 12]])
    assert summary.histogram == (1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 2)


# -- reading numbers -------------------------------------------------------------------------------

_MISSING_REF = pa.array(("", *numeric.MISSING_TOKENS), type=pa.string())


def _reference_to_numeric(array: pa.Array) -> numeric.NumericColumn:
    """numeric.to_numeric as first written (before the fast paths): the semantics to keep."""
    n = len(array)
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    text = pc.utf8_trim_whitespace(array)
    missing_arrow = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=_MISSING_REF))
    missing = np.asarray(missing_arrow.to_numpy(zero_copy_only=False), dtype=bool)
    candidates = pc.if_else(missing_arrow, pa.scalar(None, pa.string()), text)
    try:
        parsed = pc.cast(candidates, pa.float64())
        malformed = np.zeros(n, dtype=bool)
    except pa.ArrowInvalid:
        well_formed = pc.fill_null(
            pc.match_substring_regex(candidates, numeric.NUMBER_PATTERN), True
        )
        malformed = ~np.asarray(well_formed.to_numpy(zero_copy_only=False), dtype=bool)
        if malformed.all():
            parsed = pa.nulls(n, pa.float64())
        else:
            parsed = pc.cast(
                pc.if_else(well_formed, candidates, pa.scalar(None, pa.string())), pa.float64()
            )
    values = np.array(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
    invalid = malformed | (~missing & ~np.isfinite(values))
    values[invalid] = np.nan
    return numeric.NumericColumn(values=values, missing=missing, invalid=invalid)


_CELLS = [
    "1", "2.5", " 3 ", "", "NA", "nan", "NaN", "-nan", "inf", "-inf", "1e400", "abc", "  ",
    "-", "?", "+7", ".5", "1.", "0x10", "1,5", "None", "#N/A", "1e-400", "-0", None,
    "\t4\n", "12 kg", "Infinity", "0001",
]  # fmt: skip


def test_to_numeric_keeps_its_semantics_on_every_kind_of_cell() -> None:
    rng = random.Random(0)
    for _ in range(1500):
        pool = rng.sample(_CELLS, rng.randint(1, len(_CELLS)))
        cells = [rng.choice(pool) for _ in range(rng.randint(0, 12))]
        cut = rng.randint(0, len(cells))
        plain = pa.array(cells, pa.string())
        expected = _reference_to_numeric(plain)
        for column in (
            plain,
            pa.array(cells, pa.large_string()),
            plain.dictionary_encode(),
            pa.chunked_array([cells[:cut], cells[cut:]], pa.string()),
        ):
            got = numeric.to_numeric(column)
            assert np.array_equal(got.values, expected.values, equal_nan=True), cells
            assert np.array_equal(got.missing, expected.missing), cells
            assert np.array_equal(got.invalid, expected.invalid), cells
            reading = numeric.read_column(column)
            if expected.all_numbers:
                assert isinstance(reading, numeric.NumericColumn), cells
                assert np.array_equal(reading.values, expected.values, equal_nan=True)
                assert np.array_equal(reading.missing, expected.missing)
                assert not reading.invalid.any()
            else:
                assert isinstance(reading, numeric.TextCells), cells
                assert np.array_equal(reading.missing, expected.missing)


def test_to_numeric_of_long_columns_takes_the_same_paths() -> None:
    plain = [str(i) for i in range(3000)]
    for cells in (plain, plain + [" 5"], plain + ["NA"], plain + ["x"], ["x"] + plain):
        expected = _reference_to_numeric(pa.array(cells))
        got = numeric.to_numeric(pa.array(cells))
        assert np.array_equal(got.values, expected.values, equal_nan=True)
        assert np.array_equal(got.invalid, expected.invalid)
    with pytest.raises(TypeError):
        numeric.read_column(pa.array([1, 2]))
