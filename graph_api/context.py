"""The per-request context resolvers receive through ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field

import strawberry
from starlette.concurrency import run_in_threadpool

from graph_api.auth import is_authorized
from graph_api.exports import ExportStore
from graph_api.service import ModelService, Served
from graph_api.settings import ApiSettings
from segmentation_core.workspace import Workspace


@dataclass
class Context:
    """What a resolver needs: the model service, the exports, the settings and the caller's
    credentials. Built per request (and per websocket connection)."""

    service: ModelService
    settings: ApiSettings
    exports: ExportStore
    authorization: str | None = None
    _served: Served | None = field(default=None, repr=False)

    @property
    def authorized(self) -> bool:
        """Whether the caller may run state-changing mutations."""
        return is_authorized(self.settings.api_key, self.authorization)

    @property
    def workspace(self) -> Workspace:
        """The core's dataset store and model registry."""
        return self.service.workspace

    @property
    def served(self) -> Served:
        """The active model as this request first saw it: every field of one request (health,
        model, clusters, elbow) describes the same model, even if a switch lands meanwhile."""
        if self._served is None:
            self._served = self.service.current()
        return self._served

    async def dataset_preview(self, dataset_id: str, limit: int) -> list[list[str]]:
        """The first ``limit`` rows of a dataset as text (read in a thread)."""
        if limit == 0:
            return []
        return await run_in_threadpool(self.workspace.datasets.preview, dataset_id, limit)


Info = strawberry.Info[Context, None]
