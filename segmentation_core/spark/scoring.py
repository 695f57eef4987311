"""Scoring a table on Spark with any stored model, written as Parquet.

Every row goes through the core's own vectorised predictor (``SegmentationModel``) inside
``DataFrame.mapInArrow``: each Arrow batch's feature columns are read with
``numeric.to_numeric`` (the local rule, so the same cell scores the same on both engines), checked
with ``SegmentationModel.problem_codes`` and predicted with ``predict_batch_unchecked``. The model
is shipped once: a broadcast variable on a classic session (a Spark Connect session ships it with
the function), unpickled once per Python worker.

``mapInArrow`` rather than ``mapInPandas``: the batches stay Arrow from the JVM to numpy and
back, the original columns pass through untouched (pandas would turn an integer column with
nulls into floats and change the output's types), and pandas 3, which pyspark 4.3 does not fully
support, is never involved.

The output holds every original column with its original values (a CSV's cells as the text that
was read, a Parquet file's columns with their types), then the contract's scored columns:

* ``segment_id`` (int): the segment, null when the row could not be scored;
* ``segment_name`` (string), ``confidence`` (double, full precision): null when not scored;
* ``score_problem`` (string): null when scored, else the local scoring's reason, e.g.
  ``revenue: missing; age: not a number``.

Parquet is typed data, not a spreadsheet: cells are written as they were (the CSV output's
formula neutralisation does not apply).
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import types as T

from segmentation_core.errors import DataValidationError, Problem
from segmentation_core.model import SegmentationModel
from segmentation_core.numeric import to_numeric
from segmentation_core.results import ScoreSummary, SegmentCount
from segmentation_core.scoring import OUTPUT_COLUMNS, _feature_positions, problem_text
from segmentation_core.spark.reading import column_index, read_errors, read_table
from segmentation_core.spark.session import get_session, is_connect

__all__ = ["score_batch", "score_spark"]

#: Rows predicted at a time inside a batch (the prediction's temporaries are rows x k floats).
PREDICT_ROWS = 8192
#: Models unpickled in this Python process (a Spark worker is reused across tasks), by digest.
_MODELS: dict[str, SegmentationModel] = {}


def _model(digest: str, payload: Callable[[], bytes]) -> SegmentationModel:
    model = _MODELS.get(digest)
    if model is None:
        # The bytes are a model the driver loaded from our own store, which verified its
        # signature before unpickling it; these are the same bytes, so unpickling is safe.
        model = pickle.loads(payload())  # noqa: S301
        _MODELS.clear()
        _MODELS[digest] = model
    return model


def score_batch(
    model: SegmentationModel, batch: pa.RecordBatch, positions: Sequence[int]
) -> pa.RecordBatch:
    """``batch`` with the four scored columns appended (see the module doc)."""
    n = batch.num_rows
    k = model.info.k
    columns = [to_numeric(batch.column(p)) for p in positions]
    X = np.empty((n, len(columns)))
    invalid = np.zeros((n, len(columns)), dtype=bool)
    for j, c in enumerate(columns):
        X[:, j] = c.values
        invalid[:, j] = c.invalid
    codes = model.problem_codes(X, invalid)
    bad = codes.any(axis=1)
    ids = np.full(n, k, dtype=np.int32)  # k: not scored
    confidence = np.zeros(n)
    ok = np.flatnonzero(~bad)
    for start in range(0, ok.shape[0], PREDICT_ROWS):
        rows = ok[start : start + PREDICT_ROWS]
        prediction = model.predict_batch_unchecked(X[rows])
        ids[rows] = prediction.cluster_ids
        confidence[rows] = prediction.confidence
    problems: list[str | None] = [None] * n
    if bad.any():
        texts: dict[bytes, str] = {}
        for i in np.flatnonzero(bad).tolist():
            key = codes[i].tobytes()
            if key not in texts:
                texts[key] = problem_text(model.spec, codes[i].tolist())
            problems[i] = texts[key]
    names = pa.array([*model.segment_names, None], pa.string())
    index = pa.array(ids)
    appended = [
        pa.array(ids, pa.int32(), mask=bad),
        names.take(index),
        pa.array(confidence, pa.float64(), mask=bad),
        pa.array(problems, pa.string()),
    ]
    return pa.RecordBatch.from_arrays(
        [*batch.columns, *appended], names=[*batch.schema.names, *OUTPUT_COLUMNS]
    )


@dataclass(frozen=True)
class _Scorer:
    """The function ``mapInArrow`` runs on the workers (picklable: plain fields)."""

    digest: str
    payload: Callable[[], bytes]
    positions: tuple[int, ...]

    def __call__(self, batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        model = _model(self.digest, self.payload)
        for batch in batches:
            yield score_batch(model, batch, self.positions)


@dataclass(frozen=True)
class _Bytes:
    """The model's bytes carried with the function (Spark Connect has no broadcast)."""

    data: bytes

    def __call__(self) -> bytes:
        return self.data


@dataclass(frozen=True)
class _Broadcast:
    """The model's bytes in a broadcast variable: shipped to each executor once."""

    variable: object

    def __call__(self) -> bytes:
        value = self.variable.value  # type: ignore[attr-defined]
        assert isinstance(value, bytes)
        return value


def score_spark(
    model: SegmentationModel,
    source: str,
    out: str,
    *,
    spark: SparkSession | None = None,
) -> ScoreSummary:
    """Score every row of the table at ``source`` with ``model`` and write it as Parquet to
    ``out`` (replaced if it exists); return rows read, rows scored and customers per segment.

    DataValidationError when ``source`` cannot be read, lacks a feature column (the local
    scoring's message), already has a column called like a scored column, or is ``out``.
    """
    spark = spark or get_session()
    if source.rstrip("/") == out.rstrip("/"):
        raise DataValidationError([Problem(None, "the output must not be the table scored")])
    with read_errors(source):
        table = read_table(spark, source)
        frame = table.frame
        names = frame.columns
        clashes = [c for c in OUTPUT_COLUMNS if column_index(frame, c) is not None]
        if clashes:
            raise DataValidationError(
                [
                    Problem(c, f"the table already has a column {c!r}, which scoring adds; "
                               "rename it")
                    for c in clashes
                ]
            )
        # the local scoring's lookup (exact name, else trimmed) and its missing-column error
        positions = tuple(_feature_positions(model, names))
        data = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        digest = hashlib.sha256(data).hexdigest()
        payload: Callable[[], bytes] = (
            _Bytes(data) if is_connect(spark) else _Broadcast(spark.sparkContext.broadcast(data))
        )
        schema = T.StructType(
            [
                *frame.schema.fields,
                T.StructField("segment_id", T.IntegerType(), True),
                T.StructField("segment_name", T.StringType(), True),
                T.StructField("confidence", T.DoubleType(), True),
                T.StructField("score_problem", T.StringType(), True),
            ]
        )
        scored = frame.mapInArrow(_Scorer(digest, payload, positions), schema)
        scored.write.mode("overwrite").parquet(out)
    return _summary(spark, model, out)


def _summary(spark: SparkSession, model: SegmentationModel, out: str) -> ScoreSummary:
    """Rows and customers per segment, counted from the written table (one column read)."""
    counts: dict[int | None, int] = {
        r["segment_id"]: int(r["count"])
        for r in spark.read.parquet(out).groupBy("segment_id").count().collect()
    }
    per_segment: npt.NDArray[np.int64] = np.array(
        [counts.get(i, 0) for i in range(model.info.k)], dtype=np.int64
    )
    return ScoreSummary(
        version=model.version,
        rows=int(sum(counts.values())),
        scored_rows=int(per_segment.sum()),
        segments=tuple(
            SegmentCount(cluster_id=i, segment_name=name, customers=int(per_segment[i]))
            for i, name in enumerate(model.segment_names)
        ),
    )
