"""The frame every dashboard chart sits in: title, subtitle, and loading / empty / data states."""

from __future__ import annotations

import reflex as rx

NO_MODEL_TEXT = "Nothing to show yet: no model is loaded."

#: Axis and grid colours that follow light/dark mode.
AXIS_COLOR = rx.color("gray", 11)
GRID_COLOR = rx.color("gray", 6)
#: Axis numbers in a few characters whatever the feature's unit ("14K", "2.5M", "0.35"): a
#: customer's spend or a large table's inertia otherwise overflows a narrow axis.
COMPACT_TICKS = (
    "(v) => new Intl.NumberFormat('en', {notation: 'compact', maximumFractionDigits: 1}).format(v)"
)
TOOLTIP_STYLE = {
    "background": rx.color("gray", 1),
    "border": f"1px solid {rx.color('gray', 6)}",
    "border_radius": "6px",
    "color": rx.color("gray", 12),
}


def chart_card(
    title: str,
    subtitle: str | rx.Var,
    body: rx.Component,
    *,
    loading: rx.Var,
    empty: rx.Var,
    id: str,
    height: str = "300px",
    empty_text: str | rx.Var = NO_MODEL_TEXT,
) -> rx.Component:
    """A card holding one chart; `id` goes on the card so tests find the chart's SVG inside."""
    return rx.card(
        rx.flex(
            rx.heading(title, size="3"),
            rx.text(subtitle, size="1", color_scheme="gray"),
            rx.cond(
                loading,
                rx.skeleton(height=height, width="100%"),
                rx.cond(
                    empty,
                    rx.center(
                        rx.text(empty_text, color_scheme="gray", text_align="center"),
                        height=height,
                        width="100%",
                    ),
                    body,
                ),
            ),
            direction="column",
            spacing="2",
            width="100%",
        ),
        id=id,
        width="100%",
        min_width="0",
    )
