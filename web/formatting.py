"""How numbers, sizes and times read on every page (pure functions, unit-tested)."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def fmt(value: float | None) -> str:
    """A compact number: none for whole numbers, otherwise up to 3 significant decimals.

    `1234` -> `1,234`; `72.5` -> `72.5`; `0.0345` -> `0.0345`; None -> `–`.
    """
    if value is None or not math.isfinite(value):
        return "–"
    if float(value).is_integer():
        return f"{value:,.0f}"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.1f}"
    if magnitude >= 1:
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def fmt_pct(share: float | None, digits: int = 1) -> str:
    """A share in [0, 1] as a percentage: `0.405` -> `40.5%`."""
    if share is None or not math.isfinite(share):
        return "–"
    return f"{100 * share:.{digits}f}%"


def fmt_bytes(size: int) -> str:
    """A file size for people: `3981` -> `3.9 KB`, `268435456` -> `256 MB` (binary units)."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" or value >= 100 else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


def fmt_time(iso: str | None) -> str:
    """`2026-11-28T01:02:03+00:00` -> `2026-11-28 01:02 UTC`; the raw text if it is not ISO."""
    if not iso:
        return "–"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")
