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


def api_down_notice(message: rx.Var | str, retry: rx.EventHandler) -> rx.Component:
    """The notice every page shows when the API cannot be reached, with a Retry button."""
    return notice(
        "The segmentation API is not reachable",
        message,
        icon="cloud-off",
        color_scheme="red",
        id="api-down-notice",
        actions=[rx.button("Retry", on_click=retry, size="2")],
    )


def page_header(title: str, lead: str) -> rx.Component:
    """A page's title and the sentence that says what the page is for."""
    return rx.flex(
        rx.heading(title, size=rx.breakpoints(initial="6", md="7")),
        rx.text(lead, color_scheme="gray"),
        direction="column",
        spacing="2",
    )
