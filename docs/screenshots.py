"""Take the README's screenshots: both pages, desktop (1440 px) and mobile (375 px), light and dark.

    .venv/bin/python docs/screenshots.py            # writes docs/screenshots/*.png

Starts the production app exactly as `make run` does (on port 18390, a temporary model store
trained on the bundled data first), drives headless Chromium, and follows the system colour
scheme the way a visitor's browser would. Look at every image before committing it.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from web.testing import (  # noqa: E402
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    open_page,
    start_server,
    store_env,
    train_store,
)

OUT = ROOT / "docs" / "screenshots"
PORT = int(os.environ.get("SCREENSHOT_PORT", "18390"))
SIZES = {"desktop": (1440, 900), "mobile": (375, 812)}
CUSTOMER = {"age": "29", "annual_income": "95", "spending_score": "82", "purchase_frequency": "30"}


def main() -> None:
    """Train a temporary store, serve the app, and write eight screenshots."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = store_env(Path(tmp))
        train_store(env)
        with start_server(PORT, env, log_path=Path(tmp) / "server.log") as server:
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
                        open_page(page, server.url + "/")
                        for field, value in CUSTOMER.items():
                            page.fill(f"#{field}", value)
                        page.click("#predict")
                        page.locator("#prediction-result").wait_for()
                        page.wait_for_timeout(300)
                        home = OUT / f"home-{size_name}-{scheme}.png"
                        page.screenshot(path=home, full_page=True)
                        open_page(page, server.url + "/dashboard")
                        page.locator("#cluster-table tbody tr").first.wait_for()
                        page.wait_for_timeout(800)  # let recharts settle its layout
                        dashboard = OUT / f"dashboard-{size_name}-{scheme}.png"
                        page.screenshot(path=dashboard, full_page=True)
                        context.close()
                        print(f"wrote {home.relative_to(ROOT)} and {dashboard.relative_to(ROOT)}")
                browser.close()


if __name__ == "__main__":
    main()
