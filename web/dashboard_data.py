"""Shape the API's typed results into the rows the charts and the table draw.

Pure functions (no Reflex, no HTTP), so they are unit-tested directly. Rows are plain dicts
because recharts reads them by key; each row type is a TypedDict documenting those keys.
"""

from __future__ import annotations

from typing import TypedDict

from web.api_client import ClusterProfile, ElbowReport
from web.palette import segment_color, text_color_on

#: Display labels and units of the bundled data's columns; other columns get a generic label.
_KNOWN_FEATURES: dict[str, tuple[str, str, str]] = {
    "age": ("Age", "years", "Age"),
    "annual_income": ("Annual income", "k$", "Income"),
    "spending_score": ("Spending score", "1-100", "Spending"),
    "purchase_frequency": ("Purchase frequency", "per year", "Frequency"),
}


def feature_label(column: str) -> str:
    """A readable label for a feature column (`annual_income` -> `Annual income`)."""
    if column in _KNOWN_FEATURES:
        return _KNOWN_FEATURES[column][0]
    return column.replace("_", " ").strip().capitalize()


def feature_unit(column: str) -> str:
    """The unit of a feature column, "" when unknown."""
    return _KNOWN_FEATURES.get(column, ("", "", ""))[1]


def feature_short_label(column: str) -> str:
    """A one-word label where space is short (the radar's axes on a phone)."""
    if column in _KNOWN_FEATURES:
        return _KNOWN_FEATURES[column][2]
    return feature_label(column)


def fmt(value: float) -> str:
    """A compact number for labels and tooltips: 1 decimal, none for whole numbers."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


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
    """One radar polygon: a segment."""

    key: str
    name: str
    color: str


class ElbowRow(TypedDict):
    """One k of the elbow search."""

    k: int
    inertia: float
    silhouette: float


class TableRow(TypedDict):
    """One row of the statistics table."""

    cluster_id: int
    name: str
    color: str
    text_color: str
    size: int
    share: str
    cells: list[str]


def size_rows(clusters: tuple[ClusterProfile, ...]) -> list[SizeRow]:
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


def population_means(clusters: tuple[ClusterProfile, ...]) -> dict[str, float]:
    """Each feature's mean over all training customers (segment means weighted by size)."""
    total = sum(c.size for c in clusters)
    if not total:
        return {}
    sums: dict[str, float] = {}
    for c in clusters:
        for f in c.features:
            sums[f.feature] = sums.get(f.feature, 0.0) + f.mean * c.size
    return {name: s / total for name, s in sums.items()}


def feature_bars(clusters: tuple[ClusterProfile, ...]) -> list[FeatureBars]:
    """One small multiple per feature, so features on different scales stay readable."""
    if not clusters:
        return []
    means = population_means(clusters)
    return [
        FeatureBars(
            feature=f.feature,
            label=feature_label(f.feature),
            population_mean=round(means[f.feature], 2),
            rows=[
                BarRow(
                    name=c.name,
                    mean=round(c.features[i].mean, 2),
                    fill=segment_color(c.cluster_id),
                )
                for c in clusters
            ],
        )
        for i, f in enumerate(clusters[0].features)
    ]


def radar_rows(clusters: tuple[ClusterProfile, ...]) -> list[dict[str, float | str]]:
    """One row per feature; column `c<id>` is that segment's mean scaled to the data's range.

    0 is the smallest value any training customer has, 1 the largest, so every axis of the
    radar spans the same 0-1 whatever the feature's unit.
    """
    if not clusters:
        return []
    rows: list[dict[str, float | str]] = []
    for i, f in enumerate(clusters[0].features):
        low = min(c.features[i].min for c in clusters)
        high = max(c.features[i].max for c in clusters)
        span = high - low
        row: dict[str, float | str] = {"feature": feature_short_label(f.feature)}
        for c in clusters:
            mean = c.features[i].mean
            row[f"c{c.cluster_id}"] = round((mean - low) / span, 3) if span else 0.5
        rows.append(row)
    return rows


def radar_series(clusters: tuple[ClusterProfile, ...]) -> list[RadarSeries]:
    """The radar's polygons, one per segment."""
    return [
        RadarSeries(key=f"c{c.cluster_id}", name=c.name, color=segment_color(c.cluster_id))
        for c in clusters
    ]


def elbow_rows(elbow: ElbowReport | None) -> list[ElbowRow]:
    """The elbow chart's points, by k."""
    if elbow is None:
        return []
    return [
        ElbowRow(k=p.k, inertia=round(p.inertia, 2), silhouette=round(p.silhouette, 4))
        for p in sorted(elbow.points, key=lambda p: p.k)
    ]


def table_columns(clusters: tuple[ClusterProfile, ...]) -> list[str]:
    """The per-feature column headers of the statistics table."""
    if not clusters:
        return []
    headers = []
    for f in clusters[0].features:
        unit = feature_unit(f.feature)
        headers.append(f"{feature_label(f.feature)} ({unit})" if unit else feature_label(f.feature))
    return headers


def table_rows(clusters: tuple[ClusterProfile, ...]) -> list[TableRow]:
    """The statistics table: size, share and mean / median / min-max of every feature."""
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
                share=f"{100 * c.share:.1f}%",
                cells=[
                    f"{fmt(f.mean)} · med {fmt(f.median)} · {fmt(f.min)}–{fmt(f.max)}"
                    for f in c.features
                ],
            )
        )
    return rows
