"""The page template: navigation bar, content column and footer, shared by every page."""

from __future__ import annotations

from collections.abc import Callable

import reflex as rx

#: Width of the content column; pages are fluid below it (down to 375 px phones).
MAX_WIDTH = "1200px"


def _nav_link(label: str, href: str, icon: str) -> rx.Component:
    return rx.link(
        rx.hstack(
            rx.icon(icon, size=16),
            # Icons only on phones, so the bar fits 375 px.
            rx.text(label, display=["none", "block"]),
            spacing="1",
            align="center",
        ),
        href=href,
        aria_label=label,
        title=label,
        underline="none",
        weight="medium",
        color_scheme="gray",
        high_contrast=True,
    )


def navbar() -> rx.Component:
    """Brand, links to the pages and to GraphiQL, and the light/dark toggle."""
    return rx.el.nav(
        rx.hstack(
            rx.link(
                rx.hstack(
                    rx.icon("chart-pie", size=22, color=rx.color("accent", 10)),
                    rx.heading("Segments", size="5", weight="bold"),
                    spacing="2",
                    align="center",
                ),
                href="/",
                underline="none",
                color_scheme="gray",
                high_contrast=True,
            ),
            rx.spacer(),
            rx.hstack(
                _nav_link("Predict", "/", "user-search"),
                _nav_link("Dashboard", "/dashboard", "layout-dashboard"),
                _nav_link("Data", "/data", "database"),
                _nav_link("Models", "/models", "history"),
                # /graphql is served by the API, not a Reflex route: Reflex compiles a relative
                # link into a client-side router link (which would show Reflex's 404), so ask
                # the router for a full page load.
                rx.el.a(
                    rx.hstack(
                        rx.icon("braces", size=16), rx.text("GraphiQL"), spacing="1", align="center"
                    ),
                    href="/graphql",
                    custom_attrs={"reloadDocument": True},
                    style={"color": "inherit", "text_decoration": "none", "font_weight": "500"},
                    display=["none", "none", "block"],
                ),
                rx.color_mode.button(size="2", variant="ghost", id="color-mode-toggle"),
                spacing=rx.breakpoints(initial="3", md="5"),
                align="center",
            ),
            max_width=MAX_WIDTH,
            margin_x="auto",
            padding_x=["12px", "16px", "24px"],
            padding_y="12px",
            align="center",
            width="100%",
        ),
        aria_label="Main",
        border_bottom=f"1px solid {rx.color('gray', 5)}",
        background=rx.color("gray", 2),
        position="sticky",
        top="0",
        z_index="10",
        width="100%",
    )


def footer() -> rx.Component:
    """What the product is and where the API lives."""
    return rx.el.footer(
        rx.flex(
            rx.text(
                "Customer segmentation · K-Means, k chosen by silhouette, checked by bootstrap",
                size="1",
                color_scheme="gray",
            ),
            rx.spacer(),
            rx.text(
                "GraphQL API and GraphiQL at ",
                rx.el.a(
                    "/graphql",
                    href="/graphql",
                    custom_attrs={"reloadDocument": True},
                    style={"color": "inherit"},
                ),
                size="1",
                color_scheme="gray",
            ),
            direction=rx.breakpoints(initial="column", sm="row"),
            spacing="1",
            max_width=MAX_WIDTH,
            margin_x="auto",
            padding_x=["12px", "16px", "24px"],
            padding_y="16px",
            width="100%",
        ),
        border_top=f"1px solid {rx.color('gray', 5)}",
        margin_top="32px",
        width="100%",
    )


def template(page: Callable[[], rx.Component]) -> Callable[[], rx.Component]:
    """Wrap a page function in the navbar/footer layout."""

    def wrapped() -> rx.Component:
        return rx.flex(
            navbar(),
            rx.el.main(
                page(),
                max_width=MAX_WIDTH,
                width="100%",
                margin_x="auto",
                padding_x=["12px", "16px", "24px"],
                padding_top="24px",
                flex="1",
            ),
            footer(),
            direction="column",
            min_height="100vh",
            width="100%",
            # "true" once the websocket round trip and the page's on_load are done; the
            # browser tests wait for it before interacting (web.testing.wait_until_ready).
            custom_attrs={"data-app-ready": rx.cond(rx.State.is_hydrated, "true", "false")},
        )

    # The page's own name AND module: Reflex groups a page's compiled components by the module
    # of its page function, so without this every page's components landed in one shared
    # bundle (layout.jsx) that every page had to load.
    wrapped.__name__ = page.__name__
    wrapped.__qualname__ = page.__qualname__
    wrapped.__module__ = page.__module__
    return wrapped
