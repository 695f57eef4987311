"""The dashboard's Train button: retrain the shown model's recipe, with live progress."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.outcome_callout import outcome_callout
from web.components.training_progress import training_progress


def train_panel(state: Any) -> rx.Component:
    """`train`: the same dataset, features and settings as the model shown (the bundled data and
    features when there is no model yet); k is chosen automatically."""
    return rx.card(
        rx.flex(
            rx.heading("Train", size="3"),
            rx.text(
                rx.cond(
                    state.has_model,
                    "Fit K-Means again on this model's dataset and features. The number of "
                    "segments is chosen automatically; every chart refreshes afterwards. ",
                    "Fit K-Means on the bundled customers. ",
                ),
                rx.link("Choose another dataset or features", href="/data"),
                ".",
                size="2",
                color_scheme="gray",
            ),
            rx.button(
                rx.cond(state.training, rx.spinner(size="2"), rx.icon("refresh-cw")),
                rx.cond(state.training, "Training…", "Train a new model"),
                id="train",
                on_click=state.train,
                disabled=state.training,
                size="3",
                width="100%",
            ),
            training_progress(state, id="dashboard-training-progress"),
            rx.cond(
                state.train_message != "",
                outcome_callout(state.train_message, state.train_failed, id="train-result"),
            ),
            direction="column",
            spacing="3",
        ),
        width="100%",
    )
