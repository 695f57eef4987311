"""Page state logic: the form rules, the chart shaping, and the states' handlers run against
the real API under uvicorn (the handlers call it over HTTP exactly as in production)."""

from __future__ import annotations

import math

import httpx
import pytest
import reflex as rx

from web.api_client import ClusterProfile, FeatureStats, FieldError, InvalidInput
from web.customer_fields import CUSTOMER_FIELDS, field_error, server_field_errors, to_customer
from web.dashboard_data import feature_bars, population_means, radar_rows, table_rows
from web.pages.dashboard import DashboardState, api_status, trained_at_label
from web.pages.home import HomeState
from web.palette import SEGMENT_COLORS, segment_color, text_color_on

VALID = {"age": "35", "annual_income": "80", "spending_score": "70", "purchase_frequency": "20"}


def _substate(cls: type[rx.State]) -> rx.State:
    root = rx.State(_reflex_internal_init=True)
    return root.get_substate(cls.get_full_name().split(".")[1:])


async def _drain(events) -> list:  # noqa: ANN001 - an async generator of Reflex events
    return [e async for e in events]


@pytest.mark.parametrize(
    ("field", "raw", "message"),
    [
        ("age", "", "Enter the age."),
        ("age", "abc", "Enter a number."),
        ("age", "17", "Must be between 18 and 100."),
        ("age", "30.5", "Enter a whole number."),
        ("age", "101", "Must be between 18 and 100."),
        ("annual_income", "-0.5", "Must be 0 or more."),
        ("annual_income", "nan", "Enter a finite number."),
        ("spending_score", "0", "Must be between 1 and 100."),
        ("purchase_frequency", "3000000000", "Must be at most 2147483647."),
        ("annual_income", "72.5", ""),
        ("age", " 18 ", ""),
    ],
)
def test_field_rules(field: str, raw: str, message: str) -> None:
    assert field_error(field, raw) == message


def test_to_customer_parses_types() -> None:
    customer = to_customer(VALID)
    assert (customer.age, customer.annual_income) == (35, 80.0)
    with pytest.raises(ValueError):
        to_customer({**VALID, "spending_score": "101"})


def test_api_field_errors_land_under_the_form_field() -> None:
    invalid = InvalidInput(
        message="bad",
        errors=(FieldError("annualIncome", "too low"), FieldError("segment", "unknown")),
    )
    by_field, unplaced = server_field_errors(invalid)
    assert by_field == {"annual_income": "too low"}
    assert unplaced == ["segment: unknown"]


def test_form_state_validates_while_typing() -> None:
    home = _substate(HomeState)
    assert home.can_submit is False
    assert home.errors == {f.id: "" for f in CUSTOMER_FIELDS}  # a fresh form is not red
    home.set_value("age", "12")
    assert home.errors["age"] == "Must be between 18 and 100."
    home.touch("spending_score")
    assert home.errors["spending_score"] == "Enter the spending score."
    for field, value in VALID.items():
        home.set_value(field, value)
    assert home.can_submit is True
    assert all(message == "" for message in home.errors.values())


def test_palette_has_ten_distinct_readable_colours() -> None:
    assert len(set(SEGMENT_COLORS)) >= 10
    assert segment_color(0) != segment_color(9)
    assert segment_color(len(SEGMENT_COLORS)) == segment_color(0)
    assert text_color_on("#F0E442") == "#000000"  # yellow: black text
    assert text_color_on("#332288") == "#ffffff"  # indigo: white text


def _cluster(cid: int, size: int, age: float, income: float) -> ClusterProfile:
    return ClusterProfile(
        cluster_id=cid,
        name=f"S{cid}",
        size=size,
        share=size / 100,
        features=(
            FeatureStats("age", age, age, age - 5, age + 5, 2.0),
            FeatureStats("annual_income", income, income, income - 10, income + 10, 3.0),
        ),
    )


def test_chart_shaping() -> None:
    clusters = (_cluster(0, 75, 30, 50), _cluster(1, 25, 70, 110))
    assert population_means(clusters) == {"age": 40.0, "annual_income": 65.0}
    bars = feature_bars(clusters)
    assert [b["label"] for b in bars] == ["Age", "Annual income"]
    assert bars[0]["population_mean"] == 40.0
    assert [r["fill"] for r in bars[1]["rows"]] == [segment_color(0), segment_color(1)]
    radar = radar_rows(clusters)
    # age spans 25..75 over the data: 30 -> 0.1, 70 -> 0.9
    assert radar[0] == {"feature": "Age", "c0": 0.1, "c1": 0.9}
    assert radar[1]["feature"] == "Income"
    rows = table_rows(clusters)
    assert rows[0]["share"] == "75.0%" and rows[0]["cells"][0] == "30 · med 30 · 25–35"


def test_status_words() -> None:
    from web.api_client import Health

    assert api_status(None) == "down"
    assert api_status(Health("ok", True, "v1")) == "healthy"
    assert api_status(Health("ok", False, None)) == "degraded"
    assert trained_at_label("2026-11-28T01:02:03+00:00") == "2026-11-28 01:02 UTC"
    assert trained_at_label("2026-11-28T03:02:03+02:00") == "2026-11-28 01:02 UTC"
    assert trained_at_label(None) == "–"


@pytest.mark.anyio
async def test_home_predicts_through_the_api(api_server: str) -> None:
    home = _substate(HomeState)
    await home.check_api()
    assert home.api_state == "ready"
    for field, value in VALID.items():
        home.set_value(field, value)
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
        answer = await client.post(own_api_server, json={"query": mutation}, timeout=60)
    assert answer.json()["data"]["train"]["model"]["version"]
    for field, value in VALID.items():
        home.set_value(field, value)
    await _drain(home.submit({}))
    assert home.has_result
    assert len(home.others) == 2  # the new model has 3 segments, not the old one's
    assert set(home._profiles) == {0, 1, 2}
    assert all(r["typical"] != "–" for r in home.comparison)


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
    assert board.optimal_k == board.k and board.elbow
    assert board.trained_at.endswith("UTC")


@pytest.mark.anyio
async def test_pages_say_when_the_api_is_down(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTATION_GRAPHQL_URL", "http://127.0.0.1:9/graphql")
    home = _substate(HomeState)
    await home.check_api()
    assert home.api_state == "down" and "cannot be reached" in home.api_message
    board = _substate(DashboardState)
    await board.load()
    assert board.status == "down" and board.loading is False
