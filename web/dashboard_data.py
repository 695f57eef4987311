"""Shape the API's typed results into the rows the dashboard's charts and tables draw.

Pure functions (no Reflex, no HTTP), so they are unit-tested directly. Rows are plain dicts
because recharts reads them by key; each row type is a TypedDict documenting those keys.
Axis titles, labels and units come from the model's `featureSpecs`, so any trained model draws
with its own features (1 to many) and segments (2 to 10 and more).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypedDict

from web.api_client import ClusterProfile, ElbowReport, FeatureSpec, ModelInfo, ModelSummary
from web.formatting import fmt, fmt_pct, fmt_time
from web.palette import segment_color, text_color_on

#: Below this bootstrap Jaccard a segment is not to be trusted (Hennig, "Cluster-wise
#: assessment of cluster stability", 2007: <= 0.6 dissolved, >= 0.75 stable, >= 0.85 highly).
UNSTABLE_BELOW = 0.6
STABLE_FROM = 0.75


class FeatureLabel(TypedDict):
    """How a feature is shown: its label, unit ("" if none), and both as an axis title."""

    name: str
    label: str
    unit: str
    title: str


def feature_labels(
    specs: Sequence[FeatureSpec], features: Sequence[str] = ()
) -> dict[str, FeatureLabel]:
    """Every feature's label by column name, from the model's specs (the column name otherwise)."""
    out: dict[str, FeatureLabel] = {}
    for s in specs:
        unit = s.unit or ""
        out[s.name] = FeatureLabel(
            name=s.name, label=s.label, unit=unit, title=f"{s.label} ({unit})" if unit else s.label
        )
    for name in features:
        if name not in out:
            out[name] = FeatureLabel(name=name, label=name, unit="", title=name)
    return out


def _label(labels: dict[str, FeatureLabel], name: str) -> FeatureLabel:
    return labels.get(name) or FeatureLabel(name=name, label=name, unit="", title=name)


class SizeRow(TypedDict):
    """One pie sector."""

    name: str
    size: int
    share_pct: float
    fill: str


class BarRow(TypedDict):
    """One bar of a per-feature small multiple: a segment's mean of that feature."""

    name: str
    mean: float
    fill: str


class FeatureBars(TypedDict):
    """One small multiple: a feature, its segments' means and the population mean."""

    feature: str
    label: str
    population_mean: float
    rows: list[BarRow]


class RadarSeries(TypedDict):
    """One radar polygon (or scatter point): a segment."""

    key: str
    name: str
    color: str


class ScatterPoint(TypedDict):
    """A segment's centre on two features (the profile chart of a two-feature model)."""

    name: str
    x: float
    y: float
    size: int
    fill: str


class ElbowRow(TypedDict):
    """One k of the elbow search; `ineligible` repeats the silhouette of a k automatic choice
    could not take (a segment below the minimum share), None otherwise."""

    k: int
    inertia: float
    silhouette: float
    ineligible: float | None


class DriverRow(TypedDict):
    """One bar of a segment's drivers chart: a feature's z-score, and where its bar sits on
    the shared axis (CSS percentages of the plot's width; 50% is the average customer)."""

    feature: str
    z: float
    fill: str
    text: str
    left: str
    width: str


class DriverChart(TypedDict):
    """One segment's drivers: features by |z|, one bar each, right = above everyone's mean."""

    cluster_id: int
    name: str
    color: str
    text_color: str
    rows: list[DriverRow]
    summary: str


class HeatCell(TypedDict):
    """A cell of a heat-mapped table: its text, its background and a tooltip."""

    text: str
    background: str
    title: str


def heat_background(strength: float) -> str:
    """A cell background for `strength` in [0, 1]: none at 0, then Radix accent steps 3-8.

    Radix designed steps 3-8 as backgrounds under step-12 text, in light and in dark mode, so
    the numbers stay readable at every shade.
    """
    if not strength > 0:
        return "transparent"
    step = 3 + round(5 * min(1.0, strength))
    return f"var(--accent-{step})"


class HeatColumn(TypedDict):
    """A column of a heat-mapped table: a segment (with its colours) or a plain value ("")."""

    name: str
    color: str
    text_color: str


def plain_columns(names: Sequence[str]) -> list[HeatColumn]:
    """Columns that are values, not segments (drawn as plain text)."""
    return [HeatColumn(name=n, color="", text_color="") for n in names]


class HeatRow(TypedDict):
    """A row of a heat-mapped table: the segment in its colour, then one cell per column."""

    name: str
    color: str
    text_color: str
    cells: list[HeatCell]


class CategoryTable(TypedDict):
    """One categorical column across segments: rows = segments, columns = its values."""

    column: str
    values: list[HeatColumn]
    rows: list[HeatRow]


class TableRow(TypedDict):
    """One row of the statistics table."""

    cluster_id: int
    name: str
    color: str
    text_color: str
    size: int
    share: str
    stability: str
    stability_level: str  # "stable", "fair", "unstable" or "" (not computed)
    cells: list[str]


class PickerOption(TypedDict):
    """One model version in the dashboard's picker."""

    version: str
    label: str


def size_rows(clusters: Sequence[ClusterProfile]) -> list[SizeRow]:
    """The pie's sectors, in cluster-id order."""
    return [
        SizeRow(
            name=c.name,
            size=c.size,
            share_pct=round(100 * c.share, 1),
            fill=segment_color(c.cluster_id),
        )
        for c in clusters
    ]


def population_means(clusters: Sequence[ClusterProfile]) -> dict[str, float]:
    """Each feature's mean over all training customers (segment means weighted by size)."""
    total = sum(c.size for c in clusters)
    if not total:
        return {}
    sums: dict[str, float] = {}
    for c in clusters:
        for f in c.features:
            sums[f.feature] = sums.get(f.feature, 0.0) + f.mean * c.size
    return {name: s / total for name, s in sums.items()}


def feature_bars(
    clusters: Sequence[ClusterProfile], labels: dict[str, FeatureLabel]
) -> list[FeatureBars]:
    """One small multiple per feature, so features on different scales stay readable."""
    if not clusters:
        return []
    means = population_means(clusters)
    return [
        FeatureBars(
            feature=f.feature,
            label=_label(labels, f.feature)["title"],
            population_mean=round(means[f.feature], 4),
            rows=[
                BarRow(
                    name=c.name,
                    mean=round(c.features[i].mean, 4),
                    fill=segment_color(c.cluster_id),
                )
                for c in clusters
            ],
        )
        for i, f in enumerate(clusters[0].features)
    ]


def radar_rows(
    clusters: Sequence[ClusterProfile], labels: dict[str, FeatureLabel]
) -> list[dict[str, float | str]]:
    """One row per feature; column `c<id>` is that segment's z-score on it (its driver: the
    segment's mean against all customers, in standard deviations of the model's space).

    z-scores put every axis on one scale whatever the feature's unit or skew (scaled to the
    customers' min-max range, the means of skewed columns such as spend all sat near 0 and the
    radar looked empty). Draw it on `radar_domain`. Empty below three features, where a radar
    has no area (the profile chart then shows `scatter_points`).
    """
    if not clusters or len(clusters[0].features) < 3:
        return []
    z = {c.cluster_id: {d.feature: d.z_score for d in c.drivers} for c in clusters}
    rows: list[dict[str, float | str]] = []
    for f in clusters[0].features:
        row: dict[str, float | str] = {"feature": _label(labels, f.feature)["label"]}
        for c in clusters:
            row[f"c{c.cluster_id}"] = round(z[c.cluster_id].get(f.feature, 0.0), 2)
        rows.append(row)
    return rows


def radar_domain(rows: Sequence[dict[str, float | str]]) -> float:
    """The radar's radius runs from minus this (the centre) to plus this (the rim), so the
    middle ring is the average customer: the drivers' rule for the largest |z-score|."""
    return driver_domain(
        [
            abs(v)
            for row in rows
            for key, v in row.items()
            if key != "feature" and isinstance(v, float | int)
        ]
    )


def scatter_points(clusters: Sequence[ClusterProfile]) -> list[ScatterPoint]:
    """Each segment's mean on the model's two features (for a two-feature model only)."""
    if not clusters or len(clusters[0].features) != 2:
        return []
    return [
        ScatterPoint(
            name=c.name,
            x=round(c.features[0].mean, 4),
            y=round(c.features[1].mean, 4),
            size=c.size,
            fill=segment_color(c.cluster_id),
        )
        for c in clusters
    ]


def radar_series(clusters: Sequence[ClusterProfile]) -> list[RadarSeries]:
    """The segments as legend entries / radar polygons."""
    return [
        RadarSeries(key=f"c{c.cluster_id}", name=c.name, color=segment_color(c.cluster_id))
        for c in clusters
    ]


def elbow_rows(elbow: ElbowReport | None) -> list[ElbowRow]:
    """The elbow chart's points, by k."""
    if elbow is None:
        return []
    return [
        ElbowRow(
            k=p.k,
            inertia=round(p.inertia, 4),
            silhouette=round(p.silhouette, 4),
            ineligible=None if p.eligible else round(p.silhouette, 4),
        )
        for p in sorted(elbow.points, key=lambda p: p.k)
    ]


def driver_charts(
    clusters: Sequence[ClusterProfile], labels: dict[str, FeatureLabel], *, top: int = 8
) -> list[DriverChart]:
    """Each segment's drivers as a diverging bar chart: the `top` features by |z-score|.

    A z-score is (segment mean - everyone's mean) / everyone's standard deviation, in the
    model's space (after a LOG transform where one was used): +1 means the segment sits one
    standard deviation above the average customer. Every segment's bars share one symmetric
    axis (`driver_domain`), so a long bar means the same everywhere.
    """
    chosen = [(c, sorted(c.drivers, key=lambda d: -abs(d.z_score))[:top]) for c in clusters]
    domain = driver_domain([abs(d.z_score) for _, drivers in chosen for d in drivers])
    charts = []
    for c, drivers in chosen:
        color = segment_color(c.cluster_id)
        rows = []
        for d in drivers:
            half = 50 * min(abs(d.z_score), domain) / domain
            rows.append(
                DriverRow(
                    feature=_label(labels, d.feature)["label"],
                    z=round(d.z_score, 3),
                    fill=color,
                    text=f"{d.z_score:+.2f}",
                    left=f"{50 if d.z_score >= 0 else 50 - half:.2f}%",
                    width=f"{half:.2f}%",
                )
            )
        strongest = drivers[0] if drivers else None
        summary = (
            f"Mostly {'higher' if strongest.z_score >= 0 else 'lower'} "
            f"{_label(labels, strongest.feature)['label'].lower()} than average "
            f"({strongest.z_score:+.1f} sd)"
            if strongest is not None
            else ""
        )
        charts.append(
            DriverChart(
                cluster_id=c.cluster_id,
                name=c.name,
                color=color,
                text_color=text_color_on(color),
                rows=rows,
                summary=summary,
            )
        )
    return charts


def driver_domain(magnitudes: Sequence[float]) -> float:
    """One symmetric axis for every drivers chart: the largest |z| rounded up to the next half
    standard deviation (at least 1)."""
    largest = max(magnitudes, default=0.0)
    return max(1.0, math.ceil(2 * largest + 0.1) / 2)


def driver_ticks(domain: float) -> list[str]:
    """The labels under the drivers' axis: both ends, the halves and 0."""
    return [f"{t:+g}" if t else "0" for t in (-domain, -domain / 2, 0.0, domain / 2, domain)]


def category_tables(clusters: Sequence[ClusterProfile]) -> list[CategoryTable]:
    """Per categorical column: each segment's share of every value, shaded by lift.

    The shade grows with how over-represented a value is in the segment compared with all
    customers (lift 1 = as common as everywhere: no shade; lift 2 or more: full shade).
    """
    columns: dict[str, list[str]] = {}
    for c in clusters:
        for share in c.categories:
            values = columns.setdefault(share.column, [])
            if share.value not in values:
                values.append(share.value)
    tables = []
    for column, values in columns.items():
        rows = []
        for c in clusters:
            by_value = {s.value: s for s in c.categories if s.column == column}
            color = segment_color(c.cluster_id)
            cells = []
            for value in values:
                s = by_value.get(value)
                if s is None:
                    cells.append(
                        HeatCell(text="0%", background="transparent", title=f"No {value} here")
                    )
                    continue
                cells.append(
                    HeatCell(
                        text=fmt_pct(s.share, 0),
                        background=heat_background(s.lift - 1.0),
                        title=f"{fmt_pct(s.share)} of {c.name} ({s.lift:.2f}× everyone's share)",
                    )
                )
            rows.append(
                HeatRow(name=c.name, color=color, text_color=text_color_on(color), cells=cells)
            )
        tables.append(CategoryTable(column=column, values=plain_columns(values), rows=rows))
    return tables


def stability_level(value: float | None) -> str:
    """`stable` (>= 0.75), `fair` (0.6-0.75), `unstable` (< 0.6) or "" when not computed."""
    if value is None:
        return ""
    if value >= STABLE_FROM:
        return "stable"
    if value >= UNSTABLE_BELOW:
        return "fair"
    return "unstable"


def table_columns(clusters: Sequence[ClusterProfile], labels: dict[str, FeatureLabel]) -> list[str]:
    """The per-feature column headers of the statistics table."""
    if not clusters:
        return []
    return [_label(labels, f.feature)["title"] for f in clusters[0].features]


def table_rows(clusters: Sequence[ClusterProfile]) -> list[TableRow]:
    """The statistics table: size, share, stability and mean / median / min-max per feature."""
    rows = []
    for c in clusters:
        color = segment_color(c.cluster_id)
        rows.append(
            TableRow(
                cluster_id=c.cluster_id,
                name=c.name,
                color=color,
                text_color=text_color_on(color),
                size=c.size,
                share=fmt_pct(c.share),
                stability="–" if c.stability is None else f"{c.stability:.2f}",
                stability_level=stability_level(c.stability),
                cells=[
                    f"{fmt(f.mean)} · med {fmt(f.median)} · {fmt(f.min)}–{fmt(f.max)}"
                    for f in c.features
                ],
            )
        )
    return rows


def picker_options(models: Sequence[ModelSummary]) -> list[PickerOption]:
    """The versions a user can look at, newest first, the active one marked."""
    return [
        PickerOption(
            version=m.version,
            label=(
                f"{fmt_time(m.trained_at)} · {m.dataset_name} · k={m.k}"
                + (" · active" if m.active else "")
            ),
        )
        for m in models
    ]


def model_stability_words(model: ModelInfo | None) -> str:
    """The model's bootstrap stability in words, for the status card."""
    if model is None or model.stability is None:
        return "–"
    level = stability_level(model.stability)
    words = {"stable": "stable", "fair": "fairly stable", "unstable": "unstable"}[level]
    return f"{model.stability:.2f} ({words})"
