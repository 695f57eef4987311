"""Results that cross layer boundaries: frozen dataclasses, never loose dicts.

Feature values in profiles are in the data's own units (not scaled). ``cluster_id`` values run
0..k-1 in canonical order: largest segment first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from segmentation_core.enums import ColumnRole, Direction, MissingValues, TrainingStage, Transform
from segmentation_core.features import FeatureSpec


@dataclass(frozen=True)
class ElbowPoint:
    """Inertia (within-segment sum of squares, scaled space) and silhouette for one k.

    ``smallest_share`` is the share of the smallest segment of that k's fit; ``eligible`` is False
    when it is below the training's minimum segment share (automatic k never picks such a k).
    """

    k: int
    inertia: float
    silhouette: float
    smallest_share: float = 1.0
    eligible: bool = True


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
class SegmentDriver:
    """How far a segment's mean lies from the population's on one feature, in the model's space.

    ``z_score`` = (segment mean - population mean) / population std of the (transformed) feature.
    """

    feature: str
    z_score: float
    direction: Direction


@dataclass(frozen=True)
class CategoryShare:
    """One value of a categorical column inside one segment.

    ``share`` is the value's fraction of the segment's customers; ``lift`` = share / the value's
    fraction of all training customers (above 1: over-represented in the segment).
    """

    column: str
    value: str
    share: float
    lift: float


@dataclass(frozen=True)
class ClusterProfile:
    """One segment: its canonical id, descriptive name, size, share and per-feature statistics.

    ``drivers`` lists every feature, largest absolute z-score first; ``categories`` every value of
    every categorical column of the training dataset; ``stability`` is the segment's mean
    bootstrap Jaccard similarity (None when stability was not computed).
    """

    cluster_id: int
    name: str
    size: int
    share: float
    features: tuple[FeatureStats, ...]
    centre: tuple[float, ...]  # the K-Means centre, back in the data's units, in spec order
    drivers: tuple[SegmentDriver, ...] = ()
    categories: tuple[CategoryShare, ...] = ()
    stability: float | None = None


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
class FeatureChoice:
    """One feature a training asks for: a NUMERIC column and its transform (AUTO by default)."""

    column: str
    transform: Transform = Transform.AUTO


@dataclass(frozen=True)
class TrainingParams:
    """What a training asked for: a fixed ``k``, or k_min..k_max chosen by silhouette, and the
    recipe: ``features`` (None: the dataset's default), the missing-value policy and the smallest
    segment share automatic k accepts."""

    k_min: int = 2
    k_max: int = 10
    k: int | None = None
    random_state: int = 42
    features: tuple[FeatureChoice, ...] | None = None
    missing_values: MissingValues = MissingValues.DROP
    min_segment_share: float = 0.02


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
    dataset_id: str = ""
    dataset_name: str = ""
    engine: str = "local"  # "local" or "spark"
    source: str | None = None  # the file or URI trained on
    missing_values: MissingValues = MissingValues.DROP
    min_segment_share: float = 0.02
    stability: float | None = None  # mean bootstrap adjusted Rand index, 0..1
    rows_dropped: int = 0  # rows left out for a missing feature (DROP)
    notes: tuple[str, ...] = ()  # what a user should know, e.g. why this k was taken


@dataclass(frozen=True)
class ModelRecord:
    """A stored version as the registry lists it: its info, its features, whether it is active."""

    info: ModelInfo
    spec: FeatureSpec
    active: bool


# -- datasets ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueCount:
    """How often a value occurs in a column."""

    value: str
    count: int


@dataclass(frozen=True)
class ColumnSummary:
    """One column of a dataset: its role and what it holds.

    The numeric statistics are over the non-missing values and set for NUMERIC columns only
    (``std`` with ddof=1, ``skewness`` the adjusted Fisher-Pearson coefficient, as pandas
    computes them). ``suggested_transform`` is LOG when min >= 0 and skewness > 1, else NONE.
    ``top_values`` (CATEGORICAL only) lists up to 10 values, most frequent first. ``histogram``
    (NUMERIC only) counts the values in equal-width bins from ``min`` to ``max``.
    """

    name: str
    role: ColumnRole
    missing: int
    distinct: int
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    median: float | None = None
    std: float | None = None
    skewness: float | None = None
    suggested_transform: Transform = Transform.NONE
    top_values: tuple[ValueCount, ...] = ()
    histogram: tuple[int, ...] = ()
    integer: bool = False  # every non-missing value is a whole number


@dataclass(frozen=True)
class DatasetInfo:
    """An imported dataset. ``id`` comes from the file's bytes: the same bytes, the same id."""

    id: str
    name: str
    rows: int
    bytes: int  # size of the imported file
    created_at: str  # ISO 8601, UTC
    bundled: bool
    columns: tuple[ColumnSummary, ...]
    format: str  # "csv" or "parquet"
    sha256: str

    def column(self, name: str) -> ColumnSummary:
        """The column called ``name``; KeyError if the dataset has none."""
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


@dataclass(frozen=True)
class ImportResult:
    """A dataset import: the dataset, and whether the same bytes had been imported before."""

    dataset: DatasetInfo
    already_present: bool


# -- registry, scoring and progress ------------------------------------------------------------


@dataclass(frozen=True)
class SegmentFlow:
    """Customers in segment ``from`` of model a and segment ``to`` of model b."""

    from_cluster_id: int
    from_name: str
    to_cluster_id: int
    to_name: str
    customers: int


@dataclass(frozen=True)
class ModelComparison:
    """Two models on the same customers: their agreement and how customers move between them."""

    a: str  # version
    b: str
    dataset_id: str
    customers: int  # rows both models could score
    adjusted_rand_index: float
    flows: tuple[SegmentFlow, ...]  # the non-zero cells of the a x b table


@dataclass(frozen=True)
class SegmentCount:
    """How many scored customers fell into one segment."""

    cluster_id: int
    segment_name: str
    customers: int


@dataclass(frozen=True)
class ScoreSummary:
    """What a bulk scoring wrote: rows read, rows scored, customers per segment."""

    version: str
    rows: int
    scored_rows: int
    segments: tuple[SegmentCount, ...]


@dataclass(frozen=True)
class TrainingStatus:
    """Where a running training is: its stage and progress within the stage."""

    stage: TrainingStage
    completed: int
    total: int
    started_at: str  # ISO 8601, UTC
    dataset_id: str | None = None
