"""The browser tests' shared rules: every Reflex page is opened through `open_page`."""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def test_every_browser_test_waits_for_the_app_to_be_ready() -> None:
    """A raw `page.goto` of a Reflex page lets a test click before the page is interactive.

    Only GraphiQL (served by the API, not a Reflex page) may be opened directly.
    """
    offenders = []
    for path in [*HERE.glob("test_e2e*.py"), ROOT / "docs" / "screenshots.py"]:
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.goto\(", line) and "/graphql" not in line:
                offenders.append(f"{path.name}:{number}: {line.strip()}")
    assert not offenders, "use web.testing.open_page:\n" + "\n".join(offenders)
