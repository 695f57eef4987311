"""GraphQL output types. Each maps a core result with ``from_domain`` and holds no logic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from segmentation_core import results


@strawberry.type(description="Service health, cheap enough for a status light.")
class Health:
    status: str = strawberry.field(description='"ok" when the API is serving.')
    model_loaded: bool = strawberry.field(description="Whether a trained model is active.")
    model_version: str | None = strawberry.field(
        description="Version of the active model; null before the first training."
    )
    training_in_progress: bool = strawberry.field(
        description="Whether this server is training a model right now."
    )


@strawberry.type(description="The active model: what it was trained on and how good it is.")
class ModelInfo:
    version: str = strawberry.field(description="Unique per training.")
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

    @classmethod
    def from_domain(cls, info: results.ModelInfo) -> ModelInfo:
        """Map the core's ModelInfo."""
        return cls(
            version=info.version,
            k=info.k,
            silhouette=info.silhouette,
            inertia=info.inertia,
            n_customers=info.n_customers,
            features=list(info.features),
            trained_at=info.trained_at,
        )


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


@strawberry.type(description="One segment of the active model.")
class ClusterProfile:
    cluster_id: int = strawberry.field(description="0..k-1, largest segment first.")
    name: str = strawberry.field(description="Descriptive name derived from the segment's centre.")
    size: int = strawberry.field(description="Number of training customers in the segment.")
    share: float = strawberry.field(
        description="Fraction of the training customers in the segment (shares sum to 1)."
    )
    features: list[FeatureStats] = strawberry.field(description="Per-feature statistics.")

    @classmethod
    def from_domain(cls, profile: results.ClusterProfile) -> ClusterProfile:
        """Map the core's ClusterProfile."""
        return cls(
            cluster_id=profile.cluster_id,
            name=profile.name,
            size=profile.size,
            share=profile.share,
            features=[FeatureStats.from_domain(s) for s in profile.features],
        )


@strawberry.type(description="Inertia and silhouette of one candidate number of segments.")
class ElbowPoint:
    k: int = strawberry.field(description="Number of segments.")
    inertia: float = strawberry.field(description="Within-segment sum of squares (scaled space).")
    silhouette: float = strawberry.field(description="Mean silhouette for this k.")


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
            points=[
                ElbowPoint(k=p.k, inertia=p.inertia, silhouette=p.silhouette) for p in report.points
            ],
        )


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
    def from_domain(cls, prediction: results.Prediction) -> Prediction:
        """Map the core's Prediction."""
        probs = prediction.probabilities
        return cls(
            cluster_id=prediction.cluster_id,
            segment_name=prediction.segment_name,
            confidence=prediction.confidence,
            row=[p.probability for p in probs],
            names=[p.segment_name for p in probs],
        )


@strawberry.type(description="Predictions for a batch of customers, in input order.")
class BatchPrediction:
    batch: strawberry.Private[results.BatchPrediction]

    @strawberry.field(description="Number of customers predicted.")
    def count(self) -> int:
        return len(self.batch)

    @strawberry.field(description="One prediction per input customer, same order as the input.")
    def predictions(self) -> list[Prediction]:
        batch = self.batch
        names = batch.segment_names
        probabilities = batch.probabilities
        # One C-level conversion per column instead of 10,000 numpy scalar reads.
        return [
            Prediction(
                cluster_id=cid, segment_name=names[cid], confidence=conf, row=probabilities[i],
                names=names,
            )
            for i, (cid, conf) in enumerate(
                zip(batch.cluster_ids.tolist(), batch.confidence.tolist(), strict=True)
            )
        ]

    @classmethod
    def from_domain(cls, batch: results.BatchPrediction) -> BatchPrediction:
        """Wrap the core's array-backed BatchPrediction."""
        return cls(batch=batch)


@strawberry.type(description="One input field that was rejected, and why.")
class FieldError:
    field: str = strawberry.field(
        description=(
            "The input field as the client wrote it: `annualIncome` for predict, "
            "`customers[3].annualIncome` for predictBatch, `kMin` for train, a dataset column "
            "for a rejected training dataset."
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


@strawberry.type(description="Training finished and the new model is active.")
class TrainSuccess:
    model: ModelInfo = strawberry.field(description="The newly active model.")


TrainResult = Annotated[
    TrainSuccess | InvalidInput | Unauthorized | TrainingInProgress,
    strawberry.union("TrainResult", description="Outcome of a train mutation."),
]
PredictResult = Annotated[
    Prediction | InvalidInput | ModelNotTrained,
    strawberry.union("PredictResult", description="Outcome of a predict mutation."),
]
PredictBatchResult = Annotated[
    BatchPrediction | InvalidInput | ModelNotTrained,
    strawberry.union("PredictBatchResult", description="Outcome of a predictBatch mutation."),
]
