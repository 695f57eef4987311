"""Column roles and summaries of a table on Spark, by the contract's rules.

The same rules as the dataset store (``segmentation_core.columns``: IDENTIFIER, NUMERIC,
CATEGORICAL, IGNORED, in that order), computed with aggregations instead of arrays:

1. ONE pass over every column: rows, missing cells, cells that are not numbers, and for columns
   of numbers their count, min, max, mean, variance, skewness, whether all are whole numbers and
   an approximate count of distinct values (HyperLogLog, 5% relative standard deviation).
2. Only where the approximation cannot decide, exact counts: the value counts of text columns
   with few distinct values (at most :data:`EXACT_VALUES`; they decide CATEGORICAL and give the
   top values), and an exact distinct count for the columns that may hold a distinct value on
   every row (identifier candidates).

What comes to the driver is O(columns) numbers and at most :data:`EXACT_VALUES` values per text
column. ``distinct`` is exact for text columns with few values and identifier candidates, and the
HyperLogLog estimate otherwise (the training never uses it). ``median`` and ``histogram`` are
left empty: the training computes exact medians of the features it uses.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from segmentation_core.columns import (
    DATE_PATTERN,
    is_identifier_name,
    suggest_transform,
    text_role,
    top_values,
)
from segmentation_core.enums import ColumnRole
from segmentation_core.recipe import skewness_from_moments
from segmentation_core.results import ColumnSummary
from segmentation_core.spark.reading import col, number_of, number_of_text, trimmed

#: Text columns whose estimated distinct count is at most this get exact value counts. Far
#: above MAX_CATEGORIES, so HyperLogLog's error (5% relative) cannot misplace a column.
EXACT_VALUES = 500
#: A column may have a distinct value on every row when its estimate reaches this share of the
#: rows (five standard deviations of the estimate below every row); it then gets an exact count.
UNIQUE_SHARE = 0.75
#: Relative standard deviation of the distinct-count estimates (Spark's default; at 1% the
#: estimates cost more than the rest of the pass together).
APPROX_RSD = 0.05


@dataclass(frozen=True)
class Moments:
    """A column of numbers over its non-missing cells: what the AUTO rule needs."""

    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None
    m2: float | None  # population variance
    g1: float | None  # biased skewness (Spark's ``skewness``)

    @property
    def skewness(self) -> float | None:
        """The adjusted coefficient, by ``recipe.skewness``'s rule."""
        if self.mean is None or self.m2 is None:
            return None
        return skewness_from_moments(self.count, self.mean, self.m2, self.g1)


@dataclass(frozen=True)
class TableSummary:
    """Every column's summary, in table order, the number of rows, and the numeric moments."""

    rows: int
    columns: tuple[ColumnSummary, ...]
    moments: dict[str, Moments]


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _kind(data_type: T.DataType) -> str:
    if isinstance(data_type, T.StringType):
        return "text"
    if isinstance(
        data_type,
        T.ByteType | T.ShortType | T.IntegerType | T.LongType | T.FloatType | T.DoubleType
        | T.DecimalType,
    ):
        return "number"
    if isinstance(data_type, T.BooleanType):
        return "boolean"
    return "other"


def category_text(column: Column, data_type: T.DataType) -> Column:
    """A column's cells as categorical values, as ``explain.category_codes`` reads them: the
    trimmed text (booleans ``true``/``false``), blank and null cells as ``(missing)``."""
    from segmentation_core.explain import MISSING_VALUE

    text = trimmed(column if isinstance(data_type, T.StringType) else column.cast("string"))
    return F.when(text.isNull() | (text == ""), F.lit(MISSING_VALUE)).otherwise(text)


def summarise(frame: DataFrame) -> TableSummary:
    """Every column's role and summary (see the module doc)."""
    fields = frame.schema.fields
    # Trim each text column once, read the numbers once, then aggregate plain columns: the
    # regular expressions run once per cell instead of once per aggregate.
    trimmed_cells = frame.select(
        *[
            (trimmed(col(f.name)) if _kind(f.dataType) == "text" else col(f.name)).alias(f"_{i}")
            for i, f in enumerate(fields)
        ]
    )
    parsed: list[Column] = []
    for i, field in enumerate(fields):
        kind = _kind(field.dataType)
        c = F.col(f"_{i}")
        if kind in ("text", "number"):
            nc = number_of_text(c) if kind == "text" else number_of(c, field.dataType)
            parsed += [
                nc.value.alias(f"v{i}"),
                nc.missing.alias(f"miss{i}"),
                nc.invalid.alias(f"inv{i}"),
            ]
            if kind == "text":
                parsed.append(F.when(~nc.missing, c).alias(f"p{i}"))
        elif kind == "boolean":
            parsed += [c.isNull().alias(f"miss{i}"), c.alias(f"p{i}")]
        else:
            parsed.append(c.isNull().alias(f"miss{i}"))
    cells = trimmed_cells.select(*parsed)
    aggregates: list[Column] = [F.count(F.lit(1)).alias("rows")]
    for i, field in enumerate(fields):
        kind = _kind(field.dataType)
        aggregates.append(F.sum(F.col(f"miss{i}").cast("long")).alias(f"m{i}"))
        if kind in ("text", "number"):
            v = F.col(f"v{i}")
            aggregates += [
                F.sum(F.col(f"inv{i}").cast("long")).alias(f"x{i}"),
                F.count(v).alias(f"n{i}"),
                F.min(v).alias(f"lo{i}"),
                F.max(v).alias(f"hi{i}"),
                F.avg(v).alias(f"mean{i}"),
                F.var_pop(v).alias(f"var{i}"),
                F.skewness(v).alias(f"g1{i}"),
                F.sum((v != F.floor(v)).cast("long")).alias(f"frac{i}"),
                F.approx_count_distinct(v, APPROX_RSD).alias(f"dv{i}"),
            ]
        if kind in ("text", "boolean"):
            aggregates.append(F.approx_count_distinct(f"p{i}", APPROX_RSD).alias(f"dt{i}"))
    first = cells.agg(*aggregates).collect()[0].asDict()
    rows = int(first["rows"])

    summaries: list[ColumnSummary | None] = [None] * len(fields)
    moments: dict[str, Moments] = {}
    exact_values: list[int] = []  # text columns whose value counts decide
    unique_candidates: list[int] = []  # columns that may be distinct on every row
    for i, field in enumerate(fields):
        kind = _kind(field.dataType)
        missing = int(first[f"m{i}"] or 0)
        if kind == "other":
            summaries[i] = ColumnSummary(field.name, ColumnRole.IGNORED, missing, 0)
            continue
        if kind in ("text", "number"):
            invalid = int(first[f"x{i}"] or 0)
            count = int(first[f"n{i}"] or 0)
            if invalid == 0:
                if count == 0:
                    summaries[i] = ColumnSummary(field.name, ColumnRole.IGNORED, missing, 0)
                    continue
                moments[field.name] = Moments(
                    count,
                    _number(first[f"lo{i}"]),
                    _number(first[f"hi{i}"]),
                    _number(first[f"mean{i}"]),
                    _number(first[f"var{i}"]),
                    _number(first[f"g1{i}"]),
                )
                integer = int(first[f"frac{i}"] or 0) == 0
                distinct = int(first[f"dv{i}"])
                m = moments[field.name]
                span = (m.maximum or 0.0) - (m.minimum or 0.0) + 1
                if (
                    integer
                    and missing == 0
                    and is_identifier_name(field.name)
                    and distinct >= UNIQUE_SHARE * rows
                    and span >= rows  # fewer whole numbers in the range than rows: repeats
                ):
                    unique_candidates.append(i)
                    continue
                summaries[i] = _numeric(field.name, first, i, missing, distinct, moments)
                continue
            if kind == "number":  # infinities: not numbers, not text
                summaries[i] = ColumnSummary(
                    field.name, ColumnRole.IGNORED, missing, int(first[f"dv{i}"])
                )
                continue
        distinct = int(first[f"dt{i}"])
        if distinct <= EXACT_VALUES:
            exact_values.append(i)
        elif kind == "text" and missing == 0 and distinct >= UNIQUE_SHARE * rows:
            unique_candidates.append(i)
        else:
            summaries[i] = ColumnSummary(field.name, ColumnRole.IGNORED, missing, distinct)

    if exact_values:
        counts = _value_counts(frame, [fields[i] for i in exact_values])
        for i in exact_values:
            summaries[i] = _text(fields[i], counts[fields[i].name], rows, int(first[f"m{i}"] or 0))
    if unique_candidates:
        exact = _exact_distinct(frame, [fields[i] for i in unique_candidates])
        for i in unique_candidates:
            field = fields[i]
            distinct, all_dates = exact[field.name]
            missing = int(first[f"m{i}"] or 0)
            if field.name in moments:  # whole numbers named ..._id
                if distinct == rows:
                    summaries[i] = ColumnSummary(
                        field.name, ColumnRole.IDENTIFIER, 0, distinct, integer=True
                    )
                else:
                    summaries[i] = _numeric(field.name, first, i, missing, distinct, moments)
            else:
                unique = distinct == rows
                role = ColumnRole.IDENTIFIER if unique and not all_dates else ColumnRole.IGNORED
                summaries[i] = ColumnSummary(field.name, role, missing, distinct)
    done = tuple(s for s in summaries if s is not None)
    numeric = {s.name for s in done if s.role is ColumnRole.NUMERIC}
    moments = {name: m for name, m in moments.items() if name in numeric}
    return TableSummary(rows, done, moments)


def _numeric(
    name: str,
    first: dict[str, Any],
    i: int,
    missing: int,
    distinct: int,
    moments: dict[str, Moments],
) -> ColumnSummary:
    m = moments[name]
    skewness = m.skewness
    suggested = suggest_transform(m.minimum if m.minimum is not None else 0.0, skewness)
    return ColumnSummary(
        name=name,
        role=ColumnRole.NUMERIC,
        missing=missing,
        distinct=distinct,
        min=m.minimum,
        max=m.maximum,
        mean=m.mean,
        std=_sample_std(m),
        skewness=skewness,
        suggested_transform=suggested,
        integer=int(first[f"frac{i}"] or 0) == 0,
    )


def _sample_std(m: Moments) -> float | None:
    """The sample standard deviation (ddof=1) from the population variance."""
    if m.m2 is None or m.count < 2:
        return None
    return math.sqrt(m.m2 * m.count / (m.count - 1))


def _value_counts(
    frame: DataFrame, fields: list[T.StructField]
) -> dict[str, list[tuple[str, int]]]:
    """The exact counts of the present (trimmed) values of text or boolean columns with few
    distinct values: ONE aggregation for all of them."""
    pairs = []
    for i, field in enumerate(fields):
        c = col(field.name)
        if isinstance(field.dataType, T.StringType):
            value = F.when(~number_of(c, field.dataType).missing, trimmed(c))
        else:  # booleans read as text
            value = c.cast("string")
        pairs.append(F.struct(F.lit(i).alias("i"), value.alias("v")))
    counted = (
        frame.select(F.explode(F.array(*pairs)).alias("e"))
        .where(F.col("e.v").isNotNull())
        .groupBy(F.col("e.i").alias("i"), F.col("e.v").alias("v"))
        .count()
        .collect()
    )
    out: dict[str, list[tuple[str, int]]] = {f.name: [] for f in fields}
    for r in counted:
        out[fields[int(r["i"])].name].append((str(r["v"]), int(r["count"])))
    return out


def _text(
    field: T.StructField, counts: list[tuple[str, int]], rows: int, missing: int
) -> ColumnSummary:
    """A text (or boolean) column with few distinct values, from its exact value counts."""
    identifiers = isinstance(field.dataType, T.StringType)  # booleans are never identifiers
    distinct = len(counts)
    unique_rows = identifiers and missing == 0 and distinct == rows
    role = text_role(distinct, unique_rows, lambda: _all_dates([v for v, _ in counts]))
    top = top_values(counts) if role is ColumnRole.CATEGORICAL else ()
    return ColumnSummary(field.name, role, missing, distinct, top_values=top)


def _all_dates(values: list[str]) -> bool:
    pattern = re.compile(DATE_PATTERN, re.ASCII)
    return bool(values) and all(pattern.match(v) for v in values)


def _exact_distinct(
    frame: DataFrame, fields: list[T.StructField]
) -> dict[str, tuple[int, bool]]:
    """Exact distinct count of each column (trimmed text), and whether every value is a date."""
    aggregates: list[Column] = []
    for i, field in enumerate(fields):
        c = col(field.name)
        text = trimmed(c) if isinstance(field.dataType, T.StringType) else c
        aggregates.append(F.count_distinct(text).alias(f"d{i}"))
        if isinstance(field.dataType, T.StringType):
            aggregates.append(F.sum((~text.rlike(DATE_PATTERN)).cast("long")).alias(f"nd{i}"))
    row = frame.agg(*aggregates).collect()[0].asDict()
    return {
        field.name: (int(row[f"d{i}"]), row.get(f"nd{i}") == 0) for i, field in enumerate(fields)
    }
