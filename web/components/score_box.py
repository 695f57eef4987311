"""Score a file: drop a CSV (`score-upload`), see how many rows landed in each segment
(`score-result`), download the file with a segment on every row (`score-download`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.segment_badge import segment_badge


def _segment(r: rx.Var) -> rx.Component:
    return rx.table.row(
        rx.table.row_header_cell(
            segment_badge(r["name"], r["color"], r["text_color"], size="1", wrap=True)
        ),
        rx.table.cell(r["customers"], justify="end"),
        rx.table.cell(
            rx.hstack(
                rx.box(
                    rx.box(width=r["pct"].to_string() + "%", height="100%", background=r["color"]),
                    width=["48px", "80px"],
                    height="8px",
                    background=rx.color("gray", 4),
                    border_radius="4px",
                    overflow="hidden",
                ),
                rx.text(r["share"], size="1"),
                align="center",
                spacing="2",
            )
        ),
    )


def score_box(state: Any, zone: rx.Component) -> rx.Component:
    """The scoring card; `zone` is the upload zone (it needs the page's handlers)."""
    result = rx.flex(
        rx.text(state.score_summary, size="2"),
        rx.box(
            rx.table.root(
                rx.table.header(
                    rx.table.row(
                        rx.table.column_header_cell("Segment"),
                        rx.table.column_header_cell("Rows", justify="end"),
                        rx.table.column_header_cell("Share"),
                    )
                ),
                rx.table.body(rx.foreach(state.score_rows, _segment)),
                variant="surface",
                size="1",
                width="100%",
            ),
            overflow_x="auto",
            width="100%",
        ),
        rx.el.a(
            rx.button(rx.icon("download", size=16), "Download the scored file", size="2"),
            href=state.score_href,
            download=state.score_download_name,
            id="score-download",
            # Reflex compiles a link into a client-side router link: let the browser fetch it.
            custom_attrs={"reloadDocument": True},
        ),
        rx.text(
            "Every original column, then segment_id, segment_name, confidence and "
            "score_problem. The link works for at least 10 minutes.",
            size="1",
            color_scheme="gray",
        ),
        direction="column",
        spacing="2",
        id="score-result",
        width="100%",
    )
    return rx.card(
        rx.flex(
            rx.heading("Score a file", size="3"),
            rx.text(
                "Put a segment on every row of a customer file with the active model. The file "
                "needs the model's feature columns.",
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                zone,
                rx.cond(state.score_rows.length() > 0, result),
                columns=rx.breakpoints(initial="1", lg="2"),
                spacing="4",
                width="100%",
            ),
            direction="column",
            spacing="3",
        ),
        width="100%",
    )
