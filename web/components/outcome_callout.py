"""The outcome of an action: green with a check when it worked, red with a warning when not."""

from __future__ import annotations

import reflex as rx


def outcome_callout(message: rx.Var, failed: rx.Var, *, id: str) -> rx.Component:
    """Both icons are static: an icon chosen by a Var would pull every icon into the bundle."""
    return rx.callout.root(
        rx.callout.icon(
            rx.cond(failed, rx.icon("triangle-alert"), rx.icon("circle-check")),
        ),
        rx.callout.text(message),
        color_scheme=rx.cond(failed, "red", "green"),
        size="1",
        id=id,
        role=rx.cond(failed, "alert", "status"),
    )
