"""The GraphQL schema: composes Query and Mutation, nothing else."""

from __future__ import annotations

from graph_api.execution import SegmentationSchema
from graph_api.mutations import Mutation
from graph_api.queries import Query

schema = SegmentationSchema(query=Query, mutation=Mutation)
