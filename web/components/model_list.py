"""The model history (`model-list`, rows `data-version`, the active one `data-active="true"`),
an Activate button per row (`data-activate`) and Roll back (`rollback`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.outcome_callout import outcome_callout

#: Cells shown from Radix's `sm` breakpoint (768 px) on; below, one summary line replaces them.
WIDE = rx.breakpoints(initial="none", sm="table-cell")
NARROW = rx.breakpoints(initial="block", sm="none")


def _action(version: rx.Var, active: rx.Var, state: Any) -> rx.Component:
    return rx.cond(
        active,
        rx.badge(
            rx.icon("circle-check", size=12),
            "active",
            color_scheme="green",
            variant="solid",
            size="2",
        ),
        rx.button(
            rx.cond(state.busy == version, rx.spinner(size="1"), rx.icon("play", size=14)),
            "Activate",
            size="1",
            variant="soft",
            on_click=state.activate(version),
            disabled=state.busy != "",
            custom_attrs={"data-activate": version},
        ),
    )


def _row(m: rx.Var, state: Any) -> rx.Component:
    version = m["version"].to(str)
    active = m["active"].to(bool)
    return rx.table.row(
        rx.table.row_header_cell(
            rx.flex(
                rx.text(m["trained"], weight="medium", size="2", white_space="nowrap"),
                rx.code(
                    version, size="1", variant="ghost", color_scheme="gray", word_break="break-all"
                ),
                rx.text(
                    m["dataset"],
                    " · k=",
                    m["k"].to_string(),
                    " · silhouette ",
                    m["silhouette"],
                    " · stability ",
                    m["stability"],
                    size="1",
                    color_scheme="gray",
                    display=NARROW,
                ),
                rx.text(m["features"], size="1", color_scheme="gray", display=NARROW),
                direction="column",
                spacing="1",
            )
        ),
        rx.table.cell(m["dataset"], display=WIDE),
        rx.table.cell(m["features"], min_width="160px", display=WIDE),
        rx.table.cell(m["k"], justify="end", display=WIDE),
        rx.table.cell(m["silhouette"], justify="end", display=WIDE),
        rx.table.cell(m["stability"], justify="end", display=WIDE),
        rx.table.cell(_action(version, active, state), white_space="nowrap"),
        custom_attrs={
            "data-version": version,
            "data-active": rx.cond(active, "true", "false"),
        },
        background=rx.cond(active, rx.color("green", 2), "transparent"),
    )


def model_list(state: Any) -> rx.Component:
    """The history card."""
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                rx.table.column_header_cell("Trained"),
                rx.table.column_header_cell("Dataset", display=WIDE),
                rx.table.column_header_cell("Features", display=WIDE),
                rx.table.column_header_cell("k", justify="end", display=WIDE),
                rx.table.column_header_cell("Silhouette", justify="end", display=WIDE),
                rx.table.column_header_cell("Stability", justify="end", display=WIDE),
                rx.table.column_header_cell(""),
            )
        ),
        rx.table.body(rx.foreach(state.rows, lambda m: _row(m, state))),
        id="model-list",
        variant="surface",
        size="1",
        width="100%",
    )
    return rx.card(
        rx.flex(
            rx.flex(
                rx.flex(
                    rx.heading("Versions", size="3"),
                    rx.text(
                        "Silhouette: how well separated the segments are (higher is better). "
                        "Stability: how reliably the same segments come back on resampled "
                        "customers (1 = always).",
                        size="1",
                        color_scheme="gray",
                    ),
                    direction="column",
                    spacing="1",
                    flex="1",
                    min_width="0",
                ),
                rx.button(
                    rx.cond(
                        state.busy == "rollback", rx.spinner(size="2"), rx.icon("undo-2", size=16)
                    ),
                    "Roll back",
                    id="rollback",
                    on_click=state.rollback,
                    disabled=state.busy != "",
                    variant="outline",
                    title="Back to the version that was active before the current one",
                    size="2",
                ),
                justify="between",
                align="start",
                spacing="3",
                wrap="wrap",
                width="100%",
            ),
            rx.cond(
                state.action_message != "",
                outcome_callout(
                    state.action_message, state.action_failed, id="model-action-result"
                ),
            ),
            rx.cond(
                state.loading & (state.rows.length() == 0),
                rx.skeleton(height="160px", width="100%"),
                rx.cond(
                    state.rows.length() > 0,
                    rx.box(table, overflow_x="auto", width="100%"),
                    rx.text(
                        "No model is trained yet: train one on the ",
                        rx.link("data page", href="/data"),
                        ".",
                        color_scheme="gray",
                        size="2",
                    ),
                ),
            ),
            direction="column",
            spacing="3",
        ),
        width="100%",
        min_width="0",
    )
