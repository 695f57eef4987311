"""Rename a segment: the dialog a row's pencil (`data-rename`) opens."""

from __future__ import annotations

from typing import Any

import reflex as rx


def rename_button(cluster_id: rx.Var, name: rx.Var, on_click: Any) -> rx.Component:
    """The pencil on a segment row (`data-rename="<clusterId>"`)."""
    return rx.icon_button(
        rx.icon("pencil", size=14),
        size="1",
        variant="ghost",
        aria_label="Rename " + name.to(str),
        title="Rename this segment",
        on_click=on_click,
        custom_attrs={"data-rename": cluster_id},
    )


def rename_dialog(state: Any) -> rx.Component:
    """Input `segment-name-input`, button `segment-name-save`, the API's complaint below."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("Rename segment"),
            rx.dialog.description(
                "A name of your own (1-60 characters, unique in this model). It shows on every "
                "chart, in predictions and in scored files of this model version.",
                size="2",
            ),
            rx.form(
                rx.flex(
                    rx.input(
                        id="segment-name-input",
                        name="name",
                        value=state.rename_value,
                        on_change=state.set_rename_value,
                        max_length=60,
                        auto_focus=True,
                        auto_complete="off",
                        aria_describedby="segment-name-error",
                        aria_invalid=rx.cond(state.rename_error != "", "true", "false"),
                        color_scheme=rx.cond(state.rename_error != "", "red", "gray"),
                    ),
                    rx.text(
                        state.rename_error,
                        id="segment-name-error",
                        color_scheme="red",
                        size="1",
                        role="alert",
                        min_height="1.3em",
                    ),
                    rx.hstack(
                        rx.dialog.close(
                            rx.button("Cancel", variant="soft", color_scheme="gray", type="button")
                        ),
                        rx.button(
                            rx.cond(state.renaming, rx.spinner(size="1"), rx.icon("check")),
                            "Save",
                            type="submit",
                            id="segment-name-save",
                            disabled=state.renaming,
                        ),
                        justify="end",
                        spacing="2",
                    ),
                    direction="column",
                    spacing="2",
                    padding_top="12px",
                ),
                on_submit=state.save_rename,
                reset_on_submit=False,
            ),
            max_width="440px",
        ),
        open=state.rename_open,
        on_open_change=state.set_rename_open,
    )
