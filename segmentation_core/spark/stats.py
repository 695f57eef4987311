"""Exact medians on Spark without bringing a column to the driver.

``percentile(x, 0.5)`` is exact but keeps a map of every distinct value in ONE aggregation
buffer (millions of distinct doubles do not fit a small executor); ``percentile_approx`` is cheap
but approximate. The local engine's medians are numpy's, exact, and the Spark engine must give
the same numbers (profiles within 1e-6, the recipe's fill values bit for bit). So, per group and
column, in three passes over the data:

1. ``percentile_approx`` at 0.5 - d and 0.5 + d (accuracy :data:`ACCURACY`: rank error at most
   n / ACCURACY, and d = :data:`MARGIN` / ACCURACY) brackets the middle value(s), with the count;
2. one aggregation counts the values below the bracket and the occurrences of each distinct value
   inside it (about 2 n MARGIN / ACCURACY values, ties counted once);
3. on the driver the middle value(s) are found by rank: the median is the middle value, or the
   mean of the two middle values ``(a + b) / 2``, exactly as ``numpy.median`` computes it.

A bracket that misses the middle ranks (it cannot, by the sketch's guarantee, but nothing is
assumed) is widened and the pair computed again; at the widest the bracket is every value.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pyspark.sql import Column, DataFrame, Row
from pyspark.sql import functions as F

#: ``percentile_approx`` accuracy: its rank error is at most n / ACCURACY.
ACCURACY = 10_000
#: Half-width of the bracket around the median's rank, in units of the rank error.
MARGIN = 3.0
#: The bracket grows this much each time it misses.
WIDEN = 30.0


def _lookup(values: Sequence[float], group: Column) -> Column:
    """``values[group]`` as an expression (groups are 0..len-1)."""
    return F.element_at(F.array(*[F.lit(float(v)) for v in values]), group + 1)


@dataclass(frozen=True)
class Brackets:
    """Per group and column: the values' count and a range holding the median(s)."""

    lows: npt.NDArray[np.float64]
    highs: npt.NDArray[np.float64]
    counts: npt.NDArray[np.int64]


def bracket_aggregates(columns: Sequence[Column], half: float = MARGIN / ACCURACY) -> list[Column]:
    """The aggregates of the first pass (count and bracketing quantiles of each column), to be
    computed in any aggregation over the same rows and groups (see :func:`brackets_of`)."""
    out = []
    for j, c in enumerate(columns):
        out.append(F.count(c).alias(f"_median_n{j}"))
        if half < 0.5:
            out.append(
                F.percentile_approx(c, [0.5 - half, 0.5 + half], ACCURACY).alias(f"_median_q{j}")
            )
    return out


def brackets_of(rows: Sequence[tuple[int, Row]], p: int, n_groups: int) -> Brackets:
    """The brackets from the rows of an aggregation that computed :func:`bracket_aggregates`
    (each row with its group)."""
    lows = np.full((n_groups, p), -np.inf)
    highs = np.full((n_groups, p), np.inf)
    counts = np.zeros((n_groups, p), dtype=np.int64)
    for gi, row in rows:
        fields = row.asDict()
        for j in range(p):
            counts[gi, j] = int(fields[f"_median_n{j}"])
            q = fields.get(f"_median_q{j}")
            if q is not None:
                lows[gi, j], highs[gi, j] = float(q[0]), float(q[1])
    return Brackets(lows, highs, counts)


def exact_medians(
    frame: DataFrame,
    columns: Sequence[Column],
    group: Column | None = None,
    n_groups: int = 1,
    *,
    brackets: Brackets | None = None,
) -> npt.NDArray[np.float64]:
    """The exact median of each column's non-null values per group: shape (n_groups, columns),
    NaN where a group has no value. ``group`` is an integer expression 0..n_groups-1 (None: one
    group of every row). ``brackets``: the first pass, when an aggregation over the same rows
    already computed :func:`bracket_aggregates`."""
    g = F.lit(0) if group is None else group
    data = frame.select(
        g.cast("int").alias("g"), *[c.cast("double").alias(f"v{j}") for j, c in enumerate(columns)]
    )
    p = len(columns)
    out = np.full((n_groups, p), np.nan)
    todo = {(gi, j) for gi in range(n_groups) for j in range(p)}
    half = MARGIN / ACCURACY
    while todo:
        if brackets is None:
            values = [F.col(f"v{j}") for j in range(p)]
            rows = data.groupBy("g").agg(*bracket_aggregates(values, half)).collect()
            brackets = brackets_of([(int(r["g"]), r) for r in rows], p, n_groups)
        for gi, j in list(todo):
            if brackets.counts[gi, j] == 0:
                todo.discard((gi, j))
        if not todo:
            break
        ranked = _ranks(data, brackets.lows, brackets.highs, {j for _, j in todo})
        for gi, j in list(todo):
            median = _pick(ranked.get((gi, j)), int(brackets.counts[gi, j]))
            if median is not None:
                out[gi, j] = median
                todo.discard((gi, j))
        if todo and half >= 0.5:
            raise RuntimeError(f"exact median not found for {sorted(todo)}")  # pragma: no cover
        half = min(0.5, half * WIDEN)
        brackets = None
    return out


#: Ranked values of one (group, column): count below the bracket, then (value, count) inside it.
_Ranked = tuple[int, list[tuple[float, int]]]


def _ranks(
    data: DataFrame,
    lows: npt.NDArray[np.float64],
    highs: npt.NDArray[np.float64],
    columns: set[int],
) -> dict[tuple[int, int], _Ranked]:
    """Per (group, column): how many values lie below the bracket, and each distinct value inside
    it with its count. One aggregation for every column."""
    g = F.col("g")
    keyed = []
    for j in sorted(columns):
        v = F.col(f"v{j}")
        low = _lookup(lows[:, j].tolist(), g)
        high = _lookup(highs[:, j].tolist(), g)
        # below the bracket: -inf; above: dropped; inside: the value itself
        key = F.when(v < low, F.lit(float("-inf"))).when(v <= high, v)
        keyed.append(F.struct(F.lit(j).alias("j"), key.alias("x")))
    exploded = data.select(g, F.explode(F.array(*keyed)).alias("e")).select(
        "g", F.col("e.j").alias("j"), F.col("e.x").alias("x")
    )
    counted = exploded.where(F.col("x").isNotNull()).groupBy("g", "j", "x").count()
    below: dict[tuple[int, int], int] = defaultdict(int)
    inside: dict[tuple[int, int], list[tuple[float, int]]] = defaultdict(list)
    for row in counted.collect():
        key2 = (int(row["g"]), int(row["j"]))
        x = float(row["x"])
        if x == float("-inf"):
            below[key2] += int(row["count"])
        else:
            inside[key2].append((x, int(row["count"])))
    return {k: (below[k], sorted(inside[k])) for k in set(below) | set(inside)}


def _pick(ranked: _Ranked | None, n: int) -> float | None:
    """The median from the bracket's ranked values, or None when they miss the middle ranks."""
    if ranked is None:
        return None
    below, values = ranked
    wanted = sorted({(n - 1) // 2, n // 2})
    found: list[float] = []
    position = below
    for value, count in values:
        for rank in wanted:
            if position <= rank < position + count and len(found) < len(wanted):
                found.append(value)
        position += count
    if len(found) < len(wanted):
        return None
    if len(found) == 1:
        return found[0]
    return (found[0] + found[1]) / 2
