"""Shape datasets, their columns, training errors and scoring results for the data page.

Pure functions (no Reflex, no HTTP), unit-tested directly; each row type is a TypedDict.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import TypedDict

from web.api_client import Dataset, DatasetColumn, FeatureChoice, InvalidInput, ScoredDataset
from web.formatting import fmt, fmt_bytes, fmt_pct, fmt_time
from web.palette import segment_color, text_color_on

NUMERIC = "NUMERIC"

#: A role in words, and the Radix colour of its badge.
ROLES = {
    "NUMERIC": ("number", "indigo"),
    "CATEGORICAL": ("category", "teal"),
    "IDENTIFIER": ("identifier", "gray"),
    "IGNORED": ("ignored", "gray"),
}

#: The transform choices of a feature, as the select shows them.
TRANSFORMS = (
    ("NONE", "as is"),
    ("LOG", "log"),
    ("AUTO", "automatic"),
)


class DatasetRow(TypedDict):
    """One dataset in the list."""

    id: str
    name: str
    rows: str
    size: str
    created: str
    bundled: bool
    in_use: bool  # the active model was trained on it


class Bar(TypedDict):
    """One bar of a column's mini distribution: its height (CSS %) and a tooltip."""

    height: str
    title: str


class ColumnRow(TypedDict):
    """One column of the selected dataset."""

    name: str
    role: str
    role_label: str
    role_color: str
    numeric: bool
    missing: str
    distinct: str
    range: str
    skewness: str
    suggested: str  # NONE or LOG
    hint: str  # why LOG is suggested, or what a non-numeric column holds
    summary: str  # missing, distinct and range in one line (narrow screens)
    bars: list[Bar]


class SegmentCountRow(TypedDict):
    """One segment of a scored file."""

    name: str
    color: str
    text_color: str
    customers: str
    share: str
    pct: float


def dataset_rows(datasets: Sequence[Dataset], active_dataset_id: str | None) -> list[DatasetRow]:
    """The list, newest first as the API sends it."""
    return [
        DatasetRow(
            id=d.id,
            name=d.name,
            rows=f"{d.rows:,}",
            size=fmt_bytes(d.bytes),
            created=fmt_time(d.created_at),
            bundled=d.bundled,
            in_use=d.id == active_dataset_id,
        )
        for d in datasets
    ]


def _bars(counts: Sequence[int], labels: Sequence[str]) -> list[Bar]:
    top = max(counts, default=0)
    if top <= 0:
        return []
    return [
        # At least a sliver, so an empty bin is still visible as part of the range.
        Bar(height=f"{max(4.0, 100 * n / top):.0f}%", title=f"{label}: {n:,}")
        for n, label in zip(counts, labels, strict=True)
    ]


def distribution_bars(column: DatasetColumn) -> list[Bar]:
    """A NUMERIC column's histogram (equal-width bins from min to max) or a CATEGORICAL
    column's most frequent values, as mini bars; empty when the API sent neither."""
    if column.role == NUMERIC and column.histogram and column.min is not None:
        low, high = column.min, column.max if column.max is not None else column.min
        width = (high - low) / len(column.histogram)
        labels = [
            f"{fmt(low + i * width)}–{fmt(low + (i + 1) * width)}"
            for i in range(len(column.histogram))
        ]
        return _bars(column.histogram, labels)
    if column.top_values:
        return _bars([v.count for v in column.top_values], [v.value for v in column.top_values])
    return []


def column_rows(dataset: Dataset | None) -> list[ColumnRow]:
    """The column table of the selected dataset, in the file's order."""
    if dataset is None:
        return []
    rows = []
    for c in dataset.columns:
        label, color = ROLES.get(c.role, (c.role.lower(), "gray"))
        numeric = c.role == NUMERIC
        if numeric and c.suggested_transform == "LOG":
            hint = "Skewed: a log transform is suggested"
        elif c.role == "CATEGORICAL" and c.top_values:
            hint = ", ".join(v.value for v in c.top_values[:3]) + (
                "…" if len(c.top_values) > 3 else ""
            )
        elif c.role == "IDENTIFIER":
            hint = "A different value on every row: not a feature"
        elif c.role == "IGNORED":
            hint = "Text or dates: not used"
        else:
            hint = ""
        facts = [f"{c.distinct:,} distinct"]
        if c.missing:
            facts.insert(0, f"{c.missing:,} missing")
        if numeric:
            facts.append(f"{fmt(c.min)} – {fmt(c.max)}")
        rows.append(
            ColumnRow(
                name=c.name,
                role=c.role,
                role_label=label,
                role_color=color,
                numeric=numeric,
                missing=f"{c.missing:,}" if c.missing else "–",
                distinct=f"{c.distinct:,}",
                range=f"{fmt(c.min)} – {fmt(c.max)}" if numeric else "",
                skewness="" if c.skewness is None else f"{c.skewness:+.2f}",
                suggested=c.suggested_transform if numeric else "NONE",
                hint=hint,
                summary=" · ".join(facts),
                bars=distribution_bars(c),
            )
        )
    return rows


def feature_choices(
    columns: Sequence[ColumnRow], ticked: dict[str, bool], transforms: dict[str, str]
) -> list[FeatureChoice]:
    """The ticked NUMERIC columns, in the file's order, with their transforms."""
    return [
        FeatureChoice(c["name"], transforms.get(c["name"]) or c["suggested"])
        for c in columns
        if c["numeric"] and ticked.get(c["name"])
    ]


_FEATURE_FIELD = re.compile(r"^features\[(\d+)\](?:\.(\w+))?$")

#: `TrainInput` fields the training options own, by their input name.
OPTION_FIELDS = ("kMin", "kMax", "k", "minSegmentShare", "missingValues")


def training_errors(
    invalid: InvalidInput, sent: Sequence[FeatureChoice]
) -> tuple[dict[str, str], dict[str, str], list[str]]:
    """The API's `InvalidInput` for `train`, placed where it belongs.

    Returns (messages by column for `features[i].column`, messages by option field such as
    `kMax`, the rest). The rest includes the general message when no field was named.
    """
    by_column: dict[str, str] = {}
    by_option: dict[str, str] = {}
    rest: list[str] = []
    for error in invalid.errors:
        match = _FEATURE_FIELD.match(error.field)
        name = error.field.removeprefix("input.")
        if match and int(match.group(1)) < len(sent):
            by_column[sent[int(match.group(1))].column] = error.message
        elif name in OPTION_FIELDS:
            by_option[name] = error.message
        else:
            rest.append(
                error.message
                if name in ("", "input", "datasetId")
                else f"{error.field}: {error.message}"
            )
    if not invalid.errors or not (by_column or by_option):
        rest.insert(0, invalid.message)
    return by_column, by_option, list(dict.fromkeys(rest))


def dataset_name(filename: str) -> str:
    """The name a dataset gets from its file: `mall_customers.csv` -> `mall_customers`."""
    stem = PurePosixPath(filename.replace("\\", "/")).name
    for suffix in (".csv", ".tsv", ".txt", ".parquet", ".pq"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem.strip() or "dataset"


def segment_count_rows(scored: ScoredDataset) -> list[SegmentCountRow]:
    """The segments of a scored file, largest first."""
    total = max(1, scored.scored_rows)
    rows = []
    for s in sorted(scored.segments, key=lambda s: (-s.customers, s.cluster_id)):
        color = segment_color(s.cluster_id)
        rows.append(
            SegmentCountRow(
                name=s.segment_name,
                color=color,
                text_color=text_color_on(color),
                customers=f"{s.customers:,}",
                share=fmt_pct(s.customers / total),
                pct=round(100 * s.customers / total, 1),
            )
        )
    return rows


def score_summary(scored: ScoredDataset) -> str:
    """One sentence on the scored file."""
    text = f"{scored.scored_rows:,} of {scored.rows:,} rows got a segment"
    skipped = scored.rows - scored.scored_rows
    if skipped:
        text += (
            f"; {skipped:,} could not be scored (a missing or invalid value: the "
            "`score_problem` column of the file says which)"
        )
    return text + "."


def scored_filename(uploaded: str) -> str:
    """The download's file name: `customers.csv` -> `customers_segments.csv`."""
    return f"{dataset_name(uploaded)}_segments.csv"
