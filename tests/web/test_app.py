"""The Reflex app module: both pages registered, the API mounted, its lifespan loading the model."""

from __future__ import annotations

import pytest


@pytest.mark.anyio
async def test_mounted_api_loads_the_model_at_startup(trained_store, monkeypatch) -> None:
    for name in ("SEGMENTATION_MODELS_DIR", "SEGMENTATION_SIGNING_KEY_FILE", "SEGMENTATION_DATA"):
        monkeypatch.setenv(name, trained_store.env[name])
    from graph_api.app import app as graphql_app
    from web.web import _graphql_lifespan, app

    holder = graphql_app.state.service_holder
    assert holder._service is None  # nothing has touched the mounted API yet
    async with _graphql_lifespan():
        # Reflex runs this task at start-up: the model is loaded before the first request.
        active = (trained_store.models_dir / "ACTIVE").read_text().strip()
        assert holder._service is not None and holder._service.version == active
    assert _graphql_lifespan in app._lifespan_tasks
    assert app.api_transformer is graphql_app
    assert {"index", "dashboard"} <= set(app._unevaluated_pages)
