"""JSON-safe dictionaries for the model metadata (``ModelInfo``) and the ``FeatureSpec``.

Written into the store's ``metadata.json``; plain data only, so reading metadata never runs code.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from segmentation_core.features import Feature, FeatureSpec
from segmentation_core.results import (
    ClusterProfile,
    ElbowPoint,
    ElbowReport,
    FeatureStats,
    ModelInfo,
    TrainingParams,
)


def spec_to_dict(spec: FeatureSpec) -> dict[str, Any]:
    """The spec as plain data."""
    return dataclasses.asdict(spec)


def spec_from_dict(data: dict[str, Any]) -> FeatureSpec:
    """Inverse of :func:`spec_to_dict`."""
    return FeatureSpec(
        features=tuple(Feature(**f) for f in data["features"]),
        id_column=data["id_column"],
        noun_feature=data["noun_feature"],
        nouns=(data["nouns"][0], data["nouns"][1]),
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
        params=TrainingParams(**data["params"]),
        elbow=ElbowReport(
            optimal_k=int(elbow["optimal_k"]),
            elbow_k=None if elbow["elbow_k"] is None else int(elbow["elbow_k"]),
            points=tuple(ElbowPoint(**p) for p in elbow["points"]),
        ),
        profiles=tuple(
            ClusterProfile(
                cluster_id=int(p["cluster_id"]),
                name=p["name"],
                size=int(p["size"]),
                share=float(p["share"]),
                features=tuple(FeatureStats(**f) for f in p["features"]),
                centre=tuple(float(v) for v in p["centre"]),
            )
            for p in data["profiles"]
        ),
        library_versions=tuple((str(name), str(v)) for name, v in data["library_versions"]),
    )
