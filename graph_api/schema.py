"""The GraphQL schema: composes Query, Mutation and Subscription with the extensions and the
error handlers, nothing else."""

from __future__ import annotations

from graph_api.errors import EXCEPTION_HANDLERS
from graph_api.execution import EXTENSIONS, SegmentationSchema
from graph_api.mutations import Mutation
from graph_api.queries import Query
from graph_api.subscriptions import Subscription

schema = SegmentationSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    extensions=EXTENSIONS,
    exception_handlers=EXCEPTION_HANDLERS,
)
