"""Segment profiles: a radar with one polygon per segment, each axis scaled to the data's range."""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import AXIS_COLOR, GRID_COLOR, TOOLTIP_STYLE, chart_card
from web.components.segment_legend import segment_legend


def profiles_chart(rows: rx.Var, series: rx.Var, *, loading: rx.Var) -> rx.Component:
    """The radar of `radar_rows` with one `radar` per `RadarSeries` (`chart-profiles`)."""
    chart = rx.recharts.radar_chart(
        rx.recharts.polar_grid(stroke=GRID_COLOR),
        rx.recharts.polar_angle_axis(data_key="feature", tick={"fill": AXIS_COLOR, "fontSize": 11}),
        rx.recharts.polar_radius_axis(domain=[0, 1], tick=False, axis_line=False),
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
        outer_radius="68%",
        margin={"top": 8, "right": 36, "left": 36, "bottom": 8},
    )
    return chart_card(
        "Segment profiles",
        "Mean of each feature, 0 = lowest customer, 1 = highest",
        rx.flex(chart, segment_legend(series, color_key="color"), direction="column", width="100%"),
        loading=loading,
        empty=rows.length() == 0,
        id="chart-profiles",
    )
