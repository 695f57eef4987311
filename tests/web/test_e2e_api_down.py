"""End to end with the UI pointed at an API that does not answer: clear messages, a way out."""

from __future__ import annotations

import pytest

from web.testing import open_page

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_home_says_the_api_is_down_and_offers_retry(app_without_api, page) -> None:
    open_page(page, app_without_api.url + "/")
    notice = page.locator("#api-down-notice")
    notice.wait_for()
    assert "not reachable" in notice.inner_text()
    assert "127.0.0.1:9" in notice.inner_text()  # says which address it tried
    retry = notice.get_by_role("button", name="Retry")
    retry.click()
    notice.wait_for()  # still down, still explained: no spinner left behind
    assert page.locator("#predict").is_visible()


def test_dashboard_shows_down_with_retry_and_no_stuck_loading(app_without_api, page) -> None:
    open_page(page, app_without_api.url + "/dashboard")
    page.locator("#api-status[data-status='down']").wait_for()
    notice = page.locator("#api-down-notice")
    assert notice.get_by_role("button", name="Retry").is_visible()
    assert "no model is loaded" in page.locator("#chart-sizes").inner_text()
    assert page.locator("#chart-sizes .rt-Skeleton, #chart-sizes [class*='Skeleton']").count() == 0
