"""JSON-safe dictionaries for the model metadata (``ModelInfo``) and the ``FeatureSpec``.

Written into the store's ``metadata.json``; plain data only, so reading metadata never runs code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from segmentation_core.enums import Direction, MissingValues, Transform
from segmentation_core.features import Feature, FeatureSpec
from segmentation_core.results import (
    CategoryShare,
    ClusterProfile,
    ElbowPoint,
    ElbowReport,
    FeatureChoice,
    FeatureStats,
    ModelInfo,
    SegmentDriver,
    TrainingParams,
)


def spec_to_dict(spec: FeatureSpec) -> dict[str, Any]:
    """The spec as plain data."""
    return dataclasses.asdict(spec)


def spec_from_dict(data: dict[str, Any]) -> FeatureSpec:
    """Inverse of :func:`spec_to_dict`."""
    return FeatureSpec(
        features=tuple(_feature(f) for f in data["features"]),
        id_column=data["id_column"],
        noun_feature=data["noun_feature"],
        nouns=(data["nouns"][0], data["nouns"][1]),
    )


def _feature(data: dict[str, Any]) -> Feature:
    fields = dict(data)
    fields["transform"] = Transform(fields.get("transform", Transform.NONE))
    return Feature(**fields)


def _params(data: dict[str, Any]) -> TrainingParams:
    fields = dict(data)
    features = fields.pop("features", None)
    return TrainingParams(
        **{k: v for k, v in fields.items() if k not in ("missing_values",)},
        features=None
        if features is None
        else tuple(FeatureChoice(f["column"], Transform(f["transform"])) for f in features),
        missing_values=MissingValues(data.get("missing_values", MissingValues.DROP)),
    )


def _profile(p: dict[str, Any]) -> ClusterProfile:
    return ClusterProfile(
        cluster_id=int(p["cluster_id"]),
        name=p["name"],
        size=int(p["size"]),
        share=float(p["share"]),
        features=tuple(FeatureStats(**f) for f in p["features"]),
        centre=tuple(float(v) for v in p["centre"]),
        drivers=tuple(
            SegmentDriver(d["feature"], float(d["z_score"]), Direction(d["direction"]))
            for d in p.get("drivers", ())
        ),
        categories=tuple(CategoryShare(**c) for c in p.get("categories", ())),
        stability=None if p.get("stability") is None else float(p["stability"]),
    )


def info_to_dict(info: ModelInfo) -> dict[str, Any]:
    """The model metadata as plain data."""
    return dataclasses.asdict(info)


def info_from_dict(data: dict[str, Any]) -> ModelInfo:
    """Inverse of :func:`info_to_dict`."""
    elbow = data["elbow"]
    return ModelInfo(
        version=data["version"],
        k=int(data["k"]),
        silhouette=float(data["silhouette"]),
        inertia=float(data["inertia"]),
        n_customers=int(data["n_customers"]),
        features=tuple(data["features"]),
        trained_at=data["trained_at"],
        data_sha256=data["data_sha256"],
        params=_params(data["params"]),
        elbow=ElbowReport(
            optimal_k=int(elbow["optimal_k"]),
            elbow_k=None if elbow["elbow_k"] is None else int(elbow["elbow_k"]),
            points=tuple(ElbowPoint(**p) for p in elbow["points"]),
        ),
        profiles=tuple(_profile(p) for p in data["profiles"]),
        library_versions=tuple((str(name), str(v)) for name, v in data["library_versions"]),
        dataset_id=str(data.get("dataset_id", "")),
        dataset_name=str(data.get("dataset_name", "")),
        engine=str(data.get("engine", "local")),
        source=data.get("source"),
        missing_values=MissingValues(data.get("missing_values", MissingValues.DROP)),
        min_segment_share=float(data.get("min_segment_share", 0.0)),
        stability=None if data.get("stability") is None else float(data["stability"]),
        rows_dropped=int(data.get("rows_dropped", 0)),
        notes=tuple(str(n) for n in data.get("notes", ())),
    )
