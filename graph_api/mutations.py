"""Mutation fields: predictions (no key needed) and every state change (``IsAuthorized``).

Resolvers take ``info.context``, call the core (in a worker thread when it touches the disk or
trains), and map the result to a type. Core exceptions with a typed answer go through the
schema's exception handlers (``graph_api.errors``); the problems of rejected data are named after
the client's input here, where that input is known.
"""

from __future__ import annotations

import operator
from typing import Annotated

import numpy as np
import numpy.typing as npt
import strawberry
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from strawberry.file_uploads import Upload

from graph_api import errors
from graph_api.context import Info
from graph_api.inputs import CustomerInput, FeatureValueInput, TrainInput
from graph_api.permissions import IsAuthorized
from graph_api.types import (
    ActivateResult,
    BatchPrediction,
    ClusterProfile,
    Dataset,
    DatasetImported,
    Deleted,
    DeleteResult,
    InvalidInput,
    ModelActivated,
    ModelInfo,
    PredictBatchResult,
    Prediction,
    PredictResult,
    RenameResult,
    ScoredDataset,
    ScoreResult,
    SegmentRenamed,
    TrainResult,
    TrainSuccess,
    UploadDatasetResult,
)
from segmentation_core.errors import (
    DataValidationError,
    ModelNotTrainedError,
    NotFoundError,
    Problem,
)
from segmentation_core.model import SegmentationModel
from segmentation_core.results import ScoreSummary
from segmentation_core.scoring import write_scored

#: The model columns CustomerInput can carry (its Python attribute names are the column names).
CUSTOMER_COLUMNS = frozenset(CustomerInput.__annotations__)
#: predictBatch's client names of those columns (``customers[3].annualIncome``).
CUSTOMER_FIELDS = {c: errors.camel(c) for c in CUSTOMER_COLUMNS}

VersionArgument = Annotated[
    str | None,
    strawberry.argument(
        description="Predict with this stored model version instead of the active one "
        "(champion/challenger); an unknown version is InvalidInput (field `version`)."
    ),
]


async def _model(info: Info, version: str | None) -> tuple[SegmentationModel, str] | InvalidInput:
    """The model a prediction uses (one object for the whole prediction: never a mix).

    ModelNotTrainedError (mapped to ModelNotTrained) when nothing is active.
    """
    if not version:
        served = info.context.served
        if served.model is None or served.version is None:
            raise ModelNotTrainedError("no model has been trained yet")
        return served.model, served.version
    try:
        return await info.context.service.model(version)
    except NotFoundError:
        return errors.unknown_version(version)


async def _batch_model(
    info: Info, version: str | None, count: int, field: str
) -> tuple[SegmentationModel, str] | InvalidInput:
    """``_model`` for a batch of ``count`` rows, refused past the batch limit (named ``field``)."""
    limit = info.context.settings.max_batch_size
    if count > limit:
        return errors.too_many_rows(count, limit, field)
    return await _model(info, version)


def customer_matrix(customers: list[CustomerInput], columns: tuple[str, ...]) -> npt.NDArray[
        np.float64]:
    """The customers as an (n, len(columns)) float array in model column order.

    ``attrgetter`` pulls every row's values in C, so 10,000 customers cost a few milliseconds;
    range checks then run on the whole array in the core (``SegmentationModel.validate``).
    """
    getter = operator.attrgetter(*columns)
    X = np.array(list(map(getter, customers)), dtype=np.float64)
    return X.reshape(len(customers), len(columns))


@strawberry.type(description="Predict segments, train, and manage datasets and models.")
class Mutation:
    # -- predictions (no key needed) -------------------------------------------------------------

    @strawberry.mutation(
        description="The segment of one customer of the bundled four features, with every "
        "segment's probability. For models with other features use predictRecord."
    )
    async def predict(
        self,
        info: Info,
        customer: Annotated[
            CustomerInput, strawberry.argument(description="The customer to segment.")
        ],
        version: VersionArgument = strawberry.UNSET,
    ) -> PredictResult:
        chosen = await _model(info, version)
        if isinstance(chosen, InvalidInput):
            return chosen
        model, used = chosen
        columns = model.spec.columns
        if not CUSTOMER_COLUMNS.issuperset(columns):
            return errors.needs_predict_record(c for c in columns if c not in CUSTOMER_COLUMNS)
        try:
            prediction = model.predict_one([getattr(customer, c) for c in columns])
        except DataValidationError as exc:
            return errors.invalid_customer(exc.problems)
        return Prediction.from_domain(prediction, used)

    @strawberry.mutation(
        description=(
            "Segments of many customers of the bundled four features in one call (at most the "
            "server's batch limit, 10,000 by default). Validated whole: any bad row means "
            "nothing is predicted and every bad row is listed."
        )
    )
    async def predict_batch(
        self,
        info: Info,
        customers: Annotated[
            list[CustomerInput],
            strawberry.argument(description="The customers, predicted in this order."),
        ],
        version: VersionArgument = strawberry.UNSET,
    ) -> PredictBatchResult:
        chosen = await _batch_model(info, version, len(customers), "customers")
        if isinstance(chosen, InvalidInput):
            return chosen
        model, used = chosen
        columns = model.spec.columns
        if not CUSTOMER_COLUMNS.issuperset(columns):
            return errors.needs_predict_record(c for c in columns if c not in CUSTOMER_COLUMNS)
        X = customer_matrix(customers, columns)
        problems = model.validate(X)
        if problems:
            return errors.invalid_rows(problems, "customers", CUSTOMER_FIELDS)
        return BatchPrediction.from_domain(model.predict_batch_unchecked(X), used)

    @strawberry.mutation(
        description="The segment of one customer of ANY model, given as {feature, value} pairs "
        "(every feature of the model, each once; see ModelInfo.featureSpecs)."
    )
    async def predict_record(
        self,
        info: Info,
        values: Annotated[
            list[FeatureValueInput],
            strawberry.argument(description="One value per feature of the model."),
        ],
        version: VersionArgument = strawberry.UNSET,
    ) -> PredictResult:
        chosen = await _model(info, version)
        if isinstance(chosen, InvalidInput):
            return chosen
        model, used = chosen
        names = [v.feature for v in values]
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                return errors.field_error(f"values[{i}].feature", f"{name!r} is given twice")
            seen.add(name)
        try:
            prediction = model.predict_record({v.feature: v.value for v in values})
        except DataValidationError as exc:
            return errors.invalid_record(exc.problems, names)
        return Prediction.from_domain(prediction, used)

    @strawberry.mutation(
        description=(
            "Segments of many customers of ANY model as a table: `columns` names the model's "
            "features (any order, each once), each row holds one value per column. At most the "
            "server's batch limit of rows; validated whole (`rows[3]`, `rows[3].revenue`)."
        )
    )
    async def predict_rows(
        self,
        info: Info,
        columns: Annotated[
            list[str], strawberry.argument(description="The feature of each row position.")
        ],
        rows: Annotated[
            list[list[float]],
            strawberry.argument(description="The customers, predicted in this order."),
        ],
        version: VersionArgument = strawberry.UNSET,
    ) -> PredictBatchResult:
        chosen = await _batch_model(info, version, len(rows), "rows")
        if isinstance(chosen, InvalidInput):
            return chosen
        model, used = chosen
        order = _column_order(columns, model.spec.columns)
        if isinstance(order, InvalidInput):
            return order
        width = len(columns)
        ragged = [i for i, row in enumerate(rows) if len(row) != width]
        if ragged:
            return errors.invalid_rows(
                [Problem(None, f"has {len(rows[i])} values; `columns` names {width}", (i,))
                 for i in ragged],
                "rows",
            )
        X = np.array(rows, dtype=np.float64).reshape(len(rows), width)[:, order]
        problems = model.validate(X)
        if problems:
            return errors.invalid_rows(problems, "rows")
        return BatchPrediction.from_domain(model.predict_batch_unchecked(X), used)

    # -- training ----------------------------------------------------------------------------

    @strawberry.mutation(
        description=(
            "Train a model and make it active: on `datasetId` (default: the bundled dataset) "
            "with `features` (default: the bundled four, else every NUMERIC column). Runs one "
            "at a time (TrainingInProgress otherwise); predictions keep using the previous "
            "model until the new one is stored. Follow it with the trainingProgress "
            "subscription or health.training. Needs the API key when the server has one."
        ),
        permission_classes=[IsAuthorized],
    )
    async def train(
        self,
        info: Info,
        input: Annotated[  # noqa: A002 (the contract's name)
            TrainInput | None,
            strawberry.argument(description="Training parameters; all optional."),
        ] = strawberry.UNSET,
    ) -> TrainResult:
        train_input = input or TrainInput()
        params = train_input.to_params()
        dataset_id = str(train_input.dataset_id) if train_input.dataset_id else None
        features = [f.column for f in train_input.features or ()]
        try:
            model = await info.context.service.train(dataset_id, params)
        except DataValidationError as exc:
            return errors.invalid_training(exc.problems, features)
        except NotFoundError as exc:
            field = "datasetId" if exc.kind == "dataset" else "input"
            return errors.field_error(field, f"there is no {exc.kind} {exc.identifier!r}")
        return TrainSuccess(model=ModelInfo.from_domain(model.info, model.spec, True))

    # -- datasets ----------------------------------------------------------------------------

    @strawberry.mutation(
        description=(
            "Import a CSV (UTF-8, `,` `;` or tab, a header row) or Parquet file as a dataset, "
            "sent as a GraphQL multipart request with a `GraphQL-Require-Preflight: 1` header. "
            "The same bytes give the same dataset. Needs the API key when the server has one."
        ),
        permission_classes=[IsAuthorized],
    )
    async def upload_dataset(
        self,
        info: Info,
        file: Annotated[Upload, strawberry.argument(description="The file (multipart part).")],
        name: Annotated[
            str | None,
            strawberry.argument(description="Display name (1-120 characters); default: the "
                                            "file's name."),
        ] = strawberry.UNSET,
    ) -> UploadDatasetResult:
        if not isinstance(file, UploadFile):
            return errors.field_error("file", "must be a file part of a multipart request")
        try:
            imported = await run_in_threadpool(
                info.context.workspace.import_dataset, file.file,
                name=name or None, filename=file.filename,
            )
        except DataValidationError as exc:
            return errors.invalid_file(exc.problems)
        return DatasetImported(dataset=Dataset.from_domain(imported.dataset),
                               already_present=imported.already_present)

    @strawberry.mutation(
        description="Delete an imported dataset (not the bundled one, nor the one the active "
        "model was trained on: Conflict). Needs the API key when the server has one.",
        permission_classes=[IsAuthorized],
    )
    async def delete_dataset(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The dataset.")],  # noqa: A002
    ) -> DeleteResult:
        await run_in_threadpool(info.context.workspace.delete_dataset, str(id))
        return Deleted(id=str(id))

    # -- model history -----------------------------------------------------------------------

    @strawberry.mutation(
        description="Make a stored version the active model (every worker serves it within a "
        "second). Needs the API key when the server has one.",
        permission_classes=[IsAuthorized],
    )
    async def activate_model(
        self, info: Info,
        version: Annotated[str, strawberry.argument(description="The version to activate.")],
    ) -> ActivateResult:
        service = info.context.service
        previous = await run_in_threadpool(info.context.workspace.models.activate, version)
        await service.sync()
        return await _activated(info, version, previous)

    @strawberry.mutation(
        description="Activate the version that was active before the current one (repeated "
        "rollbacks walk back); Conflict when there is nothing to go back to. Needs the API "
        "key when the server has one.",
        permission_classes=[IsAuthorized],
    )
    async def rollback_model(self, info: Info) -> ActivateResult:
        service = info.context.service
        models = info.context.workspace.models
        previous = await run_in_threadpool(models.active_version)
        version = await run_in_threadpool(models.rollback)
        await service.sync()
        return await _activated(info, version, previous)

    @strawberry.mutation(
        description="Rename a segment of a stored version (1-60 printable characters, unique "
        "in the model, case-insensitive). Needs the API key when the server has one.",
        permission_classes=[IsAuthorized],
    )
    async def rename_segment(
        self, info: Info,
        version: Annotated[str, strawberry.argument(description="The model version.")],
        cluster_id: Annotated[int, strawberry.argument(description="The segment (0..k-1).")],
        name: Annotated[str, strawberry.argument(description="The new name.")],
    ) -> RenameResult:
        profile = await run_in_threadpool(
            info.context.workspace.models.rename_segment, version, cluster_id, name
        )
        await info.context.service.sync()
        return SegmentRenamed(segment=ClusterProfile.from_domain(profile))

    @strawberry.mutation(
        description="Delete a stored version that is not active (Conflict for the active one). "
        "Needs the API key when the server has one.",
        permission_classes=[IsAuthorized],
    )
    async def delete_model(
        self, info: Info,
        version: Annotated[str, strawberry.argument(description="The version to delete.")],
    ) -> DeleteResult:
        await run_in_threadpool(info.context.workspace.models.delete, version)
        await info.context.service.sync()
        return Deleted(id=version)

    # -- bulk scoring ------------------------------------------------------------------------

    @strawberry.mutation(
        description=(
            "Score every row of a dataset with the active model (or `version`) into a CSV: "
            "every original column, then segment_id, segment_name, confidence, score_problem. "
            "Answers its counts and a `downloadUrl` (same server, unguessable, valid until "
            "`expiresAt`). Needs the API key when the server has one."
        ),
        permission_classes=[IsAuthorized],
    )
    async def score_dataset(
        self, info: Info,
        dataset_id: Annotated[strawberry.ID, strawberry.argument(description="The dataset.")],
        version: Annotated[
            str | None,
            strawberry.argument(description="The model version; the active one when omitted."),
        ] = strawberry.UNSET,
    ) -> ScoreResult:
        ctx = info.context
        dataset = await run_in_threadpool(ctx.workspace.datasets.get, str(dataset_id))
        exports = ctx.exports
        export = await run_in_threadpool(exports.reserve, dataset.name)

        def write() -> ScoreSummary:
            job = ctx.workspace.score_dataset(dataset.id, version or None)
            return write_scored(job, exports.temporary_path(export))

        try:
            summary = await run_in_threadpool(write)
            await run_in_threadpool(exports.publish, export)
        except DataValidationError as exc:
            await run_in_threadpool(exports.discard, export)
            return errors.invalid_scoring(exc.problems)
        except BaseException:
            await run_in_threadpool(exports.discard, export)
            raise
        return ScoredDataset.from_domain(dataset.id, summary, export.url, export.expires_at_iso)


async def _activated(info: Info, version: str, previous: str | None) -> ModelActivated:
    record = await info.context.service.record(version)
    assert record is not None
    return ModelActivated(model=ModelInfo.from_record(record), previous_version=previous)


def _column_order(columns: list[str], model_columns: tuple[str, ...]) -> list[int] | InvalidInput:
    """Position in ``columns`` of each model column; InvalidInput naming the bad ones."""
    position: dict[str, int] = {}
    problems: list[tuple[str, str]] = []
    for i, name in enumerate(columns):
        if name in position:
            problems.append((f"columns[{i}]", f"{name!r} is given twice"))
        elif name not in model_columns:
            problems.append((f"columns[{i}]", f"{name!r} is not a feature of this model "
                                              f"(its features: {', '.join(model_columns)})"))
        position.setdefault(name, i)
    missing = [c for c in model_columns if c not in position]
    if missing:
        problems.append(("columns", f"missing feature(s): {', '.join(missing)}; every "
                                    "feature of the model needs a column"))
    if problems:
        return errors.invalid_columns(problems)
    return [position[c] for c in model_columns]
