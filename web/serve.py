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

import os
import shutil
import subprocess
import sys
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
    if not env.get("NPM_CONFIG_REGISTRY"):
        # A set registry skips Reflex's probe of several registries for the fastest one; use the
        # one this machine's npm is configured with (a mirror, where there is one).
        registry = _npm_registry()
        if registry:
            env["NPM_CONFIG_REGISTRY"] = registry
    return env


def _npm_registry() -> str | None:
    """The registry `npm config get registry` names, or None without npm."""
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        answer = subprocess.run(
            [npm, "config", "get", "registry"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    registry = answer.stdout.strip()
    return registry if answer.returncode == 0 and registry.startswith("http") else None


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


if __name__ == "__main__":
    main()
