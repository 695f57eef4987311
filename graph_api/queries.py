"""Query fields: read the service state, the datasets and the stored models' results.

A model's results (profiles, the k scan) are computed at training time and stored with it; these
resolvers only map them. Reads that touch the disk (dataset lists, registry records, a
comparison) run in a worker thread.
"""

from __future__ import annotations

from typing import Annotated

import strawberry
from starlette.concurrency import run_in_threadpool

from graph_api import errors
from graph_api.context import Info
from graph_api.types import (
    ClusterProfile,
    CompareResult,
    Dataset,
    ElbowReport,
    Health,
    ModelComparison,
    ModelInfo,
    TrainingStatus,
)
from segmentation_core.errors import DataValidationError, NotFoundError
from segmentation_core.results import ModelRecord

VersionArgument = Annotated[
    str | None,
    strawberry.argument(description="A stored model version; the active model when omitted."),
]


async def _record(info: Info, version: str | None) -> ModelRecord | None:
    """The record of ``version`` (active when None); None when there is no such model."""
    if not version:
        served = info.context.served
        if served.model is None:
            return None
        return ModelRecord(served.model.info, served.model.spec, True)
    try:
        return await info.context.service.record(version)
    except NotFoundError:
        return None


@strawberry.type(description="Read the service state, the datasets and the stored models.")
class Query:
    @strawberry.field(description="Service health, which model is active, and the training.")
    def health(self, info: Info) -> Health:
        served = info.context.served
        status = info.context.service.training_status()
        return Health(
            status="ok",
            model_loaded=served.model is not None,
            model_version=served.version if served.model is not None else None,
            training=TrainingStatus.from_domain(status) if status is not None else None,
            training_in_progress=status is not None or info.context.service.training,
        )

    @strawberry.field(description="Every dataset, newest first; the bundled one included.")
    async def datasets(self, info: Info) -> list[Dataset]:
        found = await run_in_threadpool(info.context.workspace.datasets.list)
        return [Dataset.from_domain(d) for d in found]

    @strawberry.field(description="One dataset; null when there is none with this id.")
    async def dataset(
        self, info: Info,
        id: Annotated[strawberry.ID, strawberry.argument(description="The dataset's id.")],  # noqa: A002
    ) -> Dataset | None:
        try:
            found = await run_in_threadpool(info.context.workspace.datasets.get, str(id))
        except NotFoundError:
            return None
        return Dataset.from_domain(found)

    @strawberry.field(
        description="Every stored model version, newest first (read without loading any model)."
    )
    async def models(self, info: Info) -> list[ModelInfo]:
        return [ModelInfo.from_record(r) for r in await info.context.service.records()]

    @strawberry.field(
        description="A stored model: the active one when `version` is omitted; null before the "
        "first training or for an unknown version."
    )
    async def model(self, info: Info,
                    version: VersionArgument = strawberry.UNSET) -> ModelInfo | None:
        record = await _record(info, version)
        return ModelInfo.from_record(record) if record is not None else None

    @strawberry.field(
        description="A model's segments (the active model's when `version` is omitted); empty "
        "before the first training or for an unknown version."
    )
    async def clusters(self, info: Info,
                       version: VersionArgument = strawberry.UNSET) -> list[ClusterProfile]:
        record = await _record(info, version)
        if record is None:
            return []
        return [ClusterProfile.from_domain(p) for p in record.info.profiles]

    @strawberry.field(
        description="The k scan of a model's training (the active model's when `version` is "
        "omitted); null before the first training or for an unknown version."
    )
    async def elbow(self, info: Info,
                    version: VersionArgument = strawberry.UNSET) -> ElbowReport | None:
        record = await _record(info, version)
        return ElbowReport.from_domain(record.info.elbow) if record is not None else None

    @strawberry.field(
        description="Two stored models on the same customers: their adjusted Rand index and how "
        "customers move between their segments."
    )
    async def compare_models(
        self,
        info: Info,
        a: Annotated[str, strawberry.argument(description="The first model version.")],
        b: Annotated[str, strawberry.argument(description="The second model version.")],
        dataset_id: Annotated[
            strawberry.ID | None,
            strawberry.argument(description="The dataset to compare on; default: b's dataset."),
        ] = strawberry.UNSET,
    ) -> CompareResult:
        workspace = info.context.workspace
        try:
            comparison = await run_in_threadpool(workspace.compare, a, b, dataset_id or None)
        except DataValidationError as exc:
            return errors.invalid_comparison(exc.problems)
        record_a = await info.context.service.record(a)
        record_b = await info.context.service.record(b)
        assert record_a is not None and record_b is not None
        return ModelComparison.from_domain(comparison, record_a, record_b)
