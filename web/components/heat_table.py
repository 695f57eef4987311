"""A heat-mapped table: segments as rows (badge in their colour), shaded cells.

Used for the categorical profiles (share of each value, shaded by lift) and for the model
comparison (customers moving from one model's segment to the other's, shaded by row share).
"""

from __future__ import annotations

import reflex as rx

from web.components.segment_badge import segment_badge


def _header(c: rx.Var) -> rx.Component:
    """A segment's badge (wrapping, so long names stay narrow) or a value's text."""
    return rx.table.column_header_cell(
        rx.cond(
            c["color"] != "",
            segment_badge(c["name"], c["color"], c["text_color"], size="1", wrap=True),
            rx.text(c["name"], size="1"),
        ),
        justify="end",
        # Wide enough for a word per line: on a phone the table scrolls inside its card
        # rather than squeezing names letter by letter.
        min_width="104px",
        max_width="160px",
        vertical_align="bottom",
    )


def heat_table(
    columns: rx.Var, rows: rx.Var, *, corner: str, id: str | None = None, **props
) -> rx.Component:
    """`columns`: `HeatColumn`s; `rows`: `HeatRow`s (name, color, text_color, cells)."""
    return rx.box(
        rx.table.root(
            rx.table.header(
                rx.table.row(
                    rx.table.column_header_cell(corner),
                    rx.foreach(columns, _header),
                )
            ),
            rx.table.body(
                rx.foreach(
                    rows,
                    lambda r: rx.table.row(
                        rx.table.row_header_cell(
                            segment_badge(
                                r["name"], r["color"], r["text_color"], size="1", wrap=True
                            ),
                            min_width="120px",
                            max_width="240px",
                        ),
                        rx.foreach(
                            r["cells"].to(list[dict[str, str]]),
                            lambda cell: rx.table.cell(
                                cell["text"],
                                title=cell["title"],
                                justify="end",
                                background=cell["background"],
                                white_space="nowrap",
                                style={"font_variant_numeric": "tabular-nums"},
                            ),
                        ),
                    ),
                )
            ),
            variant="surface",
            size="1",
            id=id,
            width="100%",
        ),
        overflow_x="auto",
        width="100%",
        **props,
    )
