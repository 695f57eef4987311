"""Live training progress: the stage in words, how far it got, a bar (`training-progress`)."""

from __future__ import annotations

from typing import Any

import reflex as rx


def training_progress(state: Any, *, id: str = "training-progress") -> rx.Component:
    """Shown while `state.training`; `state.train_stage`, `train_steps`, `train_pct`,
    `train_elapsed` come from the API's `health.training`."""
    return rx.cond(
        state.training,
        rx.flex(
            rx.hstack(
                rx.spinner(size="2"),
                rx.text(state.train_stage, size="2", weight="medium"),
                rx.spacer(),
                rx.text(
                    state.train_steps,
                    " · ",
                    state.train_elapsed.to_string(),
                    " s",
                    size="1",
                    color_scheme="gray",
                    white_space="nowrap",
                ),
                align="center",
                width="100%",
            ),
            rx.progress(value=state.train_pct, max=100, size="2", width="100%"),
            direction="column",
            spacing="2",
            id=id,
            role="status",
            aria_live="polite",
            custom_attrs={"data-stage": state.train_stage_code},
            width="100%",
        ),
    )
