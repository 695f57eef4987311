"""A column's distribution in a few pixels: a histogram (numbers) or the most frequent values
(categories), drawn as plain bars so a table of many columns stays light."""

from __future__ import annotations

import reflex as rx


def mini_distribution(bars: rx.Var, *, color: str | rx.Var = "var(--accent-9)") -> rx.Component:
    """Bars of `Bar` rows (height as a CSS %, title as tooltip); nothing when empty."""
    return rx.cond(bars.length() > 0, _bars(bars, color))


def _bars(bars: rx.Var, color: str | rx.Var) -> rx.Component:
    return rx.flex(
        rx.foreach(
            bars,
            lambda b: rx.box(
                height=b["height"],
                flex="1",
                min_width="2px",
                background=color,
                border_radius="1px 1px 0 0",
                title=b["title"],
            ),
        ),
        align="end",
        spacing="0",
        gap="1px",
        height="28px",
        width="96px",
        min_width="96px",
        role="img",
        aria_label="distribution",
        border_bottom=f"1px solid {rx.color('gray', 7)}",
    )
