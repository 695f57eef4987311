"""Per-segment profiles: size, share and statistics of every feature, in the data's units."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from segmentation_core.results import ClusterProfile, FeatureStats

#: Per segment, per feature: the statistics a profile shows.
SegmentFeatureStats = tuple[tuple[FeatureStats, ...], ...]


def segment_feature_stats(
    X: npt.NDArray[np.float64], labels: npt.NDArray[np.int64], k: int, columns: Sequence[str]
) -> tuple[npt.NDArray[np.int64], SegmentFeatureStats]:
    """Rows per segment, and per segment every feature's mean, median, min, max and std (ddof=0)
    over its rows: the aggregates :func:`assemble_profiles` needs (an engine that holds the rows
    elsewhere computes the same ones there)."""
    order = np.argsort(labels, kind="stable")
    grouped = X[order]
    counts = np.bincount(labels, minlength=k)
    bounds = np.concatenate(([0], np.cumsum(counts)))
    stats = []
    for cid in range(k):
        rows = grouped[bounds[cid] : bounds[cid + 1]]
        stats.append(
            tuple(
                FeatureStats(
                    feature=column,
                    mean=float(rows[:, j].mean()),
                    median=float(np.median(rows[:, j])),
                    min=float(rows[:, j].min()),
                    max=float(rows[:, j].max()),
                    std=float(rows[:, j].std()),
                )
                for j, column in enumerate(columns)
            )
        )
    return counts.astype(np.int64), tuple(stats)


def assemble_profiles(
    sizes: npt.NDArray[np.int64],
    stats: SegmentFeatureStats,
    centres: npt.NDArray[np.float64],
    names: Sequence[str],
) -> tuple[ClusterProfile, ...]:
    """The profiles from the per-segment aggregates (shares of the total of ``sizes``)."""
    n = int(sizes.sum())
    return tuple(
        ClusterProfile(
            cluster_id=cid,
            name=names[cid],
            size=int(sizes[cid]),
            share=int(sizes[cid]) / n,
            features=stats[cid],
            centre=tuple(float(v) for v in centres[cid]),
        )
        for cid in range(centres.shape[0])
    )
