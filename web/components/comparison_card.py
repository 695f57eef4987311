"""Compare two model versions (`compare-a`, `compare-b`, `compare-run`): the adjusted Rand
index in words and the customers flowing between their segments (`comparison`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.heat_table import heat_table
from web.components.native_select import native_select


def _select(id: str, label: str, value: rx.Var, side: str, state: Any) -> rx.Component:
    return rx.flex(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=id),
        native_select(
            rx.foreach(state.options, lambda o: rx.el.option(o["label"], value=o["version"])),
            id=id,
            value=value,
            on_change=lambda v: state.set_compare(side, v),
            style={"width": "100%", "padding": "6px 8px"},
        ),
        direction="column",
        spacing="1",
        min_width="0",
        width="100%",
    )


def _result(state: Any) -> rx.Component:
    return rx.flex(
        rx.flex(
            rx.flex(
                rx.text("Adjusted Rand index", size="1", color_scheme="gray"),
                rx.text(state.ari, size="7", weight="bold", id="comparison-ari"),
                direction="column",
                align="start",
            ),
            rx.flex(
                rx.text(state.ari_headline, size="4", weight="bold", id="comparison-words"),
                rx.text(state.ari_text, size="2"),
                rx.text(
                    "On ",
                    state.compared_customers,
                    " customers of ",
                    state.compared_dataset,
                    " that both models can score. 1 = the same grouping, 0 = no more alike "
                    "than chance.",
                    size="1",
                    color_scheme="gray",
                ),
                direction="column",
                spacing="1",
                min_width="0",
                flex="1",
            ),
            spacing="5",
            wrap="wrap",
            width="100%",
        ),
        rx.text(
            "Where each segment's customers go: rows are the segments of ",
            rx.text(state.a_label, weight="bold", as_="span"),
            ", columns those of ",
            rx.text(state.b_label, weight="bold", as_="span"),
            "; the darker a cell, the larger its share of the row.",
            size="2",
        ),
        heat_table(
            state.flow_columns, state.flow_rows, corner="From ↓ / to →", id="comparison-flows"
        ),
        direction="column",
        spacing="3",
        width="100%",
    )


def comparison_card(state: Any) -> rx.Component:
    """The comparison card."""
    return rx.card(
        rx.flex(
            rx.heading("Compare two models", size="3"),
            rx.text(
                "How much do two segmentations agree, and where did each segment's customers "
                "go? Both models score the dataset of the second one.",
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                _select("compare-a", "From (a)", state.compare_a, "a", state),
                _select("compare-b", "To (b)", state.compare_b, "b", state),
                rx.flex(
                    rx.button(
                        rx.cond(state.comparing, rx.spinner(size="2"), rx.icon("git-compare")),
                        "Compare",
                        id="compare-run",
                        on_click=state.compare,
                        disabled=state.comparing | (state.options.length() < 2),
                        size="2",
                        width="100%",
                    ),
                    align="end",
                    height="100%",
                ),
                columns=rx.breakpoints(initial="1", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.cond(
                state.compare_error != "",
                rx.callout(
                    state.compare_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    id="comparison-error",
                ),
            ),
            rx.box(
                rx.cond(state.has_comparison, _result(state)),
                id="comparison",
                width="100%",
                aria_live="polite",
                custom_attrs={"data-ari": state.ari},
            ),
            direction="column",
            spacing="3",
        ),
        width="100%",
        min_width="0",
    )
