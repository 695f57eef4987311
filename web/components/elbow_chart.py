"""The elbow chart: inertia and silhouette per k on two axes, chosen k and knee marked."""

from __future__ import annotations

import reflex as rx

from web.components.chart_card import (
    AXIS_COLOR,
    COMPACT_TICKS,
    GRID_COLOR,
    TOOLTIP_STYLE,
    chart_card,
)
from web.palette import SEGMENT_COLORS

_INERTIA_COLOR = SEGMENT_COLORS[0]
_SILHOUETTE_COLOR = SEGMENT_COLORS[5]


def _label(text: str, position: str, **props) -> rx.Component:
    return rx.recharts.label(
        value=text,
        position=position,
        custom_attrs={"fill": AXIS_COLOR, "fontSize": 11},
        **props,
    )


def elbow_chart(
    rows: rx.Var,
    *,
    optimal_k: rx.Var,
    elbow_k: rx.Var,
    has_ineligible: rx.Var,
    min_share: rx.Var,
    loading: rx.Var,
) -> rx.Component:
    """The composed chart of `ElbowRow`s (`chart-elbow`); `elbow_k` 0 means no knee found.

    A k that automatic choice could not take (a segment smaller than the minimum share) gets a
    grey cross on its silhouette point.
    """
    tick = {"fill": AXIS_COLOR, "fontSize": 11}
    chart = rx.recharts.composed_chart(
        rx.recharts.cartesian_grid(stroke=GRID_COLOR, stroke_dasharray="3 3"),
        rx.recharts.x_axis(
            _label("k (segments)", "insideBottom", offset=-4),
            data_key="k",
            tick=tick,
            stroke=GRID_COLOR,
        ),
        rx.recharts.y_axis(
            y_axis_id="inertia",
            tick=tick,
            stroke=_INERTIA_COLOR,
            width=56,
            tick_formatter=COMPACT_TICKS,
        ),
        rx.recharts.y_axis(
            y_axis_id="silhouette",
            orientation="right",
            tick=tick,
            stroke=_SILHOUETTE_COLOR,
            width=44,
        ),
        rx.recharts.line(
            data_key="inertia",
            name="Inertia",
            y_axis_id="inertia",
            stroke=_INERTIA_COLOR,
            stroke_width=2,
            is_animation_active=False,
        ),
        rx.recharts.line(
            data_key="silhouette",
            name="Silhouette",
            y_axis_id="silhouette",
            stroke=_SILHOUETTE_COLOR,
            stroke_width=2,
            stroke_dasharray="6 3",
            is_animation_active=False,
        ),
        rx.cond(
            has_ineligible,
            # Only the points of ineligible k have a value: hollow rings on their silhouette.
            rx.recharts.line(
                data_key="ineligible",
                name="k skipped: a segment under the minimum share",
                y_axis_id="silhouette",
                stroke=AXIS_COLOR,
                stroke_width=0,
                dot={"r": 7, "fill": "none", "stroke": AXIS_COLOR, "strokeWidth": 2},
                active_dot=False,
                legend_type="circle",
                connect_nulls=False,
                is_animation_active=False,
            ),
        ),
        rx.recharts.reference_line(
            _label("chosen k", "insideTopRight"),
            x=optimal_k,
            y_axis_id="inertia",
            stroke=AXIS_COLOR,
            stroke_width=2,
        ),
        rx.cond(
            elbow_k > 0,
            rx.recharts.reference_line(
                _label("knee", "insideBottomLeft"),
                x=elbow_k,
                y_axis_id="inertia",
                stroke=AXIS_COLOR,
                stroke_dasharray="2 4",
            ),
        ),
        rx.recharts.legend(vertical_align="top", height=28),
        rx.recharts.graphing_tooltip(content_style=TOOLTIP_STYLE),
        data=rows,
        width="100%",
        height=300,
        margin={"top": 8, "right": 8, "left": 0, "bottom": 12},
    )
    return chart_card(
        "Choosing k",
        rx.cond(
            has_ineligible,
            "Inertia (left, lower is tighter) and silhouette (right, higher is better) per k; "
            + "rings: k with a segment under "
            + min_share
            + " of customers, which automatic choice skips",
            "Inertia (left, lower is tighter) and silhouette (right, higher is better) per k",
        ),
        chart,
        loading=loading,
        empty=rows.length() == 0,
        id="chart-elbow",
    )
