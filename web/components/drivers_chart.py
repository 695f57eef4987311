"""What makes each segment different: a diverging bar chart of z-scores per segment.

Small multiples (one chart per segment, all on the same symmetric axis), bars in the segment's
colour, to the right when the segment is above the average customer, to the left when below.
"""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import AXIS_COLOR, GRID_COLOR, TOOLTIP_STYLE, chart_card
from web.components.segment_badge import segment_badge


def _segment(chart: rx.Var, domain: rx.Var, ticks: rx.Var) -> rx.Component:
    tick = {"fill": AXIS_COLOR, "fontSize": 11}
    return rx.flex(
        rx.flex(
            segment_badge(chart["name"], chart["color"], chart["text_color"], size="1", wrap=True),
            rx.text(chart["summary"], size="1", color_scheme="gray"),
            direction="column",
            spacing="1",
            align="start",
        ),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke=GRID_COLOR, horizontal=False, stroke_dasharray="3 3"),
            rx.recharts.x_axis(
                type_="number",
                domain=rx.Var.create([-domain, domain]),
                ticks=ticks.to(list[int]),  # recharts takes any numbers; the prop is typed int
                tick=tick,
                stroke=GRID_COLOR,
                allow_decimals=True,
            ),
            rx.recharts.y_axis(
                data_key="feature",
                type_="category",
                width=112,
                tick=tick,
                stroke=GRID_COLOR,
                interval=0,
            ),
            rx.recharts.reference_line(x=0, stroke=AXIS_COLOR),
            rx.recharts.bar(
                data_key="z", name="z-score (sd from average)", is_animation_active=False
            ),
            rx.recharts.graphing_tooltip(content_style=TOOLTIP_STYLE, cursor={"fillOpacity": 0.1}),
            data=chart["rows"],
            layout="vertical",
            width="100%",
            height=chart["height"],
            margin={"top": 4, "right": 12, "left": 0, "bottom": 0},
        ),
        direction="column",
        spacing="1",
        min_width="0",
        custom_attrs={"data-cluster-id": chart["cluster_id"]},
    )


def drivers_chart(
    charts: rx.Var, domain: rx.Var, ticks: rx.Var, *, loading: rx.Var
) -> rx.Component:
    """`chart-drivers`: one diverging bar chart per `DriverChart`."""
    body = rx.grid(
        rx.foreach(charts, lambda c: _segment(c, domain, ticks)),
        columns=rx.breakpoints(initial="1", sm="2", lg="3"),
        spacing="4",
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
