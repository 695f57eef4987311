"""GraphQL input types: what clients send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import strawberry

from segmentation_core.results import TrainingParams


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


@strawberry.input(
    description=(
        "How to train. Leave k out to choose the number of segments automatically "
        "(best silhouette between kMin and kMax); set k to fix it."
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

    def to_params(self) -> TrainingParams:
        """The core's training parameters; an explicit null means the default."""
        defaults = TrainingParams()
        return TrainingParams(
            k_min=defaults.k_min if self.k_min is None else self.k_min,
            k_max=defaults.k_max if self.k_max is None else self.k_max,
            k=self.k,
            random_state=defaults.random_state if self.random_state is None else self.random_state,
        )


#: Input field name (as the client writes it) for each core parameter / feature column.
PARAMETER_FIELDS = {"k_min": "kMin", "k_max": "kMax", "k": "k", "random_state": "randomState"}
