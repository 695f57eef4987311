"""Results that cross layer boundaries: frozen dataclasses, never loose dicts.

Feature values in profiles are in the data's own units (not scaled). ``cluster_id`` values run
0..k-1 in canonical order: largest segment first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt


@dataclass(frozen=True)
class ElbowPoint:
    """Inertia (within-segment sum of squares, scaled space) and silhouette for one k."""

    k: int
    inertia: float
    silhouette: float


@dataclass(frozen=True)
class ElbowReport:
    """The candidate scan: the chosen k (best silhouette), the knee of inertia, every point."""

    optimal_k: int
    elbow_k: int | None
    points: tuple[ElbowPoint, ...]


@dataclass(frozen=True)
class FeatureStats:
    """Summary of one feature inside one segment, in the feature's own units."""

    feature: str
    mean: float
    median: float
    min: float
    max: float
    std: float


@dataclass(frozen=True)
class ClusterProfile:
    """One segment: its canonical id, descriptive name, size, share and per-feature statistics."""

    cluster_id: int
    name: str
    size: int
    share: float
    features: tuple[FeatureStats, ...]
    centre: tuple[float, ...]  # the K-Means centre, back in the data's units, in spec order


@dataclass(frozen=True)
class SegmentProbability:
    """How likely a customer belongs to one segment."""

    cluster_id: int
    segment_name: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    """The segment of one customer, how sure the model is, and every segment's probability."""

    cluster_id: int
    segment_name: str
    confidence: float
    probabilities: tuple[SegmentProbability, ...]


@dataclass(frozen=True)
class BatchPrediction:
    """Predictions of many customers as arrays (row i is input row i).

    Kept as arrays so a batch of a million costs no Python objects; ``prediction(i)`` builds the
    object view of one row when a caller needs it.
    """

    cluster_ids: npt.NDArray[np.int64]  # shape (n,)
    confidence: npt.NDArray[np.float64]  # shape (n,)
    probabilities: npt.NDArray[np.float64]  # shape (n, k), rows sum to 1
    segment_names: tuple[str, ...]  # indexed by cluster id

    def __len__(self) -> int:
        return int(self.cluster_ids.shape[0])

    def prediction(self, i: int) -> Prediction:
        """The object view of row ``i``."""
        cid = int(self.cluster_ids[i])
        row = self.probabilities[i]
        return Prediction(
            cluster_id=cid,
            segment_name=self.segment_names[cid],
            confidence=float(self.confidence[i]),
            probabilities=tuple(
                SegmentProbability(j, name, float(row[j]))
                for j, name in enumerate(self.segment_names)
            ),
        )


@dataclass(frozen=True)
class TrainingParams:
    """What a training asked for: a fixed ``k``, or k_min..k_max chosen by silhouette."""

    k_min: int = 2
    k_max: int = 10
    k: int | None = None
    random_state: int = 42


@dataclass(frozen=True)
class ModelInfo:
    """Everything known about a trained model except the fitted estimator itself."""

    version: str
    k: int
    silhouette: float
    inertia: float
    n_customers: int
    features: tuple[str, ...]
    trained_at: str  # ISO 8601, UTC
    data_sha256: str
    params: TrainingParams
    elbow: ElbowReport
    profiles: tuple[ClusterProfile, ...]
    library_versions: tuple[tuple[str, str], ...]
