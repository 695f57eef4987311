"""Categorical profiles: for each category column, each segment's mix of its values."""

from __future__ import annotations

import reflex as rx

from web.components.heat_table import heat_table


def _table(t: rx.Var) -> rx.Component:
    return rx.flex(
        rx.text(t["column"], weight="medium", size="2"),
        heat_table(t["values"], t["rows"], corner="Segment"),
        direction="column",
        spacing="1",
        width="100%",
    )


def categories_card(tables: rx.Var, *, loading: rx.Var) -> rx.Component:
    """`chart-categories`: shown only when the model's dataset has category columns."""
    return rx.cond(
        ~loading & (tables.length() > 0),
        rx.card(
            rx.flex(
                rx.heading("Categories in each segment", size="3"),
                rx.text(
                    "Share of each value in the segment; the deeper the shade, the more common "
                    "the value is here than among all customers",
                    size="1",
                    color_scheme="gray",
                ),
                rx.foreach(tables, _table),
                direction="column",
                spacing="3",
                width="100%",
            ),
            id="chart-categories",
            width="100%",
            min_width="0",
        ),
    )
