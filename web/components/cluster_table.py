"""The statistics table: one row per segment (`data-cluster-id`), its size, share, stability,
per-feature statistics and a rename control."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.rename_dialog import rename_button
from web.components.segment_badge import segment_badge


def _stability(r: rx.Var) -> rx.Component:
    level = r["stability_level"].to(str)
    return rx.cond(
        level == "",
        rx.text("–", color_scheme="gray"),
        rx.badge(
            r["stability"],
            " ",
            level,
            color_scheme=rx.match(level, ("stable", "green"), ("fair", "amber"), "red"),
            variant="soft",
            size="1",
        ),
    )


def cluster_table(columns: rx.Var, rows: rx.Var, *, loading: rx.Var, state: Any) -> rx.Component:
    """`cluster-table`: k rows of `TableRow`, each feature cell "mean · med median · min–max"."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Segment"),
                rx.table.column_header_cell("Size", justify="end"),
                rx.table.column_header_cell("Share", justify="end"),
                rx.table.column_header_cell(
                    "Stability", title="Bootstrap Jaccard: below 0.6 the segment is not reliable"
                ),
                rx.foreach(columns, lambda c: rx.table.column_header_cell(c, white_space="nowrap")),
            )
        ),
        rx.table.body(
            rx.foreach(
                rows,
                lambda r: rx.table.row(
                    rx.table.row_header_cell(
                        rx.hstack(
                            segment_badge(
                                r["name"], r["color"], r["text_color"], size="1", wrap=True
                            ),
                            rename_button(
                                r["cluster_id"],
                                r["name"],
                                state.open_rename(r["cluster_id"], r["name"]),
                            ),
                            spacing="2",
                            align="center",
                            wrap="nowrap",
                        ),
                        # Long names wrap, so the pencil stays in view on a phone.
                        min_width="150px",
                        max_width="260px",
                    ),
                    rx.table.cell(r["size"], justify="end"),
                    rx.table.cell(r["share"], justify="end"),
                    rx.table.cell(_stability(r), white_space="nowrap"),
                    rx.foreach(
                        r["cells"].to(list[str]),
                        lambda cell: rx.table.cell(cell, white_space="nowrap"),
                    ),
                    custom_attrs={"data-cluster-id": r["cluster_id"]},
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
                "Per feature: mean · median · min–max of the segment's customers. Stability: how "
                "often the segment comes back when the customers are resampled (1 = always). "
                "The pencil renames a segment.",
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
