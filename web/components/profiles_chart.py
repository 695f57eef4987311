"""Segment profiles: a radar (three features or more) or the segments' centres on the plane
of the model's two features; each shape in the segment's colour."""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import (
    AXIS_COLOR,
    GRID_COLOR,
    NO_MODEL_TEXT,
    TOOLTIP_STYLE,
    chart_card,
)
from web.components.segment_legend import segment_legend


def _radar(rows: rx.Var, series: rx.Var, domain: rx.Var) -> rx.Component:
    return rx.recharts.radar_chart(
        rx.recharts.polar_grid(stroke=GRID_COLOR),
        rx.recharts.polar_angle_axis(data_key="feature", tick={"fill": AXIS_COLOR, "fontSize": 11}),
        # -domain at the centre, 0 (the average customer) on the middle ring.
        rx.recharts.polar_radius_axis(
            domain=[-domain, domain], tick=False, axis_line=False, tick_count=5
        ),
        rx.foreach(
            series,
            lambda s: rx.recharts.radar(
                data_key=s["key"],
                # `name` (the legend and tooltip label) is not a declared prop of Radar.
                custom_attrs={"name": s["name"]},
                stroke=s["color"],
                fill=s["color"],
                fill_opacity=0.12,
                stroke_width=2,
                is_animation_active=False,
            ),
        ),
        rx.recharts.graphing_tooltip(content_style=TOOLTIP_STYLE),
        data=rows,
        width="100%",
        height=300,
        # Room beside the rim for long feature names ("Detergents Paper") on a 375 px phone.
        outer_radius="62%",
        margin={"top": 8, "right": 64, "left": 64, "bottom": 8},
    )


def _scatter(points: rx.Var, x_title: rx.Var, y_title: rx.Var) -> rx.Component:
    tick = {"fill": AXIS_COLOR, "fontSize": 11}
    chart = rx.recharts.scatter_chart(
        rx.recharts.cartesian_grid(stroke=GRID_COLOR, stroke_dasharray="3 3"),
        rx.recharts.x_axis(
            data_key="x",
            type_="number",
            name=x_title,
            tick=tick,
            stroke=GRID_COLOR,
            domain=["auto", "auto"],
        ),
        rx.recharts.y_axis(
            data_key="y",
            type_="number",
            name=y_title,
            tick=tick,
            stroke=GRID_COLOR,
            width=44,
            domain=["auto", "auto"],
        ),
        rx.recharts.z_axis(data_key="size", range=[80, 900], name="customers"),
        rx.recharts.scatter(
            data=points, name="segment centre", fill_opacity=0.85, is_animation_active=False
        ),
        rx.recharts.graphing_tooltip(
            content_style=TOOLTIP_STYLE, cursor={"strokeDasharray": "3 3"}
        ),
        width="100%",
        height=270,
        margin={"top": 8, "right": 16, "left": 0, "bottom": 0},
    )
    # Axis titles in HTML: long feature names wrap instead of running into the ticks.
    return rx.flex(
        rx.text("↑ ", y_title, size="1", color_scheme="gray"),
        chart,
        rx.text(x_title, " →", size="1", color_scheme="gray", text_align="right"),
        direction="column",
        spacing="1",
        width="100%",
    )


def profiles_chart(
    rows: rx.Var,
    series: rx.Var,
    points: rx.Var,
    *,
    domain: rx.Var,
    x_title: rx.Var,
    y_title: rx.Var,
    has_model: rx.Var,
    loading: rx.Var,
) -> rx.Component:
    """`chart-profiles`: the radar of `radar_rows`, or the scatter of `scatter_points`."""
    body = rx.flex(
        rx.cond(
            rows.length() > 0, _radar(rows, series, domain), _scatter(points, x_title, y_title)
        ),
        segment_legend(series, color_key="color"),
        direction="column",
        width="100%",
    )
    return chart_card(
        "Segment profiles",
        rx.cond(
            rows.length() > 0,
            "Each segment against all customers, in standard deviations (the drivers' "
            "z-scores): the middle ring is the average customer, outside is higher",
            "Each segment's centre on the model's two features; bubble size = customers",
        ),
        body,
        loading=loading,
        empty=(rows.length() == 0) & (points.length() == 0),
        empty_text=rx.cond(
            has_model, "A profile needs two features or more: see the averages.", NO_MODEL_TEXT
        ),
        id="chart-profiles",
    )
