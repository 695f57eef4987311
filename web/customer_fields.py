"""The prediction form's fields: labels, units and the valid ranges the API enforces.

The ranges mirror the API's `CustomerInput` checks (ages 18-100, spending score 1-100, income and
purchase frequency not negative), so the form can say what is wrong while the user types; the API's
own `InvalidInput` is still shown under the right field if it ever disagrees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from web.api_client import Customer, InvalidInput

#: GraphQL `Int` is 32-bit: a larger value would be a validation error, not a range message.
_GRAPHQL_INT_MAX = 2**31 - 1


@dataclass(frozen=True)
class CustomerField:
    """One input of the form: the element id, the `CustomerInput` name and its valid range."""

    id: str
    graphql_name: str
    label: str
    unit: str
    minimum: float
    maximum: float | None
    integer: bool
    placeholder: str

    @property
    def hint(self) -> str:
        """The unit and valid range, shown under the label."""
        limit = (
            f"{self.minimum:g}-{self.maximum:g}"
            if self.maximum is not None
            else f"{self.minimum:g} or more"
        )
        return f"{self.unit}, {limit}" if self.unit else limit


CUSTOMER_FIELDS: tuple[CustomerField, ...] = (
    CustomerField("age", "age", "Age", "years", 18, 100, True, "e.g. 35"),
    CustomerField(
        "annual_income", "annualIncome", "Annual income", "k$", 0, None, False, "e.g. 60"
    ),
    CustomerField("spending_score", "spendingScore", "Spending score", "", 1, 100, True, "e.g. 50"),
    CustomerField(
        "purchase_frequency",
        "purchaseFrequency",
        "Purchase frequency",
        "per year",
        0,
        None,
        True,
        "e.g. 12",
    ),
)

FIELDS_BY_ID = {f.id: f for f in CUSTOMER_FIELDS}
#: `FieldError.field` as the API writes it (`annualIncome`) -> the form's element id.
FIELD_ID_BY_GRAPHQL_NAME = {f.graphql_name: f.id for f in CUSTOMER_FIELDS}


def parse_value(field: CustomerField, raw: str) -> float | int:
    """The number typed into `field`, or `ValueError` with a message for the user."""
    text = raw.strip()
    if not text:
        raise ValueError(f"Enter the {field.label.lower()}.")
    try:
        number = float(text)
    except ValueError:
        raise ValueError("Enter a number.") from None
    if not math.isfinite(number):
        raise ValueError("Enter a finite number.")
    if field.integer and not number.is_integer():
        raise ValueError("Enter a whole number.")
    if number < field.minimum or (field.maximum is not None and number > field.maximum):
        if field.maximum is None:
            raise ValueError(f"Must be {field.minimum:g} or more.")
        raise ValueError(f"Must be between {field.minimum:g} and {field.maximum:g}.")
    if field.integer and number > _GRAPHQL_INT_MAX:
        raise ValueError(f"Must be at most {_GRAPHQL_INT_MAX}.")
    return int(number) if field.integer else number


def field_error(field_id: str, raw: str) -> str:
    """The message to show under a field, or "" when the value is valid."""
    try:
        parse_value(FIELDS_BY_ID[field_id], raw)
    except ValueError as exc:
        return str(exc)
    return ""


def to_customer(values: dict[str, str]) -> Customer:
    """A `Customer` from the form's raw values; `ValueError` if any is invalid."""
    parsed = {f.id: parse_value(f, values.get(f.id, "")) for f in CUSTOMER_FIELDS}
    return Customer(
        age=int(parsed["age"]),
        annual_income=float(parsed["annual_income"]),
        spending_score=int(parsed["spending_score"]),
        purchase_frequency=int(parsed["purchase_frequency"]),
    )


def server_field_errors(invalid: InvalidInput) -> tuple[dict[str, str], list[str]]:
    """The API's `InvalidInput` as messages per form field, plus the messages no field owns."""
    by_field: dict[str, str] = {}
    unplaced: list[str] = []
    for error in invalid.errors:
        field_id = FIELD_ID_BY_GRAPHQL_NAME.get(error.field)
        if field_id is None:
            unplaced.append(f"{error.field}: {error.message}")
        else:
            by_field[field_id] = error.message
    if not invalid.errors:
        unplaced.append(invalid.message)
    return by_field, unplaced
