"""`make run`'s launcher: the production Reflex app (UI + GraphQL API) on ONE loopback port.

    python -m web.serve            # http://127.0.0.1:3000
    PORT=8080 python -m web.serve  # another port

It runs `reflex run --env prod` with the frontend and the backend on the same port, bound to
`SEGMENTATION_WEB_HOST` (default 127.0.0.1), with telemetry, the version check and the
npm-registry latency probe switched off, and Reflex/Bun caches kept inside the project's
ignored `.tools/` folder.
A warm start skips the frontend install (Reflex caches it) and only recompiles and rebuilds.
The process replaces itself with Reflex (exec), so signals reach Reflex directly.
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

from web.settings import web_host

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools"


def reflex_environment(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment Reflex runs in: the caller's, plus offline and cache defaults.

    Values already set (e.g. exported by the Makefile) win over these defaults.
    """
    env = dict(os.environ if base is None else base)
    defaults = {
        "REFLEX_TELEMETRY_ENABLED": "false",
        "REFLEX_CHECK_LATEST_VERSION": "false",
        # Setting the registry skips Reflex's probe of several registries for the fastest one.
        "NPM_CONFIG_REGISTRY": "https://registry.npmjs.org/",
        "REFLEX_DIR": str(TOOLS / "reflex"),
        "REFLEX_BUN_PATH": str(TOOLS / "node_modules" / ".bin" / "bun"),
        "BUN_INSTALL_CACHE_DIR": str(TOOLS / "bun-cache"),
        "BUN_RUNTIME_TRANSPILER_CACHE_PATH": str(TOOLS / "bun-transpiler-cache"),
        "npm_config_cache": str(TOOLS / "npm-cache"),
        "PORT": "3000",
    }
    for name, value in defaults.items():
        if not env.get(name):
            env[name] = value
    return env


def reflex_command(env: dict[str, str]) -> list[str]:
    """`reflex run --env prod` with frontend and backend on `PORT`, bound to the web host."""
    port = env["PORT"]
    host = web_host()
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise SystemExit(f"PORT must be a TCP port number, got {port!r}")
    return [
        sys.executable,
        "-m",
        "reflex",
        "run",
        "--env",
        "prod",
        "--frontend-port",
        port,
        "--backend-port",
        port,
        "--backend-host",
        host,
    ]


def main() -> None:
    """Replace this process with the production Reflex server."""
    env = reflex_environment()
    command = reflex_command(env)
    os.chdir(ROOT)
    print(f"Serving on http://{command[-1]}:{env['PORT']}/ (UI, /dashboard, /graphql)")
    sys.stdout.flush()
    os.execve(command[0], command, env)


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
    import httpx

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


if __name__ == "__main__":
    main()
