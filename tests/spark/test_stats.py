"""Exact medians on Spark are numpy's medians, bit for bit, whatever the groups hold."""

from __future__ import annotations

import numpy as np
import pytest

from segmentation_core.spark import stats


@pytest.mark.parametrize("margin", [stats.MARGIN, 1e-9])  # 1e-9: every bracket misses, widened
def test_medians_are_numpys(spark: object, monkeypatch: pytest.MonkeyPatch, margin: float) -> None:
    from pyspark.sql import functions as F

    monkeypatch.setattr(stats, "MARGIN", margin)
    monkeypatch.setattr(stats, "WIDEN", 1e12)  # a missed bracket becomes a wide one at once
    rng = np.random.default_rng(5)
    groups = {
        0: rng.normal(50, 10, 5001),  # odd count
        1: rng.normal(-3, 1, 4000),  # even: the mean of the two middle values
        2: rng.integers(0, 4, 3000).astype(float),  # heavy ties
        3: np.array([7.0]),  # one value
        4: np.array([1.0, 2.0]),  # two values
        # 5: no rows at all
    }
    rows = [(g, float(v), float(v) * -2.0 if i % 7 else None) for g, values in groups.items()
            for i, v in enumerate(values)]
    frame = spark.createDataFrame(rows, "g int, a double, b double")  # type: ignore[attr-defined]
    got = stats.exact_medians(frame, [F.col("a"), F.col("b")], F.col("g"), 6)
    for g, values in groups.items():
        b = values * -2.0
        b = b[np.arange(len(values)) % 7 != 0]
        assert got[g, 0] == np.median(values), g
        assert (np.isnan(got[g, 1]) and b.size == 0) or got[g, 1] == np.median(b), g
    assert np.isnan(got[5]).all()
    ungrouped = stats.exact_medians(frame, [F.col("a")])
    assert ungrouped[0, 0] == np.median(np.concatenate(list(groups.values())))
