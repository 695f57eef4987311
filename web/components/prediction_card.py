"""The result card of the home page: segment, confidence, typical values, other segments."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.segment_badge import color_dot, segment_badge

#: Hidden on phones (below Radix's `xs` breakpoint, 520 px) so the table fits 375 px.
_WIDE_ONLY = rx.breakpoints(initial="none", xs="table-cell")


def _comparison_table(rows: rx.Var) -> rx.Component:
    return rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Feature"),
                rx.table.column_header_cell("Customer", justify="end"),
                rx.table.column_header_cell("Segment median", justify="end"),
                rx.table.column_header_cell("Segment range", justify="end", display=_WIDE_ONLY),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(
                        rx.text(r["label"], size="2"),
                        rx.text(r["unit"], size="1", color_scheme="gray"),
                    ),
                    rx.table.cell(rx.text(r["customer"], weight="bold"), justify="end"),
                    rx.table.cell(r["typical"], justify="end"),
                    rx.table.cell(
                        r["range"], justify="end", white_space="nowrap", display=_WIDE_ONLY
                    ),
                ),
            )
        ),
        size="1",
        variant="surface",
        width="100%",
    )


def _other_segments(rows: rx.Var) -> rx.Component:
    return rx.flex(
        rx.text("Other segments", weight="medium", size="2"),
        rx.foreach(
            rows,
            lambda r: rx.flex(
                rx.hstack(
                    color_dot(r["color"]),
                    rx.text(r["name"], size="2", trim="both"),
                    spacing="2",
                    align="center",
                    min_width="0",
                    flex="1",
                ),
                rx.box(
                    rx.box(width=r["pct"].to_string() + "%", height="100%", background=r["color"]),
                    width=["70px", "120px"],
                    height="8px",
                    background=rx.color("gray", 4),
                    border_radius="4px",
                    overflow="hidden",
                ),
                rx.text(r["label"], size="2", width="52px", text_align="right"),
                align="center",
                spacing="2",
                width="100%",
            ),
        ),
        direction="column",
        spacing="2",
        width="100%",
    )


def prediction_card(state: Any) -> rx.Component:
    """The result of the last prediction of `state` (HomeState), or a hint before the first."""
    result = rx.card(
        rx.flex(
            rx.text("Segment", size="2", color_scheme="gray"),
            segment_badge(
                state.segment_name,
                state.segment_color,
                state.segment_text_color,
                size="5",
                id="segment-name",
                wrap=True,
                align_self="start",
            ),
            rx.flex(
                rx.hstack(
                    rx.text("Confidence", size="2", color_scheme="gray"),
                    rx.spacer(),
                    rx.text(
                        state.confidence_pct.to_string() + "%",
                        weight="bold",
                        size="5",
                        id="confidence",
                    ),
                    width="100%",
                    align="center",
                ),
                rx.box(
                    rx.box(
                        width=state.confidence_pct.to_string() + "%",
                        height="100%",
                        background=state.segment_color,
                        border_radius="4px",
                    ),
                    width="100%",
                    height="10px",
                    background=rx.color("gray", 4),
                    border_radius="4px",
                    overflow="hidden",
                    role="progressbar",
                    aria_label="Confidence",
                    aria_valuenow=state.confidence_pct,
                    aria_valuemin=0,
                    aria_valuemax=100,
                ),
                direction="column",
                spacing="1",
                width="100%",
            ),
            rx.text("Compared with the segment", weight="medium", size="2"),
            rx.box(_comparison_table(state.comparison), overflow_x="auto", width="100%"),
            rx.cond(state.others.length() > 0, _other_segments(state.others)),
            direction="column",
            spacing="3",
        ),
        id="prediction-result",
        width="100%",
        border_top=f"4px solid {state.segment_color}",
        aria_live="polite",
    )
    placeholder = rx.card(
        rx.flex(
            rx.cond(
                state.loading,
                rx.flex(
                    rx.skeleton(height="28px", width="60%"),
                    rx.skeleton(height="16px", width="100%"),
                    rx.skeleton(height="120px", width="100%"),
                    direction="column",
                    spacing="3",
                    width="100%",
                ),
                rx.flex(
                    rx.icon("users", size=32, color=rx.color("gray", 9)),
                    rx.text(
                        "The customer's segment, how sure the model is and how the customer "
                        "compares with the segment will appear here.",
                        color_scheme="gray",
                        size="2",
                        text_align="center",
                    ),
                    direction="column",
                    align="center",
                    spacing="2",
                    padding_y="24px",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )
    return rx.cond(state.has_result, result, placeholder)
