"""Core failures turned into the schema's typed error results.

Expected failures are data, not exceptions: resolvers return these types inside their result
unions, so a client reads ``__typename`` instead of parsing messages.
"""

from __future__ import annotations

from collections.abc import Iterable

import strawberry
from strawberry.types.field import StrawberryField

from graph_api.context import Info
from graph_api.inputs import PARAMETER_FIELDS
from graph_api.permissions import NotAuthorizedError
from graph_api.types import FieldError, InvalidInput, ModelNotTrained, Unauthorized
from segmentation_core.errors import InvalidParameterError, Problem

MODEL_NOT_TRAINED = ModelNotTrained(
    message="No model has been trained yet: run the `train` mutation first."
)


def camel(column: str) -> str:
    """``annual_income`` -> ``annualIncome``: input fields as GraphQL clients write them."""
    head, *rest = column.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def invalid_customer(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput for one ``predict`` customer: one FieldError per bad field."""
    errors = [
        FieldError(field=camel(p.column) if p.column else "customer", message=p.reason)
        for p in problems
    ]
    names = ", ".join(e.field for e in errors)
    return InvalidInput(message=f"The customer was rejected: {names}.", errors=errors)


def invalid_batch(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput for ``predictBatch``: every bad row is listed, e.g. ``customers[3].age``."""
    errors: list[FieldError] = []
    rows: set[int] = set()
    for p in problems:
        field = camel(p.column) if p.column else None
        if not p.rows:
            errors.append(FieldError(field=f"customers.{field}" if field else "customers",
                                     message=p.reason))
            continue
        rows.update(p.rows)
        for row in p.rows:
            errors.append(
                FieldError(
                    field=f"customers[{row}].{field}" if field else f"customers[{row}]",
                    message=p.reason,
                )
            )
    errors.sort(key=_row_order)
    return InvalidInput(
        message=f"{len(rows) or 'The'} customer(s) rejected; nothing was predicted.",
        errors=errors,
    )


def _row_order(error: FieldError) -> tuple[int, str]:
    # customers[12].age sorts after customers[3].age: by row number, then field.
    field = error.field
    if field.startswith("customers[") and "]" in field:
        return int(field[10 : field.index("]")]), field
    return -1, field


def too_many_customers(count: int, limit: int) -> InvalidInput:
    """InvalidInput for a batch over the configured size limit."""
    return InvalidInput(
        message=f"Too many customers: {count} sent, at most {limit} per predictBatch.",
        errors=[FieldError(field="customers", message=f"at most {limit} customers, got {count}")],
    )


def unsupported_features(missing: Iterable[str]) -> InvalidInput:
    """InvalidInput when the active model needs features CustomerInput cannot carry."""
    names = ", ".join(missing)
    return InvalidInput(
        message=f"The active model uses features CustomerInput does not have: {names}.",
        errors=[FieldError(field="customer", message=f"unsupported model features: {names}")],
    )


def invalid_parameter(error: InvalidParameterError) -> InvalidInput:
    """InvalidInput for a TrainInput that makes no sense."""
    field = PARAMETER_FIELDS.get(error.parameter, camel(error.parameter))
    return InvalidInput(
        message=f"Invalid training parameters: {field} {error.reason}",
        errors=[FieldError(field=field, message=error.reason)],
    )


def invalid_dataset(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput for a training dataset that failed validation (rows and columns named)."""
    errors = [FieldError(field=p.column or "dataset", message=str(p)) for p in problems]
    return InvalidInput(
        message="The training dataset was rejected; the active model is unchanged.",
        errors=errors,
    )


class UnauthorizedHandler(strawberry.ExceptionHandler[NotAuthorizedError, Unauthorized]):
    """The permission's refusal as the ``Unauthorized`` member of the field's result union."""

    def handle(self, exception: NotAuthorizedError, *, field: StrawberryField,
               info: Info) -> Unauthorized:
        return Unauthorized(
            message=(
                f"This server needs an API key for {info.field_name}: send "
                "`Authorization: Bearer <key>`. Nothing was changed."
            )
        )


#: Expected core exceptions mapped to the schema's typed results (Strawberry applies a handler
#: only to fields whose result union has the handler's type).
EXCEPTION_HANDLERS = (UnauthorizedHandler(),)
