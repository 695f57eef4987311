"""Pick the model version the dashboard shows (the active one by default)."""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.components.native_select import native_select


def model_picker(state: Any) -> rx.Component:
    """`model-picker`: "" follows the active model; a version pins the page to that version."""
    return rx.flex(
        rx.el.label("Model", html_for="model-picker", style={"font_weight": "500"}),
        native_select(
            rx.el.option("The active model", value=""),
            rx.foreach(
                state.picker,
                lambda o: rx.el.option(o["label"], value=o["version"]),
            ),
            id="model-picker",
            value=state.selected_version,
            on_change=state.pick_version,
            style={"width": "100%", "max_width": "460px"},
        ),
        rx.cond(
            (state.selected_version != "") & ~state.shown_is_active,
            rx.badge("not the active model", color_scheme="amber", variant="soft"),
        ),
        align="center",
        spacing="2",
        wrap="wrap",
        width="100%",
    )
