"""A seeded generator of customers with planted segments: bundled data, tests and benchmarks.

Each planted segment is a Gaussian blob (independent features) around a documented centre, clipped
to the valid ranges and rounded the way the real columns are (whole years, whole scores and
purchases, income to 0.1 k$). The blobs are far apart relative to their spread, so K-Means on
standardised features recovers them and the silhouette clearly peaks at the planted k. Segment
sizes follow fixed shares, split exactly by largest remainder for any n, so every planted segment
has a distinct size and the canonical order (largest first) is the order below.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd


@dataclass(frozen=True)
class PlantedSegment:
    """One planted segment: its share of customers and per-feature mean and standard deviation."""

    label: str
    share: float
    age: tuple[float, float]
    annual_income: tuple[float, float]
    spending_score: tuple[float, float]
    purchase_frequency: tuple[float, float]


#: The planted segments, largest first. Documented in data/README.md.
PLANTED_SEGMENTS: tuple[PlantedSegment, ...] = (
    PlantedSegment(
        "Young, modest income, big spenders, very frequent",
        0.26,
        (25, 3),
        (40, 6),
        (82, 5),
        (38, 3),
    ),
    PlantedSegment("Affluent big spenders", 0.23, (38, 4), (118, 8), (80, 5), (25, 3)),
    PlantedSegment(
        "Well-off, older, thrifty and occasional", 0.20, (55, 4), (100, 8), (15, 5), (8, 2)
    ),
    PlantedSegment("Seniors on a budget, rare buyers", 0.17, (72, 4), (30, 5), (25, 5), (4, 2)),
    PlantedSegment("Middle of the road", 0.14, (45, 4), (70, 6), (50, 5), (16, 2)),
)

#: (column, low, high, decimals) of the generated columns: the bundled data's documented ranges.
_COLUMNS: tuple[tuple[str, float, float, int], ...] = (
    ("age", 18, 100, 0),
    ("annual_income", 15, 150, 1),
    ("spending_score", 1, 100, 0),
    ("purchase_frequency", 1, 50, 0),
)


@dataclass(frozen=True)
class GeneratedCustomers:
    """Generated customers plus the planted segment (index into PLANTED_SEGMENTS) of each row."""

    frame: pd.DataFrame  # customer_id, age, annual_income, spending_score, purchase_frequency
    planted: npt.NDArray[np.int64]  # shape (n,)


def segment_sizes(n: int, shares: tuple[float, ...]) -> list[int]:
    """Split ``n`` by ``shares`` exactly (largest remainder; ties to the earlier segment)."""
    raw = [n * s / sum(shares) for s in shares]
    sizes = [int(r) for r in raw]
    by_remainder = sorted(range(len(shares)), key=lambda i: (-(raw[i] - sizes[i]), i))
    for i in by_remainder[: n - sum(sizes)]:
        sizes[i] += 1
    return sizes


def generate_customers(
    n: int, seed: int = 42, segments: tuple[PlantedSegment, ...] = PLANTED_SEGMENTS
) -> GeneratedCustomers:
    """``n`` customers drawn from the planted segments, seeded (same seed, same rows).

    Rows are shuffled so segments interleave; ``customer_id`` runs 1..n.
    """
    if n < 1:
        raise ValueError(f"n={n} should be >= 1")
    rng = np.random.default_rng(seed)
    sizes = segment_sizes(n, tuple(s.share for s in segments))
    planted = np.repeat(np.arange(len(segments), dtype=np.int64), sizes)
    means = np.array(
        [
            [s.age[0], s.annual_income[0], s.spending_score[0], s.purchase_frequency[0]]
            for s in segments
        ]
    )
    stds = np.array(
        [
            [s.age[1], s.annual_income[1], s.spending_score[1], s.purchase_frequency[1]]
            for s in segments
        ]
    )
    values = means[planted] + stds[planted] * rng.standard_normal((n, len(_COLUMNS)))
    order = rng.permutation(n)
    values, planted = values[order], planted[order]

    data: dict[str, npt.NDArray[np.generic]] = {"customer_id": np.arange(1, n + 1, dtype=np.int64)}
    for j, (column, low, high, decimals) in enumerate(_COLUMNS):
        col = np.clip(np.round(values[:, j], decimals), low, high)
        data[column] = col.astype(np.int64) if decimals == 0 else col
    return GeneratedCustomers(frame=pd.DataFrame(data), planted=planted)
