"""Inline notices for the states a page can be in besides "working": no model yet, API down."""

from __future__ import annotations

import reflex as rx


def notice(
    title: str,
    message: rx.Var | str,
    *,
    icon: str,
    color_scheme: str,
    actions: list[rx.Component],
    id: str,
) -> rx.Component:
    """A callout with a title, an explanation and the buttons that get the user out of it."""
    return rx.callout.root(
        rx.callout.icon(rx.icon(icon)),
        rx.flex(
            rx.text(title, weight="bold"),
            rx.text(message, size="2"),
            rx.hstack(*actions, spacing="2", wrap="wrap", padding_top="4px"),
            direction="column",
            spacing="1",
        ),
        color_scheme=color_scheme,
        id=id,
        width="100%",
    )
