"""Per-segment profiles: size, share and statistics of every feature, in the data's units."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from segmentation_core.features import FeatureSpec
from segmentation_core.results import ClusterProfile, FeatureStats


def build_profiles(
    X: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
    centres: npt.NDArray[np.float64],
    names: list[str],
    spec: FeatureSpec,
) -> tuple[ClusterProfile, ...]:
    """One profile per segment id 0..k-1.

    ``std`` is the population standard deviation (ddof=0) of the segment, so a one-customer
    segment reports 0 rather than NaN. Rows are grouped with one stable sort, so a million rows
    cost one pass rather than k boolean masks.
    """
    k = centres.shape[0]
    n = X.shape[0]
    order = np.argsort(labels, kind="stable")
    grouped = X[order]
    bounds = np.concatenate(([0], np.cumsum(np.bincount(labels, minlength=k))))
    profiles = []
    for cid in range(k):
        rows = grouped[bounds[cid] : bounds[cid + 1]]
        size = int(rows.shape[0])
        stats = tuple(
            FeatureStats(
                feature=column,
                mean=float(rows[:, j].mean()),
                median=float(np.median(rows[:, j])),
                min=float(rows[:, j].min()),
                max=float(rows[:, j].max()),
                std=float(rows[:, j].std()),
            )
            for j, column in enumerate(spec.columns)
        )
        profiles.append(
            ClusterProfile(
                cluster_id=cid,
                name=names[cid],
                size=size,
                share=size / n,
                features=stats,
                centre=tuple(float(v) for v in centres[cid]),
            )
        )
    return tuple(profiles)
