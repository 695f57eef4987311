"""The statistics table: one row per segment, size, share and per-feature statistics."""

from __future__ import annotations

import reflex as rx

from web.components.segment_badge import segment_badge


def cluster_table(columns: rx.Var, rows: rx.Var, *, loading: rx.Var) -> rx.Component:
    """`cluster-table`: k rows of `TableRow`, each feature cell "mean · med median · min–max"."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Segment"),
                rx.table.column_header_cell("Size", justify="end"),
                rx.table.column_header_cell("Share", justify="end"),
                rx.foreach(columns, lambda c: rx.table.column_header_cell(c)),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(
                        segment_badge(r["name"], r["color"], r["text_color"], size="1")
                    ),
                    rx.table.cell(r["size"], justify="end"),
                    rx.table.cell(r["share"], justify="end"),
                    rx.foreach(
                        r["cells"].to(list[str]),
                        lambda cell: rx.table.cell(cell, white_space="nowrap"),
                    ),
                ),
            )
        ),
        id="cluster-table",
        variant="surface",
        size="1",
        width="100%",
    )
    return rx.card(
        rx.flex(
            rx.heading("Segment statistics", size="3"),
            rx.text(
                "Per feature: mean · median · min–max of the segment's customers",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                loading,
                rx.skeleton(height="160px", width="100%"),
                rx.box(table, overflow_x="auto", width="100%"),
            ),
            direction="column",
            spacing="2",
        ),
        width="100%",
        min_width="0",
    )
