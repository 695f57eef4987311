"""A legend of segments in HTML: coloured dots with names in the text colour (readable in both
modes, unlike recharts' legend, which writes each name in its segment's colour)."""

from __future__ import annotations

import reflex as rx

from web.components.segment_badge import color_dot


def segment_legend(rows: rx.Var, *, color_key: str) -> rx.Component:
    """One entry per row of `rows` (dicts with `name` and `color_key`)."""
    return rx.flex(
        rx.foreach(
            rows,
            lambda r: rx.hstack(
                color_dot(r[color_key]),
                rx.text(r["name"], size="1"),
                spacing="1",
                align="center",
            ),
        ),
        wrap="wrap",
        column_gap="14px",
        row_gap="4px",
        justify="center",
        width="100%",
    )
