"""What makes each segment different: a diverging bar chart of z-scores per segment.

Small multiples (one chart per segment, every one on the same symmetric axis), bars in the
segment's colour, to the right when the segment is above the average customer, to the left when
below. Drawn in HTML rather than SVG: a bar is a positioned box (`dashboard_data.driver_charts`
computes where), so k charts cost no chart library instances, labels wrap on a phone, and every
bar carries its value as text.
"""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import chart_card
from web.components.segment_badge import segment_badge

_LABEL_WIDTH = "min(40%, 130px)"
_AXIS = rx.color("gray", 8)


def _bar(row: rx.Var) -> rx.Component:
    return rx.flex(
        rx.text(
            row["feature"],
            size="1",
            color_scheme="gray",
            text_align="right",
            width=_LABEL_WIDTH,
            min_width=_LABEL_WIDTH,
            line_height="1.2",
        ),
        rx.box(
            rx.box(
                left=row["left"],
                width=row["width"],
                background=row["fill"],
                position="absolute",
                top="3px",
                bottom="3px",
                border_radius="2px",
                class_name="driver-bar",
            ),
            # The average customer.
            rx.box(
                position="absolute",
                left="50%",
                top="0",
                bottom="0",
                width="1px",
                background=_AXIS,
            ),
            position="relative",
            flex="1",
            height="22px",
            min_width="0",
        ),
        rx.text(
            row["text"],
            size="1",
            width="40px",
            min_width="40px",
            text_align="right",
            style={"font_variant_numeric": "tabular-nums"},
        ),
        align="center",
        spacing="2",
        width="100%",
        title=row["feature"].to(str) + ": " + row["text"].to(str) + " sd from the average",
        custom_attrs={"data-z": row["z"]},
    )


def _axis(ticks: rx.Var) -> rx.Component:
    """Tick labels under the bars: both ends, the halves and 0 (in standard deviations)."""
    return rx.flex(
        rx.box(width=_LABEL_WIDTH, min_width=_LABEL_WIDTH),
        rx.flex(
            rx.foreach(ticks, lambda t: rx.text(t, size="1", color_scheme="gray")),
            justify="between",
            flex="1",
            min_width="0",
            border_top=f"1px solid {_AXIS}",
            padding_top="2px",
        ),
        rx.box(width="40px", min_width="40px"),
        spacing="2",
        width="100%",
    )


def _segment(chart: rx.Var, ticks: rx.Var) -> rx.Component:
    return rx.flex(
        rx.flex(
            segment_badge(chart["name"], chart["color"], chart["text_color"], size="1", wrap=True),
            rx.text(chart["summary"], size="1", color_scheme="gray"),
            direction="column",
            spacing="1",
            align="start",
        ),
        rx.flex(
            rx.foreach(chart["rows"], _bar),
            _axis(ticks),
            direction="column",
            spacing="0",
            width="100%",
        ),
        direction="column",
        spacing="2",
        min_width="0",
        role="group",
        aria_label="Drivers of " + chart["name"].to(str),
        custom_attrs={"data-cluster-id": chart["cluster_id"]},
    )


def drivers_chart(charts: rx.Var, ticks: rx.Var, *, loading: rx.Var) -> rx.Component:
    """`chart-drivers`: one diverging bar chart per `DriverChart`."""
    body = rx.grid(
        rx.foreach(charts, lambda c: _segment(c, ticks)),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="5",
        width="100%",
    )
    return chart_card(
        "What sets each segment apart",
        "Each feature's segment mean against all customers, in standard deviations "
        "(z-score): right = higher than average, left = lower",
        body,
        loading=loading,
        empty=charts.length() == 0,
        id="chart-drivers",
    )
