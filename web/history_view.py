"""Shape the model history and a comparison of two models for the models page.

Pure functions (no Reflex, no HTTP), unit-tested directly.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict

from web.api_client import ModelComparison, ModelInfo
from web.dashboard_data import HeatCell, HeatColumn, HeatRow, heat_background
from web.formatting import fmt_pct, fmt_time
from web.palette import segment_color, text_color_on


class ModelRow(TypedDict):
    """One stored version in the history table."""

    version: str
    dataset: str
    features: str
    k: int
    silhouette: str
    stability: str
    trained: str
    active: bool


class VersionOption(TypedDict):
    """A version in the comparison's selects."""

    version: str
    label: str


def model_rows(models: Sequence[ModelInfo]) -> list[ModelRow]:
    """The history, newest first as the API sends it."""
    return [
        ModelRow(
            version=m.version,
            dataset=m.dataset_name,
            features=", ".join(s.label for s in m.feature_specs) or ", ".join(m.features),
            k=m.k,
            silhouette=f"{m.silhouette:.3f}",
            stability="–" if m.stability is None else f"{m.stability:.2f}",
            trained=fmt_time(m.trained_at),
            active=m.active,
        )
        for m in models
    ]


def version_options(models: Sequence[ModelInfo]) -> list[VersionOption]:
    """Every version as "<when> · <dataset> · k=<k>" (the active one marked)."""
    return [
        VersionOption(
            version=m.version,
            label=f"{fmt_time(m.trained_at)} · {m.dataset_name} · k={m.k}"
            + (" · active" if m.active else ""),
        )
        for m in models
    ]


def default_pair(models: Sequence[ModelInfo]) -> tuple[str, str]:
    """What to compare first: the newest version that is not active (a), with the active (b)."""
    active = next((m.version for m in models if m.active), models[0].version if models else "")
    other = next((m.version for m in models if m.version != active), "")
    return other, active


#: Adjusted Rand index bands, from the top: (lower bound, headline, explanation). The ARI is 1
#: for identical groupings and about 0 for groupings no more alike than chance.
ARI_BANDS = (
    (
        0.9,
        "Almost the same segments",
        "Nearly every pair of customers that one model puts together, the other does too. "
        "Names and sizes may differ a little; the segments are the same.",
    ),
    (
        0.7,
        "Broadly similar segments",
        "Most customers keep their neighbours; some segments shift, split or merge. Check the "
        "table for the ones that moved.",
    ),
    (
        0.4,
        "Partly similar segments",
        "The models agree on the broad lines but group many customers differently; expect "
        "different segment names and sizes.",
    ),
    (
        0.1,
        "Substantially different segments",
        "The two models cut the customers in different ways; treat them as different "
        "segmentations, not as an update of one another.",
    ),
    (
        float("-inf"),
        "Unrelated segments",
        "The two groupings agree no more than chance would; they describe different things.",
    ),
)


def ari_words(ari: float) -> tuple[str, str]:
    """(headline, explanation) of an adjusted Rand index for a marketer."""
    for bound, headline, text in ARI_BANDS:
        if ari >= bound:
            return headline, text
    return ARI_BANDS[-1][1], ARI_BANDS[-1][2]  # pragma: no cover - the last bound is -inf


class FlowTable(TypedDict):
    """The a x b table: rows a's segments, columns b's, cells customers shaded by row share."""

    columns: list[HeatColumn]
    rows: list[HeatRow]


def flow_table(comparison: ModelComparison) -> FlowTable:
    """Customers in each (a segment, b segment) pair; a cell's shade is its share of the row."""
    a_names: dict[int, str] = {}
    b_names: dict[int, str] = {}
    cells: dict[tuple[int, int], int] = {}
    for f in comparison.flows:
        a_names[f.from_cluster_id] = f.from_name
        b_names[f.to_cluster_id] = f.to_name
        cells[(f.from_cluster_id, f.to_cluster_id)] = (
            cells.get((f.from_cluster_id, f.to_cluster_id), 0) + f.customers
        )
    b_ids = sorted(b_names)
    rows = []
    for a in sorted(a_names):
        total = sum(n for (row, _), n in cells.items() if row == a)
        color = segment_color(a)
        row_cells = []
        for b in b_ids:
            n = cells.get((a, b), 0)
            share = n / total if total else 0.0
            row_cells.append(
                HeatCell(
                    text=f"{n:,}" if n else "·",
                    background=heat_background(share),
                    title=(
                        f"{n:,} customers ({fmt_pct(share)}) of “{a_names[a]}” are in "
                        f"“{b_names[b]}”"
                    ),
                )
            )
        rows.append(
            HeatRow(name=a_names[a], color=color, text_color=text_color_on(color), cells=row_cells)
        )
    columns = []
    for b in b_ids:
        color = segment_color(b)
        columns.append(HeatColumn(name=b_names[b], color=color, text_color=text_color_on(color)))
    return FlowTable(columns=columns, rows=rows)
