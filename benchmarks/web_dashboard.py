"""Web UI timings on loopback, production mode: server start, page navigation, the one query.

    .venv/bin/python benchmarks/web_dashboard.py [--runs 10] [--port 18395]

Prints one table. The baselines are measured in the same run: the dashboard's GraphQL query
alone over HTTP (the data floor) and navigation to a usable home form (the framework floor: a
Reflex page that only has to connect its websocket). "Usable dashboard" means what the e2e test
waits for: every chart has drawn its SVG marks and the table has k rows. Each navigation uses a
fresh browser context (no cache), the worst case for a first visit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from web.api_client import DASHBOARD_QUERY  # noqa: E402
from web.testing import (  # noqa: E402
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    start_server,
    store_env,
    train_store,
)

USABLE = """k => document.querySelectorAll('#cluster-table tbody tr').length === k
  && document.querySelectorAll('#chart-sizes .recharts-pie-sector').length === k
  && document.querySelectorAll('#chart-averages .recharts-bar-rectangle').length === 4 * k
  && document.querySelectorAll('#chart-profiles .recharts-radar-polygon').length === k
  && document.querySelectorAll('#chart-elbow .recharts-line-curve').length === 2"""


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--port", type=int, default=18395)
    parser.add_argument("--quick", action="store_true", help="3 runs (smoke)")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3

    rows: list[tuple[str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = store_env(Path(tmp))
        train_store(env)
        warm = (ROOT / ".web" / "node_modules").is_dir()
        with start_server(args.port, env, log_path=Path(tmp) / "server.log") as server:
            rows.append(
                (
                    f"server start ({'warm' if warm else 'cold'} checkout) to serving",
                    f"{server.startup_s:.1f} s",
                    "",
                    "<= 30 s warm",
                )
            )
            with httpx.Client(timeout=30) as client:
                k = client.post(server.url + "/graphql", json={"query": "{ model { k } }"}).json()[
                    "data"
                ]["model"]["k"]
                query_ms = []
                for _ in range(max(20, args.runs)):
                    started = time.perf_counter()
                    answer = client.post(server.url + "/graphql", json={"query": DASHBOARD_QUERY})
                    query_ms.append(1000 * (time.perf_counter() - started))
                    assert "errors" not in answer.json()
            rows.append(
                (
                    "baseline: dashboard GraphQL query (HTTP)",
                    f"{statistics.median(query_ms):.1f} ms",
                    f"{_pct(query_ms, 0.9):.1f} ms",
                    "",
                )
            )
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path=str(CHROMIUM_PATH), headless=True, args=CHROMIUM_ARGS
                )

                def navigate(path: str, ready) -> float:  # noqa: ANN001 - a callback
                    context = browser.new_context(viewport={"width": 1440, "height": 900})
                    page = context.new_page()
                    started = time.perf_counter()
                    page.goto(server.url + path)
                    ready(page)
                    elapsed = time.perf_counter() - started
                    context.close()
                    return elapsed

                def home_ready(page) -> None:  # noqa: ANN001
                    # Usable: the form answers typing (the websocket is connected and state set).
                    page.fill("#age", "12")
                    page.locator("#age-error").filter(has_text="between").wait_for()

                def dashboard_ready(page) -> None:  # noqa: ANN001
                    page.wait_for_function(USABLE, arg=k)

                navigate("/dashboard", dashboard_ready)  # first load fills the OS file cache
                home_s = [navigate("/", home_ready) for _ in range(args.runs)]
                dash_s = [navigate("/dashboard", dashboard_ready) for _ in range(args.runs)]
                browser.close()
            rows.append(
                (
                    "baseline: navigation to a usable home form",
                    f"{statistics.median(home_s):.2f} s",
                    f"{_pct(home_s, 0.9):.2f} s",
                    "",
                )
            )
            rows.append(
                (
                    f"navigation to a usable dashboard (k = {k}, all charts drawn)",
                    f"{statistics.median(dash_s):.2f} s",
                    f"{_pct(dash_s, 0.9):.2f} s",
                    "<= 1.5 s",
                )
            )

    widths = [
        max(len(r[i]) for r in [("metric", "median", "p90", "target"), *rows]) for i in range(4)
    ]
    header = ("metric", "median", "p90", "target")
    print(f"\nWeb UI, production mode, loopback, {args.runs} runs per navigation")
    print(" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(" | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
