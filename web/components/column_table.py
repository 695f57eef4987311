"""The selected dataset's columns (`dataset-columns`, rows `data-column`): what each holds, and
for numeric ones a feature checkbox (`data-feature-toggle`) and a transform select
(`data-transform-select`, the suggested transform first chosen). A feature the API refused
shows its message in its row (`data-column-error`).

On phones the statistics fold into one line under the name, so the checkbox, the name and the
transform fit 375 px without scrolling sideways."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.mini_distribution import mini_distribution
from web.components.native_select import native_select
from web.dataset_view import TRANSFORMS

#: Table cells shown from Radix's `sm` breakpoint (768 px) on.
WIDE = rx.breakpoints(initial="none", sm="table-cell")
#: Text shown below it instead.
NARROW = rx.breakpoints(initial="block", sm="none")


def _row(c: rx.Var, state: Any) -> rx.Component:
    name = c["name"].to(str)
    numeric = c["numeric"].to(bool)
    error = state.feature_errors.get(name, "")
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=state.ticked.get(name, False),
                on_change=lambda checked: state.toggle_feature(name, checked),
                disabled=~numeric,
                aria_label="Use " + name + " as a feature",
                custom_attrs={"data-feature-toggle": name},
            ),
        ),
        rx.table.row_header_cell(
            rx.flex(
                rx.hstack(
                    rx.text(name, weight="medium", size="2", word_break="break-word"),
                    rx.box(
                        rx.badge(
                            c["role_label"], color_scheme=c["role_color"], variant="soft", size="1"
                        ),
                        display=NARROW,
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(c["summary"], size="1", color_scheme="gray", display=NARROW),
                rx.cond(c["hint"] != "", rx.text(c["hint"], size="1", color_scheme="gray")),
                rx.cond(
                    error != "",
                    rx.text(
                        error,
                        size="1",
                        color_scheme="red",
                        role="alert",
                        custom_attrs={"data-column-error": name},
                    ),
                ),
                direction="column",
                spacing="1",
                min_width=rx.breakpoints(initial="0", sm="140px"),
            )
        ),
        rx.table.cell(
            rx.badge(c["role_label"], color_scheme=c["role_color"], variant="soft", size="1"),
            display=WIDE,
        ),
        rx.table.cell(c["missing"], justify="end", display=WIDE),
        rx.table.cell(c["distinct"], justify="end", display=WIDE),
        rx.table.cell(c["range"], white_space="nowrap", display=WIDE),
        rx.table.cell(c["skewness"], justify="end", display=WIDE),
        rx.table.cell(mini_distribution(c["bars"]), display=WIDE),
        rx.table.cell(
            rx.cond(
                numeric,
                native_select(
                    *[rx.el.option(label, value=value) for value, label in TRANSFORMS],
                    value=state.transforms.get(name, "NONE"),
                    on_change=lambda v: state.set_transform(name, v),
                    aria_label="Transform of " + name,
                    custom_attrs={"data-transform-select": name},
                ),
            )
        ),
        custom_attrs={"data-column": name},
        background=rx.cond(error != "", rx.color("red", 2), "transparent"),
    )


def column_table(state: Any) -> rx.Component:
    """The column table card; empty until a dataset is selected."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell(rx.text("Use", size="1")),
                rx.table.column_header_cell("Column"),
                rx.table.column_header_cell("Role", display=WIDE),
                rx.table.column_header_cell("Missing", justify="end", display=WIDE),
                rx.table.column_header_cell("Distinct", justify="end", display=WIDE),
                rx.table.column_header_cell("Range", display=WIDE),
                rx.table.column_header_cell("Skew", justify="end", title="Skewness", display=WIDE),
                rx.table.column_header_cell("Distribution", display=WIDE),
                rx.table.column_header_cell(
                    "Transform",
                    title="log: log(1 + x), for amounts that are mostly small with a few large "
                    "ones (needs values ≥ 0); automatic: log when the column is skewed",
                ),
            )
        ),
        rx.table.body(rx.foreach(state.columns, lambda c: _row(c, state))),
        id="dataset-columns",
        variant="surface",
        size="1",
        width="100%",
    )
    return rx.card(
        rx.flex(
            rx.hstack(
                rx.heading(
                    rx.cond(
                        state.selected_name != "", "Columns of " + state.selected_name, "Columns"
                    ),
                    size="3",
                    word_break="break-word",
                ),
                rx.spacer(),
                rx.cond(
                    state.selected_rows != "",
                    rx.text(
                        state.selected_rows,
                        " rows",
                        size="1",
                        color_scheme="gray",
                        white_space="nowrap",
                    ),
                ),
                align="baseline",
                width="100%",
            ),
            rx.text(
                "Tick the numeric columns the segments should be built on. Amounts that are "
                "mostly small with a few very large ones (spend, revenue) usually segment "
                "better with the log transform; it is suggested where a column is skewed.",
                size="1",
                color_scheme="gray",
            ),
            rx.cond(
                state.columns_loading,
                rx.skeleton(height="200px", width="100%"),
                rx.cond(
                    state.columns.length() > 0,
                    rx.box(table, overflow_x="auto", width="100%"),
                    rx.text(
                        "Import or select a dataset to see its columns.",
                        color_scheme="gray",
                        size="2",
                    ),
                ),
            ),
            direction="column",
            spacing="2",
        ),
        width="100%",
        min_width="0",
    )
