"""Fixtures of the web tests: a trained temporary model store, the API as an ASGI app, the API
under a real uvicorn, the production app as `make run` starts it, and headless Chromium."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from web.testing import (
    CHROMIUM_ARGS,
    CHROMIUM_PATH,
    ServerHandle,
    start_server,
    store_env,
    train_store,
)

ROOT = Path(__file__).resolve().parents[2]
#: This area's ports (18300-18399): 183x0 API servers, 1835x-1839x production apps.
API_PORTS = range(18310, 18350)
APP_PORTS = range(18350, 18400)


#: Timings the browser tests measure. pytest captures print(), so they are shown in the run's
#: closing summary instead (`make test` prints them under "web timings").
_MEASURED: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print what the browser tests measured at the end of the run."""
    if _MEASURED:
        terminalreporter.section("web timings")
        for line in _MEASURED:
            terminalreporter.write_line(line)


@pytest.fixture
def measured() -> list[str]:
    """Append a line here to have it printed in the run's closing summary."""
    return _MEASURED


def free_port(candidates: range) -> int:
    """The first port of `candidates` nothing listens on."""
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {candidates}")


@dataclass(frozen=True)
class Store:
    """A temporary model store with a trained model, and the env that points at it."""

    models_dir: Path
    env: dict[str, str]


@pytest.fixture(scope="session")
def trained_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """A store trained once per session by the core's CLI, as `make run` does."""
    base = tmp_path_factory.mktemp("store")
    env = store_env(base)
    train_store(env)
    return Store(models_dir=base / "models", env=env)


@pytest.fixture
def empty_store(tmp_path: Path) -> Store:
    """A store nobody trained."""
    return Store(models_dir=tmp_path / "models", env=store_env(tmp_path))


def _make_asgi_app(store: Store, api_key: str | None = None):  # noqa: ANN202 - a Starlette app
    from graph_api.app import create_app
    from graph_api.settings import ApiSettings
    from segmentation_core.settings import CoreSettings

    env = store.env
    core = CoreSettings(
        data_path=Path(env["SEGMENTATION_DATA"]),
        models_dir=Path(env["SEGMENTATION_MODELS_DIR"]),
        signing_key_file=Path(env["SEGMENTATION_SIGNING_KEY_FILE"]),
        datasets_dir=Path(env["SEGMENTATION_DATASETS_DIR"]),
    )
    return create_app(ApiSettings(api_key=api_key), core)


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio, like Reflex and uvicorn."""
    return "asyncio"


@pytest.fixture
async def asgi_client(trained_store: Store) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client bound to the real API app (in process) over the trained store."""
    transport = httpx.ASGITransport(app=_make_asgi_app(trained_store))
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        yield client


@pytest.fixture
def make_asgi_client():
    """Build a client for the API over any store, optionally requiring an API key."""

    def make(store: Store, api_key: str | None = None) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=_make_asgi_app(store, api_key))
        return httpx.AsyncClient(transport=transport, base_url="http://api.test")

    return make


@contextlib.contextmanager
def _serve_api(store: Store, log_path: Path) -> Iterator[str]:
    """`uvicorn graph_api.app:app` on a free loopback port over `store`; yields its URL."""
    port = free_port(API_PORTS)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "graph_api.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                # Access lines in the log let tests count the requests the UI made.
                "--log-level",
                "info",
            ],
            cwd=ROOT,
            env=store.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/graphql"
        try:
            _wait_for_graphql(url, process)
            yield url
        finally:
            process.terminate()
            process.wait(timeout=15)


@pytest.fixture
def api_server(
    trained_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """The API alone under a real uvicorn on loopback; the web settings point at it.

    Its log, with one access line per request, is `tmp_path / "api.log"`.
    """
    with _serve_api(trained_store, tmp_path / "api.log") as url:
        monkeypatch.setenv("SEGMENTATION_GRAPHQL_URL", url)
        yield url


@pytest.fixture
def own_api_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Like `api_server`, over a store of its own that the test may retrain."""
    env = store_env(tmp_path)
    train_store(env)
    with _serve_api(Store(tmp_path / "models", env), tmp_path / "api.log") as url:
        monkeypatch.setenv("SEGMENTATION_GRAPHQL_URL", url)
        yield url


def _wait_for_graphql(url: str, process: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert process.poll() is None, "the API server exited"
        try:
            if (
                httpx.post(url, json={"query": "{ health { status } }"}, timeout=2).status_code
                == 200
            ):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {timeout_s} s")


# ---------------------------------------------------------------------------------------------
# End to end


@pytest.fixture(scope="session")
def app_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The production app's own store (the UI retrains it, so it is not shared)."""
    base = tmp_path_factory.mktemp("app-store")
    env = store_env(base)
    train_store(env)
    return Store(models_dir=base / "models", env=env)


@pytest.fixture(scope="module")
def prod_app(app_store: Store, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    """The production app started the way `make run` starts it (`python -m web.serve`).

    Module-scoped: each e2e module gets its own server, one after the other, because every
    start compiles into the same `.web/` folder.
    """
    log = tmp_path_factory.mktemp("app-log") / "server.log"
    with start_server(free_port(APP_PORTS), app_store.env, log_path=log) as server:
        _MEASURED.append(f"production app ready in {server.startup_s:.1f} s ({server.url})")
        yield server


@pytest.fixture(scope="module")
def keyed_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerHandle, str]]:
    """The production app over an EMPTY store on a server that requires an API key."""
    base = tmp_path_factory.mktemp("keyed-store")
    env = store_env(base)
    key = "e2e-" + os.urandom(8).hex()
    env["SEGMENTATION_API_KEY"] = key
    log = base / "server.log"
    with start_server(free_port(APP_PORTS), env, log_path=log) as server:
        yield server, key


@pytest.fixture(scope="module")
def app_without_api(
    trained_store: Store, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerHandle]:
    """The production app whose UI is pointed at an API that does not answer (port 9)."""
    env = dict(trained_store.env)
    env["SEGMENTATION_GRAPHQL_URL"] = "http://127.0.0.1:9/graphql"
    log = tmp_path_factory.mktemp("down-log") / "server.log"
    with start_server(free_port(APP_PORTS), env, log_path=log) as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright; a missing browser skips, or FAILS in CI.

    Module-scoped: Playwright's sync API keeps an event loop running in this thread while it is
    open, which would stop the async (anyio) tests of other modules from starting theirs.
    """
    from playwright.sync_api import sync_playwright

    executable = CHROMIUM_PATH if CHROMIUM_PATH.exists() else shutil.which("chromium")
    if not executable:
        message = f"Chromium not found at {CHROMIUM_PATH} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as p:
        instance = p.chromium.launch(
            executable_path=str(executable), headless=True, args=CHROMIUM_ARGS
        )
        yield instance
        instance.close()


@pytest.fixture
def page(browser) -> Iterator[object]:  # noqa: ANN001 - playwright's Browser
    """A fresh desktop-sized page; the test fails if the page logged a JavaScript error."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    # An upper bound for waits on conditions; only a test that would never pass waits it out.
    page.set_default_timeout(60_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    # Chromium's "Failed to load resource" names no URL: record which request failed.
    page.on(
        "response",
        lambda r: (
            errors.append(f"HTTP {r.status} {r.request.method} {r.url}")
            if r.status >= 400
            else None
        ),
    )
    yield page
    context.close()
    assert not errors, f"the page logged errors: {errors}"
