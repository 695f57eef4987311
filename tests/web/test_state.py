"""The pages' state handlers, run against the real API under uvicorn (the handlers call it over
HTTP exactly as in production). Shaping and form rules are in test_shaping.py."""

from __future__ import annotations

import math

import httpx
import pytest
import reflex as rx

from web.api_client import Health
from web.pages.dashboard import DashboardState, api_status, retrain_request
from web.pages.home import HomeState
from web.pages.models import ModelsState

BUNDLED = {"age": "35", "annual_income": "80", "spending_score": "70", "purchase_frequency": "20"}


def _substate(cls: type[rx.State]) -> rx.State:
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def _drain(events) -> list:  # noqa: ANN001 - an async generator of Reflex events
    return [e async for e in events]


def test_status_words() -> None:
    assert api_status(None) == "down"
    assert api_status(Health("ok", True, "v1")) == "healthy"
    assert api_status(Health("ok", False, None)) == "degraded"
    assert retrain_request(None) == {}


def test_a_fresh_form_is_not_red_and_cannot_submit() -> None:
    home = _substate(HomeState)
    assert home.can_submit is False
    assert home.errors == {}


@pytest.mark.anyio
async def test_home_builds_the_form_and_predicts_through_the_api(api_server: str) -> None:
    home = _substate(HomeState)
    await home.check_api()
    assert home.api_state == "ready"
    assert [f["dom_id"] for f in home.fields] == list(BUNDLED)
    home.touch("age")
    assert home.errors["age"] == "Enter the age."
    home.set_value("age", "12")
    assert home.errors["age"] == "Must be between 18 and 100."
    for field, value in BUNDLED.items():
        home.set_value(field, value)
    assert home.can_submit is True
    await _drain(home.submit({}))
    assert home.has_result and home.loading is False
    assert home.segment_name
    assert 0 < home.confidence_pct <= 100
    assert [r["customer"] for r in home.comparison] == ["35", "80", "70", "20"]
    assert all(r["typical"] != "–" for r in home.comparison)
    total = home.confidence_pct + sum(r["pct"] for r in home.others)
    assert math.isclose(total, 100, abs_tol=0.5)


@pytest.mark.anyio
async def test_home_notices_a_model_retrained_since_the_page_loaded(own_api_server: str) -> None:
    home = _substate(HomeState)
    await home.check_api()
    assert len(home._profiles) != 3  # the bundled data gives more segments than 3
    mutation = "mutation { train(input: {k: 3}) { ... on TrainSuccess { model { version } } } }"
    async with httpx.AsyncClient() as client:
        answer = await client.post(own_api_server, json={"query": mutation}, timeout=120)
    assert answer.json()["data"]["train"]["model"]["version"]
    for field, value in BUNDLED.items():
        home.set_value(field, value)
    await _drain(home.submit({}))
    assert home.has_result
    assert len(home.others) == 2  # the new model has 3 segments, not the old one's
    assert set(home._profiles) == {0, 1, 2}


@pytest.mark.anyio
async def test_dashboard_state_loads_everything_in_one_request(api_server: str, tmp_path) -> None:
    log = tmp_path / "api.log"
    before = log.read_text().count("POST /graphql")
    board = _substate(DashboardState)
    await board.load()
    assert log.read_text().count("POST /graphql") - before == 1
    assert board.status == "healthy" and board.loading is False
    assert board.k == len(board.rows) == len(board.sizes) == len(board.series)
    assert len(board.averages) == 4 and len(board.radar) == 4
    assert len(board.drivers) == board.k
    assert board.optimal_k == board.k and board.elbow
    assert board.trained_at.endswith("UTC")
    assert board.picker and board.picker[0]["version"] == board.model_version


@pytest.mark.anyio
async def test_models_state_lists_the_history(api_server: str) -> None:
    models = _substate(ModelsState)
    await models.load()
    assert models.api_error == "" and len(models.rows) >= 1
    assert models.rows[0]["active"] is True
    assert models.compare_b == models.rows[0]["version"]


@pytest.mark.anyio
async def test_pages_say_when_the_api_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTATION_GRAPHQL_URL", "http://127.0.0.1:9/graphql")
    home = _substate(HomeState)
    await home.check_api()
    assert home.api_state == "down" and "cannot be reached" in home.api_message
    board = _substate(DashboardState)
    await board.load()
    assert board.status == "down" and board.loading is False
    models = _substate(ModelsState)
    await models.load()
    assert "cannot be reached" in models.api_error
