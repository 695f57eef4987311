"""Training: a table and a recipe in, a trained ``SegmentationModel`` out (nothing is written).

Two doors lead to the same fit (:func:`fit_model`):

* :func:`train_dataset` trains on a stored dataset's table with a feature recipe (any NUMERIC
  columns, each NONE / LOG / AUTO, the missing-value policy, the minimum segment share), and also
  explains the segments with the dataset's categorical columns;
* :func:`train_model` (version 1) trains on a CSV or DataFrame validated against a fixed
  ``FeatureSpec`` (the bundled data's four columns by default).
"""

from __future__ import annotations

import dataclasses
import platform
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import joblib
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import sklearn
from sklearn.pipeline import Pipeline

from segmentation_core import explain
from segmentation_core.dataset import check_values, load_table
from segmentation_core.enums import ColumnRole, MissingValues, TrainingStage, Transform
from segmentation_core.errors import DataValidationError, InvalidParameterError, Problem
from segmentation_core.features import DEFAULT_SPEC, Feature, FeatureSpec, generic_feature
from segmentation_core.model import SegmentationModel
from segmentation_core.naming import name_segments
from segmentation_core.numeric import to_numeric
from segmentation_core.profiles import build_profiles
from segmentation_core.recipe import FeatureRecipe, resolve_transform, skewness
from segmentation_core.results import (
    CategoryShare,
    ColumnSummary,
    FeatureChoice,
    ModelInfo,
    TrainingParams,
)
from segmentation_core.segmenter import Progress, Segmenter, check_params, min_rows_for

__all__ = [
    "TrainingData",
    "check_params",
    "fit_model",
    "library_versions",
    "new_version_id",
    "train_dataset",
    "train_model",
]


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


@dataclass(frozen=True)
class TrainingData:
    """What a training reads from a dataset: its table (the cells as stored; at least the feature
    and categorical columns), the column summaries (roles), and where it came from."""

    table: pa.Table
    columns: tuple[ColumnSummary, ...]
    dataset_id: str
    dataset_name: str
    sha256: str = ""
    source: str | None = None

    def summary(self, name: str) -> ColumnSummary | None:
        """The summary of column ``name``, or None when the dataset has no such column."""
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True)
class Categorical:
    """A categorical column of the training rows, as codes per row plus the code's values."""

    column: str
    codes: npt.NDArray[np.int64]
    values: list[str]


def default_features(columns: Sequence[ColumnSummary]) -> tuple[FeatureChoice, ...]:
    """The features a training without a choice uses: the bundled data's four columns when the
    dataset has them all as NUMERIC, else every NUMERIC column; AUTO transforms."""
    numeric = [c.name for c in columns if c.role is ColumnRole.NUMERIC]
    chosen = list(DEFAULT_SPEC.columns) if set(DEFAULT_SPEC.columns) <= set(numeric) else numeric
    return tuple(FeatureChoice(c) for c in chosen)


def _base_feature(column: str, transform: Transform) -> Feature:
    """The description of a feature: the bundled spec's for its columns, else a generic one."""
    if column in DEFAULT_SPEC.columns:
        feature = DEFAULT_SPEC.feature(column)
        minimum = feature.minimum
        if transform is Transform.LOG and (minimum is None or minimum < 0):
            minimum = 0.0
        return dataclasses.replace(feature, transform=transform, minimum=minimum)
    return generic_feature(column, transform)


def _check_choices(data: TrainingData, choices: tuple[FeatureChoice, ...]) -> None:
    if not choices:
        raise InvalidParameterError("features", "choose at least one NUMERIC column as a feature")
    problems: list[Problem] = []
    seen: set[str] = set()
    for choice in choices:
        column = choice.column
        summary = data.summary(column)
        if column in seen:
            problems.append(Problem(column, "is chosen twice; choose each column once"))
        elif summary is None:
            names = ", ".join(c.name for c in data.columns)
            problems.append(
                Problem(column, f"is not a column of the dataset (its columns: {names})")
            )
        elif summary.role is not ColumnRole.NUMERIC:
            problems.append(
                Problem(column, f"is {summary.role.value}, not NUMERIC: only NUMERIC columns "
                                "can be features")
            )
        seen.add(column)
    if problems:
        raise DataValidationError(problems)


def _numbers(data: TrainingData, columns: Sequence[str]) -> npt.NDArray[np.float64]:
    """The feature columns as a float matrix, NaN for missing cells (NUMERIC columns hold nothing
    else)."""
    X = np.empty((data.table.num_rows, len(columns)))
    for j, column in enumerate(columns):
        X[:, j] = to_numeric(data.table.column(column)).values
    return X


def _resolve(
    X: npt.NDArray[np.float64], choices: tuple[FeatureChoice, ...]
) -> tuple[Feature, ...]:
    """Every chosen feature with its transform resolved (AUTO by the documented rule), checked
    for constant columns and for LOG of negative values."""
    features: list[Feature] = []
    problems: list[Problem] = []
    for j, choice in enumerate(choices):
        values = X[:, j][~np.isnan(X[:, j])]
        if values.size == 0:
            problems.append(Problem(choice.column, "has no values"))
            continue
        low, high = float(values.min()), float(values.max())
        if low == high:
            problems.append(
                Problem(choice.column, f"is constant (every value is {low:g}); a constant "
                                       "feature cannot separate segments")
            )
            continue
        transform = resolve_transform(choice.transform, low, skewness(values))
        if transform is Transform.LOG and low < 0:
            problems.append(
                Problem(choice.column, f"LOG (log1p) needs values >= 0, but the column's "
                                       f"minimum is {low:g}; choose NONE for it")
            )
            continue
        features.append(_base_feature(choice.column, transform))
    if problems:
        raise DataValidationError(problems)
    return tuple(features)


def _categoricals(data: TrainingData, rows: npt.NDArray[np.bool_] | None) -> list[Categorical]:
    out = []
    for summary in data.columns:
        if summary.role is not ColumnRole.CATEGORICAL:
            continue
        column = data.table.column(summary.name)
        codes, values = explain.category_codes(column)
        out.append(Categorical(summary.name, codes if rows is None else codes[rows], values))
    return out


def train_dataset(
    data: TrainingData,
    params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass, safe as a default
    *,
    on_progress: Progress | None = None,
) -> SegmentationModel:
    """Train on a dataset with a feature recipe (``params.features``, default
    :func:`default_features`), the missing-value policy and the minimum segment share.

    Raises ``InvalidParameterError`` (parameters, an empty feature list) or
    ``DataValidationError`` (each bad feature named: unknown, not NUMERIC, chosen twice, constant,
    LOG of negative values; too few rows). Writes nothing.
    """
    check_params(params)
    if on_progress is not None:
        on_progress(TrainingStage.LOADING, 0, 1)
    choices = params.features if params.features is not None else default_features(data.columns)
    _check_choices(data, choices)
    columns = [c.column for c in choices]
    X = _numbers(data, columns)
    features = _resolve(X, choices)
    spec = FeatureSpec(
        features=features,
        id_column=None,
        noun_feature=DEFAULT_SPEC.noun_feature if DEFAULT_SPEC.noun_feature in columns else None,
    )
    rows: npt.NDArray[np.bool_] | None = None
    if params.missing_values is MissingValues.DROP:
        complete = np.asarray(~np.isnan(X).any(axis=1), dtype=bool)
        if not complete.all():
            rows = complete
            X = X[complete]
    problems = [p for p in check_values(X, spec) if p.reason != "is empty or NaN"]
    if problems:
        raise DataValidationError(problems)
    dropped = data.table.num_rows - X.shape[0]
    needed = min_rows_for(params)
    if X.shape[0] < needed:
        after = f" after leaving out {dropped} rows with a missing feature" if dropped else ""
        raise DataValidationError(
            [Problem(None, f"the dataset has {X.shape[0]} usable rows{after}; the largest k "
                           f"asked for needs at least {needed}")]
        )
    if on_progress is not None:
        on_progress(TrainingStage.LOADING, 1, 1)
    model = fit_model(
        X,
        spec,
        dataclasses.replace(params, features=choices),
        categoricals=_categoricals(data, rows),
        on_progress=on_progress,
    )
    info = dataclasses.replace(
        model.info,
        dataset_id=data.dataset_id,
        dataset_name=data.dataset_name,
        data_sha256=data.sha256,
        source=data.source,
        rows_dropped=dropped,
        notes=model.info.notes
        + ((f"{dropped} rows with a missing feature value were left out",) if dropped else ()),
    )
    return SegmentationModel(info, model.spec, model.pipeline)


def train_model(
    source: Path | str | pd.DataFrame,
    params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass, safe as a default
    spec: FeatureSpec = DEFAULT_SPEC,
) -> SegmentationModel:
    """Validate the table against ``spec``, choose k (or use ``params.k``), fit, profile and name
    the segments (version 1: fixed columns, no transforms, every row must be complete).

    Raises ``InvalidParameterError`` (before reading any data) or ``DataValidationError`` (rows,
    column and reason of every problem). Writes nothing: pass the result to ``ModelStore.save``.
    """
    check_params(params)
    table = load_table(source, spec, min_rows=min_rows_for(params))
    model = fit_model(table.X, spec, params)
    return SegmentationModel(
        dataclasses.replace(model.info, data_sha256=table.sha256), model.spec, model.pipeline
    )


def _training_stats(
    spec: FeatureSpec, X: npt.NDArray[np.float64], medians: npt.NDArray[np.float64]
) -> FeatureSpec:
    features = []
    for j, feature in enumerate(spec.features):
        values = X[:, j][~np.isnan(X[:, j])]
        features.append(
            dataclasses.replace(
                feature,
                training_min=float(values.min()),
                training_max=float(values.max()),
                median=float(medians[j]),
            )
        )
    return spec.with_features(tuple(features))


def fit_model(
    X: npt.NDArray[np.float64],
    spec: FeatureSpec,
    params: TrainingParams,
    *,
    categoricals: Sequence[Categorical] = (),
    on_progress: Progress | None = None,
) -> SegmentationModel:
    """Fit the recipe, scan k and fit K-Means on the rows of ``X`` (the spec's features in the
    data's units; NaN only for missing values to fill under the MEDIAN policy), then profile,
    explain and name the segments. The features' transforms must be resolved (NONE or LOG)."""
    recipe = FeatureRecipe(
        transforms=tuple(f.transform.value for f in spec.features),
        missing_values=params.missing_values.value,
    ).fit(X)
    Xt = recipe.transform(X)
    segmenter = Segmenter(
        params.k,
        k_min=params.k_min,
        k_max=params.k_max,
        random_state=params.random_state,
        min_segment_share=params.min_segment_share,
    ).fit(Xt, on_progress=on_progress)
    scaler = segmenter.pipeline_[0]
    k, labels = segmenter.k_, segmenter.labels_

    z_means = explain.segment_means(scaler.transform(Xt), labels, k)
    centres = segmenter.cluster_centers_.copy()
    log = recipe.log_mask
    centres[:, log] = np.expm1(centres[:, log])  # back in the data's units
    names = name_segments(z_means, centres, spec)
    X_filled = X
    if recipe.fills_missing and np.isnan(X).any():
        X_filled = X.copy()
        rows, cols = np.nonzero(np.isnan(X))
        X_filled[rows, cols] = recipe.medians_[cols]
    profiles = build_profiles(X_filled, labels, centres, names, spec)

    segment_drivers = explain.drivers(z_means, spec.columns)
    shares: list[tuple[tuple[CategoryShare, ...], ...]] = [
        explain.category_shares(
            c.column, explain.category_counts(labels, c.codes, k, len(c.values)), c.values
        )
        for c in categoricals
    ]
    stability = segmenter.segment_stability_
    profiles = tuple(
        dataclasses.replace(
            p,
            drivers=segment_drivers[p.cluster_id],
            categories=tuple(s for column in shares for s in column[p.cluster_id]),
            stability=stability[p.cluster_id] if stability else None,
        )
        for p in profiles
    )
    spec = _training_stats(spec, X, recipe.medians_)
    now = datetime.now(UTC)
    info = ModelInfo(
        version=new_version_id(now),
        k=k,
        silhouette=segmenter.silhouette_,
        inertia=segmenter.inertia_,
        n_customers=int(X.shape[0]),
        features=spec.columns,
        trained_at=now.isoformat(timespec="seconds").replace("+00:00", "Z"),
        data_sha256="",  # the caller knows what the rows came from
        params=params,
        elbow=segmenter.elbow_,
        profiles=profiles,
        library_versions=library_versions(),
        missing_values=params.missing_values,
        min_segment_share=params.min_segment_share,
        stability=segmenter.stability_,
        notes=segmenter.notes_,
    )
    pipeline = Pipeline([("recipe", recipe), *segmenter.pipeline_.steps])
    return SegmentationModel(info, spec, pipeline)
