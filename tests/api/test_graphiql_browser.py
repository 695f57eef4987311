"""GraphiQL in a real headless Chromium, with every non-local request blocked."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Route, sync_playwright

from graph_api.graphiql import DEFAULT_QUERY

from .conftest import Env, Server

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def test_graphiql_renders_and_runs_a_query_offline(
        trained: Env, server_factory: Callable[..., Server], tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "install Chromium: apt-get install -y chromium"
    server = server_factory(trained.vars())
    query = "{ health { status modelLoaded } model { k } }"
    url = f"{server.url}/graphql?q={urllib.parse.quote(query)}"
    outside: list[str] = []

    def only_local(route: Route) -> None:
        if route.request.url.startswith(server.url) or route.request.url.startswith("data:"):
            route.continue_()
        else:  # what a machine without internet would see
            outside.append(route.request.url)
            route.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", only_local)
            page.goto(url)
            page.get_by_label("Execute query (Ctrl-Enter)").click(timeout=20_000)
            response = page.locator(".graphiql-response")
            response.get_by_text('"modelLoaded": true').wait_for(timeout=20_000)
            text = response.inner_text()
            assert '"status": "ok"' in text
            assert f'"k": {trained.store().load_active().info.k}' in text
            # The documentation explorer is built from introspection: the schema arrived.
            page.get_by_label("Show Documentation Explorer").click()
            explorer = page.locator(".graphiql-doc-explorer")
            explorer.get_by_role("link", name="Mutation").click(timeout=10_000)
            explorer.get_by_text("predictBatch").first.wait_for(timeout=10_000)
            shot = tmp_path / "graphiql.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000  # a rendered IDE, not a blank page
        finally:
            browser.close()
    assert outside == []


def test_graphiql_opens_with_the_dashboard_query_and_runs_it(
        trained: Env, server_factory: Callable[..., Server]) -> None:
    assert "the dashboard in one request" in DEFAULT_QUERY
    server = server_factory(trained.vars())
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda route: route.continue_()
                       if route.request.url.startswith(server.url) else route.abort())
            page.goto(f"{server.url}/graphql")  # no ?q=: the page's own starting text
            page.locator(".graphiql-query-editor").get_by_text(
                "the dashboard in one request").wait_for(timeout=20_000)
            page.get_by_label("Execute query (Ctrl-Enter)").click(timeout=20_000)
            response = page.locator(".graphiql-response")
            response.get_by_text('"drivers"').first.wait_for(timeout=20_000)
            text = response.inner_text()  # the visible lines (the editor renders no more)
            assert '"modelLoaded": true' in text and '"zScore"' in text
            assert '"errors"' not in text
            # Replacing the text (as a person or a script does) runs the new operation.
            page.evaluate(
                "q => document.querySelector('.graphiql-query-editor .CodeMirror')"
                ".CodeMirror.setValue(q)", "{ health { status modelLoaded } }")
            page.get_by_label("Execute query (Ctrl-Enter)").click()
            response.get_by_text('"status": "ok"').wait_for(timeout=20_000)
            assert '"drivers"' not in response.inner_text()
        finally:
            browser.close()
