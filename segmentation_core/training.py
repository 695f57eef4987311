"""``train_model``: a table in, a trained ``SegmentationModel`` out (nothing is written to disk)."""

from __future__ import annotations

import platform
import secrets
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import sklearn

from segmentation_core.dataset import load_table
from segmentation_core.features import DEFAULT_SPEC, FeatureSpec
from segmentation_core.model import SegmentationModel
from segmentation_core.naming import name_segments
from segmentation_core.profiles import build_profiles
from segmentation_core.results import ModelInfo, TrainingParams
from segmentation_core.segmenter import Segmenter, check_params, min_rows_for

__all__ = ["check_params", "library_versions", "new_version_id", "train_model"]


def library_versions() -> tuple[tuple[str, str], ...]:
    """Versions that decide whether a stored pipeline can be loaded and gives the same answers."""
    return (
        ("python", platform.python_version()),
        ("scikit-learn", sklearn.__version__),
        ("numpy", np.__version__),
        ("joblib", joblib.__version__),
        ("pandas", pd.__version__),
    )


def new_version_id(now: datetime | None = None) -> str:
    """A version id unique per training, sorting by time: ``20261128T014500123456Z-9f2c1ab0``."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


def train_model(
    source: Path | str | pd.DataFrame,
    params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass, safe as a default
    spec: FeatureSpec = DEFAULT_SPEC,
) -> SegmentationModel:
    """Validate the table, choose k (or use ``params.k``), fit, profile and name the segments.

    Raises ``InvalidParameterError`` (before reading any data) or ``DataValidationError`` (rows,
    column and reason of every problem). Writes nothing: pass the result to ``ModelStore.save``.
    """
    check_params(params)
    table = load_table(source, spec, min_rows=min_rows_for(params))
    segmenter = Segmenter(
        params.k, k_min=params.k_min, k_max=params.k_max, random_state=params.random_state
    ).fit(table.X)
    z_centres = segmenter.pipeline_[-1].cluster_centers_
    names = name_segments(z_centres, segmenter.cluster_centers_, spec)
    profiles = build_profiles(table.X, segmenter.labels_, segmenter.cluster_centers_, names, spec)
    now = datetime.now(UTC)
    info = ModelInfo(
        version=new_version_id(now),
        k=segmenter.k_,
        silhouette=segmenter.silhouette_,
        inertia=segmenter.inertia_,
        n_customers=table.n_rows,
        features=spec.columns,
        trained_at=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        data_sha256=table.sha256,
        params=params,
        elbow=segmenter.elbow_,
        profiles=profiles,
        library_versions=library_versions(),
    )
    return SegmentationModel(info, spec, segmenter.pipeline_)
