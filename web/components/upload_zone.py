"""A drop zone for one file: drop it or pick it with the button, it uploads at once.

While it uploads, a progress bar (from `on_upload_progress`) and the file's name; a refusal
(the browser's or the API's) shows under the zone as `<id>-error`, a success as `<id>-note`.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from web.settings import load_settings

#: What the zones accept: CSV (and the tab/semicolon variants the API sniffs) or Parquet.
ACCEPT = {
    "text/csv": [".csv"],
    "text/tab-separated-values": [".tsv"],
    "text/plain": [".txt"],
    "application/vnd.apache.parquet": [".parquet", ".pq"],
    "application/octet-stream": [".parquet", ".pq"],
}


def upload_zone(
    id: str,
    *,
    on_drop: Any,
    on_drop_rejected: Any,
    busy: rx.Var,
    pct: rx.Var,
    file: rx.Var,
    error: rx.Var,
    note: rx.Var | str,
    prompt: str,
    button: str,
) -> rx.Component:
    """The zone `id` (it holds the file input), its progress, its note and its error."""
    zone = rx.upload.root(
        rx.flex(
            rx.icon("upload", size=28, color=rx.color("accent", 10)),
            rx.text(prompt, size="2", color_scheme="gray", text_align="center"),
            rx.button(
                rx.icon("file-up", size=16),
                button,
                type="button",
                variant="soft",
                size="2",
                disabled=busy,
            ),
            direction="column",
            align="center",
            justify="center",
            spacing="2",
            padding="20px 12px",
        ),
        id=id,
        multiple=False,
        max_files=1,
        accept=ACCEPT,
        max_size=load_settings().max_upload_bytes,
        disabled=busy,
        on_drop=on_drop,
        on_drop_rejected=on_drop_rejected,
        border=f"2px dashed {rx.color('gray', 7)}",
        border_radius="var(--radius-3)",
        background=rx.color("gray", 2),
        cursor=rx.cond(busy, "progress", "pointer"),
        width="100%",
        drag_active_style={
            "border_color": rx.color("accent", 9),
            "background": rx.color("accent", 3),
        },
    )
    return rx.flex(
        zone,
        rx.cond(
            busy,
            rx.flex(
                rx.hstack(
                    rx.spinner(size="1"),
                    rx.text(file, size="1", weight="medium", trim="both", word_break="break-all"),
                    rx.spacer(),
                    rx.text(
                        # Every byte sent: the API is reading and summarising the file.
                        rx.cond(pct >= 100, "reading it on the server…", pct.to_string() + "%"),
                        size="1",
                        color_scheme="gray",
                        white_space="nowrap",
                    ),
                    align="center",
                    width="100%",
                ),
                rx.progress(value=pct, max=100, size="1", width="100%"),
                rx.cond(note != "", rx.text(note, size="1", color_scheme="gray")),
                direction="column",
                spacing="1",
                id=f"{id}-progress",
                role="status",
                aria_live="polite",
                width="100%",
            ),
        ),
        rx.cond(
            error != "",
            rx.callout(
                error,
                icon="triangle-alert",
                color_scheme="red",
                size="1",
                id=f"{id}-error",
                role="alert",
            ),
        ),
        rx.cond(
            ~busy & (note != ""),
            rx.text(note, size="1", color_scheme="green", id=f"{id}-note"),
        ),
        direction="column",
        spacing="2",
        width="100%",
    )
