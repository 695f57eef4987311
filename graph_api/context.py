"""The per-request context resolvers receive through ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass

import strawberry

from graph_api.auth import is_authorized
from graph_api.service import ModelService
from graph_api.settings import ApiSettings


@dataclass
class Context:
    """What a resolver needs: the model service, the settings and the caller's credentials."""

    service: ModelService
    settings: ApiSettings
    authorization: str | None = None

    @property
    def authorized(self) -> bool:
        """Whether the caller may run state-changing mutations."""
        return is_authorized(self.settings.api_key, self.authorization)


Info = strawberry.Info[Context, None]
