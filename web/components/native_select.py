"""A native <select> styled like the Radix inputs around it.

Native selects are keyboard- and screen-reader-friendly everywhere, fit narrow table cells, and
the browser tests drive them with `select_option` like a person picks an option.
"""

from __future__ import annotations

import reflex as rx

SELECT_STYLE = {
    "appearance": "auto",
    "font_size": "var(--font-size-2)",
    "line_height": "var(--line-height-2)",
    "padding": "4px 8px",
    "border_radius": "var(--radius-2)",
    "border": "1px solid var(--gray-7)",
    "background": "var(--color-surface)",
    "color": "var(--gray-12)",
    "max_width": "100%",
    "min_width": "0",
}


def native_select(*options: rx.Component, **props) -> rx.Component:
    """`rx.el.select` with the shared look; `options` are `rx.el.option`s or a foreach."""
    style = {**SELECT_STYLE, **props.pop("style", {})}
    return rx.el.select(*options, style=style, **props)
