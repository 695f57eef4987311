"""Average of each feature per segment, as small multiples.

The features have different scales (age in years, income in k$), so one shared axis would flatten
the small ones. One small bar chart per feature keeps every feature's real values on its own
axis, with the population mean as a dashed line for reference.
"""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import (
    AXIS_COLOR,
    COMPACT_TICKS,
    GRID_COLOR,
    TOOLTIP_STYLE,
    chart_card,
)
from web.components.segment_legend import segment_legend


def _small_multiple(feature: rx.Var) -> rx.Component:
    return rx.box(
        rx.text(feature["label"], size="2", weight="medium"),
        rx.recharts.bar_chart(
            rx.recharts.cartesian_grid(stroke=GRID_COLOR, vertical=False, stroke_dasharray="3 3"),
            rx.recharts.x_axis(data_key="name", hide=True),
            rx.recharts.y_axis(
                width=40,
                tick={"fill": AXIS_COLOR, "fontSize": 11},
                stroke=GRID_COLOR,
                tick_formatter=COMPACT_TICKS,
            ),
            rx.recharts.bar(data_key="mean", name="mean", is_animation_active=False),
            rx.recharts.reference_line(
                y=feature["population_mean"].to(int),
                stroke=AXIS_COLOR,
                stroke_dasharray="4 4",
                if_overflow="extendDomain",
            ),
            rx.recharts.graphing_tooltip(content_style=TOOLTIP_STYLE, cursor={"fillOpacity": 0.1}),
            data=feature["rows"],
            width="100%",
            height=140,
            margin={"top": 8, "right": 8, "left": 0, "bottom": 0},
        ),
        min_width="0",
    )


def averages_chart(features: rx.Var, legend: rx.Var, *, loading: rx.Var) -> rx.Component:
    """The grid of per-feature bar charts (`chart-averages`); `legend` rows name the colours."""
    body = rx.flex(
        rx.grid(
            rx.foreach(features, _small_multiple),
            columns=rx.breakpoints(initial="1", sm="2"),
            spacing="3",
            width="100%",
        ),
        segment_legend(legend, color_key="color"),
        direction="column",
        spacing="2",
        width="100%",
    )
    return chart_card(
        "Feature averages by segment",
        "Mean of each feature per segment in its own units; dashed line: all customers",
        body,
        loading=loading,
        empty=features.length() == 0,
        id="chart-averages",
    )
