"""End to end: the production app as `make run` serves it, driven in headless Chromium.

Asserts what a person sees: the segment and its percentage in the result card, the message
under a bad field, SVG marks actually drawn in every chart, one table row per segment, the new
model version after training from the UI, and GraphiQL running a query.
"""

from __future__ import annotations

import re
import statistics
import time

import httpx
import pytest

from web.testing import open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VALID = {"age": "35", "annual_income": "80", "spending_score": "70", "purchase_frequency": "20"}


def _gql(server, query: str) -> dict:  # noqa: ANN001 - a ServerHandle
    answer = httpx.post(server.url + "/graphql", json={"query": query}, timeout=30)
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def _fill(page, values: dict[str, str]) -> None:  # noqa: ANN001 - a Playwright Page
    for field, value in values.items():
        page.fill(f"#{field}", value)


def test_prediction_shows_segment_and_confidence(prod_app, page) -> None:
    names = {c["name"] for c in _gql(prod_app, "{ clusters { name } }")["clusters"]}
    open_page(page, prod_app.url + "/")
    _fill(page, VALID)
    page.click("#predict")
    card = page.locator("#prediction-result")
    card.wait_for()
    text = card.inner_text()
    shown = page.locator("#segment-name").inner_text().strip()
    assert shown in names
    assert re.search(r"\d+(\.\d)?%", page.locator("#confidence").inner_text())
    expected = _gql(
        prod_app,
        "mutation { predict(customer: {age: 35, annualIncome: 80, spendingScore: 70, "
        "purchaseFrequency: 20}) { ... on Prediction { segmentName confidence } } }",
    )["predict"]
    assert shown == expected["segmentName"]
    assert f"{100 * expected['confidence']:.1f}%" in text


def test_bad_age_shows_message_and_sends_nothing(prod_app, page) -> None:
    sent: list[str] = []
    sockets: list = []

    def watch(ws) -> None:  # noqa: ANN001 - a Playwright WebSocket
        sockets.append(ws)
        ws.on("framesent", lambda frame: sent.append(str(frame)))

    page.on("websocket", watch)
    open_page(page, prod_app.url + "/")
    _fill(page, {**VALID, "age": "12"})
    error = page.locator("#age-error")
    error.filter(has_text="between 18 and 100").wait_for()
    assert page.locator("#predict").is_disabled()
    page.press("#age", "Enter")  # implicit submission must not get through either
    # Leaving the field sends `touch`; events leave the page in order, so once that frame is
    # out, a submit caused by Enter would have been sent before it.
    assert sockets, "the page never opened its websocket"
    with sockets[0].expect_event("framesent", predicate=lambda frame: "touch" in str(frame)):
        page.locator("#spending_score").focus()
    assert not any("submit" in frame for frame in sent)
    assert page.locator("#prediction-result").count() == 0
    # Fixing the value clears the message and enables the button.
    page.fill("#age", "40")
    error.filter(has_text=re.compile(r"^$")).wait_for()
    assert page.locator("#predict").is_enabled()


def _wait_for_charts(page, k: int) -> None:  # noqa: ANN001
    page.wait_for_function(
        """k => document.querySelectorAll('#cluster-table tbody tr').length === k
             && document.querySelectorAll('#chart-sizes .recharts-pie-sector').length === k
             && document.querySelectorAll('#chart-averages .recharts-bar-rectangle').length
                === 4 * k
             && document.querySelectorAll('#chart-profiles .recharts-radar-polygon').length === k
             && document.querySelectorAll('#chart-elbow .recharts-line-curve').length >= 2
             && document.querySelectorAll('#chart-drivers .driver-bar').length === 4 * k""",
        arg=k,
    )


def test_dashboard_draws_every_chart_and_the_table(prod_app, page, measured) -> None:
    model = _gql(prod_app, "{ model { k version } elbow { points { k } } }")
    k = model["model"]["k"]
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        open_page(page, prod_app.url + "/dashboard")
        _wait_for_charts(page, k)
        timings.append(time.perf_counter() - started)
    measured.append(
        f"navigation to a usable dashboard: median {statistics.median(timings):.2f} s "
        f"of {', '.join(f'{t:.2f}' for t in timings)} (target <= 1.5 s), k = {k}"
    )

    def marks(selector: str) -> list[dict]:
        return page.eval_on_selector_all(
            selector,
            "els => els.map(e => { const b = e.getBBox(); return {w: b.width, h: b.height, "
            "d: e.getAttribute('d') || e.getAttribute('points')} })",
        )

    sectors = marks("#chart-sizes .recharts-pie-sector path")
    bars = marks("#chart-averages .recharts-bar-rectangle path")
    polygons = marks(
        "#chart-profiles .recharts-radar-polygon path, "
        "#chart-profiles .recharts-radar-polygon polygon"
    )
    curves = marks("#chart-elbow .recharts-line-curve")
    drivers = page.eval_on_selector_all(
        "#chart-drivers .driver-bar", "els => els.map(e => e.getBoundingClientRect().width)"
    )
    assert len(sectors) == k and all(m["w"] > 0 and m["h"] > 0 for m in sectors)
    assert len(bars) == 4 * k and all(m["h"] > 0 for m in bars)
    assert len(polygons) >= k and all(m["d"] for m in polygons)
    assert len(curves) >= 2 and sum(m["w"] > 0 for m in curves) >= 2
    assert len(drivers) == 4 * k and sum(w > 0 for w in drivers) >= 3 * k  # z = 0: no width
    n_points = len(model["elbow"]["points"])
    dots = page.locator("#chart-elbow .recharts-line-dots circle").count()
    assert dots >= 2 * n_points
    assert page.locator("#chart-elbow .recharts-reference-line").count() >= 1

    rows = page.locator("#cluster-table tbody tr")
    assert rows.count() == k
    status = page.locator("#api-status")
    assert status.get_attribute("data-status") == "healthy"
    assert page.locator("#model-version").inner_text() == model["model"]["version"]


def test_training_from_the_ui_shows_the_new_version(prod_app, page) -> None:
    before = _gql(prod_app, "{ model { version } }")["model"]["version"]
    open_page(page, prod_app.url + "/dashboard")
    version = page.locator("#model-version")
    version.filter(has_text=before).wait_for()
    page.click("#train")
    page.locator("#train-result").wait_for(timeout=120_000)
    assert "silhouette" in page.locator("#train-result").inner_text()
    after = _gql(prod_app, "{ model { version k } }")["model"]
    assert after["version"] != before
    version.filter(has_text=after["version"]).wait_for()
    assert page.locator("#train").is_enabled()
    _wait_for_charts(page, after["k"])


def test_graphiql_opens_on_the_dashboard_query_and_runs_it(prod_app, page) -> None:
    """The navbar's GraphiQL link: a ready example (the dashboard query) that runs offline."""
    open_page(page, prod_app.url + "/dashboard")
    with page.expect_navigation():
        page.locator("nav a[href='/graphql']").click()
    # The ready example is the dashboard query (graph_api.graphiql.DEFAULT_QUERY).
    page.locator(".graphiql-query-editor").get_by_text("drivers").first.wait_for()
    page.get_by_label("Execute query (Ctrl-Enter)").click()
    response = page.locator(".graphiql-response")
    response.get_by_text('"drivers"').first.wait_for()
    assert '"modelLoaded": true' in response.inner_text()


def test_status_is_live_when_the_model_changes_elsewhere(prod_app, page) -> None:
    open_page(page, prod_app.url + "/dashboard")
    before = _gql(prod_app, "{ model { version } }")["model"]["version"]
    page.locator("#model-version").filter(has_text=before).wait_for()
    # Another client retrains through the API: the open dashboard notices on its next tick.
    trained = _gql(
        prod_app, "mutation { train(input: {k: 3}) { ... on TrainSuccess { model { version } } } }"
    )
    after = trained["train"]["model"]["version"]
    page.locator("#model-version").filter(has_text=after).wait_for(timeout=30_000)
    _wait_for_charts(page, 3)


@pytest.mark.parametrize("path", ["/", "/dashboard"])
def test_pages_fit_a_375_px_phone(prod_app, browser, path: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    try:
        open_page(page, prod_app.url + path)
        page.locator("#predict, #cluster-table tbody tr").first.wait_for(timeout=20_000)
        # Nothing may push the page sideways (wide tables scroll inside their own card).
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        assert page.locator("nav").bounding_box()["width"] <= 375
    finally:
        context.close()


def test_colour_mode_follows_the_system_and_toggles(prod_app, browser) -> None:
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    try:
        open_page(page, prod_app.url + "/")
        html = page.locator("html")
        page.wait_for_function("document.documentElement.classList.contains('dark')")
        page.click("#color-mode-toggle")
        page.wait_for_function("!document.documentElement.classList.contains('dark')")
        assert "light" in (html.get_attribute("class") or "")
    finally:
        context.close()


def test_other_origins_may_not_call_the_api(prod_app) -> None:
    """Reflex allows every origin by default; the app must allow only its own."""
    query = {"query": "{ health { status } }"}
    own = prod_app.url
    foreign = "http://evil.example"
    allowed = httpx.post(own + "/graphql", json=query, headers={"Origin": own}, timeout=30)
    assert allowed.headers.get("access-control-allow-origin") == own
    refused = httpx.post(own + "/graphql", json=query, headers={"Origin": foreign}, timeout=30)
    assert "access-control-allow-origin" not in refused.headers
    preflight = httpx.options(
        own + "/graphql",
        headers={
            "Origin": foreign,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        timeout=30,
    )
    assert preflight.headers.get("access-control-allow-origin") != foreign
    assert preflight.status_code == 400
