"""The Train button with its progress, its result, and the API key dialog."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _key_dialog(state: Any) -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("API key required"),
            rx.dialog.description(
                "This server only lets key holders train. The key stays on the server for this "
                "session and is never shown again.",
                size="2",
            ),
            rx.form(
                rx.flex(
                    rx.input(
                        id="api-key",
                        name="api_key",
                        type="password",
                        placeholder="API key",
                        auto_complete="off",
                        required=True,
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button("Train", type="submit", id="api-key-submit"),
                        justify="end",
                        spacing="2",
                    ),
                    direction="column",
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=state.submit_key,
                reset_on_submit=True,
            ),
            max_width="420px",
        ),
        open=state.key_dialog_open,
        on_open_change=state.set_key_dialog,
    )


def train_panel(state: Any) -> rx.Component:
    """Retrain on the configured dataset; k is chosen automatically."""
    return rx.card(
        rx.flex(
            rx.heading("Train", size="3"),
            rx.text(
                "Fit K-Means again on the configured dataset. The number of segments is chosen "
                "automatically (elbow and silhouette); every chart refreshes afterwards.",
                size="2",
                color_scheme="gray",
            ),
            rx.button(
                rx.cond(state.training, rx.spinner(size="2"), rx.icon("refresh-cw")),
                rx.cond(
                    state.training,
                    "Training… " + state.train_elapsed.to_string() + " s",
                    "Train a new model",
                ),
                id="train",
                on_click=state.train,
                disabled=state.training,
                size="3",
                width="100%",
            ),
            rx.cond(state.training, rx.progress(duration="3s", size="1")),
            rx.cond(
                state.train_message != "",
                rx.callout(
                    state.train_message,
                    icon=rx.cond(state.train_failed, "triangle-alert", "circle-check"),
                    color_scheme=rx.cond(state.train_failed, "red", "green"),
                    size="1",
                    id="train-result",
                ),
            ),
            _key_dialog(state),
            direction="column",
            spacing="3",
        ),
        width="100%",
    )
