"""The live API status: a status light, and the facts of the model shown."""

from __future__ import annotations

from typing import Any

import reflex as rx


def _fact(label: str, value: rx.Var | str, id: str) -> rx.Component:
    return rx.flex(
        rx.text(label, size="1", color_scheme="gray"),
        rx.text(value, size="2", weight="medium", id=id, word_break="break-all"),
        direction="column",
        min_width="0",
    )


def status_card(state: Any) -> rx.Component:
    """`api-status`: healthy / degraded / down, and the model's version, dataset, training
    time, k, silhouette and stability."""
    color = rx.match(
        state.status,
        ("healthy", "green"),
        ("degraded", "amber"),
        ("down", "red"),
        "gray",
    )

    def shown(value: rx.Var) -> rx.Var:
        return rx.cond(state.has_model, value, "–")

    return rx.card(
        rx.flex(
            rx.hstack(
                rx.heading("API status", size="3"),
                rx.spacer(),
                rx.badge(
                    rx.box(
                        width="8px", height="8px", border_radius="50%", background="currentColor"
                    ),
                    state.status,
                    color_scheme=color,
                    size="2",
                    variant="soft",
                    id="api-status-label",
                ),
                align="center",
                width="100%",
            ),
            rx.cond(
                state.status_detail != "",
                rx.text(state.status_detail, size="1", color_scheme="gray"),
            ),
            rx.grid(
                _fact("Model version", shown(state.model_version), "model-version"),
                _fact("Dataset", shown(state.dataset_name), "model-dataset"),
                _fact("Trained", state.trained_at, "trained-at"),
                _fact("Segments (k)", shown(state.k.to_string()), "model-k"),
                _fact("Silhouette", shown(state.silhouette), "model-silhouette"),
                _fact("Stability", shown(state.stability), "model-stability"),
                columns=rx.breakpoints(initial="1", xs="2", md="3"),
                spacing="3",
                width="100%",
            ),
            rx.foreach(
                state.notes,
                lambda note: rx.text(
                    rx.icon("info", size=12), " ", note, size="1", color_scheme="gray"
                ),
            ),
            direction="column",
            spacing="3",
        ),
        id="api-status",
        data_status=state.status,
        width="100%",
    )
