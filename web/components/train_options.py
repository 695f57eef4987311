"""Train on the selected dataset: k range, minimum segment share, missing values, the Train
button (`train-dataset`), live progress (`training-progress`), the result (`training-result`)
and what went wrong (`training-error`)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.native_select import native_select
from web.components.training_progress import training_progress


def _number(label: str, name: str, value: rx.Var, error: rx.Var, hint: str, state: Any):
    return rx.flex(
        rx.el.label(rx.text(label, size="2", weight="medium"), html_for=f"option-{name}"),
        rx.input(
            id=f"option-{name}",
            value=value,
            on_change=lambda v: state.set_option(name, v),
            input_mode="decimal",
            size="2",
            width="100%",
            color_scheme=rx.cond(error != "", "red", "gray"),
            aria_invalid=rx.cond(error != "", "true", "false"),
        ),
        rx.text(
            rx.cond(error != "", error, hint),
            size="1",
            color_scheme=rx.cond(error != "", "red", "gray"),
            role=rx.cond(error != "", "alert", "note"),
        ),
        direction="column",
        spacing="1",
        min_width="0",
    )


def _result(state: Any) -> rx.Component:
    def fact(label: str, value: rx.Var, id: str) -> rx.Component:
        return rx.flex(
            rx.text(label, size="1", color_scheme="gray"),
            rx.text(value, size="4", weight="bold", id=id),
            direction="column",
        )

    return rx.callout.root(
        rx.callout.icon(rx.icon("circle-check")),
        rx.flex(
            rx.text("New model trained and made active", weight="bold"),
            rx.hstack(
                fact("Segments (k)", state.trained_k.to_string(), "training-result-k"),
                fact("Silhouette", state.trained_silhouette, "training-result-silhouette"),
                fact("Stability", state.trained_stability, "training-result-stability"),
                fact("Customers", state.trained_rows, "training-result-rows"),
                spacing="5",
                wrap="wrap",
            ),
            rx.foreach(state.trained_notes, lambda note: rx.text(note, size="1")),
            rx.hstack(
                rx.link(
                    rx.button(rx.icon("layout-dashboard", size=16), "Open the dashboard", size="2"),
                    href="/dashboard",
                    id="training-result-dashboard",
                ),
                rx.link(rx.button("Model history", variant="soft", size="2"), href="/models"),
                spacing="2",
                wrap="wrap",
            ),
            direction="column",
            spacing="2",
        ),
        color_scheme="green",
        id="training-result",
        custom_attrs={"data-version": state.trained_version},
        width="100%",
    )


def train_options(state: Any) -> rx.Component:
    """The training card of the data page."""
    return rx.card(
        rx.flex(
            rx.heading("Train segments", size="3"),
            rx.text(
                rx.cond(
                    state.n_ticked > 0,
                    state.n_ticked.to_string() + " feature(s) ticked. The number of segments "
                    "is chosen automatically between the smallest and largest k, skipping any k "
                    "that makes a segment smaller than the minimum share.",
                    "Tick at least one numeric column above.",
                ),
                size="2",
                color_scheme="gray",
            ),
            rx.grid(
                _number(
                    "Smallest k",
                    "k_min",
                    state.k_min,
                    state.option_errors.get("kMin", ""),
                    "2 or more",
                    state,
                ),
                _number(
                    "Largest k",
                    "k_max",
                    state.k_max,
                    state.option_errors.get("kMax", ""),
                    "up to 50",
                    state,
                ),
                _number(
                    "Minimum segment share (%)",
                    "min_share_pct",
                    state.min_share_pct,
                    state.option_errors.get("minSegmentShare", ""),
                    "no segment smaller than this",
                    state,
                ),
                rx.flex(
                    rx.el.label(
                        rx.text("Missing values", size="2", weight="medium"),
                        html_for="option-missing",
                    ),
                    native_select(
                        rx.el.option("Leave those rows out", value="DROP"),
                        rx.el.option("Fill with the median", value="MEDIAN"),
                        id="option-missing",
                        value=state.missing_values,
                        on_change=lambda v: state.set_option("missing_values", v),
                        style={"width": "100%", "padding": "6px 8px"},
                    ),
                    rx.text("in a ticked column", size="1", color_scheme="gray"),
                    direction="column",
                    spacing="1",
                    min_width="0",
                ),
                columns=rx.breakpoints(initial="2", md="4"),
                spacing="3",
                width="100%",
            ),
            rx.button(
                rx.cond(state.training, rx.spinner(size="2"), rx.icon("sparkles")),
                rx.cond(state.training, "Training…", "Train on " + state.selected_name),
                id="train-dataset",
                on_click=state.train,
                disabled=~state.can_train,
                size="3",
                width="100%",
            ),
            training_progress(state),
            rx.cond(
                state.train_error != "",
                rx.callout(
                    state.train_error,
                    icon="triangle-alert",
                    color_scheme="red",
                    size="1",
                    id="training-error",
                    role="alert",
                ),
            ),
            rx.cond((state.trained_version != "") & ~state.training, _result(state)),
            direction="column",
            spacing="3",
        ),
        width="100%",
    )
