"""GraphQL output types. Each maps a core result with ``from_domain`` and holds no logic.

The enums are the core's own StrEnums (their values are the contract's names), registered with
Strawberry as they are, so a core value needs no conversion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from graph_api.context import Info
from segmentation_core import results
from segmentation_core.enums import ColumnRole, Direction, MissingValues, TrainingStage, Transform
from segmentation_core.features import Feature, FeatureSpec

# Registered as they are (Strawberry's way to expose an existing enum); annotations use them.
strawberry.enum(
    Transform,
    description=(
        "How a feature is transformed before scaling: NONE, LOG (log1p, for columns >= 0) or "
        "AUTO (LOG when the column's minimum is >= 0 and its skewness > 1, else NONE; a "
        "trained model only holds NONE or LOG)."
    ),
)
strawberry.enum(
    MissingValues,
    description=(
        "What training and scoring do with a missing feature value: DROP the row (scoring "
        "reports it as not scorable) or fill it with the training MEDIAN."
    ),
)
strawberry.enum(
    ColumnRole,
    description=(
        "What a dataset column is: NUMERIC (only these can be features), CATEGORICAL (text "
        "with at most 50 distinct values), IDENTIFIER (a distinct value on every row) or "
        "IGNORED (other text and dates)."
    ),
)
strawberry.enum(
    Direction,
    description="Whether a segment lies above (HIGHER) or below (LOWER) the population.",
)
strawberry.enum(
    TrainingStage,
    description="The stages of a training, in order: LOADING, SCANNING, FITTING, PROFILING, "
    "STORING.",
)


# -- training progress and health ---------------------------------------------------------------


@strawberry.type(description="Where a running training is: its stage and progress in the stage.")
class TrainingStatus:
    stage: TrainingStage = strawberry.field(description="The current stage.")
    completed: int = strawberry.field(description="Steps of the stage done so far.")
    total: int = strawberry.field(description="Steps the stage has in all.")
    started_at: str = strawberry.field(description="When the training started (ISO 8601, UTC).")
    dataset_id: strawberry.ID | None = strawberry.field(
        description="The dataset being trained on."
    )

    @classmethod
    def from_domain(cls, status: results.TrainingStatus) -> TrainingStatus:
        """Map the core's TrainingStatus."""
        return cls(
            stage=status.stage,
            completed=status.completed,
            total=status.total,
            started_at=status.started_at,
            dataset_id=strawberry.ID(status.dataset_id) if status.dataset_id else None,
        )


@strawberry.type(description="Service health, cheap enough for a status light.")
class Health:
    status: str = strawberry.field(description='"ok" when the API is serving.')
    model_loaded: bool = strawberry.field(description="Whether a trained model is active.")
    model_version: str | None = strawberry.field(
        description="Version of the active model; null before the first training."
    )
    training: TrainingStatus | None = strawberry.field(
        description=(
            "The running training (from any worker process of this model store); null when "
            "none runs."
        )
    )
    training_in_progress: bool = strawberry.field(
        description="Whether a training is running right now (in any worker process)."
    )


# -- models ----------------------------------------------------------------------------------------


@strawberry.type(
    name="FeatureSpec",
    description="One feature of a model: what it means, its transform and its accepted range.",
)
class FeatureSpecInfo:
    name: str = strawberry.field(description="The dataset column the feature reads.")
    label: str = strawberry.field(description="A readable label, e.g. 'Annual income'.")
    unit: str | None = strawberry.field(description="Its unit (e.g. 'k$'); null when unknown.")
    transform: Transform = strawberry.field(description="NONE or LOG, as resolved at training.")
    min: float | None = strawberry.field(
        description="Smallest accepted input value; null = unbounded (a LOG feature has 0)."
    )
    max: float | None = strawberry.field(
        description="Largest accepted input value; null = unbounded."
    )
    training_min: float = strawberry.field(description="Smallest value in the training data.")
    training_max: float = strawberry.field(description="Largest value in the training data.")
    median: float = strawberry.field(
        description="Median of the training data (the fill value under MEDIAN)."
    )

    @classmethod
    def from_domain(cls, feature: Feature,
                    profiles: Sequence[results.ClusterProfile] = ()) -> FeatureSpecInfo:
        """Map one core Feature of a trained model.

        Models stored before version 2 carry no training statistics; their range then comes
        from the segment profiles (exact: the smallest segment minimum, the largest maximum)
        and the median is the size-weighted median of the segment medians (an estimate).
        """
        stats = [(p.size, s) for p in profiles for s in p.features if s.feature == feature.column]
        training_min = feature.training_min
        training_max = feature.training_max
        median = feature.median
        if training_min is None:
            training_min = min((s.min for _, s in stats), default=0.0)
        if training_max is None:
            training_max = max((s.max for _, s in stats), default=0.0)
        if median is None:
            median = _weighted_median([(s.median, size) for size, s in stats])
        return cls(
            name=feature.column,
            label=feature.label,
            unit=feature.unit or None,
            transform=feature.transform,
            min=feature.minimum,
            max=feature.maximum,
            training_min=training_min,
            training_max=training_max,
            median=median,
        )


def _weighted_median(values: list[tuple[float, int]]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    half = sum(w for _, w in ordered) / 2
    seen = 0
    for value, weight in ordered:
        seen += weight
        if seen >= half:
            return value
    return ordered[-1][0]


@strawberry.type(description="A stored model: what it was trained on, how, and how good it is.")
class ModelInfo:
    version: str = strawberry.field(description="Unique per training; sorts by training time.")
    k: int = strawberry.field(description="Number of segments.")
    silhouette: float = strawberry.field(
        description="Mean silhouette of the training customers (-1..1, higher is better separated)."
    )
    inertia: float = strawberry.field(
        description="Within-segment sum of squared distances, in scaled feature space."
    )
    n_customers: int = strawberry.field(description="Number of customers trained on.")
    features: list[str] = strawberry.field(
        description="Feature identifiers (the dataset's column names), in model order."
    )
    trained_at: str = strawberry.field(description="When it was trained (ISO 8601, UTC).")
    active: bool = strawberry.field(description="Whether this is the active model.")
    dataset_id: strawberry.ID = strawberry.field(
        description="The dataset it was trained on (empty for models trained from a file).")
    dataset_name: str = strawberry.field(description="That dataset's name.")
    engine: str = strawberry.field(description='"local" or "spark".')
    source: str | None = strawberry.field(description="The file or URI trained on.")
    feature_specs: list[FeatureSpecInfo] = strawberry.field(
        description="Every feature with its transform and accepted range, in model order."
    )
    missing_values: MissingValues = strawberry.field(
        description="The missing-value policy it was trained (and scores) with."
    )
    min_segment_share: float = strawberry.field(
        description="The smallest segment share automatic k accepted."
    )
    stability: float | None = strawberry.field(
        description=(
            "Mean bootstrap adjusted Rand index (0..1; below about 0.6 the segments are not to "
            "be trusted); null when not computed."
        )
    )
    rows_dropped: int = strawberry.field(
        description="Training rows left out for a missing feature value (DROP)."
    )
    notes: list[str] = strawberry.field(
        description="What a user should know about this training, e.g. why this k was taken."
    )

    @classmethod
    def from_domain(cls, info: results.ModelInfo, spec: FeatureSpec,
                    active: bool) -> ModelInfo:
        """Map the core's ModelInfo with its feature spec and active flag."""
        return cls(
            version=info.version,
            k=info.k,
            silhouette=info.silhouette,
            inertia=info.inertia,
            n_customers=info.n_customers,
            features=list(info.features),
            trained_at=info.trained_at,
            active=active,
            dataset_id=strawberry.ID(info.dataset_id),
            dataset_name=info.dataset_name,
            engine=info.engine,
            source=info.source,
            feature_specs=[FeatureSpecInfo.from_domain(f, info.profiles) for f in spec.features],
            missing_values=info.missing_values,
            min_segment_share=info.min_segment_share,
            stability=info.stability,
            rows_dropped=info.rows_dropped,
            notes=list(info.notes),
        )

    @classmethod
    def from_record(cls, record: results.ModelRecord) -> ModelInfo:
        """Map a registry record (info, spec, active flag)."""
        return cls.from_domain(record.info, record.spec, record.active)


@strawberry.type(description="Summary of one feature inside one segment, in the feature's units.")
class FeatureStats:
    feature: str = strawberry.field(description="Feature identifier (dataset column name).")
    mean: float = strawberry.field(description="Mean value in the segment.")
    median: float = strawberry.field(description="Median value in the segment.")
    min: float = strawberry.field(description="Smallest value in the segment.")
    max: float = strawberry.field(description="Largest value in the segment.")
    std: float = strawberry.field(description="Standard deviation in the segment.")

    @classmethod
    def from_domain(cls, stats: results.FeatureStats) -> FeatureStats:
        """Map the core's FeatureStats."""
        return cls(
            feature=stats.feature,
            mean=stats.mean,
            median=stats.median,
            min=stats.min,
            max=stats.max,
            std=stats.std,
        )


@strawberry.type(description="How far a segment's mean lies from the population's on a feature.")
class SegmentDriver:
    feature: str = strawberry.field(description="Feature identifier (dataset column name).")
    z_score: float = strawberry.field(
        description=(
            "(segment mean - population mean) / population std, in the model's (transformed) "
            "space."
        )
    )
    direction: Direction = strawberry.field(description="HIGHER or LOWER than the population.")

    @classmethod
    def from_domain(cls, driver: results.SegmentDriver) -> SegmentDriver:
        """Map the core's SegmentDriver."""
        return cls(feature=driver.feature, z_score=driver.z_score, direction=driver.direction)


@strawberry.type(description="One value of a categorical column inside one segment.")
class CategoryShare:
    column: str = strawberry.field(description="The categorical column.")
    value: str = strawberry.field(description="One of its values.")
    share: float = strawberry.field(description="Fraction of the segment's customers with it.")
    lift: float = strawberry.field(
        description="share / the value's share among all customers (above 1: over-represented)."
    )

    @classmethod
    def from_domain(cls, share: results.CategoryShare) -> CategoryShare:
        """Map the core's CategoryShare."""
        return cls(column=share.column, value=share.value, share=share.share, lift=share.lift)


@strawberry.type(description="One segment of a model.")
class ClusterProfile:
    cluster_id: int = strawberry.field(description="0..k-1, largest segment first.")
    name: str = strawberry.field(
        description="Descriptive name derived from the segment's centre, or the one a user gave."
    )
    size: int = strawberry.field(description="Number of training customers in the segment.")
    share: float = strawberry.field(
        description="Fraction of the training customers in the segment (shares sum to 1)."
    )
    features: list[FeatureStats] = strawberry.field(description="Per-feature statistics.")
    drivers: list[SegmentDriver] = strawberry.field(
        description="Every feature, largest |zScore| first: what sets the segment apart."
    )
    categories: list[CategoryShare] = strawberry.field(
        description="Every value of every CATEGORICAL column of the dataset, in this segment."
    )
    stability: float | None = strawberry.field(
        description="Bootstrap Jaccard similarity of this segment (0..1); null when not computed."
    )

    @classmethod
    def from_domain(cls, profile: results.ClusterProfile) -> ClusterProfile:
        """Map the core's ClusterProfile."""
        return cls(
            cluster_id=profile.cluster_id,
            name=profile.name,
            size=profile.size,
            share=profile.share,
            features=[FeatureStats.from_domain(s) for s in profile.features],
            drivers=[SegmentDriver.from_domain(d) for d in profile.drivers],
            categories=[CategoryShare.from_domain(c) for c in profile.categories],
            stability=profile.stability,
        )


@strawberry.type(description="Inertia and silhouette of one candidate number of segments.")
class ElbowPoint:
    k: int = strawberry.field(description="Number of segments.")
    inertia: float = strawberry.field(description="Within-segment sum of squares (scaled space).")
    silhouette: float = strawberry.field(description="Mean silhouette for this k.")
    smallest_share: float = strawberry.field(
        description="Share of the smallest segment of this k's fit."
    )
    eligible: bool = strawberry.field(
        description="False when the smallest segment is below the training's minimum share."
    )

    @classmethod
    def from_domain(cls, point: results.ElbowPoint) -> ElbowPoint:
        """Map the core's ElbowPoint."""
        return cls(k=point.k, inertia=point.inertia, silhouette=point.silhouette,
                   smallest_share=point.smallest_share, eligible=point.eligible)


@strawberry.type(
    description="The scan over k done at training time (never recomputed per request)."
)
class ElbowReport:
    optimal_k: int = strawberry.field(description="The k chosen (best silhouette, or the fixed k).")
    elbow_k: int | None = strawberry.field(
        description="The knee of the inertia curve; null when the curve has none."
    )
    points: list[ElbowPoint] = strawberry.field(description="One point per k tried, ascending k.")

    @classmethod
    def from_domain(cls, report: results.ElbowReport) -> ElbowReport:
        """Map the core's ElbowReport."""
        return cls(
            optimal_k=report.optimal_k,
            elbow_k=report.elbow_k,
            points=[ElbowPoint.from_domain(p) for p in report.points],
        )


# -- predictions -----------------------------------------------------------------------------------


@strawberry.type(description="How likely the customer belongs to one segment.")
class SegmentProbability:
    cluster_id: int = strawberry.field(description="The segment's id.")
    segment_name: str = strawberry.field(description="The segment's name.")
    probability: float = strawberry.field(
        description="0..1; the probabilities of one prediction sum to 1."
    )


@strawberry.type(description="The segment of one customer and how sure the model is.")
class Prediction:
    cluster_id: int = strawberry.field(description="The predicted segment's id (0..k-1).")
    segment_name: str = strawberry.field(description="The predicted segment's name.")
    confidence: float = strawberry.field(
        description="Probability of the predicted segment (0..1)."
    )
    model_version: str = strawberry.field(description="The version of the model that predicted.")
    # The probability row and segment names stay raw until a client asks for them, so a batch
    # of 10,000 builds no SegmentProbability objects unless they are selected.
    row: strawberry.Private[Sequence[float]]
    names: strawberry.Private[Sequence[str]]

    @strawberry.field(description="Every segment's probability, in cluster id order.")
    def probabilities(self) -> list[SegmentProbability]:
        row = self.row.tolist() if hasattr(self.row, "tolist") else self.row
        return [
            SegmentProbability(cluster_id=j, segment_name=name, probability=p)
            for j, (name, p) in enumerate(zip(self.names, row, strict=True))
        ]

    @classmethod
    def from_domain(cls, prediction: results.Prediction, version: str) -> Prediction:
        """Map the core's Prediction made by model ``version``."""
        probs = prediction.probabilities
        return cls(
            cluster_id=prediction.cluster_id,
            segment_name=prediction.segment_name,
            confidence=prediction.confidence,
            model_version=version,
            row=[p.probability for p in probs],
            names=[p.segment_name for p in probs],
        )


@strawberry.type(description="Predictions for a batch of customers, in input order.")
class BatchPrediction:
    model_version: str = strawberry.field(description="The version of the model that predicted.")
    batch: strawberry.Private[results.BatchPrediction]

    @strawberry.field(description="Number of customers predicted.")
    def count(self) -> int:
        return len(self.batch)

    @strawberry.field(
        description="Each row's segment id, in input order (the same as predictions[i]."
        "clusterId; a flat list is much cheaper to answer for large batches)."
    )
    def cluster_ids(self) -> list[int]:
        return self.batch.cluster_ids.tolist()  # type: ignore[no-any-return]

    @strawberry.field(description="Each row's segment name, in input order.")
    def segment_names(self) -> list[str]:
        names = self.batch.segment_names
        return [names[i] for i in self.batch.cluster_ids.tolist()]

    @strawberry.field(description="Each row's confidence (0..1), in input order.")
    def confidences(self) -> list[float]:
        return self.batch.confidence.tolist()  # type: ignore[no-any-return]

    @strawberry.field(description="One prediction per input customer, same order as the input.")
    def predictions(self) -> list[Prediction]:
        batch = self.batch
        names = batch.segment_names
        probabilities = batch.probabilities
        version = self.model_version
        # One C-level conversion per column instead of 10,000 numpy scalar reads.
        return [
            Prediction(
                cluster_id=cid, segment_name=names[cid], confidence=conf,
                model_version=version, row=probabilities[i], names=names,
            )
            for i, (cid, conf) in enumerate(
                zip(batch.cluster_ids.tolist(), batch.confidence.tolist(), strict=True)
            )
        ]

    @classmethod
    def from_domain(cls, batch: results.BatchPrediction, version: str) -> BatchPrediction:
        """Wrap the core's array-backed BatchPrediction made by model ``version``."""
        return cls(model_version=version, batch=batch)


# -- datasets --------------------------------------------------------------------------------------


@strawberry.type(description="How often a value occurs in a column.")
class ValueCount:
    value: str = strawberry.field(description="The value, as text.")
    count: int = strawberry.field(description="Rows holding it.")


@strawberry.type(description="One column of a dataset: its role and what it holds.")
class DatasetColumn:
    name: str = strawberry.field(description="The column's name, as in the file's header.")
    role: ColumnRole = strawberry.field(description="What the column is (see ColumnRole).")
    missing: int = strawberry.field(description="Rows with no value.")
    distinct: int = strawberry.field(description="Distinct non-missing values.")
    min: float | None = strawberry.field(description="Smallest value (NUMERIC only).")
    max: float | None = strawberry.field(description="Largest value (NUMERIC only).")
    mean: float | None = strawberry.field(description="Mean (NUMERIC only).")
    median: float | None = strawberry.field(description="Median (NUMERIC only).")
    std: float | None = strawberry.field(description="Standard deviation, ddof=1 (NUMERIC only).")
    skewness: float | None = strawberry.field(
        description="Adjusted Fisher-Pearson skewness of the non-missing values (NUMERIC only)."
    )
    suggested_transform: Transform = strawberry.field(
        description="LOG when min >= 0 and skewness > 1, else NONE."
    )
    top_values: list[ValueCount] = strawberry.field(
        description="CATEGORICAL: up to 10 values, most frequent first; empty otherwise."
    )
    histogram: list[int] = strawberry.field(
        description="NUMERIC: counts in equal-width bins from min to max; empty otherwise."
    )
    integer: bool = strawberry.field(description="Whether every value is a whole number.")

    @classmethod
    def from_domain(cls, column: results.ColumnSummary) -> DatasetColumn:
        """Map the core's ColumnSummary."""
        return cls(
            name=column.name,
            role=column.role,
            missing=column.missing,
            distinct=column.distinct,
            min=column.min,
            max=column.max,
            mean=column.mean,
            median=column.median,
            std=column.std,
            skewness=column.skewness,
            suggested_transform=column.suggested_transform,
            top_values=[ValueCount(value=v.value, count=v.count) for v in column.top_values],
            histogram=list(column.histogram),
            integer=column.integer,
        )


@strawberry.type(description="An imported dataset (the bundled one included).")
class Dataset:
    id: strawberry.ID = strawberry.field(
        description="Derived from the file's bytes: the same bytes give the same id."
    )
    name: str = strawberry.field(description="Its display name.")
    rows: int = strawberry.field(description="Data rows.")
    bytes: int = strawberry.field(description="Size of the imported file.")
    created_at: str = strawberry.field(description="When it was imported (ISO 8601, UTC).")
    bundled: bool = strawberry.field(description="Whether it is the bundled SEGMENTATION_DATA.")
    columns: list[DatasetColumn] = strawberry.field(description="Every column, in file order.")
    format: str = strawberry.field(description='"csv" or "parquet".')

    @strawberry.field(
        description="The first rows as text cells (header not included), at most 100."
    )
    async def preview(
        self,
        info: Info,
        limit: Annotated[
            int | None,
            strawberry.argument(description="Rows wanted (0..100; more gives 100; null: 10)."),
        ] = 10,
    ) -> list[list[str]]:
        wanted = 10 if limit is None else max(0, min(limit, 100))
        return await info.context.dataset_preview(str(self.id), wanted)

    @classmethod
    def from_domain(cls, dataset: results.DatasetInfo) -> Dataset:
        """Map the core's DatasetInfo."""
        return cls(
            id=strawberry.ID(dataset.id),
            name=dataset.name,
            rows=dataset.rows,
            bytes=dataset.bytes,
            created_at=dataset.created_at,
            bundled=dataset.bundled,
            columns=[DatasetColumn.from_domain(c) for c in dataset.columns],
            format=dataset.format,
        )


# -- results of mutations --------------------------------------------------------------------------


@strawberry.type(description="One input field that was rejected, and why.")
class FieldError:
    field: str = strawberry.field(
        description=(
            "The input field as the client wrote it: `annualIncome` for predict, "
            "`customers[3].annualIncome` for predictBatch, `values[1].value` for predictRecord, "
            "`rows[3].revenue` for predictRows, `kMin` or `features[1].column` for train, "
            "`file` for an upload, a dataset column for a rejected training dataset."
        )
    )
    message: str = strawberry.field(description="What is wrong with it.")


@strawberry.type(description="The input was well-typed but out of range or meaningless.")
class InvalidInput:
    message: str = strawberry.field(description="Summary of what was rejected.")
    errors: list[FieldError] = strawberry.field(description="One entry per bad field.")


@strawberry.type(description="No model is active yet: run the train mutation first.")
class ModelNotTrained:
    message: str = strawberry.field(description="What to do about it.")


@strawberry.type(description="The operation needs `Authorization: Bearer <key>`; nothing changed.")
class Unauthorized:
    message: str = strawberry.field(description="What to send.")


@strawberry.type(description="Another training is running; try again when it has finished.")
class TrainingInProgress:
    message: str = strawberry.field(description="What happened.")


@strawberry.type(description="The dataset or model version named does not exist.")
class NotFound:
    message: str = strawberry.field(description="What was not found.")


@strawberry.type(
    description=(
        "The operation contradicts the store's state (deleting the active model or the dataset "
        "it was trained on, nothing to roll back to); nothing changed."
    )
)
class Conflict:
    message: str = strawberry.field(description="What stands in the way.")


@strawberry.type(description="Training finished and the new model is active.")
class TrainSuccess:
    model: ModelInfo = strawberry.field(description="The newly active model.")


@strawberry.type(description="A file was imported as a dataset.")
class DatasetImported:
    dataset: Dataset = strawberry.field(description="The dataset.")
    already_present: bool = strawberry.field(
        description="Whether the same bytes had been imported before (nothing new was stored)."
    )


@strawberry.type(description="Something was deleted.")
class Deleted:
    id: str = strawberry.field(description="The id (dataset) or version (model) deleted.")


@strawberry.type(description="A model became the active one.")
class ModelActivated:
    model: ModelInfo = strawberry.field(description="The now active model.")
    previous_version: str | None = strawberry.field(
        description="The version active before; null when none was."
    )


@strawberry.type(description="A segment was renamed.")
class SegmentRenamed:
    segment: ClusterProfile = strawberry.field(description="The segment with its new name.")


@strawberry.type(description="Customers in one segment of model a and one segment of model b.")
class SegmentFlow:
    from_cluster_id: int = strawberry.field(description="The segment of model a.")
    from_name: str = strawberry.field(description="Its name.")
    to_cluster_id: int = strawberry.field(description="The segment of model b.")
    to_name: str = strawberry.field(description="Its name.")
    customers: int = strawberry.field(description="Customers in both.")

    @classmethod
    def from_domain(cls, flow: results.SegmentFlow) -> SegmentFlow:
        """Map the core's SegmentFlow."""
        return cls(from_cluster_id=flow.from_cluster_id, from_name=flow.from_name,
                   to_cluster_id=flow.to_cluster_id, to_name=flow.to_name,
                   customers=flow.customers)


@strawberry.type(
    description="Two models on the same customers: how much they agree and where customers move."
)
class ModelComparison:
    a: ModelInfo = strawberry.field(description="The first model.")
    b: ModelInfo = strawberry.field(description="The second model.")
    dataset_id: strawberry.ID = strawberry.field(description="The dataset compared on.")
    customers: int = strawberry.field(description="The dataset's rows both models could score.")
    adjusted_rand_index: float = strawberry.field(
        description="Agreement of the two segmentations (1 = identical, about 0 = chance)."
    )
    flows: list[SegmentFlow] = strawberry.field(
        description="The non-zero cells of the a x b table; customers sum to `customers`."
    )

    @classmethod
    def from_domain(cls, comparison: results.ModelComparison, a: results.ModelRecord,
                    b: results.ModelRecord) -> ModelComparison:
        """Map the core's ModelComparison with both models' records."""
        return cls(
            a=ModelInfo.from_record(a),
            b=ModelInfo.from_record(b),
            dataset_id=strawberry.ID(comparison.dataset_id),
            customers=comparison.customers,
            adjusted_rand_index=comparison.adjusted_rand_index,
            flows=[SegmentFlow.from_domain(f) for f in comparison.flows],
        )


@strawberry.type(description="How many scored customers fell into one segment.")
class SegmentCount:
    cluster_id: int = strawberry.field(description="The segment's id.")
    segment_name: str = strawberry.field(description="Its name.")
    customers: int = strawberry.field(description="Scored customers in it.")


@strawberry.type(description="A dataset scored with a model; the file waits at `downloadUrl`.")
class ScoredDataset:
    dataset_id: strawberry.ID = strawberry.field(description="The dataset scored.")
    version: str = strawberry.field(description="The model version that scored it.")
    rows: int = strawberry.field(description="Rows read.")
    scored_rows: int = strawberry.field(
        description="Rows scored (the others have a reason in the file's score_problem column)."
    )
    segments: list[SegmentCount] = strawberry.field(description="Customers per segment.")
    download_url: str = strawberry.field(
        description="Path on this server (/exports/...) serving the scored CSV as an attachment;"
        " unguessable, valid until expiresAt."
    )
    expires_at: str = strawberry.field(description="When the download expires (ISO 8601, UTC).")

    @classmethod
    def from_domain(cls, dataset_id: str, summary: results.ScoreSummary, download_url: str,
                    expires_at: str) -> ScoredDataset:
        """Map the core's ScoreSummary and where the file can be downloaded."""
        return cls(
            dataset_id=strawberry.ID(dataset_id),
            version=summary.version,
            rows=summary.rows,
            scored_rows=summary.scored_rows,
            segments=[
                SegmentCount(cluster_id=s.cluster_id, segment_name=s.segment_name,
                             customers=s.customers)
                for s in summary.segments
            ],
            download_url=download_url,
            expires_at=expires_at,
        )


TrainResult = Annotated[
    TrainSuccess | InvalidInput | Unauthorized | TrainingInProgress,
    strawberry.union("TrainResult", description="Outcome of a train mutation."),
]
PredictResult = Annotated[
    Prediction | InvalidInput | ModelNotTrained,
    strawberry.union("PredictResult", description="Outcome of a single prediction."),
]
PredictBatchResult = Annotated[
    BatchPrediction | InvalidInput | ModelNotTrained,
    strawberry.union("PredictBatchResult", description="Outcome of a batch prediction."),
]
UploadDatasetResult = Annotated[
    DatasetImported | InvalidInput | Unauthorized,
    strawberry.union("UploadDatasetResult", description="Outcome of an uploadDataset mutation."),
]
DeleteResult = Annotated[
    Deleted | NotFound | Conflict | Unauthorized,
    strawberry.union("DeleteResult", description="Outcome of a delete mutation."),
]
ActivateResult = Annotated[
    ModelActivated | NotFound | Conflict | Unauthorized,
    strawberry.union("ActivateResult", description="Outcome of activateModel / rollbackModel."),
]
RenameResult = Annotated[
    SegmentRenamed | InvalidInput | NotFound | Unauthorized,
    strawberry.union("RenameResult", description="Outcome of a renameSegment mutation."),
]
CompareResult = Annotated[
    ModelComparison | InvalidInput | NotFound,
    strawberry.union("CompareResult", description="Outcome of compareModels."),
]
ScoreResult = Annotated[
    ScoredDataset | InvalidInput | NotFound | ModelNotTrained | Unauthorized,
    strawberry.union("ScoreResult", description="Outcome of a scoreDataset mutation."),
]
