"""Core failures turned into the schema's typed error results: the one place that does it.

Expected failures are data, not exceptions: they reach clients as members of the field's result
union, so a client reads ``__typename`` instead of parsing messages. Two mechanisms:

* ``EXCEPTION_HANDLERS`` (Strawberry's exception handlers, passed to the schema): a core
  exception raised in a resolver becomes ``NotFound``, ``Conflict``, ``TrainingInProgress``,
  ``ModelNotTrained``, ``Unauthorized`` (the permission's refusal) or ``InvalidInput`` (a bad
  parameter), wherever the field's union has that member. Strawberry applies a handler only to
  fields whose union contains its type; elsewhere the exception stays unexpected (masked).
* functions for ``DataValidationError``, whose problems are named after the input the client
  wrote, which only the resolver knows: ``customers[3].age``, ``rows[3].revenue``,
  ``values[1].value``, ``features[1].column``, ``file``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import strawberry
from strawberry.types.field import StrawberryField

from graph_api.context import Info
from graph_api.permissions import NotAuthorizedError
from graph_api.types import (
    Conflict,
    FieldError,
    InvalidInput,
    ModelNotTrained,
    NotFound,
    TrainingInProgress,
    Unauthorized,
)
from segmentation_core.errors import (
    ConflictError,
    InvalidParameterError,
    ModelNotTrainedError,
    NotFoundError,
    Problem,
    TrainingInProgressError,
)

MODEL_NOT_TRAINED = ModelNotTrained(
    message="No model has been trained yet: run the `train` mutation first."
)


def camel(name: str) -> str:
    """``annual_income`` -> ``annualIncome``: input fields as GraphQL clients write them."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _invalid(message: str, errors: list[FieldError]) -> InvalidInput:
    return InvalidInput(message=message, errors=errors)


def field_error(field: str, message: str) -> InvalidInput:
    """InvalidInput with one FieldError."""
    return _invalid(f"Invalid {field}: {message}", [FieldError(field=field, message=message)])


# -- predictions -------------------------------------------------------------------------------


def invalid_customer(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput for one ``predict`` customer: one FieldError per bad field."""
    errors = [
        FieldError(field=camel(p.column) if p.column else "customer", message=p.reason)
        for p in problems
    ]
    names = ", ".join(e.field for e in errors)
    return _invalid(f"The customer was rejected: {names}.", errors)


def invalid_rows(problems: Iterable[Problem], prefix: str,
                 columns: dict[str, str] | None = None) -> InvalidInput:
    """InvalidInput for a batch: every bad row listed, e.g. ``customers[3].age`` (predictBatch,
    ``prefix="customers"``) or ``rows[3].revenue`` (predictRows); ``columns`` maps a model
    column to the name the client used (camelCase for CustomerInput)."""
    errors: list[tuple[int, FieldError]] = []
    rows: set[int] = set()
    for p in problems:
        name = (columns or {}).get(p.column, p.column) if p.column else None
        if not p.rows:
            field = f"{prefix}.{name}" if name else prefix
            errors.append((-1, FieldError(field=field, message=p.reason)))
            continue
        rows.update(p.rows)
        for row in p.rows:
            field = f"{prefix}[{row}].{name}" if name else f"{prefix}[{row}]"
            errors.append((row, FieldError(field=field, message=p.reason)))
    errors.sort(key=lambda item: (item[0], item[1].field))
    return _invalid(
        f"{len(rows) or 'The'} row(s) rejected; nothing was predicted.",
        [e for _, e in errors],
    )


def too_many_rows(count: int, limit: int, field: str) -> InvalidInput:
    """InvalidInput for a batch over the configured size limit (``field``: customers, rows)."""
    return _invalid(
        f"Too many {field}: {count} sent, at most {limit} per call.",
        [FieldError(field=field, message=f"at most {limit} {field}, got {count}")],
    )


def invalid_columns(problems: Sequence[tuple[str, str]]) -> InvalidInput:
    """InvalidInput for ``predictRows`` columns that do not match the model (``columns[2]``)."""
    return _invalid("The columns do not match the model's features.",
                    [FieldError(field=f, message=m) for f, m in problems])


def needs_predict_record(missing: Iterable[str]) -> InvalidInput:
    """InvalidInput when the model's features are not the four CustomerInput carries."""
    names = ", ".join(missing)
    message = (
        f"This model uses features CustomerInput does not have ({names}); send the customer's "
        "values with predictRecord(values: [{feature, value}]), or predictRows for many."
    )
    return _invalid(message, [FieldError(field="customer", message=message)])


def unknown_version(version: str) -> InvalidInput:
    """InvalidInput for a ``version`` argument naming no stored model."""
    return field_error("version", f"there is no stored model version {version!r}")


def invalid_record(problems: Iterable[Problem], features: Sequence[str]) -> InvalidInput:
    """InvalidInput for ``predictRecord``: ``values[i].value`` for a bad value,
    ``values[i].feature`` for a feature the model does not have, ``values`` for a missing one."""
    position = {name: i for i, name in enumerate(features)}
    errors = []
    for p in problems:
        i = position.get(p.column) if p.column else None
        if i is None:
            field = "values"
        elif "not a feature" in p.reason:
            field = f"values[{i}].feature"
        else:
            field = f"values[{i}].value"
        errors.append(FieldError(field=field, message=f"{p.column}: {p.reason}" if p.column
                                 else p.reason))
    return _invalid("The values were rejected; nothing was predicted.", errors)


# -- training, datasets, comparisons -----------------------------------------------------------


def invalid_parameter(error: InvalidParameterError) -> InvalidInput:
    """InvalidInput for a parameter that makes no sense (``kMin``, ``clusterId``, ``name``)."""
    field = camel(error.parameter)
    return _invalid(f"Invalid {field}: {error.reason}",
                    [FieldError(field=field, message=error.reason)])


def invalid_training(problems: Iterable[Problem],
                     features: Sequence[str] | None) -> InvalidInput:
    """InvalidInput for a training the dataset or the feature choice refused.

    A problem with a chosen feature names it as written (``features[1].column``); without a
    feature choice a problem names the dataset's column (or ``dataset``), as in version 1.
    """
    position = {name: i for i, name in enumerate(features or ())}
    errors = []
    for p in problems:
        if p.column is not None and p.column in position:
            field = f"features[{position[p.column]}].column"
        else:
            field = p.column or "dataset"
        errors.append(FieldError(field=field, message=str(p)))
    return _invalid("The training was refused; the active model is unchanged.", errors)


def describe_file_problem(problem: Problem) -> str:
    """A file's problem in one sentence naming its line and column (each once)."""
    where = []
    if problem.line is not None and f"line {problem.line}" not in problem.reason:
        where.append(f"line {problem.line}")
    if problem.column is not None and repr(problem.column) not in problem.reason:
        where.append(f"column {problem.column!r}")
    if problem.rows:
        shown = ", ".join(str(r) for r in problem.rows[:10])
        where.append(f"rows {shown}" + (" and more" if len(problem.rows) > 10 else ""))
    return f"{', '.join(where)}: {problem.reason}" if where else problem.reason


def invalid_file(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput for an upload that is not a usable table (line and column in the message)."""
    errors = [FieldError(field="file", message=describe_file_problem(p)) for p in problems]
    return _invalid("The file is not a usable table; nothing was stored.", errors)


def invalid_comparison(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput when the comparison's dataset cannot be scored by both models."""
    errors = [FieldError(field="datasetId", message=str(p)) for p in problems]
    return _invalid("The models cannot be compared on this dataset.", errors)


def invalid_scoring(problems: Iterable[Problem]) -> InvalidInput:
    """InvalidInput when a dataset cannot be scored by the model (a missing feature column)."""
    errors = [FieldError(field="datasetId", message=str(p)) for p in problems]
    return _invalid("The dataset cannot be scored with this model; nothing was written.", errors)


# -- exception handlers ------------------------------------------------------------------------


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


class NotFoundHandler(strawberry.ExceptionHandler[NotFoundError, NotFound]):
    """An unknown dataset or model version."""

    def handle(self, exception: NotFoundError, *, field: StrawberryField,
               info: Info) -> NotFound:
        return NotFound(message=f"There is no {exception.kind} {exception.identifier!r}.")


class ConflictHandler(strawberry.ExceptionHandler[ConflictError, Conflict]):
    """An operation the store's state forbids (nothing changed)."""

    def handle(self, exception: ConflictError, *, field: StrawberryField,
               info: Info) -> Conflict:
        return Conflict(message=f"{exception}; nothing was changed.")


class TrainingInProgressHandler(
    strawberry.ExceptionHandler[TrainingInProgressError, TrainingInProgress]
):
    """A second training while one runs (any worker process)."""

    def handle(self, exception: TrainingInProgressError, *, field: StrawberryField,
               info: Info) -> TrainingInProgress:
        return TrainingInProgress(message=f"{exception} Try again when it has finished.")


class ModelNotTrainedHandler(strawberry.ExceptionHandler[ModelNotTrainedError, ModelNotTrained]):
    """No model is active yet."""

    def handle(self, exception: ModelNotTrainedError, *, field: StrawberryField,
               info: Info) -> ModelNotTrained:
        return MODEL_NOT_TRAINED


class InvalidParameterHandler(
    strawberry.ExceptionHandler[InvalidParameterError, InvalidInput]
):
    """A parameter out of range, named as the client wrote it (``kMin``, ``clusterId``)."""

    def handle(self, exception: InvalidParameterError, *, field: StrawberryField,
               info: Info) -> InvalidInput:
        return invalid_parameter(exception)


#: Passed to the schema; the first matching handler wins.
EXCEPTION_HANDLERS = (
    UnauthorizedHandler(),
    NotFoundHandler(),
    ConflictHandler(),
    TrainingInProgressHandler(),
    ModelNotTrainedHandler(),
    InvalidParameterHandler(),
)
