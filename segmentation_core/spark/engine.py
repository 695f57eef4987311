"""Training on Apache Spark: the core's decisions, the rows on a cluster.

:func:`train_spark` reads a table from a URI, summarises its columns on Spark, and hands
:func:`segmentation_core.training.train_rows` a :class:`SparkRows`: the same feature checks, AUTO
rule, missing-value policy, choice of k, canonical order, names and ``ModelInfo`` as the local
engine, with every step that touches every row done by Spark. What comes to the driver:

* aggregates: per feature count, min, max, mean, variance, skewness, exact median (see
  ``stats.py``); per segment and feature mean, median, min, max and std; per segment and
  categorical value a count; the K-Means centres (O(features x k) numbers in all);
* a seeded sample of at most ``SCAN_SAMPLE_SIZE`` (4,000) rows, for the automatic-k scan and the
  bootstrap stability (the local engine's own code), and for checking the final fit.

The final K-Means fit is ``pyspark.ml.clustering.KMeans`` on every row (scaled with the
population mean and standard deviation computed on Spark). pyspark's KMeans cannot start from
given centres (its ``initMode`` is ``k-means||`` or ``random``), so it starts with ``k-means||``
seeded with the training's random state, and the result is checked against the sample's own fit:
if its cost on the sample is more than :data:`FIT_TOLERANCE` above the scan's (a worse local
optimum), it is fitted again with the next seeds (at most :data:`FIT_ATTEMPTS` in all) and the
fit with the lowest cost on every row is kept.

The model is the same kind as the local engine's: a scikit-learn ``Pipeline([FeatureRecipe,
StandardScaler, KMeans])`` whose fitted attributes are set from Spark's results, so the store
signs it and the local predictor serves it unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from pyspark.ml.clustering import KMeans as SparkKMeans
from pyspark.ml.feature import VectorAssembler
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.storagelevel import StorageLevel
from sklearn.cluster import KMeans
from sklearn.preprocessing import StandardScaler

from segmentation_core.dataset import _quote, range_rule
from segmentation_core.datasets import check_usable
from segmentation_core.enums import ColumnRole, TrainingStage
from segmentation_core.errors import Problem
from segmentation_core.features import FeatureSpec
from segmentation_core.model import SegmentationModel
from segmentation_core.profiles import SegmentFeatureStats
from segmentation_core.recipe import FeatureRecipe
from segmentation_core.results import FeatureChoice, FeatureStats, TrainingParams
from segmentation_core.scan import MAX_ITER
from segmentation_core.segmenter import FullFit, Progress, Segmenter, check_params
from segmentation_core.spark.columns import Moments, TableSummary, category_text, summarise
from segmentation_core.spark.reading import (
    SourceTable,
    col,
    number_of,
    read_errors,
    read_table,
)
from segmentation_core.spark.session import get_session
from segmentation_core.spark.stats import (
    Brackets,
    bracket_aggregates,
    brackets_of,
    exact_medians,
)
from segmentation_core.training import (
    CategoryCounts,
    FeatureSummary,
    SegmentAggregates,
    choose_features,
    train_rows,
)

__all__ = ["FIT_ATTEMPTS", "FIT_TOLERANCE", "SparkRows", "train_spark"]

#: A Spark fit whose cost on the sample exceeds the sample's own fit by more than this share
#: found a worse local optimum and is fitted again with another seed.
FIT_TOLERANCE = 0.02
#: Most Spark K-Means fits per training (the first and the retries).
FIT_ATTEMPTS = 3
#: Spark K-Means stops when no centre moves more than this (scaled units: standard deviations).
SPARK_TOL = 1e-6
#: How the training's rows are kept between its passes: on the executors' local disks (the OS's
#: page cache keeps re-reads fast). With MEMORY_AND_DISK a cached block is unrolled in the heap
#: before it can spill, and two such blocks ran a 1 GiB driver out of memory on a 30,000,000-row
#: table (benchmarks/spark_large.py); on disk, the table's size is bounded by disk, not by heap.
ROWS_STORAGE = StorageLevel.DISK_ONLY
#: Scaled values are clipped like ``SegmentationModel`` clips them before squaring.
_Z_LIMIT = 1e150


def _feature(j: int) -> str:
    return f"f{j}"


def _category(i: int) -> str:
    return f"c{i}"


def nearest(
    Z: npt.NDArray[np.float64], centres: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Each row's nearest centre and its squared distance (driver side, the sample)."""
    d2 = np.zeros((Z.shape[0], centres.shape[0]))
    for f in range(Z.shape[1]):
        diff = Z[:, f, None] - centres[None, :, f]
        d2 += diff * diff
    ids = d2.argmin(axis=1)
    return ids.astype(np.int64), d2[np.arange(Z.shape[0]), ids]


def assign(z: Sequence[Column], centres: npt.NDArray[np.float64]) -> tuple[Column, Column]:
    """The nearest centre (first of equals) of scaled columns ``z`` and the squared distance to
    it, as Spark expressions; the same sums, in the same order, as ``model.memberships``."""
    distances = []
    for centre in centres:
        total: Column | None = None
        for zj, cj in zip(z, centre.tolist(), strict=True):
            diff = zj - F.lit(cj)
            total = diff * diff if total is None else total + diff * diff
        assert total is not None
        distances.append(total)
    array = F.array(*distances)
    smallest = F.array_min(array)
    return (F.array_position(array, smallest) - 1).cast("int"), smallest


class SparkKMeansRows:
    """The Segmenter's view of the training rows on Spark (the recipe applied, not yet scaled)."""

    def __init__(self, rows: SparkRows, transformed: list[Column]) -> None:
        self.rows = rows
        self.t = transformed
        self.scaler: StandardScaler | None = None
        self.sample_rows: npt.NDArray[np.float64] | None = None

    @property
    def n_rows(self) -> int:
        """How many rows there are."""
        return self.rows.n_rows

    def scaled(self) -> list[Column]:
        """The rows in the scaler's space, computed like ``SegmentationModel`` does:
        ``(x - mean) * (1 / scale)``, clipped."""
        assert self.scaler is not None
        mean, inv = self.scaler.mean_.tolist(), (1.0 / self.scaler.scale_).tolist()
        out = []
        for tj, m, s in zip(self.t, mean, inv, strict=True):
            z = (tj - F.lit(m)) * F.lit(s)
            out.append(F.least(F.greatest(z, F.lit(-_Z_LIMIT)), F.lit(_Z_LIMIT)))
        return out

    def fit_scaler(self) -> StandardScaler:
        """A StandardScaler whose mean and (population) variance were aggregated on Spark."""
        aggregates = []
        for j, tj in enumerate(self.t):
            aggregates += [F.avg(tj).alias(f"mean{j}"), F.var_pop(tj).alias(f"var{j}")]
        row = self.rows.frame.agg(*aggregates).collect()[0]
        p = len(self.t)
        mean = np.array([float(row[f"mean{j}"]) for j in range(p)])
        var = np.array([float(row[f"var{j}"]) for j in range(p)])
        # a scaler fitted on two rows has every attribute scikit-learn sets; then Spark's figures
        scaler = StandardScaler().fit(np.vstack([np.zeros(p), np.ones(p)]))
        scaler.mean_ = mean
        scaler.var_ = var
        scale = np.sqrt(var)
        scale[scale < 10 * np.finfo(np.float64).eps] = 1.0  # sklearn's _handle_zeros_in_scale
        scaler.scale_ = scale
        scaler.n_samples_seen_ = np.int64(self.n_rows)
        self.scaler = scaler
        return scaler

    def sample(self, size: int, random_state: int) -> tuple[npt.NDArray[np.float64], bool]:
        """At most ``size`` rows, scaled on the driver. Every row (in the table's order) when the
        table has at most ``size``; else the ``size`` rows with the lowest ``rand(seed)``."""
        assert self.scaler is not None
        selected = self.rows.frame.select(*[t.alias(f"t{j}") for j, t in enumerate(self.t)])
        sampled = self.n_rows > size
        if sampled:
            selected = (
                selected.withColumn("_r", F.rand(random_state)).orderBy("_r").limit(size)
            )
        rows = selected.collect()
        T = np.array([[float(r[f"t{j}"]) for j in range(len(self.t))] for r in rows])
        self.sample_rows = self.scaler.transform(T)
        return self.sample_rows, sampled

    def fit_full(self, k: int, init: npt.NDArray[np.float64], random_state: int) -> FullFit:
        """``pyspark.ml.clustering.KMeans`` on every row (see the module doc for the check
        against the sample's fit), then sizes and cost by one aggregation."""
        assert self.sample_rows is not None
        z = self.scaled()
        names = [f"z{j}" for j in range(len(z))]
        # Persisted as a DataFrame (columnar, compressed), so KMeans does not cache its own copy
        # as Java objects (several times larger) for its iterations; on disk (ROWS_STORAGE).
        scaled = self.rows.frame.select(*[zj.alias(n) for zj, n in zip(z, names, strict=True)])
        vectors = (
            VectorAssembler(inputCols=names, outputCol="features")
            .transform(scaled)
            .select("features")
            .persist(ROWS_STORAGE)
        )
        try:
            return self._fit_full(vectors, z, k, init, random_state)
        finally:
            vectors.unpersist()

    def _fit_full(
        self,
        vectors: DataFrame,
        z: list[Column],
        k: int,
        init: npt.NDArray[np.float64],
        random_state: int,
    ) -> FullFit:
        assert self.sample_rows is not None
        _, reference = nearest(self.sample_rows, init)
        target = float(reference.sum()) * (1 + FIT_TOLERANCE)
        best: tuple[float, npt.NDArray[np.float64], npt.NDArray[np.int64], int] | None = None
        for attempt in range(FIT_ATTEMPTS):
            model = SparkKMeans(
                featuresCol="features",
                k=k,
                seed=random_state + attempt,
                maxIter=MAX_ITER,
                tol=SPARK_TOL,
                initMode="k-means||",
            ).fit(vectors)
            centres = np.array([np.asarray(c, dtype=np.float64) for c in model.clusterCenters()])
            iterations = model.summary.numIter if model.hasSummary else 0
            _, on_sample = nearest(self.sample_rows, centres)
            sizes, cost = self._sizes_and_cost(z, centres)
            if best is None or cost < best[0]:
                best = (cost, centres, sizes, iterations)
            if float(on_sample.sum()) <= target:
                break
        assert best is not None
        cost, centres, sizes, iterations = best
        km = _fitted_kmeans(centres, random_state)
        km.inertia_ = cost
        km.n_iter_ = int(iterations)
        sample_labels, _ = nearest(self.sample_rows, centres)
        return FullFit(km, sizes, sample_labels)

    def _sizes_and_cost(
        self, z: list[Column], centres: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int64], float]:
        segment, d2 = assign(z, centres)
        sizes = np.zeros(centres.shape[0], dtype=np.int64)
        cost = 0.0
        rows = (
            self.rows.frame.select(segment.alias("s"), d2.alias("d2"))
            .groupBy("s")
            .agg(F.count(F.lit(1)).alias("n"), F.sum("d2").alias("cost"))
            .collect()
        )
        for r in sorted(rows, key=lambda r: int(r["s"])):
            sizes[int(r["s"])] = int(r["n"])
            cost += float(r["cost"])
        return sizes, cost


def _fitted_kmeans(centres: npt.NDArray[np.float64], random_state: int) -> KMeans:
    """A scikit-learn KMeans with every fitted attribute, holding ``centres`` (Spark's fit).

    It is fitted for one step on the centres themselves (so it has the attributes
    scikit-learn's ``predict`` needs), then given the real centres; ``labels_`` is dropped: the
    rows it would describe live on the cluster.
    """
    k = centres.shape[0]
    km = KMeans(n_clusters=k, init=centres, n_init=1, max_iter=1, random_state=random_state)
    km.fit(centres)
    km.cluster_centers_ = np.ascontiguousarray(centres)
    del km.labels_
    return km


class SparkRows:
    """The rows of a training in a Spark DataFrame: one double column per feature (null =
    missing) and one text column per categorical column (``(missing)`` for blanks)."""

    def __init__(
        self,
        frame: DataFrame,
        features: Sequence[str],
        categoricals: Sequence[str],
        moments: Sequence[Moments] = (),
        *,
        n_rows: int | None = None,
        uri: str = "",
    ) -> None:
        self.frame = frame
        self.features = list(features)
        self.categoricals = list(categoricals)
        self.moments = list(moments)
        self.uri = uri
        self._n_rows = n_rows
        self._ranges: list[tuple[float, float]] | None = None
        self._brackets: Brackets | None = None
        self._kmeans: SparkKMeansRows | None = None
        self._recipe: FeatureRecipe | None = None

    @classmethod
    def prepare(
        cls, source: SourceTable, table: TableSummary, choices: Sequence[FeatureChoice]
    ) -> SparkRows:
        """The features (numbers by ``numeric.to_numeric``'s rule) and categorical columns of
        ``source``, persisted (``ROWS_STORAGE``) for the passes of the training."""
        types = {f.name: f.dataType for f in source.frame.schema.fields}
        categoricals = [c.name for c in table.columns if c.role is ColumnRole.CATEGORICAL]
        selected = [
            number_of(col(c.column), types[c.column]).value.alias(_feature(j))
            for j, c in enumerate(choices)
        ] + [
            category_text(col(name), types[name]).alias(_category(i))
            for i, name in enumerate(categoricals)
        ]
        frame = source.frame.select(*selected).persist(ROWS_STORAGE)
        return cls(
            frame,
            [c.column for c in choices],
            categoricals,
            [table.moments[c.column] for c in choices],
            n_rows=table.rows,
            uri=source.uri,
        )

    def release(self) -> None:
        """Drop the persisted rows."""
        self.frame.unpersist()

    def _values(self) -> list[Column]:
        return [F.col(_feature(j)) for j in range(len(self.features))]

    # -- TrainingRows ---------------------------------------------------------------------------

    @property
    def n_rows(self) -> int:
        """How many rows there are (counted once)."""
        if self._n_rows is None:
            self._n_rows = int(self.frame.count())
        return self._n_rows

    def feature_summaries(self) -> list[FeatureSummary]:
        """From the column summaries' pass over every row."""
        return [FeatureSummary(m.count, m.minimum, m.maximum, m.skewness) for m in self.moments]

    def complete_rows(self) -> SparkRows:
        """The rows with every feature present."""
        condition = F.lit(True)
        for v in self._values():
            condition = condition & v.isNotNull()
        return SparkRows(
            self.frame.where(condition), self.features, self.categoricals, uri=self.uri
        )

    def range_problems(self, spec: FeatureSpec) -> list[Problem]:
        """Values outside each feature's range: their count and the first few values (no row
        positions: a cluster's rows have none).

        The same pass counts the rows and finds each feature's range and the bracket of its
        median, for :meth:`fit_recipe` (these are the rows the recipe is fitted on).
        """
        values = self._values()
        aggregates = [F.count(F.lit(1)).alias("rows")]
        for j, v in enumerate(values):
            aggregates += [F.min(v).alias(f"lo{j}"), F.max(v).alias(f"hi{j}")]
        aggregates += bracket_aggregates(values)
        conditions: dict[int, Column] = {}
        for j, (feature, v) in enumerate(zip(spec.features, self._values(), strict=True)):
            bad: Column | None = None
            if feature.minimum is not None:
                bad = v < F.lit(feature.minimum)
            if feature.maximum is not None:
                above = v > F.lit(feature.maximum)
                bad = above if bad is None else bad | above
            if bad is not None:
                conditions[j] = bad
                aggregates.append(F.sum(bad.cast("long")).alias(f"bad{j}"))
        row = self.frame.agg(*aggregates).collect()[0]
        self._n_rows = int(row["rows"])
        self._ranges = [
            (float(row[f"lo{j}"]), float(row[f"hi{j}"])) if row[f"lo{j}"] is not None
            else (float("nan"), float("nan"))
            for j in range(len(values))
        ]
        self._brackets = brackets_of([(0, row)], len(values), 1)
        problems = []
        for j, bad in conditions.items():
            total = int(row[f"bad{j}"] or 0)
            if total:
                got = [float(r[0]) for r in self.frame.where(bad).select(_feature(j)).limit(3)
                       .collect()]
                feature = spec.features[j]
                problems.append(
                    Problem(feature.column, f"{range_rule(feature)}, got {_quote(got, total)}")
                )
        return problems

    def fit_recipe(self, recipe: FeatureRecipe) -> FeatureRecipe:
        """The recipe with the exact medians of these rows (after :meth:`range_problems`)."""
        values = self._values()
        medians = exact_medians(self.frame, values, brackets=self._brackets)[0]
        recipe.medians_ = np.where(np.isnan(medians), 0.0, medians)
        recipe.n_features_in_ = len(values)
        self._recipe = recipe
        return recipe

    def _transformed(self, recipe: FeatureRecipe, *, filled_only: bool = False) -> list[Column]:
        """The features through the recipe: filled with the medians (MEDIAN), then log1p."""
        out = []
        log = recipe.log_mask
        for j, v in enumerate(self._values()):
            x = F.coalesce(v, F.lit(float(recipe.medians_[j]))) if recipe.fills_missing else v
            out.append(F.log1p(x) if log[j] and not filled_only else x)
        return out

    def kmeans_rows(self, recipe: FeatureRecipe) -> SparkKMeansRows:
        """The rows through the recipe, for the Segmenter."""
        self._kmeans = SparkKMeansRows(self, self._transformed(recipe))
        return self._kmeans

    def feature_ranges(self) -> list[tuple[float, float]]:
        """Per feature: min and max (from :meth:`range_problems`' pass)."""
        if self._ranges is None:
            aggregates = []
            for j, v in enumerate(self._values()):
                aggregates += [F.min(v).alias(f"lo{j}"), F.max(v).alias(f"hi{j}")]
            row = self.frame.agg(*aggregates).collect()[0]
            self._ranges = [
                (float(row[f"lo{j}"]), float(row[f"hi{j}"])) for j in range(len(self.features))
            ]
        return self._ranges

    def segment_aggregates(
        self, recipe: FeatureRecipe, segmenter: Segmenter, columns: Sequence[str]
    ) -> SegmentAggregates:
        """Every row assigned to its nearest canonical centre, then: sizes and per-segment
        mean, min, max, std (population) and exact median of each feature (filled, data units),
        per-segment means in the model's space, and the categorical value counts."""
        assert self._kmeans is not None
        k = segmenter.k_
        scaler = segmenter.pipeline_[0]
        centres = np.asarray(segmenter.pipeline_[-1].cluster_centers_, dtype=np.float64)
        segment, _ = assign(self._kmeans.scaled(), centres)
        x = self._transformed(recipe, filled_only=True)
        t = self._kmeans.t
        p = len(x)
        # Not persisted: its three passes recompute the assignment from the persisted rows,
        # cheaper than writing a second copy of the table (k x features flops per row).
        labelled = self.frame.select(
            segment.alias("s"),
            *[xj.alias(f"x{j}") for j, xj in enumerate(x)],
            *[tj.alias(f"t{j}") for j, tj in enumerate(t)],
            *[F.col(_category(i)) for i in range(len(self.categoricals))],
        )
        return self._aggregate(labelled, k, p, scaler, columns)

    def _aggregate(
        self, labelled: DataFrame, k: int, p: int, scaler: StandardScaler, columns: Sequence[str]
    ) -> SegmentAggregates:
        aggregates = [F.count(F.lit(1)).alias("n")]
        for j in range(p):
            xj, tj = F.col(f"x{j}"), F.col(f"t{j}")
            aggregates += [
                F.avg(xj).alias(f"mean{j}"),
                F.min(xj).alias(f"lo{j}"),
                F.max(xj).alias(f"hi{j}"),
                F.stddev_pop(xj).alias(f"std{j}"),
                F.avg(tj).alias(f"tmean{j}"),
            ]
        x = [F.col(f"x{j}") for j in range(p)]
        aggregates += bracket_aggregates(x)
        by_segment = {int(r["s"]): r for r in labelled.groupBy("s").agg(*aggregates).collect()}
        brackets = brackets_of(list(by_segment.items()), p, k)
        medians = exact_medians(labelled, x, F.col("s"), k, brackets=brackets)
        sizes = np.zeros(k, dtype=np.int64)
        t_means = np.zeros((k, p))
        stats: list[tuple[FeatureStats, ...]] = []
        for s in range(k):
            r: Any = by_segment.get(s)
            if r is None:
                raise RuntimeError(f"segment {s} has no rows")  # the Segmenter checked sizes
            sizes[s] = int(r["n"])
            t_means[s] = [float(r[f"tmean{j}"]) for j in range(p)]
            stats.append(
                tuple(
                    FeatureStats(
                        feature=columns[j],
                        mean=float(r[f"mean{j}"]),
                        median=float(medians[s, j]),
                        min=float(r[f"lo{j}"]),
                        max=float(r[f"hi{j}"]),
                        std=float(r[f"std{j}"]),
                    )
                    for j in range(p)
                )
            )
        z_means = (t_means - scaler.mean_) / scaler.scale_
        feature_stats: SegmentFeatureStats = tuple(stats)
        return SegmentAggregates(sizes, z_means, feature_stats, self._categories(labelled, k))

    def _categories(self, labelled: DataFrame, k: int) -> tuple[CategoryCounts, ...]:
        if not self.categoricals:
            return ()
        pairs = F.array(
            *[
                F.struct(F.lit(i).alias("i"), F.col(_category(i)).alias("v"))
                for i in range(len(self.categoricals))
            ]
        )
        counted = (
            labelled.select("s", F.explode(pairs).alias("e"))
            .groupBy("s", F.col("e.i").alias("i"), F.col("e.v").alias("v"))
            .count()
            .collect()
        )
        values: list[dict[str, int]] = [{} for _ in self.categoricals]
        cells: list[list[tuple[int, str, int]]] = [[] for _ in self.categoricals]
        for r in counted:
            i, value = int(r["i"]), str(r["v"])
            values[i].setdefault(value, len(values[i]))
            cells[i].append((int(r["s"]), value, int(r["count"])))
        out = []
        for i, name in enumerate(self.categoricals):
            ordered = sorted(values[i])
            index = {v: n for n, v in enumerate(ordered)}
            counts = np.zeros((k, len(ordered)), dtype=np.int64)
            for s, value, count in cells[i]:
                counts[s, index[value]] = count
            out.append(CategoryCounts(name, ordered, counts))
        return tuple(out)


def train_spark(
    uri: str,
    params: TrainingParams = TrainingParams(),  # noqa: B008 - frozen dataclass, safe as a default
    *,
    spark: SparkSession | None = None,
    on_progress: Progress | None = None,
) -> SegmentationModel:
    """Train on the table at ``uri`` with Spark (see the module doc); nothing is written.

    The same parameters, recipe and typed errors as :func:`segmentation_core.training.
    train_dataset`: InvalidParameterError, DataValidationError (an unreadable URI, an empty
    table, a missing, non-NUMERIC or constant feature, LOG of negative values, values out of a
    feature's range, too few rows). The model's info says ``engine="spark"`` and the URI; its
    ``dataset_id`` is ``spark-`` + 12 hex digits of the URI's sha256 and ``dataset_name`` the
    URI's last path component.
    """
    check_params(params)
    if params.features is not None and not params.features:
        choose_features((), params)  # an empty choice: InvalidParameterError, nothing read
    report: Callable[[TrainingStage, int, int], None] = on_progress or (lambda *_: None)
    report(TrainingStage.LOADING, 0, 1)
    spark = spark or get_session()
    with read_errors(uri):
        source = read_table(spark, uri)
        table = summarise(source.frame)
        check_usable(table.columns, table.rows)  # the dataset store's refusals: no rows...
        choices = choose_features(table.columns, params)
        rows = SparkRows.prepare(source, table, choices)
        try:
            model = train_rows(rows, choices, params, on_progress=on_progress)
        finally:
            rows.release()
    info = dataclasses.replace(
        model.info,
        dataset_id=source.dataset_id,
        dataset_name=source.name,
        source=uri,
        engine="spark",
    )
    return SegmentationModel(info, model.spec, model.pipeline)
