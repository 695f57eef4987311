"""How the command line prints: short human tables, or JSON with ``--json``."""

from __future__ import annotations

import dataclasses
import json
from enum import Enum
from typing import Any

from segmentation_core.features import FeatureSpec
from segmentation_core.results import DatasetInfo, ModelInfo, ModelRecord


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def print_json(value: Any) -> None:
    """Any result dataclass (or list of them) as indented JSON."""
    print(json.dumps(_plain(value), indent=2))


def print_segments(info: ModelInfo) -> None:
    """One line per segment: id, name, size, share and stability."""
    width = max(len("segment"), *(len(p.name) for p in info.profiles))
    print(f"  {'id':>2}  {'segment':<{width}} {'size':>8} {'share':>7} {'stability':>9}")
    for p in info.profiles:
        stability = "" if p.stability is None else f"{p.stability:.2f}"
        print(f"  {p.cluster_id:>2}  {p.name:<{width}} {p.size:>8} {p.share:>7.1%} {stability:>9}")


def describe_model(info: ModelInfo) -> str:
    """One line: k, silhouette, stability and the inertia knee."""
    stability = "" if info.stability is None else f", stability {info.stability:.2f}"
    knee = f", inertia knee at k={info.elbow.elbow_k}" if info.elbow.elbow_k else ""
    return f"k={info.k}, silhouette {info.silhouette:.4f}{stability}{knee}"


def print_model_list(records: list[ModelRecord]) -> None:
    """The registry, newest first, the active version starred."""
    print(f"  {'':1} {'version':<32} {'trained at':<20} {'k':>2} {'silhouette':>10} "
          f"{'stability':>9}  dataset / features")
    for r in records:
        info = r.info
        stability = "" if info.stability is None else f"{info.stability:.2f}"
        print(
            f"  {'*' if r.active else ' '} {info.version:<32} {info.trained_at:<20} {info.k:>2} "
            f"{info.silhouette:>10.4f} {stability:>9}  "
            f"{info.dataset_name or '-'}: {feature_list(r.spec)}"
        )


def feature_list(spec: FeatureSpec) -> str:
    """``revenue (LOG), orders (NONE)``."""
    return ", ".join(f"{f.column} ({f.transform.value})" for f in spec.features)


def print_dataset(info: DatasetInfo) -> None:
    """A dataset and its columns with their roles and summaries."""
    print(f"Dataset {info.id} {info.name!r}: {info.rows} rows, {info.bytes} bytes, "
          f"{info.format}, imported {info.created_at}{' (bundled)' if info.bundled else ''}")
    width = max(len("column"), *(len(c.name) for c in info.columns))
    print(f"  {'column':<{width}} {'role':<11} {'missing':>7} {'distinct':>8} "
          f"{'min':>10} {'max':>10} {'skew':>6}  suggested")
    for c in info.columns:
        low = "" if c.min is None else f"{c.min:.4g}"
        high = "" if c.max is None else f"{c.max:.4g}"
        skew = "" if c.skewness is None else f"{c.skewness:.2f}"
        top = ", ".join(f"{v.value} ({v.count})" for v in c.top_values[:3])
        suggested = c.suggested_transform.value if c.role.value == "NUMERIC" else top
        print(f"  {c.name:<{width}} {c.role.value:<11} {c.missing:>7} {c.distinct:>8} "
              f"{low:>10} {high:>10} {skew:>6}  {suggested}")
