"""Loading and validating customer tables: CSV or DataFrame in, a checked float matrix out.

Every problem in a table is collected before anything is raised, so one error lists them all, each
naming the column, the 0-based data rows and the reason. Columns the spec does not name are ignored
(e.g. the Mall data's ``Gender``).
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from segmentation_core.errors import DataValidationError, Problem
from segmentation_core.features import Feature, FeatureSpec

#: How many offending values a reason quotes before it just counts them.
_QUOTED_VALUES = 3
_NAN_REASON = "is empty or NaN"
_EMPTY_ID = "id is empty"


@dataclass(frozen=True)
class CustomerTable:
    """A validated table: features as a C-ordered float64 matrix in spec order, plus the ids."""

    X: npt.NDArray[np.float64]  # shape (n, n_features)
    ids: npt.NDArray[np.generic] | None  # the id column (integers, or text), when present
    columns: tuple[str, ...]
    sha256: str  # hash of the column names and the matrix: same data, same hash, CSV or DataFrame

    @property
    def n_rows(self) -> int:
        """Number of customers."""
        return int(self.X.shape[0])


def _quote(values: Sequence[object], total: int | None = None) -> str:
    """The first few values, e.g. ``150, 7, 260 and 12 more`` (``total`` counts them all)."""
    total = len(values) if total is None else total
    shown = ", ".join(
        f"{v:g}" if isinstance(v, float) else repr(v) for v in values[:_QUOTED_VALUES]
    )
    hidden = total - min(total, _QUOTED_VALUES)
    return shown + (f" and {hidden} more" if hidden > 0 else "")


def _rows(mask: npt.NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(np.flatnonzero(mask).tolist())


def range_rule(feature: Feature) -> str | None:
    """The feature's range as a rule, e.g. ``must be between 18 and 100``; None when unbounded."""
    lo, hi = feature.minimum, feature.maximum
    if lo is not None and hi is not None:
        return f"must be between {lo:g} and {hi:g}"
    if lo is not None:
        return f"must be at least {lo:g}"
    if hi is not None:
        return f"must be at most {hi:g}"
    return None


def range_problem(feature: Feature, values: npt.NDArray[np.float64]) -> Problem | None:
    """A problem naming the rows of ``values`` outside the feature's range (finite values only)."""
    bad = np.zeros(values.shape[0], dtype=bool)
    if feature.minimum is not None:
        bad |= values < feature.minimum
    if feature.maximum is not None:
        bad |= values > feature.maximum
    if not bad.any():
        return None
    rows = _rows(bad)
    got = [float(values[i]) for i in rows[:_QUOTED_VALUES]]
    return Problem(feature.column, f"{range_rule(feature)}, got {_quote(got, len(rows))}", rows)


def check_row(values: Sequence[object], spec: FeatureSpec) -> list[Problem]:
    """Problems of one customer's values in spec order (plain Python: microseconds, no arrays).

    Same reasons as :func:`check_values`; ``rows`` is empty because there is one customer.
    """
    if len(values) != len(spec.features):
        return [
            Problem(
                None,
                f"expected {len(spec.features)} values ({', '.join(spec.columns)}), "
                f"got {len(values)}",
            )
        ]
    problems: list[Problem] = []
    for feature, raw in zip(spec.features, values, strict=True):
        try:
            v = float(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            problems.append(Problem(feature.column, f"must be numeric, got {raw!r}"))
            continue
        if math.isnan(v):
            problems.append(Problem(feature.column, _NAN_REASON))
        elif math.isinf(v):
            problems.append(Problem(feature.column, "must be a finite number"))
        elif (feature.minimum is not None and v < feature.minimum) or (
            feature.maximum is not None and v > feature.maximum
        ):
            problems.append(Problem(feature.column, f"{range_rule(feature)}, got {v:g}"))
    return problems


def check_values(X: npt.NDArray[np.float64], spec: FeatureSpec) -> list[Problem]:
    """Problems of a numeric matrix in spec order: NaN, infinite or out-of-range values.

    Vectorised per column, so checking a million rows costs a few milliseconds.
    """
    problems: list[Problem] = []
    for j, feature in enumerate(spec.features):
        col = X[:, j]
        nan = np.isnan(col)
        if nan.any():
            problems.append(Problem(feature.column, _NAN_REASON, _rows(nan)))
        inf = np.isinf(col)
        if inf.any():
            problems.append(Problem(feature.column, "must be a finite number", _rows(inf)))
        finite = ~(nan | inf)
        if finite.all():
            problem = range_problem(feature, col)
        else:
            # NaN/inf were reported above: swap them for an in-range value, keeping row positions
            problem = range_problem(feature, np.where(finite, col, _inside(feature)))
        if problem is not None:
            problems.append(problem)
    return problems


def _inside(feature: Feature) -> float:
    """A value inside the feature's range (placeholder for entries already reported)."""
    if feature.minimum is not None:
        return float(feature.minimum)
    if feature.maximum is not None:
        return float(feature.maximum)
    return 0.0


def _duplicated_headers(columns: Sequence[str], wanted: Sequence[str]) -> list[Problem]:
    seen: dict[str, int] = {}
    for c in columns:
        seen[c] = seen.get(c, 0) + 1
    return [
        Problem(c, f"column header appears {seen[c]} times; it must appear once")
        for c in wanted
        if seen.get(c, 0) > 1
    ]


def _read_csv(path: Path) -> tuple[pd.DataFrame, list[str]]:
    """The CSV as a DataFrame plus its raw header (pandas renames duplicate headers silently)."""
    if not path.is_file():
        raise DataValidationError([Problem(None, f"file not found: {path}")])
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), [])
        if not header:
            raise DataValidationError([Problem(None, "the file is empty (no header row)")])
        frame = pd.read_csv(path, encoding="utf-8-sig", skipinitialspace=True)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataValidationError([Problem(None, f"not a readable CSV file: {exc}")]) from exc
    return frame, [h.strip() for h in header]


def load_table(
    source: Path | str | pd.DataFrame,
    spec: FeatureSpec,
    *,
    min_rows: int = 1,
    training: bool = True,
) -> CustomerTable:
    """Read and validate a customer table.

    Parameters
    ----------
    source:
        A CSV path or a DataFrame. Extra columns are ignored.
    spec:
        The features (and id column) the table must hold.
    min_rows:
        The fewest rows training can use (the largest k asked for, plus one).
    training:
        Also refuse duplicate ids and constant columns (harmless in a batch to predict).

    Raises
    ------
    DataValidationError
        Listing every problem: missing or duplicated required columns, non-numeric, empty/NaN or
        out-of-range values, duplicate or empty ids, constant columns, too few rows.
    """
    if isinstance(source, pd.DataFrame):
        frame = source
        header = [str(c).strip() for c in frame.columns]
    else:
        frame, header = _read_csv(Path(source))
    frame = frame.set_axis([str(c).strip() for c in frame.columns], axis=1)

    # a batch to predict may come without ids; training data must carry them
    with_ids = bool(spec.id_column) and (training or spec.id_column in header)
    wanted = list(spec.columns) + ([spec.id_column] if with_ids and spec.id_column else [])
    problems = _duplicated_headers(header, wanted)
    missing = [c for c in wanted if c not in header]
    problems += [
        Problem(c, f"required column is missing (the table has: {', '.join(header) or 'none'})")
        for c in missing
    ]
    if problems:
        raise DataValidationError(problems)

    n = len(frame)
    if n == 0:
        raise DataValidationError([Problem(None, "the table has no data rows")])

    X = np.empty((n, len(spec.features)), dtype=np.float64)
    unparsable: set[str] = set()
    for j, feature in enumerate(spec.features):
        X[:, j], column_problems = _numeric_column(frame[feature.column], feature)
        if column_problems:
            unparsable.add(feature.column)
        problems += column_problems
    # cells that failed parsing are NaN in X and already reported with the right reason
    problems += [
        p for p in check_values(X, spec) if not (p.column in unparsable and p.reason == _NAN_REASON)
    ]

    ids: npt.NDArray[np.generic] | None = None
    if with_ids and spec.id_column:
        ids, id_problems = _check_ids(frame[spec.id_column], spec.id_column)
        problems += id_problems if training else [p for p in id_problems if p.reason == _EMPTY_ID]

    bad_columns = {p.column for p in problems}
    for j, feature in enumerate(spec.features):
        col = X[:, j]
        if not training or feature.column in bad_columns or n < 2:
            continue
        if float(col.min()) == float(col.max()):
            problems.append(
                Problem(
                    feature.column,
                    f"is constant (every row is {col[0]:g}); "
                    "a constant feature cannot separate segments",
                )
            )
    if n < min_rows:
        problems.append(
            Problem(
                None, f"the table has {n} rows; the largest k asked for needs at least {min_rows}"
            )
        )
    if problems:
        raise DataValidationError(problems)

    X = np.ascontiguousarray(X)
    digest = hashlib.sha256("\x1f".join(spec.columns).encode())
    digest.update(X.tobytes())
    return CustomerTable(X=X, ids=ids, columns=spec.columns, sha256=digest.hexdigest())


def _numeric_column(
    series: pd.Series, feature: Feature
) -> tuple[npt.NDArray[np.float64], list[Problem]]:
    """The column as floats (NaN where unusable) plus problems for non-numeric and empty cells."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return np.full(len(series), np.nan), [
            Problem(feature.column, "must be numeric, got true/false values")
        ]
    if pd.api.types.is_numeric_dtype(series.dtype):
        # the fast path: pandas parsed every cell as a number; empty cells are NaN
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, []
    text = series.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    empty = (text.isna() | (text == "")).to_numpy(dtype=bool)
    non_numeric = np.isnan(values) & ~empty
    problems: list[Problem] = []
    if non_numeric.any():
        rows = _rows(non_numeric)
        got = [str(text.iloc[i]) for i in rows[:_QUOTED_VALUES]]
        problems.append(
            Problem(feature.column, f"must be numeric, got {_quote(got, len(rows))}", rows)
        )
    if empty.any():
        problems.append(Problem(feature.column, _NAN_REASON, _rows(empty)))
    return values, problems


def _check_ids(series: pd.Series, column: str) -> tuple[npt.NDArray[np.generic], list[Problem]]:
    """The ids (as given when whole numbers, else stripped text) and their problems."""
    # whole-number ids (the common case) are compared as numbers: fast, never empty
    numeric = pd.api.types.is_integer_dtype(series.dtype) and not series.hasnans
    keys = series if numeric else series.astype("string").str.strip()
    problems: list[Problem] = []
    empty = np.zeros(len(keys), dtype=bool)
    if not numeric:
        empty = (keys.isna() | (keys == "")).to_numpy(dtype=bool)
    if empty.any():
        problems.append(Problem(column, _EMPTY_ID, _rows(empty)))
    dup = keys.duplicated(keep=False).to_numpy(dtype=bool) & ~empty
    if dup.any():
        repeated = keys[dup]
        shown = list(dict.fromkeys(str(v) for v in repeated.head(_QUOTED_VALUES * 4)))
        problems.append(
            Problem(
                column,
                f"ids must be unique; repeated: {_quote(shown, int(repeated.nunique()))}",
                _rows(dup),
            )
        )
    ids = keys.to_numpy() if numeric else keys.fillna("").to_numpy(dtype=object)
    return ids, problems
