"""Run the production app the way `make run` does, from tests, benchmarks and scripts.

`start_server()` starts `python -m web.serve` in its own process group, waits until the UI,
Reflex's backend and the GraphQL API all answer, and ends the whole group afterwards.
`open_page()` / `wait_until_ready()` wait until a page in the browser is usable (hydrated, its
websocket round trip done) before anyone clicks. `CHROMIUM_ARGS` are the flags headless Debian
Chromium needs here (BUILD_NOTES.md).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from web.serve import ROOT

#: Headless Chromium without sandbox, GPU or any background network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: Debian's Chromium (Playwright cannot download its own browser here).
CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def store_env(base: Path) -> dict[str, str]:
    """This process's environment with a model store, datasets and signing key under `base`.

    The key lies outside the store, as the store requires; no API key, and the UI calls the API
    mounted on its own port.
    """
    env = dict(os.environ)
    env["SEGMENTATION_MODELS_DIR"] = str(base / "models")
    env["SEGMENTATION_SIGNING_KEY_FILE"] = str(base / "secrets" / "signing.key")
    env["SEGMENTATION_DATASETS_DIR"] = str(base / "datasets")
    env["SEGMENTATION_DATA"] = str(ROOT / "data" / "customers.csv")
    for name in ("SEGMENTATION_API_KEY", "SEGMENTATION_GRAPHQL_URL", "SEGMENTATION_EXPORTS_DIR"):
        env.pop(name, None)
    return env


def train_store(env: dict[str, str], *args: str) -> None:
    """Train the store `env` names with the core's CLI, as `make run` does; raise on failure."""
    result = subprocess.run(
        [sys.executable, "-m", "segmentation_core", "train", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    if result.returncode != 0:
        raise RuntimeError(f"training failed:\n{result.stdout}{result.stderr}")


class ServerHandle:
    """A production server started by `start_server`, in its own process group."""

    def __init__(self, process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
        self.process = process
        self.url = url
        self.log_path = log_path
        #: Seconds from launch until `/`, `/ping` and `/graphql` all answered.
        self.startup_s = 0.0

    def stop(self, timeout_s: float = 15.0) -> None:
        """End the server's whole process group (Reflex starts workers and builders)."""
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=timeout_s)
        except ProcessLookupError:
            pass

    def log_tail(self, lines: int = 40) -> str:
        """The end of the server's output, for error messages."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def _ready(url: str) -> bool:
    """The UI, Reflex's backend and the GraphQL API all answer."""
    try:
        with httpx.Client(timeout=2.0) as client:
            if client.get(url + "/").status_code != 200:
                return False
            if client.get(url + "/ping").status_code != 200:
                return False
            answer = client.post(url + "/graphql", json={"query": "{ health { status } }"})
            return answer.status_code == 200 and "data" in answer.json()
    except (httpx.HTTPError, ValueError):
        return False


@contextlib.contextmanager
def start_server(
    port: int, env: dict[str, str] | None = None, *, log_path: Path, timeout_s: float = 240.0
) -> Iterator[ServerHandle]:
    """Run `python -m web.serve` exactly as `make run` does, on `port`, until the block ends.

    For tests, benchmarks and the screenshot script. The server gets its own process group so it
    (and the workers Reflex starts) can be ended together; output goes to `log_path`.
    """
    full_env = dict(os.environ if env is None else env)
    full_env["PORT"] = str(port)
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "web.serve"],
            cwd=ROOT,
            env=full_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    handle = ServerHandle(process, url, log_path)
    try:
        while not _ready(url):
            if process.poll() is not None:
                raise RuntimeError(f"the server exited early:\n{handle.log_tail()}")
            if time.monotonic() - started > timeout_s:
                raise RuntimeError(
                    f"the server was not ready in {timeout_s:g} s:\n{handle.log_tail()}"
                )
            time.sleep(0.25)
        handle.startup_s = time.monotonic() - started
        yield handle
    finally:
        handle.stop()


#: The attribute the page template renders from Reflex's `State.is_hydrated` (web/components/
#: layout.py). The compiled page starts with "false"; it turns "true" only after the browser
#: opened the websocket, the backend answered the hydrate event with the state, and the page's
#: `on_load` handlers ran. React renders it, so React has hydrated and attached every handler.
READY_ATTRIBUTE = "data-app-ready"
READY_SELECTOR = f"[{READY_ATTRIBUTE}='true']"

#: Upper bound for a page to become ready on a machine busy with other builds: a condition
#: is awaited, this only ends a wait that will never succeed.
READY_TIMEOUT_MS = 90_000


def wait_until_ready(page: Any, *, timeout_ms: float = READY_TIMEOUT_MS) -> None:
    """Wait until the Reflex page in `page` (a Playwright Page) can be used.

    Ready means: React has hydrated the page (so clicks reach their handlers), the websocket to
    the backend is connected and has carried a full round trip (hydrate -> state), and the
    page's `on_load` events are done. Before that, a click can be lost (a toggle that never
    toggles) and an event can sit in the queue until the socket opens. Every browser test and
    script calls this (through `open_page`) before interacting.
    """
    page.wait_for_selector(READY_SELECTOR, state="attached", timeout=timeout_ms)


def open_page(page: Any, url: str, *, timeout_ms: float = READY_TIMEOUT_MS) -> None:
    """`page.goto(url)`, then `wait_until_ready`: the only way browser code opens a page."""
    page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    wait_until_ready(page, timeout_ms=timeout_ms)
