"""Typed errors of the segmentation core.

Every error a caller can act on has its own class and carries structured attributes, so the API
layer can map it to a typed GraphQL result without parsing messages.
"""

from __future__ import annotations

from dataclasses import dataclass


class SegmentationError(Exception):
    """Base class of every error the core raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One reason a table or a set of values was rejected.

    ``rows`` are 0-based positions in the input (not customer ids); empty when the problem is
    about the table as a whole (a missing column, too few rows). ``line`` is the 1-based line of
    the file where a problem of a file's text was found (header = line 1), when known.
    """

    column: str | None
    reason: str
    rows: tuple[int, ...] = ()
    line: int | None = None

    def __str__(self) -> str:
        where = f"column {self.column!r}" if self.column else "table"
        if self.line is not None:
            where = f"line {self.line}, {where}" if self.column else f"line {self.line}"
        if self.rows:
            shown = ", ".join(str(r) for r in self.rows[:10])
            more = f" and {len(self.rows) - 10} more" if len(self.rows) > 10 else ""
            where += f", rows {shown}{more}"
        return f"{where}: {self.reason}"


class DataValidationError(SegmentationError, ValueError):
    """A table or customer values failed validation; nothing was trained, stored or predicted."""

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid data")


class TooLargeError(DataValidationError):
    """A file or table is over a size limit (bytes, rows or columns); nothing was stored."""


class InvalidParameterError(SegmentationError, ValueError):
    """A training parameter makes no sense (k_min < 2, k_max < k_min, k above the row count...)."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        self.reason = reason
        super().__init__(f"{parameter}: {reason}")


class ModelNotTrainedError(SegmentationError):
    """No model is active in the store, or an estimator was used before ``fit``."""


class ModelIntegrityError(SegmentationError):
    """A stored model was refused: bad signature, foreign store, missing file or other library."""


class TrainingInProgressError(SegmentationError):
    """Another training is already running; only one runs at a time."""


class NotFoundError(SegmentationError, LookupError):
    """A dataset or model version that is not in its store."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        super().__init__(f"{kind} {identifier!r} was not found")


class ConflictError(SegmentationError):
    """The operation contradicts the store's state (deleting the active model, nothing to roll
    back to, deleting the dataset the active model was trained on); nothing changed."""
