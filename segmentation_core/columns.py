"""Column roles and summaries of a dataset, by the contract's rules (``ColumnRole``).

Roles, in this order:

1. IDENTIFIER: a text column with a distinct value on every row, or an integer column with a
   distinct value on every row whose name's last word is ``id`` (``id``, ``customer_id``,
   ``CustomerID``, ``user id``). "A distinct value on every row" means no missing cell and as
   many distinct values as rows.
2. NUMERIC: any other column whose cells are all numbers or missing (read by
   :func:`segmentation_core.numeric.read_column`, the same rule as ``to_numeric``), with at
   least one number; a column with no value at all is IGNORED.
3. CATEGORICAL: a text column (some non-missing cell is not a number) with at most
   :data:`MAX_CATEGORIES` distinct values.
4. IGNORED: other text, dates (typed date/time columns of a Parquet file, and text columns whose
   every value reads as a date, such as ``2024-03-01`` or ``01/03/2024 10:15``), and columns
   of other types.

Text is compared trimmed. Booleans of a Parquet file are text ``true``/``false`` (so
CATEGORICAL), never identifiers. Summaries are computed from the arrays the roles needed, so a
column is read once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_core.enums import ColumnRole, Transform
from segmentation_core.features import column_words
from segmentation_core.numeric import (
    NumericColumn,
    is_number_type,
    is_text_type,
    read_column,
    to_numeric,
    trimmed_cells,
)
from segmentation_core.results import ColumnSummary, ValueCount

#: Most distinct values a CATEGORICAL column may have.
MAX_CATEGORIES = 50
#: Values ``top_values`` lists, most frequent first.
TOP_VALUES = 10
#: Equal-width bins of a NUMERIC column's histogram, from its min to its max.
HISTOGRAM_BINS = 12
#: A LOG transform is suggested above this skewness (for columns with min >= 0).
SKEWED = 1.0
#: A whole cell that is a date, with an optional time: ISO ``2024-03-01``, ``2024/03/01``,
#: ``01/03/2024``, ``1.3.24``, ``2024-03-01T10:15:00Z``, ``01/03/2024 10:15 PM``. RE2 syntax.
DATE_PATTERN = (
    r"^(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})"
    r"([T ]\d{1,2}:\d{2}(:\d{2}([.,]\d+)?)?\s*([AaPp][Mm])?\s*(Z|[+-]\d{2}:?\d{2})?)?$"
)
#: Values of a text column checked for dates before all of them are.
_DATE_PROBE = 200
#: First cells of a text column looked at to tell text from numbers.
_HEAD_CELLS = 1024


def summarise(table: pa.Table, *, workers: int = 2) -> tuple[ColumnSummary, ...]:
    """Every column's role and summary, in table order; ``workers`` columns at a time (numpy
    and pyarrow release the GIL for the heavy work)."""
    names = table.column_names

    def one(i: int) -> ColumnSummary:
        return summarise_column(names[i], table.column(i))

    if workers <= 1 or len(names) <= 1:
        return tuple(one(i) for i in range(len(names)))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="summarise") as pool:
        return tuple(pool.map(one, range(len(names))))


def summarise_column(name: str, column: pa.Array | pa.ChunkedArray) -> ColumnSummary:
    """One column's role and summary (see the module's rules)."""
    data_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
    if is_text_type(data_type):
        if not _text_at_head(column):
            reading = read_column(column)
            if isinstance(reading, NumericColumn):
                return _numbers_summary(name, reading)
        return _text_summary(name, column, identifiers=True)
    if is_number_type(data_type):
        numbers = to_numeric(column)
        if numbers.all_numbers:
            return _numbers_summary(name, numbers)
        return _ignored(name, column)  # infinities: not numbers, not text
    if pa.types.is_boolean(data_type):
        return _text_summary(name, pc.cast(column, pa.string()), identifiers=False)
    return _ignored(name, column)


def is_identifier_name(name: str) -> bool:
    """Whether a column's name ends with the word ``id`` (any case)."""
    words = column_words(name)
    return bool(words) and words[-1].lower() == "id"


def _decoded(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _text_at_head(column: pa.Array | pa.ChunkedArray) -> bool:
    """Whether one of the first cells is neither missing nor a finite number: the column is
    text for sure, and is summarised without reading it as numbers."""
    head = _decoded(column.slice(0, _HEAD_CELLS))
    if isinstance(head, pa.ChunkedArray):
        head = head.combine_chunks()
    candidates, missing = trimmed_cells(head)
    try:
        values = np.asarray(
            pc.cast(candidates, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64
        )
    except pa.ArrowInvalid:
        return True
    return not bool(np.isfinite(values[~missing]).all())


def _ignored(name: str, column: pa.Array | pa.ChunkedArray) -> ColumnSummary:
    """A column of another type (dates, binary, nested...): IGNORED, with its counts."""
    try:
        distinct = int(pc.count_distinct(column, mode="only_valid").as_py())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        distinct = len({repr(v) for v in column.to_pylist() if v is not None})
    return ColumnSummary(
        name=name, role=ColumnRole.IGNORED, missing=int(column.null_count), distinct=distinct
    )


def _text_summary(
    name: str, column: pa.Array | pa.ChunkedArray, *, identifiers: bool
) -> ColumnSummary:
    """A column that is not all numbers, from one count of its distinct cells: each distinct
    cell is trimmed and checked for a missing marker once, not once per row."""
    n = len(column)
    counts = pc.value_counts(_decoded(column))
    raw = counts.field("values")
    tallies = np.asarray(counts.field("counts").to_numpy(zero_copy_only=False), dtype=np.int64)
    trimmed, missing = trimmed_cells(raw)
    n_missing = int(tallies[missing].sum())
    keep = ~missing
    values = trimmed.filter(pa.array(keep))
    tallies = tallies[keep]
    if not pc.all(pc.equal(values, raw.filter(pa.array(keep)))).as_py():
        # cells that differ only by surrounding spaces are one value
        merged = (
            pa.table({"value": values, "count": tallies})
            .group_by("value")
            .aggregate([("count", "sum")])
        )
        values = merged.column("value").combine_chunks()
        tallies = np.asarray(merged.column("count_sum").to_numpy(), dtype=np.int64)
    distinct = len(values)
    unique_rows = identifiers and n_missing == 0 and distinct == n
    role = text_role(distinct, unique_rows, lambda: _all_dates(values))
    top: tuple[ValueCount, ...] = ()
    if role is ColumnRole.CATEGORICAL:
        top = top_values(zip(values.to_pylist(), tallies.tolist(), strict=True))
    return ColumnSummary(name=name, role=role, missing=n_missing, distinct=distinct, top_values=top)


def text_role(distinct: int, unique_rows: bool, all_dates: Callable[[], bool]) -> ColumnRole:
    """The role of a text column from its distinct values (the contract's rules): IGNORED when
    it has no value, is free text (more than MAX_CATEGORIES values, not one per row) or holds
    only dates (``all_dates`` is asked only then); IDENTIFIER when every row has its own value;
    else CATEGORICAL. The Spark engine decides with the same function."""
    if distinct == 0 or (distinct > MAX_CATEGORIES and not unique_rows):
        return ColumnRole.IGNORED
    if all_dates():
        return ColumnRole.IGNORED
    return ColumnRole.IDENTIFIER if unique_rows else ColumnRole.CATEGORICAL


def top_values(counts: Iterable[tuple[Any, int]]) -> tuple[ValueCount, ...]:
    """The TOP_VALUES most frequent values of ``(value, count)`` pairs, ties by value."""
    ranked = sorted(counts, key=lambda vc: (-vc[1], vc[0]))
    return tuple(ValueCount(value=str(v), count=int(c)) for v, c in ranked[:TOP_VALUES])


def _all_dates(values: pa.Array) -> bool:
    """Whether every one of these distinct values reads as a date (a few are tried first)."""
    if len(values) == 0:
        return False
    probe = values.slice(0, _DATE_PROBE)
    if not pc.all(pc.match_substring_regex(probe, DATE_PATTERN)).as_py():
        return False
    return bool(pc.all(pc.match_substring_regex(values, DATE_PATTERN)).as_py())


def _numbers_summary(name: str, numbers: NumericColumn) -> ColumnSummary:
    n = len(numbers.values)
    missing = int(np.count_nonzero(numbers.missing))
    usable = numbers.values[~numbers.missing] if missing else numbers.values
    if len(usable) == 0:
        return ColumnSummary(name=name, role=ColumnRole.IGNORED, missing=missing, distinct=0)
    integer = bool(np.all(usable == np.floor(usable)))
    lo, hi = float(usable.min()), float(usable.max())
    could_be_id = integer and missing == 0 and is_identifier_name(name)
    if could_be_id and _strictly_monotonic(usable):
        # ids in file order: distinct on every row without counting them
        return ColumnSummary(
            name=name, role=ColumnRole.IDENTIFIER, missing=0, distinct=n, integer=True
        )
    tallies: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None
    if integer and hi - lo < _TALLY_SPAN_PER_ROW * len(usable) + _TALLY_SPAN:
        # whole numbers in a narrow range (ages, scores, counts): count each value once, then
        # every statistic comes from the (value, count) pairs
        tallies = _tally(usable, lo)
        distinct = len(tallies[0])
    else:
        distinct = _distinct(usable)
    if could_be_id and distinct == n:
        return ColumnSummary(
            name=name, role=ColumnRole.IDENTIFIER, missing=0, distinct=distinct, integer=True
        )
    with np.errstate(over="ignore", invalid="ignore"):  # overflows end as None (_Stats)
        if tallies is None:
            stats = _stats_of_values(usable, lo, hi)  # reorders ``usable`` (not needed after)
        else:
            stats = _stats_of_tallies(*tallies, lo, hi)
    return ColumnSummary(
        name=name,
        role=ColumnRole.NUMERIC,
        missing=missing,
        distinct=distinct,
        min=lo,
        max=hi,
        mean=stats.mean,
        median=stats.median,
        std=stats.std,
        skewness=stats.skewness,
        suggested_transform=suggest_transform(lo, stats.skewness),
        histogram=stats.histogram,
        integer=integer,
    )


#: Whole-number columns whose range is narrower than this many times their count (plus
#: :data:`_TALLY_SPAN`) are summarised from per-value tallies.
_TALLY_SPAN_PER_ROW = 4
_TALLY_SPAN = 1024


@dataclass(frozen=True)
class _Stats:
    mean: float | None
    median: float | None
    std: float | None
    skewness: float | None
    histogram: tuple[int, ...]

    def __post_init__(self) -> None:
        # numbers near the float limits can overflow a sum: no statistic rather than inf
        for field in ("mean", "median", "std", "skewness"):
            value = getattr(self, field)
            if value is not None and not math.isfinite(value):
                object.__setattr__(self, field, None)


def _strictly_monotonic(values: npt.NDArray[np.float64]) -> bool:
    """Whether the values strictly increase or strictly decrease (so all are distinct)."""
    if len(values) < 2:
        return True
    if values[1] > values[0]:
        return bool(np.all(values[1:] > values[:-1]))
    if values[1] < values[0]:
        return bool(np.all(values[1:] < values[:-1]))
    return False


def _distinct(values: npt.NDArray[np.float64]) -> int:
    """Distinct numbers among values without NaN (``0.0`` and ``-0.0`` are one)."""
    if _strictly_monotonic(values):
        return len(values)
    return int(pc.count_distinct(pa.array(values + 0.0)).as_py())


def _tally(
    values: npt.NDArray[np.float64], lo: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The distinct whole numbers (ascending) and how often each occurs."""
    counts = np.bincount((values - lo).astype(np.int64))
    offsets = np.flatnonzero(counts)
    return lo + offsets.astype(np.float64), counts[offsets].astype(np.float64)


def _stats_of_values(values: npt.NDArray[np.float64], lo: float, hi: float) -> _Stats:
    """Statistics of values without NaN. Reorders ``values`` (the median is taken in place)."""
    n = len(values)
    mean = float(values.mean())
    deviations = values - mean
    squared = deviations * deviations
    sum_squares = float(squared.sum())
    sum_cubes = float(np.dot(squared, deviations))
    del deviations, squared
    counts = histogram(values, lo, hi)
    return _Stats(
        mean=mean,
        median=float(np.median(values, overwrite_input=True)),
        std=math.sqrt(sum_squares / (n - 1)) if n >= 2 else None,
        skewness=None if lo == hi else _adjusted_skew(sum_squares / n, sum_cubes / n, n),
        histogram=counts,
    )


def _stats_of_tallies(
    points: npt.NDArray[np.float64], weights: npt.NDArray[np.float64], lo: float, hi: float
) -> _Stats:
    """The same statistics from distinct values and their counts."""
    n = int(weights.sum())
    mean = float(np.dot(points, weights)) / n
    deviations = points - mean
    squared = deviations * deviations
    sum_squares = float(np.dot(squared, weights))
    sum_cubes = float(np.dot(squared * deviations, weights))
    cumulative = np.cumsum(weights)
    low = points[np.searchsorted(cumulative, (n - 1) // 2, side="right")]
    high = points[np.searchsorted(cumulative, n // 2, side="right")]
    return _Stats(
        mean=mean,
        median=(float(low) + float(high)) / 2,
        std=math.sqrt(sum_squares / (n - 1)) if n >= 2 else None,
        skewness=None if lo == hi else _adjusted_skew(sum_squares / n, sum_cubes / n, n),
        histogram=histogram(points, lo, hi, weights),
    )


def _adjusted_skew(m2: float, m3: float, n: int) -> float | None:
    """The adjusted Fisher-Pearson coefficient from the central moments m2 and m3."""
    if n < 3 or m2 <= 0.0:
        return None
    result = m3 / m2**1.5 * math.sqrt(n * (n - 1)) / (n - 2)
    return result if math.isfinite(result) else None


def skew(values: npt.NDArray[np.float64]) -> float | None:
    """The adjusted Fisher-Pearson skewness of values without NaN (what pandas
    ``Series.skew()`` computes); None with fewer than 3 values or no spread."""
    if len(values) < 3:
        return None
    lo, hi = float(values.min()), float(values.max())
    return _stats_of_values(values.copy(), lo, hi).skewness


def suggest_transform(minimum: float, skewness: float | None) -> Transform:
    """LOG for a non-negative column skewed above :data:`SKEWED`, else NONE."""
    if minimum >= 0 and skewness is not None and skewness > SKEWED:
        return Transform.LOG
    return Transform.NONE


def histogram(
    values: npt.NDArray[np.float64],
    lo: float,
    hi: float,
    weights: npt.NDArray[np.float64] | None = None,
) -> tuple[int, ...]:
    """Counts in :data:`HISTOGRAM_BINS` equal-width bins from ``lo`` to ``hi``: value v falls
    in bin floor((v - lo) / width), ``hi`` in the last one; every value in the first bin when
    ``lo == hi``. ``weights`` counts each value that many times."""
    if len(values) == 0:
        return ()
    if lo == hi:
        total = len(values) if weights is None else int(weights.sum())
        return (total,) + (0,) * (HISTOGRAM_BINS - 1)
    if math.isfinite(hi - lo):
        scaled = values - lo
        scaled *= HISTOGRAM_BINS / (hi - lo)
    else:  # a range wider than the largest float: halve everything first
        scaled = values / 2 - lo / 2
        scaled *= HISTOGRAM_BINS / (hi / 2 - lo / 2)
    bins = scaled.astype(np.intp)
    np.minimum(bins, HISTOGRAM_BINS - 1, out=bins)
    counts = np.bincount(bins, weights=weights, minlength=HISTOGRAM_BINS)
    return tuple(int(round(c)) for c in counts)


def numeric_columns(summaries: Iterable[ColumnSummary]) -> list[str]:
    """The names of the NUMERIC columns, in order."""
    return [s.name for s in summaries if s.role is ColumnRole.NUMERIC]
