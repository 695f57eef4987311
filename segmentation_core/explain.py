"""What makes each segment different: drivers (numeric features) and categorical profiles.

Both are computed from aggregates (per-segment means in the model's space, per-segment value
counts), so an engine that aggregates on a cluster (Spark) and the local engine share this code.

* A segment's **drivers**: for every feature, z = (segment mean - population mean) / population
  std in the model's space (after the recipe's transforms; population std with ddof=0, the
  StandardScaler's), so in the scaled space it is simply the segment's mean. Sorted by |z|,
  largest first. This is the K-Means-exact version of Orange's "order by relevance" box plots: the
  centres K-Means separates are these means.
* A segment's **categorical profile**: for every CATEGORICAL column of the dataset, each value's
  share among the segment's customers and its lift = that share / the value's share among all
  training customers (2.0: twice as common in the segment as overall).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from segmentation_core.enums import Direction
from segmentation_core.results import CategoryShare, SegmentDriver

#: The value a missing categorical cell is counted under.
MISSING_VALUE = "(missing)"


def segment_means(
    Z: npt.NDArray[np.float64], labels: npt.NDArray[np.integer], k: int
) -> npt.NDArray[np.float64]:
    """Per-segment mean of every column of ``Z`` (shape (k, n_features)); empty segments 0."""
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.zeros((k, Z.shape[1]))
    for j in range(Z.shape[1]):  # bincount with weights: one C pass per feature
        sums[:, j] = np.bincount(labels, weights=Z[:, j], minlength=k)
    return np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)


def drivers(
    z_means: npt.NDArray[np.float64], features: Sequence[str]
) -> tuple[tuple[SegmentDriver, ...], ...]:
    """Per segment, every feature's z-score and direction, largest |z| first (ties: model order)."""
    out = []
    for row in z_means:
        order = sorted(range(len(features)), key=lambda j: (-abs(float(row[j])), j))
        out.append(
            tuple(
                SegmentDriver(
                    feature=features[j],
                    z_score=float(row[j]),
                    direction=Direction.HIGHER if row[j] >= 0 else Direction.LOWER,
                )
                for j in order
            )
        )
    return tuple(out)


def category_codes(column: pa.Array | pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], list[str]]:
    """A categorical column as integer codes plus the value of each code.

    Values are the trimmed cell texts (numbers of a typed column as text); missing cells (null or
    blank) become :data:`MISSING_VALUE`. A dictionary-encoded column (how datasets store their
    categorical columns) is decoded through its few dictionary values, never cell by cell.
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.unify_dictionaries() if pa.types.is_dictionary(column.type) else column
        column = column.combine_chunks()
    if not pa.types.is_dictionary(column.type):
        column = pc.dictionary_encode(column)
    labels = column.dictionary
    if not pa.types.is_string(labels.type):
        labels = pc.cast(labels, pa.string())
    labels = pc.utf8_trim_whitespace(labels)
    labels = pc.fill_null(pc.if_else(pc.equal(labels, ""), None, labels), MISSING_VALUE)
    # dictionary entries that trim to the same text (" a" and "a") become one value
    unique = pc.unique(pa.concat_arrays([labels, pa.array([MISSING_VALUE])]))
    remap = np.asarray(pc.index_in(labels, value_set=unique).to_numpy(zero_copy_only=False))
    indices = column.indices.fill_null(len(remap)) if column.null_count else column.indices
    remap = np.append(remap, int(pc.index_in(pa.scalar(MISSING_VALUE), value_set=unique).as_py()))
    codes = remap[np.asarray(indices.to_numpy(zero_copy_only=False), dtype=np.int64)]
    return codes.astype(np.int64), [str(v) for v in unique.to_pylist()]


def category_counts(
    labels: npt.NDArray[np.integer], codes: npt.NDArray[np.int64], k: int, n_values: int
) -> npt.NDArray[np.int64]:
    """Customers of each segment (rows) having each value (columns)."""
    flat = np.bincount(labels.astype(np.int64) * n_values + codes, minlength=k * n_values)
    return flat.reshape(k, n_values)


def category_shares(
    column: str, counts: npt.NDArray[np.integer], values: Sequence[str]
) -> tuple[tuple[CategoryShare, ...], ...]:
    """Per segment, every value's share and lift, values ordered by overall frequency."""
    totals = counts.sum(axis=0).astype(np.float64)
    grand = float(totals.sum())
    order = sorted(range(len(values)), key=lambda v: (-totals[v], values[v]))
    out = []
    for row in counts:
        size = float(row.sum())
        shares = []
        for v in order:
            if totals[v] == 0:
                continue
            share = float(row[v]) / size if size else 0.0
            overall = float(totals[v]) / grand
            shares.append(CategoryShare(column, values[v], share, share / overall))
        out.append(tuple(shares))
    return tuple(out)
