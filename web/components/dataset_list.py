"""The imported datasets (`dataset-list`, rows `data-dataset-id`); a click selects one."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _row(d: rx.Var, state: Any) -> rx.Component:
    selected = state.selected_id == d["id"]
    return rx.el.button(
        rx.flex(
            rx.flex(
                rx.hstack(
                    rx.text(d["name"], weight="medium", size="2", word_break="break-all"),
                    rx.cond(d["bundled"], rx.badge("bundled", size="1", variant="soft")),
                    rx.cond(
                        d["in_use"],
                        rx.badge("active model", size="1", color_scheme="green", variant="soft"),
                    ),
                    spacing="2",
                    align="center",
                    wrap="wrap",
                ),
                rx.text(
                    d["rows"],
                    " rows · ",
                    d["size"],
                    " · ",
                    d["created"],
                    size="1",
                    color_scheme="gray",
                ),
                direction="column",
                spacing="1",
                align="start",
                min_width="0",
            ),
            rx.cond(selected, rx.icon("circle-check", size=18, color=rx.color("accent", 10))),
            justify="between",
            align="center",
            width="100%",
            spacing="2",
        ),
        on_click=state.select(d["id"]),
        type="button",
        aria_pressed=rx.cond(selected, "true", "false"),
        custom_attrs={"data-dataset-id": d["id"]},
        style={
            "width": "100%",
            "text_align": "left",
            "padding": "8px 10px",
            "border_radius": "var(--radius-2)",
            "border": rx.cond(
                selected, f"1px solid {rx.color('accent', 8)}", "1px solid transparent"
            ),
            "background": rx.cond(selected, rx.color("accent", 3), "transparent"),
            "color": "inherit",
            "cursor": "pointer",
            "_hover": {"background": rx.color("gray", 3)},
        },
    )


def dataset_list(state: Any) -> rx.Component:
    """Newest first; the selected one's columns show below."""
    return rx.card(
        rx.flex(
            rx.heading("Datasets", size="3"),
            rx.cond(
                state.loading & (state.datasets.length() == 0),
                rx.skeleton(height="120px", width="100%"),
                rx.flex(
                    rx.foreach(state.datasets, lambda d: _row(d, state)),
                    direction="column",
                    spacing="1",
                    id="dataset-list",
                    max_height="320px",
                    overflow_y="auto",
                    width="100%",
                ),
            ),
            direction="column",
            spacing="3",
        ),
        width="100%",
        min_width="0",
    )
