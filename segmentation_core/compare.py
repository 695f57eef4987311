"""Comparing two models on the same customers: how much they agree and where customers move.

:func:`compare_models` reads each model's feature columns from a table with
:func:`~segmentation_core.numeric.to_numeric` (the rule every part of the core reads numbers by),
keeps the rows BOTH models can score (every feature of both models readable and in range; a
MEDIAN model fills missing values, a DROP model cannot), predicts both, and counts the customers
of every (segment of a, segment of b) pair in one ``np.bincount``. The adjusted Rand index is
computed from that same table with scikit-learn's formula (``adjusted_rand_score`` builds the
table again from the labels, by sorting them: about 0.3 s per million rows; from the table it is
free). A million rows take about 0.3 s, most of it predicting.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from segmentation_core.errors import DataValidationError, Problem
from segmentation_core.model import SegmentationModel
from segmentation_core.numeric import NumericColumn, to_numeric
from segmentation_core.results import ModelComparison, SegmentFlow

__all__ = ["adjusted_rand_index", "compare_models"]

#: Rows predicted at a time: the (rows x k) temporaries of a block stay in the CPU caches, which
#: makes a million rows about a third faster than one block.
_BLOCK = 65536


def adjusted_rand_index(table: npt.NDArray[np.int64]) -> float:
    """The adjusted Rand index of two labelings given as their contingency table.

    ``table[i, j]`` counts the items labelled i by the first labeling and j by the second. Equal
    to ``sklearn.metrics.adjusted_rand_score`` of the labels (the same pair-counting formula, in
    exact integer arithmetic): 1.0 for identical partitions, about 0 for independent ones.
    """
    counts = np.asarray(table, dtype=np.int64)
    n = int(counts.sum())
    sum_squares = int((counts * counts).sum())
    rows = counts.sum(axis=1)
    cols = counts.sum(axis=0)
    same_in_both = sum_squares - n  # ordered pairs together in both labelings
    only_first = int(rows @ rows) - sum_squares  # together in the first only
    only_second = int(cols @ cols) - sum_squares  # together in the second only
    neither = n * n - only_first - only_second - sum_squares
    if only_first == 0 and only_second == 0:
        return 1.0
    tp, fp, fn, tn = same_in_both, only_second, only_first, neither
    return 2.0 * (tp * tn - fn * fp) / ((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn))


def _segment_ids(model: SegmentationModel, X: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """The nearest segment of every row of ``X`` (rows already checked scorable)."""
    ids = np.empty(X.shape[0], dtype=np.int64)
    for start in range(0, X.shape[0], _BLOCK):
        block = X[start : start + _BLOCK]
        ids[start : start + _BLOCK] = model.predict_batch_unchecked(block).cluster_ids
    return ids


def _features(
    model: SegmentationModel, columns: dict[str, NumericColumn]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The model's feature matrix (NaN where missing or invalid) and its invalid-cell mask."""
    spec = model.spec.columns
    X = np.column_stack([columns[c].values for c in spec])
    invalid = np.column_stack([columns[c].invalid for c in spec])
    return X, invalid


def compare_models(
    a: SegmentationModel, b: SegmentationModel, table: pa.Table, dataset_id: str
) -> ModelComparison:
    """How models ``a`` and ``b`` segment the customers of ``table`` (dataset ``dataset_id``).

    Only rows both models can score count (``customers``). ``flows`` lists the non-zero cells of
    the a x b table, row by row (a's segment, then b's), with the segments' current names; their
    customers sum to ``customers``. DataValidationError when a feature column of either model is
    missing from the table (naming it) or when no row can be scored by both models.
    """
    needed = list(dict.fromkeys((*a.spec.columns, *b.spec.columns)))
    present = set(table.column_names)
    missing = [c for c in needed if c not in present]
    if missing:
        raise DataValidationError(
            [
                Problem(
                    c,
                    "is missing from the dataset: model "
                    + " and model ".join(
                        m.version for m in (a, b) if c in m.spec.columns
                    )
                    + " need it",
                )
                for c in missing
            ]
        )
    columns = {c: to_numeric(table.column(c)) for c in needed}
    Xa, invalid_a = _features(a, columns)
    Xb, invalid_b = _features(b, columns)
    scorable = ~(a.problem_codes(Xa, invalid_a).any(axis=1))
    scorable &= ~(b.problem_codes(Xb, invalid_b).any(axis=1))
    customers = int(np.count_nonzero(scorable))
    if customers == 0:
        raise DataValidationError(
            [
                Problem(
                    None,
                    f"none of the dataset's {table.num_rows} rows can be scored by both model "
                    f"{a.version} and model {b.version} (a feature missing, not a number or "
                    "out of range in every row)",
                )
            ]
        )
    if customers < Xa.shape[0]:
        Xa, Xb = Xa[scorable], Xb[scorable]
    ids_a = _segment_ids(a, Xa)
    ids_b = _segment_ids(b, Xb)
    k_a, k_b = a.info.k, b.info.k
    counts = np.bincount(ids_a * k_b + ids_b, minlength=k_a * k_b).reshape(k_a, k_b)
    flows = tuple(
        SegmentFlow(
            from_cluster_id=int(i),
            from_name=a.segment_names[int(i)],
            to_cluster_id=int(j),
            to_name=b.segment_names[int(j)],
            customers=int(counts[i, j]),
        )
        for i, j in zip(*np.nonzero(counts), strict=True)
    )
    return ModelComparison(
        a=a.version,
        b=b.version,
        dataset_id=dataset_id,
        customers=customers,
        adjusted_rand_index=adjusted_rand_index(counts),
        flows=flows,
    )
