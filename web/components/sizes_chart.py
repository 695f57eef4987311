"""Segment sizes: a donut, one sector per segment in its colour."""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import TOOLTIP_STYLE, chart_card
from web.components.segment_legend import segment_legend


def sizes_chart(rows: rx.Var, *, loading: rx.Var) -> rx.Component:
    """The pie of `SizeRow`s (`chart-sizes`)."""
    chart = rx.recharts.pie_chart(
        rx.recharts.pie(
            data=rows,
            data_key="size",
            name_key="name",
            inner_radius="45%",
            outer_radius="80%",
            padding_angle=1,
            stroke=rx.color("gray", 1),
            is_animation_active=False,
        ),
        rx.recharts.graphing_tooltip(content_style=TOOLTIP_STYLE),
        width="100%",
        height=270,
    )
    return chart_card(
        "Segment sizes",
        "Customers per segment (hover for counts)",
        rx.flex(chart, segment_legend(rows, color_key="fill"), direction="column", width="100%"),
        loading=loading,
        empty=rows.length() == 0,
        id="chart-sizes",
    )
