"""The API key dialog: asks for the key when the server refused an action without one."""

from __future__ import annotations

import reflex as rx

from web.auth_state import AuthState


def key_dialog(on_submit: rx.EventHandler, action: str = "Continue") -> rx.Component:
    """A dialog whose form sends `api_key` to the page's `on_submit` (which retries)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title("API key required"),
            rx.dialog.description(
                rx.text(AuthState.key_reason, as_="span"),
                " The key stays on the server for this session and is never shown again.",
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
                        rx.button(action, type="submit", id="api-key-submit"),
                        justify="end",
                        spacing="2",
                    ),
                    direction="column",
                    spacing="3",
                    padding_top="12px",
                ),
                on_submit=on_submit,
                reset_on_submit=True,
            ),
            max_width="420px",
        ),
        open=AuthState.key_dialog_open,
        on_open_change=AuthState.set_key_dialog,
    )
