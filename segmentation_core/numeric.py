"""Reading numbers out of table columns: one rule for import, training, scoring and comparison.

A dataset keeps the cells of a CSV as the text that was read (so scored files can write them back
unchanged) and a Parquet file's columns as they were typed. Whenever the core needs a column as
numbers it calls :func:`to_numeric`, which reads both the same way:

* missing: a null, an empty or blank cell, or one of :data:`MISSING_TOKENS` (``NA``, ``null``...);
  also NaN in a floating-point column;
* a number: what remains after trimming whitespace, if it reads as a decimal number
  (``12``, ``-3.5``, ``1e3``, ``.5``, ``+7``); ``1,234``, ``0x10`` or ``12 kg`` do not;
* invalid: every other cell, and numbers that are not finite (``inf``, ``1e400``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

#: Cells read as missing (after trimming), besides empty ones: the spellings spreadsheet and
#: database exports use for "no value".
MISSING_TOKENS: tuple[str, ...] = (
    "NA",
    "N/A",
    "n/a",
    "na",
    "NaN",
    "nan",
    "NAN",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "#N/A",
    "-",
    "?",
)
_MISSING = pa.array(("", *MISSING_TOKENS), type=pa.string())
#: A decimal number, whole cell (after trimming). RE2 syntax (pyarrow's regex engine).
NUMBER_PATTERN = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


@dataclass(frozen=True)
class NumericColumn:
    """A column read as numbers: ``values`` holds NaN wherever ``missing`` or ``invalid`` is set."""

    values: npt.NDArray[np.float64]
    missing: npt.NDArray[np.bool_]
    invalid: npt.NDArray[np.bool_]

    @property
    def usable(self) -> npt.NDArray[np.bool_]:
        """Rows holding a finite number."""
        return ~(self.missing | self.invalid)

    @property
    def all_numbers(self) -> bool:
        """Whether every cell is a number or missing."""
        return not bool(self.invalid.any())


#: A column as pyarrow hands it over: one array, or the chunks a reader produced.
Column: TypeAlias = "pa.Array | pa.ChunkedArray"


def _as_array(column: Column) -> pa.Array:
    if isinstance(column, pa.ChunkedArray):
        return column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return column


def _decoded(column: Column) -> Column:
    """A dictionary-encoded column as plain values (other columns unchanged)."""
    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _float_values(parsed: Column) -> npt.NDArray[np.float64]:
    """A float64 column as a writable numpy array (nulls as NaN)."""
    values = np.asarray(parsed.to_numpy(zero_copy_only=False), dtype=np.float64)
    return values if values.flags.writeable else values.copy()


def is_text_type(data_type: pa.DataType) -> bool:
    """Whether a column of this type holds text (string or large string, maybe dictionary)."""
    if pa.types.is_dictionary(data_type):
        data_type = data_type.value_type
    return bool(pa.types.is_string(data_type) or pa.types.is_large_string(data_type))


def is_number_type(data_type: pa.DataType) -> bool:
    """Whether a column of this type holds numbers (integers, floats, decimals; not booleans)."""
    return bool(
        pa.types.is_integer(data_type)
        or pa.types.is_floating(data_type)
        or pa.types.is_decimal(data_type)
    )


#: Cells tried first: a failed cast costs far more when it fails early in a long array.
_PROBE = 1024


def _cast_all_numbers(candidates: Column) -> Column | None:
    """The cells as float64 if every non-null one reads as a number, else None."""
    try:
        if len(candidates) > _PROBE:
            pc.cast(candidates.slice(0, _PROBE), pa.float64())
        return pc.cast(candidates, pa.float64())
    except pa.ArrowInvalid:
        return None


@dataclass(frozen=True)
class TextCells:
    """A column that is not all numbers: its cells trimmed (missing cells null) and which are
    missing. What :func:`read_column` returns when some non-missing cell is not a number."""

    trimmed: pa.Array  # string; null where ``missing``
    missing: npt.NDArray[np.bool_]


def _bool_mask(array: Column) -> npt.NDArray[np.bool_]:
    return np.asarray(array.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _from_numbers(column: Column) -> NumericColumn:
    """A column of a number type: nulls and NaN are missing, infinities invalid."""
    values = _float_values(pc.cast(column, pa.float64()))
    missing = np.isnan(values)  # nulls arrive as NaN too
    invalid = np.isinf(values)
    values[invalid] = np.nan
    return NumericColumn(values=values, missing=missing, invalid=invalid)


def _plain_numbers(column: Column) -> NumericColumn | None:
    """The fast path: every cell, as written, is a finite number (no blanks, no spaces, no
    missing markers), so no trimming or masking is needed. None when that is not so.

    Arrow's cast refuses surrounding whitespace and empty cells, so a cast that succeeds saw
    exactly the trimmed cells; the only missing markers it accepts are NaN spellings, which
    send the column to the full path.
    """
    if column.null_count:
        return None
    parsed = _cast_all_numbers(column)
    if parsed is None:
        return None
    values = _float_values(parsed)
    if np.isnan(values).any():
        return None
    missing = np.zeros(len(values), dtype=bool)
    invalid = np.isinf(values)
    values[invalid] = np.nan
    return NumericColumn(values=values, missing=missing, invalid=invalid)


def trimmed_cells(array: pa.Array) -> tuple[pa.Array, npt.NDArray[np.bool_]]:
    """A text array's cells trimmed, with missing ones (see the module) as null, and the
    missing mask."""
    text = pc.utf8_trim_whitespace(array)
    missing_arrow = pc.or_kleene(pc.is_null(text), pc.is_in(text, value_set=_MISSING))
    candidates = pc.if_else(missing_arrow, pa.scalar(None, text.type), text)
    return candidates, _bool_mask(missing_arrow)


def read_column(column: Column) -> NumericColumn | TextCells:
    """A text column read once, as the dataset store needs it: its numbers when every cell is
    a number or missing (what :func:`to_numeric` calls ``all_numbers``), else its trimmed cells
    and missing mask.

    The same rule as :func:`to_numeric`, but a column that is not all numbers costs no search
    for which of its cells are not numbers. Text columns only (plain or dictionary-encoded).
    """
    column = _decoded(column)
    if not is_text_type(column.type):
        raise TypeError(f"read_column reads text columns, not {column.type}")
    fast = _plain_numbers(column)
    if fast is not None and fast.all_numbers:
        return fast
    candidates, missing = trimmed_cells(_as_array(column))
    parsed = _cast_all_numbers(candidates)
    if parsed is not None:
        values = _float_values(parsed)
        if np.isfinite(values[~missing]).all():
            return NumericColumn(
                values=values, missing=missing, invalid=np.zeros(len(values), dtype=bool)
            )
    return TextCells(trimmed=candidates, missing=missing)


def to_numeric(column: Column) -> NumericColumn:
    """Read a text or number column as float64 values with missing and invalid masks.

    Columns of other types (booleans, dates, binary) are wholly invalid: they never hold numbers.
    Costs about 15 ms per million text cells when every cell is a plain number (no blanks,
    spaces or missing markers), about 40 ms otherwise.
    """
    column = _decoded(column)
    n = len(column)
    if is_number_type(column.type):
        return _from_numbers(column)
    if not is_text_type(column.type):
        return NumericColumn(
            values=np.full(n, np.nan),
            missing=_bool_mask(column.is_null()),
            invalid=_bool_mask(column.is_valid()),
        )
    fast = _plain_numbers(column)
    if fast is not None:
        return fast
    candidates, missing = trimmed_cells(_as_array(column))
    parsed = _cast_all_numbers(candidates)
    if parsed is not None:
        malformed = np.zeros(n, dtype=bool)
    else:
        # Some cell is not a number: find which (slower, only for such columns).
        well_formed = pc.fill_null(pc.match_substring_regex(candidates, NUMBER_PATTERN), True)
        malformed = ~_bool_mask(well_formed)
        if malformed.all():
            parsed = pa.nulls(n, pa.float64())
        else:
            parsed = pc.cast(
                pc.if_else(well_formed, candidates, pa.scalar(None, pa.string())), pa.float64()
            )
    values = _float_values(parsed)
    # The cast also accepts "inf" and "Infinity", and overflows 1e400 to inf: not finite numbers.
    invalid = malformed | (~missing & ~np.isfinite(values))
    values[invalid] = np.nan
    return NumericColumn(values=values, missing=missing, invalid=invalid)
