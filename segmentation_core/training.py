"""Training: a table and a recipe in, a trained ``SegmentationModel`` out (nothing is written).

Two doors lead to the same fit (:func:`fit_model`):

* :func:`train_dataset` trains on a stored dataset's table with a feature recipe (any NUMERIC
  columns, each NONE / LOG / AUTO, the missing-value policy, the minimum segment share), and also
  explains the segments with the dataset's categorical columns;
* :func:`train_model` (version 1) trains on a CSV or DataFrame validated against a fixed
  ``FeatureSpec`` (the bundled data's four columns by default).

The engine seam
---------------
Every DECISION of a training lives here and in ``segmenter.py``: the feature checks, the AUTO
rule, the missing-value policy, the choice of k with the minimum share, the canonical order, the
silhouette and the stability on the sample, the names, the profiles and the ``ModelInfo``. The
steps that touch every row are behind :class:`TrainingRows` (and the Segmenter's
``KMeansRows``): they return small aggregates (per-feature counts, ranges, skewness and medians,
the scaler's mean and standard deviation, a seeded sample of at most 4,000 rows, the full K-Means
fit, per-segment statistics and value counts). :class:`LocalRows` holds the rows in memory (the
local engine); ``segmentation_core.spark`` holds them in a Spark DataFrame and builds the same
model from the same decisions.
"""

from __future__ import annotations

import dataclasses
import platform
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

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
from segmentation_core.profiles import (
    SegmentFeatureStats,
    assemble_profiles,
    segment_feature_stats,
)
from segmentation_core.recipe import FeatureRecipe, resolve_transform, skewness
from segmentation_core.results import (
    CategoryShare,
    ColumnSummary,
    FeatureChoice,
    ModelInfo,
    TrainingParams,
)
from segmentation_core.segmenter import (
    ArrayRows,
    KMeansRows,
    Progress,
    Segmenter,
    check_params,
    min_rows_for,
)

__all__ = [
    "CategoryCounts",
    "FeatureSummary",
    "LocalRows",
    "SegmentAggregates",
    "TrainingData",
    "TrainingRows",
    "check_params",
    "choose_features",
    "fit_model",
    "library_versions",
    "new_version_id",
    "train_dataset",
    "train_model",
    "train_rows",
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


def _check_choices(
    columns: Sequence[ColumnSummary], choices: tuple[FeatureChoice, ...]
) -> None:
    if not choices:
        raise InvalidParameterError("features", "choose at least one NUMERIC column as a feature")
    problems: list[Problem] = []
    seen: set[str] = set()
    for choice in choices:
        column = choice.column
        summary = next((c for c in columns if c.name == column), None)
        if column in seen:
            problems.append(Problem(column, "is chosen twice; choose each column once"))
        elif summary is None:
            names = ", ".join(c.name for c in columns)
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


def choose_features(
    columns: Sequence[ColumnSummary], params: TrainingParams
) -> tuple[FeatureChoice, ...]:
    """The features a training uses (``params.features``, else :func:`default_features`),
    checked against the columns' roles: DataValidationError names each unknown, non-NUMERIC or
    repeated column; InvalidParameterError for an empty choice."""
    choices = params.features if params.features is not None else default_features(columns)
    _check_choices(columns, choices)
    return choices


@dataclass(frozen=True)
class FeatureSummary:
    """One feature column over its non-missing values of every row: what the AUTO rule and the
    checks need. ``skewness`` is the adjusted coefficient (``recipe.skewness``); it may be None
    when the column is constant."""

    count: int
    minimum: float | None = None
    maximum: float | None = None
    skewness: float | None = None


@dataclass(frozen=True)
class CategoryCounts:
    """A categorical column's value counts per segment: ``counts[segment, value]``."""

    column: str
    values: list[str]
    counts: npt.NDArray[np.int64]


@dataclass(frozen=True)
class SegmentAggregates:
    """What profiles, drivers and categorical profiles need of the segmented rows."""

    sizes: npt.NDArray[np.int64]  # rows per segment (canonical ids)
    z_means: npt.NDArray[np.float64]  # (k, features): per-segment means in the model's space
    features: SegmentFeatureStats  # per segment and feature, in the data's units (filled)
    categories: tuple[CategoryCounts, ...] = ()


class TrainingRows(Protocol):
    """The rows of one training, seen through the only steps that touch every row.

    Columns are the chosen features, in choice order; a missing value is NaN (local) or null
    (Spark). Each method returns small aggregates; the decisions are :func:`train_rows`'s.
    """

    @property
    def n_rows(self) -> int:
        """How many rows there are."""
        ...

    def feature_summaries(self) -> list[FeatureSummary]:
        """Per feature: count, min, max and skewness of its non-missing values."""
        ...

    def complete_rows(self) -> TrainingRows:
        """The rows without a missing feature value (the DROP policy)."""
        ...

    def range_problems(self, spec: FeatureSpec) -> list[Problem]:
        """Values outside the spec's ranges (missing values are not problems here)."""
        ...

    def fit_recipe(self, recipe: FeatureRecipe) -> FeatureRecipe:
        """``recipe`` with its medians learnt from these rows (``medians_``, ``n_features_in_``)."""
        ...

    def kmeans_rows(self, recipe: FeatureRecipe) -> KMeansRows:
        """The rows through the fitted recipe (filled, log1p), for the Segmenter."""
        ...

    def feature_ranges(self) -> list[tuple[float, float]]:
        """Per feature: min and max of its non-missing values (the model's training range)."""
        ...

    def segment_aggregates(
        self, recipe: FeatureRecipe, segmenter: Segmenter, columns: Sequence[str]
    ) -> SegmentAggregates:
        """Sizes, model-space means, feature statistics and categorical counts per segment of
        the fitted ``segmenter`` (canonical ids)."""
        ...


class LocalRows:
    """The rows of a training in memory: the features as a float matrix (NaN = missing) and the
    categorical columns as codes (the local engine)."""

    def __init__(
        self, X: npt.NDArray[np.float64], categoricals: Sequence[Categorical] = ()
    ) -> None:
        self.X = X
        self.categoricals = list(categoricals)
        self._Xt: npt.NDArray[np.float64] | None = None

    @property
    def n_rows(self) -> int:
        """How many rows there are."""
        return int(self.X.shape[0])

    def feature_summaries(self) -> list[FeatureSummary]:
        """Per feature: count, min, max, skewness of its non-missing values."""
        out = []
        for j in range(self.X.shape[1]):
            values = self.X[:, j][~np.isnan(self.X[:, j])]
            if values.size == 0:
                out.append(FeatureSummary(0))
                continue
            low, high = float(values.min()), float(values.max())
            out.append(
                FeatureSummary(values.size, low, high, None if low == high else skewness(values))
            )
        return out

    def complete_rows(self) -> LocalRows:
        """The rows without NaN (the categorical codes follow)."""
        complete = np.asarray(~np.isnan(self.X).any(axis=1), dtype=bool)
        if complete.all():
            return self
        return LocalRows(
            self.X[complete],
            [Categorical(c.column, c.codes[complete], c.values) for c in self.categoricals],
        )

    def range_problems(self, spec: FeatureSpec) -> list[Problem]:
        """``check_values`` without the missing values (rows are positions among these rows)."""
        return [p for p in check_values(self.X, spec) if p.reason != "is empty or NaN"]

    def fit_recipe(self, recipe: FeatureRecipe) -> FeatureRecipe:
        """The recipe fitted on the rows."""
        return recipe.fit(self.X)

    def kmeans_rows(self, recipe: FeatureRecipe) -> ArrayRows:
        """The rows through the recipe, as finite numbers."""
        self._Xt = Xt = recipe.transform(self.X)
        if Xt.ndim != 2 or not np.isfinite(Xt).all():
            raise DataValidationError([Problem(None, "X must be a 2-D array of finite numbers")])
        return ArrayRows(Xt)

    def feature_ranges(self) -> list[tuple[float, float]]:
        """Per feature: min and max of the non-missing values."""
        out = []
        for j in range(self.X.shape[1]):
            values = self.X[:, j][~np.isnan(self.X[:, j])]
            out.append((float(values.min()), float(values.max())))
        return out

    def segment_aggregates(
        self, recipe: FeatureRecipe, segmenter: Segmenter, columns: Sequence[str]
    ) -> SegmentAggregates:
        """Every aggregate from the segmenter's labels of these rows."""
        labels, k, Xt = segmenter.labels_, segmenter.k_, self._Xt
        if labels is None or Xt is None:
            raise RuntimeError("segment_aggregates needs the fit of these rows' kmeans_rows()")
        scaler = segmenter.pipeline_[0]
        z_means = explain.segment_means(scaler.transform(Xt), labels, k)
        X_filled = self.X
        if recipe.fills_missing and np.isnan(self.X).any():
            X_filled = self.X.copy()
            rows, cols = np.nonzero(np.isnan(self.X))
            X_filled[rows, cols] = recipe.medians_[cols]
        sizes, stats = segment_feature_stats(X_filled, labels, k, columns)
        categories = tuple(
            CategoryCounts(
                c.column, c.values, explain.category_counts(labels, c.codes, k, len(c.values))
            )
            for c in self.categoricals
        )
        return SegmentAggregates(sizes, z_means, stats, categories)


def _resolve(
    summaries: Sequence[FeatureSummary], choices: tuple[FeatureChoice, ...]
) -> tuple[Feature, ...]:
    """Every chosen feature with its transform resolved (AUTO by the documented rule), checked
    for constant columns and for LOG of negative values."""
    features: list[Feature] = []
    problems: list[Problem] = []
    for summary, choice in zip(summaries, choices, strict=True):
        if summary.count == 0 or summary.minimum is None or summary.maximum is None:
            problems.append(Problem(choice.column, "has no values"))
            continue
        low, high = summary.minimum, summary.maximum
        if low == high:
            problems.append(
                Problem(choice.column, f"is constant (every value is {low:g}); a constant "
                                       "feature cannot separate segments")
            )
            continue
        transform = resolve_transform(choice.transform, low, summary.skewness)
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


def _categoricals(data: TrainingData) -> list[Categorical]:
    out = []
    for summary in data.columns:
        if summary.role is not ColumnRole.CATEGORICAL:
            continue
        column = data.table.column(summary.name)
        codes, values = explain.category_codes(column)
        out.append(Categorical(summary.name, codes, values))
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
    choices = choose_features(data.columns, params)
    rows = LocalRows(_numbers(data, [c.column for c in choices]), _categoricals(data))
    model = train_rows(rows, choices, params, on_progress=on_progress)
    info = dataclasses.replace(
        model.info,
        dataset_id=data.dataset_id,
        dataset_name=data.dataset_name,
        data_sha256=data.sha256,
        source=data.source,
    )
    return SegmentationModel(info, model.spec, model.pipeline)


def train_rows(
    rows: TrainingRows,
    choices: tuple[FeatureChoice, ...],
    params: TrainingParams,
    *,
    on_progress: Progress | None = None,
) -> SegmentationModel:
    """Train on the rows an engine holds (the chosen features, already checked against the
    columns' roles by :func:`choose_features`): resolve the transforms, apply the missing-value
    policy, check the ranges and the row count, then :func:`fit_model`'s steps.

    The model's ``info`` says how many rows were left out; the caller adds where they came from
    (dataset, source, engine). Raises DataValidationError naming each problem. Writes nothing.
    """
    features = _resolve(rows.feature_summaries(), choices)
    columns = [c.column for c in choices]
    spec = FeatureSpec(
        features=features,
        id_column=None,
        noun_feature=DEFAULT_SPEC.noun_feature if DEFAULT_SPEC.noun_feature in columns else None,
    )
    n_read = rows.n_rows
    if params.missing_values is MissingValues.DROP:
        rows = rows.complete_rows()
    problems = rows.range_problems(spec)
    if problems:
        raise DataValidationError(problems)
    dropped = n_read - rows.n_rows
    needed = min_rows_for(params)
    if rows.n_rows < needed:
        after = f" after leaving out {dropped} rows with a missing feature" if dropped else ""
        raise DataValidationError(
            [Problem(None, f"the dataset has {rows.n_rows} usable rows{after}; the largest k "
                           f"asked for needs at least {needed}")]
        )
    if on_progress is not None:
        on_progress(TrainingStage.LOADING, 1, 1)
    model = _fit(rows, spec, dataclasses.replace(params, features=choices), on_progress)
    info = dataclasses.replace(
        model.info,
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
    spec: FeatureSpec, ranges: Sequence[tuple[float, float]], medians: npt.NDArray[np.float64]
) -> FeatureSpec:
    features = []
    for j, feature in enumerate(spec.features):
        low, high = ranges[j]
        features.append(
            dataclasses.replace(
                feature,
                training_min=low,
                training_max=high,
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
    return _fit(LocalRows(X, categoricals), spec, params, on_progress)


def _fit(
    rows: TrainingRows,
    spec: FeatureSpec,
    params: TrainingParams,
    on_progress: Progress | None,
) -> SegmentationModel:
    """:func:`fit_model` on the rows any engine holds."""
    recipe = rows.fit_recipe(
        FeatureRecipe(
            transforms=tuple(f.transform.value for f in spec.features),
            missing_values=params.missing_values.value,
        )
    )
    segmenter = Segmenter(
        params.k,
        k_min=params.k_min,
        k_max=params.k_max,
        random_state=params.random_state,
        min_segment_share=params.min_segment_share,
    ).fit_rows(rows.kmeans_rows(recipe), on_progress=on_progress)
    aggregates = rows.segment_aggregates(recipe, segmenter, spec.columns)

    centres = segmenter.cluster_centers_.copy()
    log = recipe.log_mask
    centres[:, log] = np.expm1(centres[:, log])  # back in the data's units
    names = name_segments(aggregates.z_means, centres, spec)
    profiles = assemble_profiles(aggregates.sizes, aggregates.features, centres, names)

    segment_drivers = explain.drivers(aggregates.z_means, spec.columns)
    shares: list[tuple[tuple[CategoryShare, ...], ...]] = [
        explain.category_shares(c.column, c.counts, c.values) for c in aggregates.categories
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
    spec = _training_stats(spec, rows.feature_ranges(), recipe.medians_)
    now = datetime.now(UTC)
    info = ModelInfo(
        version=new_version_id(now),
        k=segmenter.k_,
        silhouette=segmenter.silhouette_,
        inertia=segmenter.inertia_,
        n_customers=rows.n_rows,
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
