"""The Reflex app: the four pages, with the GraphQL API mounted on the same backend.

`rx.App(api_transformer=...)` puts the API's Starlette app in front of Reflex, so one process
serves `/`, `/dashboard`, `/data` and `/models` (the UI), `/graphql` (the API and GraphiQL),
`/exports/...` (scored files) and Reflex's `/_event` and `/_upload`.
Mounted apps do not get ASGI lifespan events from the outer app, so the API's own lifespan
(which loads the model) is registered as a Reflex lifespan task.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import reflex as rx

from graph_api.app import app as graphql_app
from web.pages.dashboard import DashboardState, dashboard
from web.pages.data import DataState, data
from web.pages.home import HomeState, home
from web.pages.models import ModelsState, models


@contextlib.asynccontextmanager
async def _graphql_lifespan() -> AsyncIterator[None]:
    async with graphql_app.router.lifespan_context(graphql_app):
        yield


app = rx.App(
    api_transformer=graphql_app,
    html_lang="en",
    head_components=[rx.el.link(rel="icon", href="/favicon.svg", type="image/svg+xml")],
)
app.register_lifespan_task(_graphql_lifespan)
app.add_page(home, route="/", title="Segment a customer", on_load=HomeState.check_api)
app.add_page(dashboard, route="/dashboard", title="Segments dashboard", on_load=DashboardState.load)
app.add_page(data, route="/data", title="Your data", on_load=DataState.load)
app.add_page(models, route="/models", title="Model history", on_load=ModelsState.load)
