"""Query fields: read the active model's stored results (computed at training time)."""

from __future__ import annotations

import strawberry

from graph_api.context import Info
from graph_api.types import ClusterProfile, ElbowReport, Health, ModelInfo


@strawberry.type(description="Read the service state and the active model's results.")
class Query:
    @strawberry.field(description="Service health and which model is active.")
    def health(self, info: Info) -> Health:
        service = info.context.service
        model = service.current()
        return Health(
            status="ok",
            model_loaded=model is not None,
            model_version=service.version if model is not None else None,
            training_in_progress=service.training,
        )

    @strawberry.field(description="The active model; null before the first training.")
    def model(self, info: Info) -> ModelInfo | None:
        model = info.context.service.current()
        return ModelInfo.from_domain(model.info) if model is not None else None

    @strawberry.field(description="The active model's segments; empty before the first training.")
    def clusters(self, info: Info) -> list[ClusterProfile]:
        model = info.context.service.current()
        if model is None:
            return []
        return [ClusterProfile.from_domain(p) for p in model.info.profiles]

    @strawberry.field(
        description="The k scan of the active model's training; null before the first training."
    )
    def elbow(self, info: Info) -> ElbowReport | None:
        model = info.context.service.current()
        return ElbowReport.from_domain(model.info.elbow) if model is not None else None
