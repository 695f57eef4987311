"""The core's small vocabularies, as string enums (their values are the public contract's names)."""

from __future__ import annotations

from enum import StrEnum


class Transform(StrEnum):
    """How a feature is transformed before scaling.

    ``LOG`` is ``log1p`` (for non-negative columns). ``AUTO`` resolves at training time to ``LOG``
    when the column's minimum is >= 0 and its skewness is > 1, else to ``NONE``; a trained model
    only ever holds ``NONE`` or ``LOG``.
    """

    NONE = "NONE"
    LOG = "LOG"
    AUTO = "AUTO"


class MissingValues(StrEnum):
    """What training (and later scoring) does with a missing feature value."""

    DROP = "DROP"  # leave the row out (scoring: the row is reported as not scorable)
    MEDIAN = "MEDIAN"  # fill with the training data's median of that feature


class ColumnRole(StrEnum):
    """What a dataset column is, by the contract's rules (segmentation_core.columns)."""

    NUMERIC = "NUMERIC"
    CATEGORICAL = "CATEGORICAL"
    IDENTIFIER = "IDENTIFIER"
    IGNORED = "IGNORED"


class Direction(StrEnum):
    """Whether a segment lies above or below the population on a feature."""

    HIGHER = "HIGHER"
    LOWER = "LOWER"


class TrainingStage(StrEnum):
    """The stages a training goes through, in order."""

    LOADING = "LOADING"
    SCANNING = "SCANNING"
    FITTING = "FITTING"
    PROFILING = "PROFILING"
    STORING = "STORING"
