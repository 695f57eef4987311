"""GraphQL input types: what clients send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

import graph_api.types  # noqa: F401 (registers the enums with Strawberry)
from segmentation_core.enums import MissingValues, Transform
from segmentation_core.results import FeatureChoice, TrainingParams


@strawberry.input(
    description=(
        "One customer to segment. Ranges are checked against the active model's feature spec "
        "(for the bundled data: age 18-100, annualIncome >= 0, spendingScore 1-100, "
        "purchaseFrequency >= 0); values out of range give InvalidInput."
    )
)
class CustomerInput:
    age: int = strawberry.field(description="Age in years (18-100).")
    annual_income: float = strawberry.field(
        description="Annual income in thousands of dollars (>= 0)."
    )
    spending_score: int = strawberry.field(description="Spending score, 1 (lowest) to 100.")
    purchase_frequency: int = strawberry.field(description="Purchases per year (>= 0).")


def customer_from_input(value: Mapping[str, Any]) -> CustomerInput:
    """A CustomerInput from graphql-core's coerced value (keyed by GraphQL field names).

    graphql-core has already coerced every field to its scalar type and checked that all four
    are present, so Strawberry's generic per-field conversion (type resolution, name conversion,
    four recursive calls) is pure overhead: it was 45% of a 10,000-customer predictBatch.
    """
    return CustomerInput(
        age=value["age"],
        annual_income=value["annualIncome"],
        spending_score=value["spendingScore"],
        purchase_frequency=value["purchaseFrequency"],
    )


# Strawberry's documented hook for building an input value (StrawberryObjectDefinition.from_input),
# used where Strawberry converts arguments itself.
CustomerInput.__strawberry_definition__.from_input = (  # type: ignore[attr-defined]
    lambda _cls, value, _context: customer_from_input(value)
)


@strawberry.input(description="One feature a training uses: a NUMERIC column and its transform.")
class FeatureInput:
    column: str = strawberry.field(description="The dataset column (must be NUMERIC).")
    transform: Transform | None = strawberry.field(
        default=Transform.AUTO, description="NONE, LOG or AUTO (the default; null means AUTO)."
    )


@strawberry.input(description="One feature value of a customer, for predictRecord.")
class FeatureValueInput:
    feature: str = strawberry.field(description="The feature (the model's column name).")
    value: float = strawberry.field(description="The customer's value, in the data's units.")


@strawberry.input(
    description=(
        "How to train. Leave k out to choose the number of segments automatically "
        "(best silhouette between kMin and kMax among the k whose smallest segment has at "
        "least minSegmentShare of the customers); set k to fix it. Without datasetId and "
        "features it trains on the bundled dataset's four columns, as version 1 did."
    )
)
class TrainInput:
    k_min: int | None = strawberry.field(
        default=2, description="Smallest number of segments tried (>= 2)."
    )
    k_max: int | None = strawberry.field(
        default=10, description="Largest number of segments tried (>= kMin)."
    )
    k: int | None = strawberry.field(
        default=None, description="A fixed number of segments; overrides kMin/kMax."
    )
    random_state: int | None = strawberry.field(
        default=42, description="Seed of the K-Means initialisation; same seed, same segments."
    )
    dataset_id: strawberry.ID | None = strawberry.field(
        default=None, description="The dataset to train on; default: the bundled dataset."
    )
    features: list[FeatureInput] | None = strawberry.field(
        default=None,
        description=(
            "The features, in model order; default: the bundled four when the dataset has "
            "them, else every NUMERIC column, each AUTO."
        ),
    )
    missing_values: MissingValues | None = strawberry.field(
        default=MissingValues.DROP,
        description="DROP rows with a missing feature value, or fill it with the MEDIAN.",
    )
    min_segment_share: float | None = strawberry.field(
        default=0.02,
        description="Automatic k never picks a k whose smallest segment has a smaller share.",
    )

    def to_params(self) -> TrainingParams:
        """The core's training parameters; an explicit null means the default."""
        defaults = TrainingParams()
        return TrainingParams(
            k_min=defaults.k_min if self.k_min is None else self.k_min,
            k_max=defaults.k_max if self.k_max is None else self.k_max,
            k=self.k,
            random_state=defaults.random_state if self.random_state is None else self.random_state,
            features=None if self.features is None else tuple(
                FeatureChoice(f.column, f.transform or Transform.AUTO) for f in self.features
            ),
            missing_values=(defaults.missing_values if self.missing_values is None
                            else self.missing_values),
            min_segment_share=(defaults.min_segment_share if self.min_segment_share is None
                               else self.min_segment_share),
        )
