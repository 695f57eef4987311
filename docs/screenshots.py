"""Take the README's screenshots: every page at 1440 px and 375 px, light and dark, real data.

    .venv/bin/python docs/screenshots.py            # writes docs/screenshots/*.png

Starts the production app exactly as `make run` does (on port 18490, a temporary store trained
on the bundled data first), then imports the Mall customers export through the API, trains a
model on income and spending score (k = 5) and a second one on age, income and score, so the
history and the comparison have something to show. The browser follows the system colour scheme
the way a visitor's browser would, and each page is driven the way a person would use it (a
prediction on the home page, features ticked and a file scored on the data page, a comparison on
the models page). Look at every image before committing it.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from web import api_client  # noqa: E402
from web.api_client import DatasetImported, FeatureChoice, ModelInfo  # noqa: E402
from web.testing import (  # noqa: E402
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    open_page,
    start_server,
    store_env,
    train_store,
)

OUT = ROOT / "docs" / "screenshots"
PORT = int(os.environ.get("SCREENSHOT_PORT", "18490"))
SIZES = {"desktop": (1440, 900), "mobile": (375, 812)}
MALL = ROOT / "tests" / "data" / "mall_customers.csv"
INCOME, SCORE, AGE = "Annual Income (k$)", "Spending Score (1-100)", "Age"
CUSTOMER = {INCOME: "95", SCORE: "82"}


async def _prepare(url: str) -> tuple[str, str]:
    """Import the Mall data and train two models on it; the income/score one ends active."""
    imported = await api_client.upload_dataset(
        MALL.read_bytes(), MALL.name, name="mall_customers", content_type="text/csv", url=url
    )
    assert isinstance(imported, DatasetImported), imported
    dataset = imported.dataset.id
    three = await api_client.train(
        dataset_id=dataset,
        features=[FeatureChoice(AGE, "NONE"), FeatureChoice(INCOME, "NONE"), FeatureChoice(SCORE)],
        url=url,
    )
    two = await api_client.train(
        dataset_id=dataset,
        features=[FeatureChoice(INCOME, "NONE"), FeatureChoice(SCORE, "NONE")],
        url=url,
    )
    assert isinstance(three, ModelInfo) and isinstance(two, ModelInfo), (three, two)
    return three.version, two.version


def _settle(page: Page, selector: str) -> None:
    """Wait for what the shot is about, then put the viewport back at the top of the page."""
    page.wait_for_function(
        "s => document.querySelectorAll(s).length > 0", arg=selector, timeout=120_000
    )
    page.evaluate("window.scrollTo(0, 0)")


def _home(page: Page, url: str) -> None:
    open_page(page, url + "/")
    for feature, value in CUSTOMER.items():
        page.fill(f'[data-feature="{feature}"]', value)
    page.click("#predict")
    _settle(page, "#prediction-result")


def _dashboard(page: Page, url: str) -> None:
    open_page(page, url + "/dashboard")
    _settle(page, "#chart-drivers .driver-bar")
    page.wait_for_function(
        "() => document.querySelectorAll('#chart-profiles .recharts-scatter-symbol').length > 0"
    )


def _data(page: Page, url: str) -> None:
    open_page(page, url + "/data")
    for feature in (INCOME, SCORE):
        page.locator(f'[data-feature-toggle="{feature}"]').click()
        page.locator(f'[data-feature-toggle="{feature}"][aria-checked="true"]').wait_for()
    page.set_input_files("#score-upload input[type=file]", str(MALL))
    _settle(page, "#score-result")


def _models(page: Page, url: str, a: str, b: str) -> None:
    open_page(page, url + "/models")
    page.select_option("#compare-a", a)
    page.select_option("#compare-b", b)
    page.click("#compare-run")
    _settle(page, "#comparison-flows tbody tr")


def main() -> None:
    """Train a temporary store, serve the app, and write sixteen screenshots."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = store_env(Path(tmp))
        train_store(env)
        with start_server(PORT, env, log_path=Path(tmp) / "server.log") as server:
            first, second = asyncio.run(_prepare(server.url + "/graphql"))
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
                )
                for scheme in ("light", "dark"):
                    for size_name, (width, height) in SIZES.items():
                        context = browser.new_context(
                            viewport={"width": width, "height": height},
                            color_scheme=scheme,
                            device_scale_factor=1,
                        )
                        page = context.new_page()
                        shots = {
                            "home": (_home, ()),
                            "dashboard": (_dashboard, ()),
                            "data": (_data, ()),
                            "models": (_models, (first, second)),
                        }
                        for name, (drive, extra) in shots.items():
                            drive(page, server.url, *extra)
                            path = OUT / f"{name}-{size_name}-{scheme}.png"
                            page.screenshot(path=path, full_page=True)
                            print(f"wrote {path.relative_to(ROOT)}")
                        context.close()
                browser.close()


if __name__ == "__main__":
    main()
