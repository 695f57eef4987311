"""End to end on a fresh store behind an API key: the empty states and the key dialog."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.testing import open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_home_explains_there_is_no_model_and_links_to_training(keyed_app, page) -> None:
    server, _key = keyed_app
    open_page(page, server.url + "/")
    notice = page.locator("#no-model-notice")
    notice.wait_for()
    assert "No model is trained yet" in notice.inner_text()
    assert notice.get_by_role("link").get_attribute("href") == "/dashboard"


def test_dashboard_asks_for_the_key_then_trains(keyed_app, page) -> None:
    server, key = keyed_app
    received: list[str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: received.append(str(f))))
    open_page(page, server.url + "/dashboard")
    status = page.locator("#api-status")
    page.locator("#api-status[data-status='degraded']").wait_for()
    assert "no model" in status.inner_text().lower()
    assert "no model is loaded" in page.locator("#chart-sizes").inner_text()

    page.click("#train")
    key_input = page.locator("#api-key")
    key_input.wait_for()  # the server refused without a key: the dialog asks for one
    assert "key" in page.locator("#train-result").inner_text().lower()
    key_input.fill(key)
    page.click("#api-key-submit")
    page.locator("#api-status[data-status='healthy']").wait_for(timeout=120_000)
    assert "silhouette" in page.locator("#train-result").inner_text()
    assert page.locator("#model-version").inner_text() not in ("", "–")
    assert page.locator("#cluster-table tbody tr").count() >= 2
    # The key never comes back to the page: not in the DOM, not in any state update.
    assert received, "no state updates were observed"
    assert key not in page.content()
    assert not any(key in frame for frame in received)
    # Nor is it written to disk by the state manager.
    states = ROOT / ".states"
    leaked = [f for f in states.rglob("*") if f.is_file() and key.encode() in f.read_bytes()]
    assert not leaked


def test_data_page_asks_for_the_key_then_uploads(keyed_app, page) -> None:
    server, key = keyed_app
    mall = ROOT / "tests" / "data" / "mall_customers.csv"
    open_page(page, server.url + "/data")
    page.set_input_files("#dataset-upload input[type=file]", str(mall))
    key_input = page.locator("#api-key")
    key_input.wait_for()  # refused without a key: the dialog asks for one
    assert "key" in page.locator("#dataset-upload-error").inner_text().lower()
    key_input.fill(key)
    page.click("#api-key-submit")
    key_input.wait_for(state="detached")
    page.set_input_files("#dataset-upload input[type=file]", str(mall))
    page.locator("#dataset-upload-note").wait_for()
    page.locator('#dataset-columns [data-column="Annual Income (k$)"]').wait_for()
    assert key not in page.content()
