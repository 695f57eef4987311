"""A segment's name on its own colour: the one place a segment's colour meets text."""

from __future__ import annotations

import reflex as rx


def segment_badge(
    name: rx.Var | str,
    color: rx.Var | str,
    text_color: rx.Var | str,
    *,
    wrap: bool = False,
    **props,
) -> rx.Component:
    """The segment name on a pill of the segment's colour, with black or white text for contrast.

    `wrap` lets a long name (user-given or generated) break over lines instead of widening its
    table or spilling out of its card.
    """
    return rx.box(
        rx.text(name, weight="bold", size=props.pop("size", "2"), as_="span"),
        background=color,
        color=text_color,
        padding_x="0.6em",
        padding_y="0.15em",
        border_radius="9999px" if not wrap else "0.8em",
        display="inline-block",
        white_space="normal" if wrap else "nowrap",
        max_width="100%",
        overflow_wrap="break-word" if wrap else "normal",
        **props,
    )


def color_dot(color: rx.Var | str, size: str = "10px") -> rx.Component:
    """A small filled circle of a segment's colour (legends, table rows)."""
    return rx.box(
        width=size,
        height=size,
        min_width=size,
        border_radius="50%",
        background=color,
        display="inline-block",
    )
