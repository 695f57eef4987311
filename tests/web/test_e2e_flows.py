"""End to end, version 2: a marketer's journey through the production app in headless Chromium.

Upload the Mall customers export, tick income and spending score, train and see k = 5 on the
dashboard; rename a segment and see the name on the dashboard and in a prediction; train a
second model, compare the two, roll back; score a CSV and check the downloaded file; a refused
upload shows the API's reason. The tests run in file order on one server (module-scoped), each
starting from what the one before left, the way a person would go through the pages.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.web.conftest import APP_PORTS, free_port
from web import api_client
from web.api_client import InvalidInput
from web.testing import ServerHandle, open_page, start_server, store_env, train_store

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

T = TypeVar("T")
MALL = Path(__file__).resolve().parents[1] / "data" / "mall_customers.csv"
INCOME, SCORE = "Annual Income (k$)", "Spending Score (1-100)"
MALL_COLUMNS = ["CustomerID", "Gender", "Age", INCOME, SCORE]
#: Long waits end only a test that will never pass: every wait is for a condition.
TRAINING_MS = 240_000


@pytest.fixture(scope="module")
def flow_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """The production app over a store of its own: trained on the bundled data, no uploads."""
    base = tmp_path_factory.mktemp("flow-store")
    env = store_env(base)
    train_store(env)
    with start_server(free_port(APP_PORTS), env, log_path=base / "server.log") as server:
        yield server


def _gql(server: ServerHandle, query: str, variables: dict | None = None) -> dict:
    answer = httpx.post(
        server.url + "/graphql", json={"query": query, "variables": variables or {}}, timeout=60
    )
    body = answer.json()
    assert "errors" not in body, body
    return body["data"]


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a client coroutine (Playwright's sync API keeps an event loop in this thread)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _active(server: ServerHandle) -> dict:
    return _gql(server, "{ model { version k datasetName features } }")["model"]


def _tick(page, column: str) -> None:  # noqa: ANN001 - a Playwright Page
    """Tick a feature and wait until the page's state has it (the checkbox is controlled)."""
    box = page.locator(f'[data-feature-toggle="{column}"]')
    box.click()
    page.locator(f'[data-feature-toggle="{column}"][aria-checked="true"]').wait_for()


def _watch_progress(page) -> None:  # noqa: ANN001
    """Record whether `#training-progress` was ever shown and which stages it named."""
    page.evaluate(
        """() => {
          window.__progress = {seen: false, stages: []};
          const note = () => {
            const el = document.getElementById('training-progress');
            if (!el) return;
            window.__progress.seen = true;
            const stage = el.getAttribute('data-stage');
            if (stage && !window.__progress.stages.includes(stage))
              window.__progress.stages.push(stage);
          };
          new MutationObserver(note).observe(document.body,
            {subtree: true, childList: true, attributes: true});
        }"""
    )


def _upload_mall(page, server: ServerHandle) -> None:  # noqa: ANN001
    open_page(page, server.url + "/data")
    page.set_input_files("#dataset-upload input[type=file]", str(MALL))
    page.locator("#dataset-upload-note").wait_for(timeout=60_000)
    page.locator(f'[data-column="{INCOME}"]').wait_for()


def test_upload_tick_income_and_score_train_and_see_k5(flow_app, page, measured) -> None:
    _upload_mall(page, flow_app)
    datasets = _gql(flow_app, "{ datasets { id name } }")["datasets"]
    mall = next(d for d in datasets if d["name"] == "mall_customers")
    # A finished upload selects the new dataset and lists it.
    page.locator(f'#dataset-list [data-dataset-id="{mall["id"]}"][aria-pressed="true"]').wait_for()
    rows = page.locator("#dataset-columns [data-column]")
    assert rows.count() == len(MALL_COLUMNS)
    assert page.locator('[data-feature-toggle="Gender"]').is_disabled()
    assert page.locator('[data-feature-toggle="CustomerID"]').is_disabled()
    assert page.locator("#train-dataset").is_disabled()  # nothing ticked yet

    _tick(page, INCOME)
    _tick(page, SCORE)
    page.select_option(f'[data-transform-select="{INCOME}"]', "NONE")
    page.select_option(f'[data-transform-select="{SCORE}"]', "NONE")
    _watch_progress(page)
    page.click("#train-dataset")
    result = page.locator("#training-result")
    result.wait_for(timeout=TRAINING_MS)
    progress = page.evaluate("window.__progress")
    assert progress["seen"], "the training progress was never shown"
    measured.append(f"training stages the data page showed: {progress['stages'] or 'none'}")
    assert page.locator("#training-result-k").inner_text() == "5"
    assert page.locator("#training-result-silhouette").inner_text().startswith("0.55")
    model = _active(flow_app)
    assert model["k"] == 5 and model["features"] == [INCOME, SCORE]

    page.click("#training-result-dashboard")
    page.wait_for_url("**/dashboard")
    page.locator(f"#model-version:text-is('{model['version']}')").wait_for()
    assert page.locator("#model-k").inner_text() == "5"
    page.wait_for_function(
        """() => document.querySelectorAll('#cluster-table tbody tr').length === 5
             && document.querySelectorAll('#chart-drivers .driver-bar').length === 10
             && document.querySelectorAll('#chart-profiles .recharts-scatter-symbol').length === 5
             && document.querySelectorAll('#chart-sizes .recharts-pie-sector').length === 5"""
    )
    # Axes and labels are the model's own features, not the bundled four.
    averages = page.locator("#chart-averages").inner_text()
    assert "Annual Income" in averages and "Spending Score" in averages
    assert "Age" not in page.locator("#cluster-table thead").inner_text()


def test_rename_shows_on_the_dashboard_and_in_a_prediction(flow_app, page) -> None:
    model = _active(flow_app)
    clusters = _gql(flow_app, "{ clusters { clusterId name features { feature median } } }")[
        "clusters"
    ]
    target = clusters[1]
    open_page(page, flow_app.url + "/dashboard")
    page.click(f'[data-rename="{target["clusterId"]}"]')
    name_input = page.locator("#segment-name-input")
    name_input.fill(clusters[0]["name"].upper())  # taken (case-insensitive): refused
    page.click("#segment-name-save")
    page.locator("#segment-name-error").filter(has_text=re.compile(r"\S")).wait_for()
    name_input.fill("Big spenders")
    page.click("#segment-name-save")
    name_input.wait_for(state="detached")
    row = page.locator(f'#cluster-table tr[data-cluster-id="{target["clusterId"]}"]')
    row.filter(has_text="Big spenders").wait_for()
    assert _active(flow_app)["version"] == model["version"]  # a rename is no new model

    # A customer at that segment's medians lands in it, under its new name.
    open_page(page, flow_app.url + "/")
    for f in target["features"]:
        page.fill(f'[data-feature="{f["feature"]}"]', f"{f['median']:g}")
    assert page.locator("#age").count() == 0  # the form is the model's, not the bundled one
    page.click("#predict")
    page.locator("#segment-name").filter(has_text="Big spenders").wait_for()


def test_a_second_model_compare_and_roll_back(flow_app, page) -> None:
    first = _active(flow_app)
    open_page(page, flow_app.url + "/data")
    page.locator("#dataset-columns [data-column]").first.wait_for()
    # The active model's dataset is selected; train it again with k fixed at 3.
    _tick(page, INCOME)
    _tick(page, SCORE)
    page.fill("#option-k_min", "3")
    page.fill("#option-k_max", "3")
    # Leaving the field sends its value at once (the inputs debounce while typing); events
    # reach the server in order, so the training below sees k = 3.
    page.press("#option-k_max", "Tab")
    page.click("#train-dataset")
    page.locator("#training-result-k:text-is('3')").wait_for(timeout=TRAINING_MS)
    second = _active(flow_app)
    assert second["version"] != first["version"] and second["k"] == 3

    open_page(page, flow_app.url + "/models")
    page.locator(
        f'#model-list tr[data-version="{second["version"]}"][data-active="true"]'
    ).wait_for()
    page.select_option("#compare-a", first["version"])
    page.select_option("#compare-b", second["version"])
    page.click("#compare-run")
    comparison = page.locator("#comparison")
    page.locator("#comparison-ari").wait_for(timeout=60_000)
    ari = float(page.locator("#comparison-ari").inner_text())
    assert 0 < ari < 1
    words = page.locator("#comparison-words").inner_text()
    assert words.endswith("segments")
    flows = comparison.locator("#comparison-flows tbody tr")
    assert flows.count() == 5  # rows: the five segments of the first model
    assert comparison.locator("#comparison-flows thead th").count() == 1 + 3

    page.click("#rollback")
    page.locator(
        f'#model-list tr[data-version="{first["version"]}"][data-active="true"]'
    ).wait_for()
    assert _active(flow_app)["version"] == first["version"]
    assert "Active now" in page.locator("#model-action-result").inner_text()


def test_score_a_csv_and_download_the_scored_file(flow_app, page, tmp_path) -> None:
    open_page(page, flow_app.url + "/data")
    page.set_input_files("#score-upload input[type=file]", str(MALL))
    result = page.locator("#score-result")
    result.wait_for(timeout=120_000)
    counts = [
        int(t.replace(",", ""))
        for t in result.locator("tbody tr td:nth-child(2)").all_inner_texts()
    ]
    assert sum(counts) == 200 and len(counts) == _active(flow_app)["k"]
    with page.expect_download() as download:
        page.click("#score-download")
    path = tmp_path / "scored.csv"
    download.value.save_as(path)
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header == [*MALL_COLUMNS, "segment_id", "segment_name", "confidence", "score_problem"]
    assert len(body) == 200
    assert all(r[header.index("segment_name")] for r in body)


def test_a_refused_upload_shows_the_api_message(flow_app, page, tmp_path) -> None:
    before = len(_gql(flow_app, "{ datasets { id } }")["datasets"])
    names = tmp_path / "names.csv"
    names.write_text("name,city\n" + "".join(f"Person {i},Town {i}\n" for i in range(20)))
    # What the API itself says about this file (a refused upload stores nothing).
    refused = _run(
        api_client.upload_dataset(names.read_bytes(), names.name, url=flow_app.url + "/graphql")
    )
    assert isinstance(refused, InvalidInput) and refused.errors[0].field == "file"
    open_page(page, flow_app.url + "/data")
    page.set_input_files("#dataset-upload input[type=file]", str(names))
    error = page.locator("#dataset-upload-error")
    error.wait_for()
    assert error.inner_text().strip() == refused.errors[0].message
    assert len(_gql(flow_app, "{ datasets { id } }")["datasets"]) == before
    # The page stays usable: the datasets are still there to pick.
    assert page.locator("#dataset-list [data-dataset-id]").count() == before


@pytest.mark.parametrize("width", [375, 1440])
@pytest.mark.parametrize("path", ["/", "/dashboard", "/data", "/models"])
def test_every_page_fits_without_sideways_scrolling(flow_app, browser, path, width) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        open_page(page, flow_app.url + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
    finally:
        context.close()
