"""The GraphQL schema: composes Query and Mutation with the extensions and error handlers."""

from __future__ import annotations

from graph_api.errors import EXCEPTION_HANDLERS
from graph_api.execution import EXTENSIONS, SegmentationSchema
from graph_api.mutations import Mutation
from graph_api.queries import Query

schema = SegmentationSchema(
    query=Query, mutation=Mutation, extensions=EXTENSIONS, exception_handlers=EXCEPTION_HANDLERS
)
