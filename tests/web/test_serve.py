"""The `make run` launcher and the web settings."""

from __future__ import annotations

import pytest

from web.serve import reflex_command, reflex_environment
from web.settings import load_settings


def test_environment_turns_outside_calls_off_and_keeps_callers_values() -> None:
    env = reflex_environment({"PORT": "18399", "REFLEX_DIR": "/custom"})
    assert env["REFLEX_TELEMETRY_ENABLED"] == "false"
    assert env["REFLEX_CHECK_LATEST_VERSION"] == "false"
    assert env["NPM_CONFIG_REGISTRY"]  # skips Reflex's registry latency probe
    assert env["PORT"] == "18399" and env["REFLEX_DIR"] == "/custom"
    assert reflex_environment({})["PORT"] == "3000"


def test_command_serves_prod_on_one_loopback_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENTATION_WEB_HOST", raising=False)
    command = reflex_command({"PORT": "18399"})
    assert command[command.index("--env") + 1] == "prod"
    assert command[command.index("--frontend-port") + 1] == "18399"
    assert command[command.index("--backend-port") + 1] == "18399"
    assert command[command.index("--backend-host") + 1] == "127.0.0.1"


@pytest.mark.parametrize("port", ["abc", "0", "70000", ""])
def test_bad_port_is_refused(port: str) -> None:
    with pytest.raises(SystemExit, match="PORT"):
        reflex_command({"PORT": port})


def test_settings_default_to_the_local_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEGMENTATION_GRAPHQL_URL", raising=False)
    monkeypatch.setenv("REFLEX_BACKEND_PORT", "18398")
    assert load_settings().graphql_url == "http://127.0.0.1:18398/graphql"
    monkeypatch.setenv("SEGMENTATION_WEB_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="SEGMENTATION_WEB_TIMEOUT"):
        load_settings()
