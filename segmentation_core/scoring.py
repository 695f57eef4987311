"""Bulk scoring: a customer file (CSV or Parquet) or a stored dataset in, a scored CSV out.

The scored file holds every original column in its original order, every original cell as it was
read, then ``segment_id``, ``segment_name``, ``confidence`` (4 decimals) and ``score_problem``
(empty when the row was scored, else a short reason naming the feature(s), e.g.
``revenue: missing; age: not a number``). A CSV keeps its delimiter, line terminator, BOM and
header text, so ``diff input output`` shows only the appended columns, except that:

* a cell that is not a number and starts with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  (in any column, the header and ``segment_name`` included) is written with a leading ``'`` so a
  spreadsheet does not run it as a formula (``-5`` is a number and stays as it is);
* cells are quoted RFC 4180 style exactly when they need it (they hold the delimiter, a quote, CR
  or LF), so a cell the input quoted without need loses its quotes.

How it is fast
--------------
Scoring changes no original cell, so a CSV is not re-rendered: the file is read in blocks of about
a MB cut at a record boundary, pyarrow parses only the feature columns of a block, and each raw
input line is copied as it is with the row's suffix (``,<id>,<name>,<confidence>,<problem>``)
appended. The lines are an Arrow string array whose offsets point into the block's own bytes
(zero-copy), the suffixes come from small lookup tables (``take``), and one
``binary_join_element_wise`` builds the block's output. Element ``i`` of that array runs from the
end of row ``i - 1``'s content to the end of row ``i``'s, so it starts with the previous row's line
terminator and the suffix lands just before row ``i``'s own. Formula-like cells get their ``'``
inserted into the block's bytes (numpy), the line bounds shifted accordingly.

Blocks holding a quote character (a quoted cell may hold the delimiter or a newline) or a lone CR
take the exact path: every cell is parsed and rendered again, quoted where needed. Blank lines are
no rows (no parser returns them) and are dropped, and every row ends with the file's line
terminator (that of its header), whichever path a block takes: the output never depends on where
the blocks were cut. Parquet files and stored datasets (Arrow record batches) are always rendered.

Blocks are cut on the caller's thread and scored on two worker threads shared by all jobs (pyarrow
and numpy release the GIL), their outputs handed back in order; at most three blocks of a job are
in flight, so memory stays bounded whatever the file's size (about 40 MB above the process's own).
Scoring allocates its Arrow buffers from the system allocator: pyarrow's default (mimalloc) keeps
freed memory in per-thread caches, which doubled the peak of a job.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import re
import secrets
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmentation_core.dataset import range_rule
from segmentation_core.errors import DataValidationError, Problem
from segmentation_core.features import FeatureSpec
from segmentation_core.model import (
    CELL_MISSING,
    CELL_NOT_A_NUMBER,
    CELL_OK,
    CELL_OUT_OF_RANGE,
    SegmentationModel,
)
from segmentation_core.numeric import NUMBER_PATTERN, to_numeric
from segmentation_core.results import ScoreSummary, SegmentCount
from segmentation_core.table_io import check_text, is_parquet, read_head, sniff_csv

__all__ = [
    "BATCH_ROWS",
    "BLOCK_BYTES",
    "FORMULA_START",
    "OUTPUT_COLUMNS",
    "ScoredCsv",
    "problem_text",
    "render_cell",
    "score_batches",
    "score_file",
    "write_scored",
]

#: The columns a scored file appends to the original ones.
OUTPUT_COLUMNS = ("segment_id", "segment_name", "confidence", "score_problem")
#: Bytes of CSV per block: large enough that per-block overhead vanishes, small enough that a
#: block's arrays stay in the CPU caches and the blocks in flight take a few tens of MB.
BLOCK_BYTES = 1 << 20
#: Rows per block of a Parquet file or a stored dataset (batches are sliced to at most this).
BATCH_ROWS = 1 << 16
#: First characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = "=+-@\t\r"
#: Rows predicted at a time (the prediction's temporaries are rows x k floats).
_PREDICT_ROWS = 8192
#: Bytes looked at from the start of a formula-like cell to find its end (longer: ``find``).
_CELL_WINDOW = 32
#: Threads scoring blocks, and blocks in flight (cut, being scored, or scored and not yet taken).
_WORKERS, _IN_FLIGHT = 2, 3

_QUOTE, _LF, _CR = 0x22, 0x0A, 0x0D
_NUMBER = re.compile(NUMBER_PATTERN)
#: Which first bytes make a cell possibly a formula.
_FORMULA_FIRST = np.zeros(256, dtype=bool)
_FORMULA_FIRST[[ord(c) for c in FORMULA_START]] = True
_REASONS = {CELL_MISSING: "missing", CELL_NOT_A_NUMBER: "not a number"}
#: Confidence is written with 4 decimals: one table entry per possible text, 0.0000 to 1.0000.
_CONF_STEPS = 10_000
_EMPTY = pa.array([], pa.string())
_DICTIONARY = pa.dictionary(pa.int32(), pa.string())
#: Where scoring's own Arrow buffers come from (see the module doc).
_MEMORY = pa.system_memory_pool()

#: A block's bytes: read into a bytearray, never copied into bytes.
_Bytes = bytes | bytearray
T = TypeVar("T")
R = TypeVar("R")


def problem_text(spec: FeatureSpec, codes: Sequence[int]) -> str:
    """Why a row could not be scored, from its per-feature problem codes
    (``SegmentationModel.problem_codes``): ``age: missing; revenue: must be at least 0``.
    Every engine's scored output uses these words (``segmentation_core.spark`` too)."""
    reasons = []
    for feature, code in zip(spec.features, codes, strict=True):
        if code == CELL_OUT_OF_RANGE:
            reasons.append(f"{feature.column}: {range_rule(feature) or 'out of range'}")
        elif code != CELL_OK:
            reasons.append(f"{feature.column}: {_REASONS[code]}")
    return "; ".join(reasons)


# -- cells -----------------------------------------------------------------------------------


def _is_number(text: str) -> bool:
    """Whether a cell reads as a decimal number after trimming (``to_numeric``'s pattern)."""
    return _NUMBER.match(text.strip()) is not None


def render_cell(text: str, delimiter: str) -> str:
    """One cell as the scored file writes it: formula-like text neutralised, quoted if needed."""
    if text and text[0] in FORMULA_START and not _is_number(text):
        text = "'" + text
    if delimiter in text or any(c in text for c in '"\r\n'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _as_text(column: pa.Array) -> pa.Array:
    """A column's cells as text (nulls as empty cells), the way a CSV shows them."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    if not pa.types.is_string(column.type):
        try:
            column = pc.cast(column, pa.string(), memory_pool=_MEMORY)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            # Nested or exotic types have no cast to text: Python's rendering, cell by cell.
            column = pa.array(
                [None if v is None else str(v) for v in column.to_pylist()], type=pa.string()
            )
    return pc.fill_null(column, "") if column.null_count else column


def _string_buffers(
    text: pa.Array,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.uint8]]:
    """The offsets (one per cell, plus the end) and the bytes of a string array, as numpy views."""
    offsets = np.frombuffer(text.buffers()[1], dtype=np.int32)[
        text.offset : text.offset + len(text) + 1
    ]
    data = text.buffers()[2]
    return offsets, np.frombuffer(data, dtype=np.uint8) if data is not None else np.empty(
        0, dtype=np.uint8
    )


def _sorted_unique(values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The distinct values of a sorted array (cheaper than ``np.unique``, which hashes)."""
    if values.shape[0] < 2:
        return values
    keep = np.empty(values.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _render_column(column: pa.Array, delimiter: str) -> pa.Array:
    """:func:`render_cell` over a whole column, vectorised.

    Works on the array's bytes with numpy: the first byte of every cell says which might be
    formulas (only those are read as numbers), and the positions of the delimiter, quote, CR and
    LF bytes say which cells need quoting; only those cells are rendered again.
    """
    text = _as_text(column)
    if pa.types.is_integer(column.type) or len(text) == 0:
        return text  # integers are numbers: nothing to neutralise or quote
    offsets, data = _string_buffers(text)
    starts, ends = offsets[:-1], offsets[1:]
    first = data[np.minimum(starts, max(data.shape[0] - 1, 0))] if data.shape[0] else starts
    risky = np.flatnonzero((ends > starts) & _FORMULA_FIRST[first])
    formula = np.empty(0, dtype=np.int64)
    if risky.shape[0]:
        cells = pc.take(text, pa.array(risky), memory_pool=_MEMORY)
        number = pc.match_substring_regex(pc.utf8_trim_whitespace(cells), NUMBER_PATTERN)
        formula = risky[~np.asarray(number.to_numpy(zero_copy_only=False), dtype=bool)]
    used = data[offsets[0] : offsets[-1]]
    special = (used == ord(delimiter)) | (used == _QUOTE) | (used == _CR) | (used == _LF)
    quote = _sorted_unique(
        np.searchsorted(offsets, np.flatnonzero(special) + offsets[0], "right") - 1
    )
    if formula.shape[0] == 0 and quote.shape[0] == 0:
        return text
    rows = (
        np.union1d(formula, quote)
        if formula.shape[0] and quote.shape[0]
        else (formula if formula.shape[0] else quote)
    )
    rendered = pc.take(text, pa.array(rows), memory_pool=_MEMORY)
    if formula.shape[0]:
        neutral = pc.binary_join_element_wise("'", rendered, "", memory_pool=_MEMORY)
        rendered = (
            pc.if_else(pa.array(np.isin(rows, formula)), neutral, rendered)
            if quote.shape[0]
            else neutral
        )
    if quote.shape[0]:
        escaped = pc.replace_substring(rendered, '"', '""', memory_pool=_MEMORY)
        quoted = pc.binary_join_element_wise('"', escaped, '"', "", memory_pool=_MEMORY)
        rendered = (
            pc.if_else(pa.array(np.isin(rows, quote)), quoted, rendered)
            if formula.shape[0]
            else quoted
        )
    mask = np.zeros(len(text), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(text, pa.array(mask), rendered, memory_pool=_MEMORY)


def _render_rows(columns: Sequence[pa.Array], delimiter: str) -> pa.Array:
    """Each row's rendered cells joined by the delimiter (no line terminator)."""
    rendered = [_render_column(c, delimiter) for c in columns]
    if len(rendered) == 1:
        return rendered[0]
    return pc.binary_join_element_wise(*rendered, delimiter)


# -- blocks and the pipeline -----------------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    """Rows ready to be scored: their text, and their feature values read as numbers.

    ``lines[i]`` is row ``i`` as written, without its own line terminator. When ``terminated``,
    it starts with the previous row's terminator (CSV fast path) and ``tail`` (the last row's
    terminator) closes the block; otherwise the scorer ends every row with the terminator.
    ``values`` (rows x features, NaN where missing or invalid) and ``invalid`` (cells that are
    not numbers) come from ``to_numeric``.
    """

    lines: pa.Array
    values: npt.NDArray[np.float64]
    invalid: npt.NDArray[np.bool_]
    terminated: bool
    tail: _Bytes = b""

    @property
    def rows(self) -> int:
        return len(self.lines)


class _Features:
    """The feature columns of a block read as numbers, filled column by column."""

    def __init__(self, rows: int, features: int) -> None:
        # Feature-major storage: each column is contiguous while it is filled; ``values`` and
        # ``invalid`` are the (rows x features) views the model takes.
        self._values = np.empty((features, rows), dtype=np.float64)
        self._invalid = np.empty((features, rows), dtype=bool)

    def read(self, j: int, cells: pa.Array | pa.ChunkedArray) -> None:
        """Column ``j`` through ``to_numeric`` (once per distinct text when dictionary-encoded:
        the same result, as ``to_numeric`` reads each cell on its own)."""
        if isinstance(cells, pa.ChunkedArray):
            if cells.num_chunks != 1 and pa.types.is_dictionary(cells.type):
                cells = cells.unify_dictionaries()
            cells = cells.chunk(0) if cells.num_chunks == 1 else cells.combine_chunks()
        if pa.types.is_dictionary(cells.type):
            distinct = to_numeric(cells.dictionary)
            index = np.asarray(cells.indices.to_numpy(zero_copy_only=False))  # no nulls read
            np.take(distinct.values, index, out=self._values[j], mode="clip")
            np.take(distinct.invalid, index, out=self._invalid[j], mode="clip")
        else:
            column = to_numeric(cells)
            self._values[j] = column.values
            self._invalid[j] = column.invalid

    @property
    def values(self) -> npt.NDArray[np.float64]:
        return self._values.T

    @property
    def invalid(self) -> npt.NDArray[np.bool_]:
        return self._invalid.T


@dataclass(frozen=True)
class _Scored:
    """A block's output (buffers to write in order), its row count and customers per segment."""

    pieces: list[Any]
    rows: int
    counts: npt.NDArray[np.int64]


_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _workers() -> ThreadPoolExecutor:
    """The scoring threads, shared by every job of the process. Long-lived threads keep their
    allocator caches (pyarrow's mimalloc heaps are per thread), so memory is reused from one job
    to the next instead of being left behind by threads that ended."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(_WORKERS, thread_name_prefix="scoring")
        return _pool


def _forget_workers() -> None:
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()  # a forked child has none of its parent's threads


os.register_at_fork(after_in_child=_forget_workers)


def _in_order(items: Iterator[T], work: Callable[[T], R]) -> Generator[R, None, None]:
    """``work(item)`` for every item, computed on the worker threads, yielded in order.

    Items are drawn on the caller's thread; at most ``_IN_FLIGHT`` are drawn and not yet yielded.
    """
    pool = _workers()
    pending: deque[Future[R]] = deque()
    try:
        for item in items:
            pending.append(pool.submit(work, item))
            if len(pending) >= _IN_FLIGHT:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        for future in pending:
            if not future.cancelled():
                future.exception()  # wait: nothing of this job runs once it is closed


# -- CSV: cutting the file into blocks -------------------------------------------------------


def _record_end_exact(data: _Bytes, delimiter: int) -> int:
    """Offset just past the last complete record of ``data`` (0: none), quote-aware.

    A quote opens a quoted field only at the start of a field; inside one, ``""`` is a quote and
    a single quote closes it. Elsewhere a quote is an ordinary character (``27" screen``), as for
    pyarrow and Python's csv module. Loops over quotes only.
    """
    end = len(data)
    last = -1  # the last newline seen outside quotes
    i = 0
    while True:
        q = data.find(b'"', i)
        newline = data.rfind(b"\n", i, end if q < 0 else q)
        if newline >= 0:
            last = newline
        if q < 0:
            return last + 1
        if q == 0 or data[q - 1] in (delimiter, _LF, _CR):
            j = q + 1
            while True:  # the closing quote
                c = data.find(b'"', j)
                if c < 0 or c + 1 >= end:
                    return last + 1  # the quoted field runs past the data
                if data[c + 1] != _QUOTE:
                    break
                j = c + 2
            i = c + 1
        else:
            i = q + 1


def _record_end(data: _Bytes, delimiter: int) -> int:
    """Offset just past the last complete record of ``data`` (0 when there is none).

    Without quotes that is the last newline. With quotes, a newline ends a record when an even
    number of quotes precede it, provided every quote plays by RFC 4180 (each odd one starts a
    field or directly follows the one before, each even one ends a field or precedes the next);
    numpy checks that, and :func:`_record_end_exact` settles the other cases.
    """
    if b'"' not in data:
        return data.rfind(b"\n") + 1
    arr = np.frombuffer(data, dtype=np.uint8)
    quotes = np.flatnonzero(arr == _QUOTE)
    newlines = np.flatnonzero(arr == _LF)
    even = np.flatnonzero(np.searchsorted(quotes, newlines) % 2 == 0)
    if even.shape[0] == 0:
        return _record_end_exact(data, delimiter)
    cut = int(newlines[even[-1]]) + 1
    quotes = quotes[quotes < cut]
    opening, closing = quotes[0::2], quotes[1::2]
    before = arr[np.maximum(opening - 1, 0)]
    starts_field = (opening == 0) | (before == delimiter) | (before == _LF) | (before == _CR)
    starts_field[1:] |= opening[1:] == closing[: opening.shape[0] - 1] + 1
    after = arr[closing + 1]
    ends_field = (after == delimiter) | (after == _LF) | (after == _CR) | (after == _QUOTE)
    if starts_field.all() and ends_field.all():
        return cut
    return _record_end_exact(data, delimiter)


def _first_record_end(data: bytes, delimiter: int) -> int:
    """Offset just past the first record of ``data`` (0: it holds no whole record)."""
    newline = data.find(b"\n")
    while newline >= 0:
        if _record_end_exact(data[: newline + 1], delimiter) == newline + 1:
            return newline + 1
        newline = data.find(b"\n", newline + 1)
    return 0


def _read_header(fh: io.BufferedReader, delimiter: str) -> tuple[bytes, bytes]:
    """The header record (with its terminator) and the bytes read after it."""
    data = b""
    while True:
        more = fh.read(64 * 1024)
        data += more
        end = _first_record_end(data, ord(delimiter))
        if end > 0:
            return data[:end], data[end:]
        if not more:
            return data, b""


@dataclass(frozen=True)
class _RawBlock:
    """Whole records of a CSV body, and the 1-based line of the file where they start."""

    data: _Bytes
    first_line: int


def _raw_blocks(
    fh: io.BufferedReader, carry: bytes, first_line: int, delimiter: str
) -> Iterator[_RawBlock]:
    """The rest of the file in blocks of about BLOCK_BYTES, each ending at a record's end."""
    line = first_line
    eof = False
    while carry or not eof:
        # Read into a fresh bytearray and truncate it at the cut: the block is never copied.
        data = bytearray(carry)
        want = BLOCK_BYTES
        while True:
            if len(data) < want and not eof:
                size = len(data)
                data.extend(bytes(want - size))  # grown in place; readinto fills the new room
                got = fh.readinto(memoryview(data)[size:])
                del data[size + got :]
                eof = size + got < want
            if eof and len(data) <= want:
                cut = len(data)
                break
            cut = _record_end(data if len(data) <= want else data[:want], ord(delimiter))
            if cut > 0:
                break
            want *= 2  # a record longer than the block: read on until it ends
        if cut == 0:
            return
        carry = bytes(data[cut:])
        del data[cut:]
        yield _RawBlock(data, line)
        line += int(np.count_nonzero(np.frombuffer(data, dtype=np.uint8) == _LF))


# -- CSV: parsing a block --------------------------------------------------------------------


def _slices(data: Any, bounds: npt.NDArray[np.int32]) -> pa.Array:
    """The string array whose element i is ``data[bounds[i]:bounds[i + 1]]`` (zero-copy)."""
    return pa.StringArray.from_buffers(
        bounds.shape[0] - 1, pa.py_buffer(bounds), pa.py_buffer(data)
    )


def _every_other(pieces: pa.Array) -> pa.Array:
    """Elements 0, 2, 4... of ``pieces``: with bounds ``[s0, e0, s1, e1...]``, the ranges
    ``data[s:e]`` without the gaps between them (copied into one new array)."""
    even = np.arange(0, len(pieces) + 1, 2, dtype=np.int32)
    return pc.take(pieces, pa.array(even), memory_pool=_MEMORY)


def _lines(
    data: _Bytes, arr: npt.NDArray[np.uint8], terminator: bytes
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], bool]:
    """Start and content end (before ``\\n`` or ``\\r\\n``) of every line of a block, and
    whether every line ends with the file's own terminator (the last line may have none)."""
    newlines = np.flatnonzero(arr == _LF)
    ends = newlines
    uniform = terminator == b"\n"
    if b"\r" in data:
        cr = np.zeros(newlines.shape[0], dtype=bool)
        cr[newlines > 0] = arr[newlines[newlines > 0] - 1] == _CR
        ends = newlines - cr
        uniform = bool(cr.all()) if terminator == b"\r\n" else not cr.any()
    starts = np.empty(newlines.shape[0] + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = newlines + 1
    if arr.shape[0] and arr[-1] != _LF:  # the file's last line, without a terminator
        return starts, np.append(ends, arr.shape[0]), uniform
    return starts[:-1], ends, uniform


class _CsvParser:
    """Turns raw blocks of one CSV file into :class:`_Block` s (fast path or exact path)."""

    def __init__(
        self, header: tuple[str, ...], positions: Sequence[int], delimiter: str, terminator: str
    ) -> None:
        self._names = [f"c{i}" for i in range(len(header))]
        self._width = len(header)
        self._delimiter = delimiter
        self._delimiter_byte = ord(delimiter)
        self._terminator = terminator.encode()
        # Tab starts a formula, but in a tab-separated file an unquoted cell cannot start with
        # one; CR is left to the exact path (quote-free blocks hold no lone CR).
        self._formula_bytes = tuple(ord(c) for c in "=+-@\t" if c != delimiter)
        self._features = [self._names[p] for p in positions]
        # Feature columns are read dictionary-encoded while their values repeat (ages, scores,
        # counts): to_numeric then reads each distinct text once. (Plain reads of shared state
        # from both workers: a stale flag costs a little time, never a wrong number.)
        self._dictionary = dict.fromkeys(self._features, True)

    def parse(self, raw: _RawBlock) -> _Block:
        self._check_text(raw)
        data = raw.data
        simple = b'"' not in data
        if simple and b"\r" in data:
            arr = np.frombuffer(data, dtype=np.uint8)
            cr = np.flatnonzero(arr == _CR)
            # A lone CR ends a record for the parsers but not for the line split below.
            simple = cr[-1] + 1 < arr.shape[0] and bool((arr[cr + 1] == _LF).all())
        if simple:
            block = self._fast(raw)
            if block is not None:
                return block
        return self._exact(raw)

    def _check_text(self, raw: _RawBlock) -> None:
        """Refuse binary data and text that is not UTF-8, naming the line."""
        if raw.data.isascii() and b"\x00" not in raw.data:
            return
        try:
            check_text(bytes(raw.data), complete=True)
        except DataValidationError as exc:
            raise DataValidationError(
                [
                    Problem(
                        p.column,
                        p.reason,
                        p.rows,
                        None if p.line is None else p.line + raw.first_line - 1,
                    )
                    for p in exc.problems
                ]
            ) from None

    def _read(self, raw: _RawBlock, *, everything: bool) -> pa.Table:
        """The block parsed by pyarrow, cells as text: every column, or the features only."""
        columns = self._names if everything else self._features
        types = {name: pa.string() for name in columns}
        if not everything:
            types.update({name: _DICTIONARY for name in self._dictionary if self._dictionary[name]})
        try:
            return pacsv.read_csv(
                pa.py_buffer(raw.data),
                read_options=pacsv.ReadOptions(
                    column_names=self._names,
                    use_threads=False,  # the blocks are scored in parallel already
                    block_size=max(len(raw.data) + 1, 1 << 20),
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self._delimiter, newlines_in_values=everything
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types,
                    include_columns=columns,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
                memory_pool=_MEMORY,
            )
        except pa.ArrowInvalid as exc:
            raise self._unreadable(raw, str(exc)) from None

    def _unreadable(self, raw: _RawBlock, message: str) -> DataValidationError:
        """The error for a block pyarrow refused, naming the first ragged line when there is one
        (found again with Python's csv module: slow, but only on the way out)."""
        text = raw.data.decode("utf-8", errors="replace")
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=self._delimiter)
        line = 1
        try:
            for row in reader:
                if row and len(row) != self._width:
                    reason = f"this row has {len(row)} fields but the header has {self._width}"
                    return DataValidationError(
                        [Problem(None, reason, line=raw.first_line + line - 1)]
                    )
                line = reader.line_num + 1
        except csv.Error as exc:
            message = str(exc)
        reason = f"unreadable CSV: {message.removeprefix('CSV parse error: ')}"
        return DataValidationError([Problem(None, reason, line=raw.first_line + line - 1)])

    def _numbers(self, table: pa.Table) -> _Features:
        """The feature columns read as numbers; a column whose texts hardly repeat is read as
        plain text from the next block on (dictionary encoding would cost more than it saves)."""
        features = _Features(table.num_rows, len(self._features))
        for j, name in enumerate(self._features):
            column = table.column(name)
            features.read(j, column)
            if pa.types.is_dictionary(column.type) and column.num_chunks:
                if len(column.chunk(0).dictionary) * 3 > table.num_rows:
                    self._dictionary[name] = False
        return features

    def _exact(self, raw: _RawBlock) -> _Block:
        """Every cell parsed and rendered again: quotes, embedded newlines, lone CRs."""
        table = self._read(raw, everything=True)
        columns = [table.column(i).combine_chunks() for i in range(table.num_columns)]
        lines = _render_rows(columns, self._delimiter) if table.num_rows else _EMPTY
        features = self._numbers(table)
        return _Block(lines, features.values, features.invalid, terminated=False)

    def _fast(self, raw: _RawBlock) -> _Block | None:
        """Raw lines copied as they are; None when pyarrow sees other rows than the line split.

        Usually the lines are zero-copy views of the block, each starting with the previous
        line's terminator. A block with blank lines (no rows: dropped, as the parsers drop them)
        or with lines ending otherwise than the file's terminator gets its lines' contents
        copied instead, so the output never depends on where the blocks were cut.
        """
        table = self._read(raw, everything=False)
        data = raw.data
        arr = np.frombuffer(data, dtype=np.uint8)
        starts, ends, uniform = _lines(data, arr, self._terminator)
        rows = table.num_rows
        zero_copy = ends.shape[0] == rows and uniform
        if zero_copy:
            bounds = np.empty(rows + 1, dtype=np.int64)  # line i: bounds[i] to bounds[i + 1]
            bounds[0] = 0
            bounds[1:] = ends
            tail = data[int(ends[-1]) :] if rows else b""
            if rows and not data.endswith(b"\n"):
                tail = self._terminator  # the file's last line had none
        else:
            keep = ends > starts
            if int(keep.sum()) != rows:
                return None
            bounds = np.empty(2 * rows, dtype=np.int64)  # line i: bounds[2i] to bounds[2i + 1]
            bounds[0::2], bounds[1::2] = starts[keep], ends[keep]
            tail = b""
        buffer: Any = data
        formulas = self._formula_cells(data, arr)
        if formulas.shape[0]:
            # A "'" before each formula-like cell; every bound moves by the quotes before it.
            buffer = np.insert(arr, formulas, ord("'"))
            bounds += np.searchsorted(formulas, bounds)
        if not rows:
            lines = _EMPTY
        elif zero_copy:
            lines = _slices(buffer, bounds.astype(np.int32))
        else:
            lines = _every_other(_slices(buffer, bounds.astype(np.int32)))
        features = self._numbers(table)
        return _Block(lines, features.values, features.invalid, zero_copy, tail)

    def _formula_cells(self, data: _Bytes, arr: npt.NDArray[np.uint8]) -> npt.NDArray[np.int64]:
        """Where the cells of a quote-free block that start like a formula and are no number
        start (sorted byte offsets).

        Looks only for the bytes that can start a formula (most blocks hold none, ``in`` tells
        at memchr speed), keeps those at the start of a cell, and reads only those cells.
        """
        found = []
        for byte in self._formula_bytes:
            if bytes([byte]) in data:
                at = np.flatnonzero(arr == byte)
                before = arr[np.maximum(at - 1, 0)]
                at = at[(at == 0) | (before == self._delimiter_byte) | (before == _LF)]
                if at.shape[0]:
                    found.append(at)
        if not found:
            return np.empty(0, dtype=np.int64)
        cells = found[0] if len(found) == 1 else np.sort(np.concatenate(found))
        bounds = np.empty(2 * cells.shape[0], dtype=np.int32)
        bounds[0::2], bounds[1::2] = cells, self._cell_ends(data, arr, cells)
        texts = _every_other(_slices(data, bounds))  # the even elements are the cells
        number = pc.match_substring_regex(pc.utf8_trim_whitespace(texts), NUMBER_PATTERN)
        formulas: npt.NDArray[np.int64] = cells[
            ~np.asarray(number.to_numpy(zero_copy_only=False), dtype=bool)
        ]
        return formulas

    def _cell_ends(
        self, data: _Bytes, arr: npt.NDArray[np.uint8], cells: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """Where each cell starting at ``cells`` ends: the next delimiter, CR or LF.

        Few cells: looks at the _CELL_WINDOW bytes from each start (a small gather; the rare
        longer cells are settled with ``find``). Many: one pass over the block for its
        separators is cheaper.
        """
        n = arr.shape[0]
        if cells.shape[0] * _CELL_WINDOW > n // 4:
            d = self._delimiter_byte
            separators = np.flatnonzero((arr == d) | (arr == _LF) | (arr == _CR))
            following = np.searchsorted(separators, cells)
            inside = following < separators.shape[0]
            ends: npt.NDArray[np.int64] = np.full(cells.shape[0], n, dtype=np.int64)
            ends[inside] = separators[following[inside]]
            return ends
        padded = np.empty(n + _CELL_WINDOW, dtype=np.uint8)
        padded[:n] = arr
        padded[n:] = _LF
        windows = np.lib.stride_tricks.sliding_window_view(padded, _CELL_WINDOW)[cells]
        separator = (windows == self._delimiter_byte) | (windows == _LF) | (windows == _CR)
        first = separator.argmax(axis=1)
        cell_ends: npt.NDArray[np.int64] = np.minimum(cells + first, n)
        for i in np.flatnonzero(~separator.any(axis=1)).tolist():
            start = int(cells[i])
            seen = [data.find(c, start) for c in (self._delimiter.encode(), b"\n", b"\r")]
            cell_ends[i] = min([f for f in seen if f >= 0], default=n)
        return cell_ends


# -- scoring a block -------------------------------------------------------------------------


def _confidence_index(confidence: npt.NDArray[np.float64]) -> npt.NDArray[np.int32]:
    """``confidence`` in steps of 1/10000, rounded exactly as ``f"{c:.4f}"`` rounds.

    ``c * 10000`` is itself rounded, so values within a hair of a half step are settled by
    formatting them (a handful per million rows at most).
    """
    scaled = confidence * _CONF_STEPS
    index = np.rint(scaled)
    near_half = np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6
    if near_half.any():
        index[near_half] = [
            round(float(f"{c:.4f}") * _CONF_STEPS) for c in confidence[near_half].tolist()
        ]
    return np.clip(index, 0, _CONF_STEPS).astype(np.int32)


@functools.lru_cache(maxsize=4)
def _confidence_cells(delimiter: str) -> tuple[tuple[str, ...], pa.Array]:
    """``0.0000,`` to ``1.0000,``: every confidence cell and its delimiter, as text and array."""
    texts = tuple(f"{i / _CONF_STEPS:.4f}{delimiter}" for i in range(_CONF_STEPS + 1))
    return texts, pa.array(texts, pa.string())


class _Scorer:
    """Predicts each block's rows and appends the four scoring cells (thread-safe).

    The cells come from lookup tables: ``,<id>,<name>,`` per cluster id (entry k: ``,,,`` for a
    row not scored), then ``<confidence>,`` per 4-decimal confidence or ``,<reason>`` per reason
    met so far (the table grows the first time a combination of problems turns up).
    """

    def __init__(self, model: SegmentationModel, delimiter: str, terminator: str) -> None:
        self.model = model
        self._k = model.info.k
        self._d = d = delimiter
        self._terminator = terminator
        names = [render_cell(n, d) for n in model.segment_names]
        self._segment_cells = pa.array(
            [f"{d}{i}{d}{name}{d}" for i, name in enumerate(names)] + [d * 3], pa.string()
        )
        texts, self._tail_cells = _confidence_cells(d)
        self._tail_texts = list(texts)
        self._reasons: dict[int, int] = {}  # problem key -> index into the tail table
        self._lock = threading.Lock()
        self._weights = 4 ** np.arange(len(model.spec.features), dtype=np.int64)

    def header(self, original: str) -> bytes:
        """The header line: the original header's text, then the four scoring columns."""
        d = self._d
        return (original + d + d.join(OUTPUT_COLUMNS) + self._terminator).encode()

    def _reason(self, codes: Sequence[int]) -> str:
        """``age: missing; revenue: must be at least 0`` for one row's problem codes."""
        return problem_text(self.model.spec, codes)

    def _reason_indices(self, codes: npt.NDArray[np.int8]) -> tuple[npt.NDArray[np.int32], Any]:
        """Each unscored row's index into the tail table (``codes``: those rows' codes), and
        the table to take them from."""
        keys = codes.astype(np.int64) @ self._weights
        unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        with self._lock:
            for key, row in zip(unique.tolist(), first.tolist(), strict=True):
                if key not in self._reasons:
                    self._reasons[key] = len(self._tail_texts)
                    reason = render_cell(self._reason(codes[row].tolist()), self._d)
                    self._tail_texts.append(self._d + reason)
                    self._tail_cells = pa.array(self._tail_texts, pa.string())
            index = np.array([self._reasons[key] for key in unique.tolist()], dtype=np.int32)
            return index[inverse.reshape(-1)], self._tail_cells

    def _predict(
        self, block: _Block
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32], Any, npt.NDArray[np.int64]]:
        """Per row the index into the segment table and into the tail table; the tail table;
        customers per segment."""
        X = block.values
        codes = self.model.problem_codes(X, block.invalid)
        tail_cells = self._tail_cells
        if not codes.any():
            segment, tail = self._segments(X)
            return segment, tail, tail_cells, np.bincount(segment, minlength=self._k)
        bad = codes.any(axis=1)
        ok = ~bad
        segment = np.full(block.rows, self._k, dtype=np.int32)
        tail = np.empty(block.rows, dtype=np.int32)
        tail[bad], tail_cells = self._reason_indices(codes[bad])
        counts = np.zeros(self._k, dtype=np.int64)
        if ok.any():
            scored_segment, scored_tail = self._segments(X[ok])
            segment[ok], tail[ok] = scored_segment, scored_tail
            counts = np.bincount(scored_segment, minlength=self._k)
        return segment, tail, tail_cells, counts

    def _segments(
        self, X: npt.NDArray[np.float64]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Cluster id and confidence index of every row, predicted _PREDICT_ROWS at a time: the
        prediction's (rows x k) temporaries then stay small and in cache."""
        segment = np.empty(X.shape[0], dtype=np.int32)
        tail = np.empty(X.shape[0], dtype=np.int32)
        for start in range(0, X.shape[0], _PREDICT_ROWS):
            part = slice(start, start + _PREDICT_ROWS)
            prediction = self.model.predict_batch_unchecked(X[part])
            segment[part] = prediction.cluster_ids
            tail[part] = _confidence_index(prediction.confidence)
        return segment, tail

    def score(self, block: _Block) -> _Scored:
        """The scored block's bytes, as buffers to write in order."""
        pieces: list[Any] = []
        counts = np.zeros(self._k, dtype=np.int64)
        if block.rows:
            segment, tail, tail_cells, counts = self._predict(block)
            parts = [
                block.lines,
                pc.take(self._segment_cells, pa.array(segment), memory_pool=_MEMORY),
                pc.take(tail_cells, pa.array(tail), memory_pool=_MEMORY),
            ]
            if not block.terminated:
                parts.append(self._terminator)
            out = pc.binary_join_element_wise(*parts, "", memory_pool=_MEMORY)
            size = int(np.frombuffer(out.buffers()[1], dtype=np.int32)[out.offset + len(out)])
            pieces.append(out.buffers()[2][:size])
        if block.tail:
            pieces.append(block.tail)
        return _Scored(pieces, block.rows, counts)


# -- public API ------------------------------------------------------------------------------


class ScoredCsv:
    """One scoring job: iterate :meth:`chunks` once for the scored CSV; then read ``summary``.

    Built by :func:`score_file` or :func:`score_batches`, which check the columns and score the
    first block before returning, so most unreadable inputs fail before the first chunk.
    """

    def __init__(
        self, header: bytes, blocks: Generator[_Scored, None, None], model: SegmentationModel
    ) -> None:
        self._model = model
        self._blocks = blocks
        self._rows = 0
        self._counts = np.zeros(model.info.k, dtype=np.int64)
        try:
            self._first: _Scored | None = next(blocks, None)  # eager: first-block errors here
        except BaseException:
            blocks.close()
            raise
        self._header = header
        self._started = False
        self._done = False

    def buffers(self) -> Iterator[list[Any]]:
        """The scored CSV as lists of buffers (zero-copy views), one list per block."""
        if self._started:
            raise RuntimeError("a ScoredCsv can be iterated only once")
        self._started = True
        try:
            first, self._first = self._first, None
            pieces: list[Any] = [self._header]
            if first is not None:
                for scored in _chain(first, self._blocks):
                    self._rows += scored.rows
                    self._counts += scored.counts
                    yield [*pieces, *scored.pieces]
                    pieces = []
            if pieces:
                yield pieces
            self._done = True
        finally:
            self._blocks.close()

    def chunks(self) -> Iterator[bytes]:
        """The scored CSV as byte chunks (one per block, a few MB each), header first."""
        for pieces in self.buffers():
            yield b"".join(pieces)

    @property
    def summary(self) -> ScoreSummary:
        """Rows read, rows scored and customers per segment; once :meth:`chunks` is exhausted."""
        if not self._done:
            raise RuntimeError("the summary is known once every chunk has been read")
        counts = self._counts.tolist()
        return ScoreSummary(
            version=self._model.version,
            rows=self._rows,
            scored_rows=int(sum(counts)),
            segments=tuple(
                SegmentCount(cluster_id=i, segment_name=name, customers=counts[i])
                for i, name in enumerate(self._model.segment_names)
            ),
        )


def _chain(first: T, rest: Iterator[T]) -> Iterator[T]:
    yield first
    yield from rest


def _feature_positions(model: SegmentationModel, header: Sequence[str]) -> list[int]:
    """Where each of the model's features is in the header (exact name, else trimmed name).

    DataValidationError naming every missing column and listing the file's columns.
    """
    exact = {name: i for i, name in enumerate(header)}
    trimmed: dict[str, int] = {}
    for i, name in enumerate(header):
        trimmed.setdefault(name.strip(), i)
    positions, missing = [], []
    for column in model.spec.columns:
        position = exact.get(column, trimmed.get(column.strip()))
        if position is None:
            missing.append(column)
        else:
            positions.append(position)
    if missing:
        listed = ", ".join(header) if header else "(none)"
        raise DataValidationError(
            [
                Problem(
                    column,
                    f"the file has no column {column!r}, which the model needs; "
                    f"its columns: {listed}",
                )
                for column in missing
            ]
        )
    return positions


def _csv_blocks(
    fh: io.BufferedReader, blocks: Iterator[_RawBlock], parser: _CsvParser, scorer: _Scorer
) -> Generator[_Scored, None, None]:
    with fh:
        yield from _in_order(blocks, lambda raw: scorer.score(parser.parse(raw)))


def score_file(model: SegmentationModel, source: Path) -> ScoredCsv:
    """Score a CSV or Parquet file (recognised by its content, not its name) with ``model``.

    Raises DataValidationError before returning when the file lacks a feature column or is
    unreadable (binary, not UTF-8, no header, a ragged row) within its first block; a problem
    further down surfaces while iterating.
    """
    head, complete = read_head(source)
    if is_parquet(head):
        return _score_parquet(model, source)
    fmt = sniff_csv(head, complete=complete)
    positions = _feature_positions(model, fmt.header)
    d = fmt.delimiter
    scorer = _Scorer(model, d, fmt.line_terminator)
    fh = open(source, "rb")  # noqa: SIM115 - closed by _csv_blocks, or below on error
    try:
        record, rest = _read_header(fh, d)
        header_text = record.decode("utf-8").rstrip("\r\n")
        if any(
            name[:1] and name[0] in FORMULA_START and not _is_number(name) for name in fmt.header
        ):
            header_text = ("\ufeff" if fmt.bom else "") + d.join(
                render_cell(name, d) for name in fmt.header
            )
        raw = _raw_blocks(fh, rest, record.count(b"\n") + 1, d)
        parser = _CsvParser(fmt.header, positions, d, fmt.line_terminator)
        return ScoredCsv(scorer.header(header_text), _csv_blocks(fh, raw, parser, scorer), model)
    except BaseException:
        fh.close()
        raise


def _sliced(batches: Iterable[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The batches' non-empty slices of at most BATCH_ROWS rows."""
    for batch in batches:
        for start in range(0, batch.num_rows, BATCH_ROWS):
            yield batch.slice(start, BATCH_ROWS)


def _batch_blocks(
    batches: Iterator[pa.RecordBatch], positions: Sequence[int], scorer: _Scorer, delimiter: str
) -> Generator[_Scored, None, None]:
    def work(batch: pa.RecordBatch) -> _Scored:
        lines = _render_rows(batch.columns, delimiter)
        features = _Features(batch.num_rows, len(positions))
        for j, position in enumerate(positions):
            features.read(j, batch.column(position))
        return scorer.score(_Block(lines, features.values, features.invalid, terminated=False))

    return _in_order(_sliced(batches), work)


def _score_arrow(
    model: SegmentationModel,
    names: Sequence[str],
    batches: Iterator[pa.RecordBatch],
    delimiter: str,
    line_terminator: str,
) -> ScoredCsv:
    positions = _feature_positions(model, names)
    scorer = _Scorer(model, delimiter, line_terminator)
    header = scorer.header(delimiter.join(render_cell(n, delimiter) for n in names))
    return ScoredCsv(header, _batch_blocks(batches, positions, scorer, delimiter), model)


def score_batches(
    model: SegmentationModel,
    batches: Iterable[pa.RecordBatch],
    *,
    delimiter: str = ",",
    line_terminator: str = "\n",
) -> ScoredCsv:
    """Score a stored dataset's record batches (a CSV's text columns or a Parquet file's typed
    columns), written with ``delimiter`` and ``line_terminator``.

    Cells are rendered as text (text as it is, numbers as Arrow prints them, nulls empty), quoted
    where needed and neutralised when formula-like. DataValidationError before returning when
    the batches lack a feature column.
    """
    iterator = iter(batches)
    first = next(iterator, None)
    if first is None:
        return _score_arrow(model, (), iter(()), delimiter, line_terminator)
    names = tuple(first.schema.names)
    return _score_arrow(model, names, _chain(first, iterator), delimiter, line_terminator)


def _score_parquet(model: SegmentationModel, source: Path) -> ScoredCsv:
    try:
        parquet = pq.ParquetFile(source)
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(
            [Problem(None, f"the file is not a readable Parquet file: {exc}")]
        ) from None
    try:
        names = tuple(parquet.schema_arrow.names)
        return _score_arrow(model, names, _parquet_batches(parquet), ",", "\n")
    except BaseException:
        parquet.close()
        raise


def _parquet_batches(parquet: pq.ParquetFile) -> Iterator[pa.RecordBatch]:
    """The file's record batches; a damaged file is a DataValidationError; closed at the end."""
    try:
        yield from parquet.iter_batches(batch_size=BATCH_ROWS)
    except (pa.ArrowException, OSError) as exc:
        raise DataValidationError(
            [Problem(None, f"the Parquet file cannot be read: {exc}")]
        ) from None
    finally:
        parquet.close()


def write_scored(job: ScoredCsv, out: Path) -> ScoreSummary:
    """Write the scored CSV to ``out`` atomically and return its summary.

    The bytes go to a temporary file in ``out``'s folder, are flushed to disk, then renamed over
    ``out``: a reader sees the old file or the whole new one, and an error leaves nothing behind.
    The file gets the usual permissions (0666 less the umask), not a temporary file's 0600.
    """
    temp = out.parent / f".{out.name}.{secrets.token_hex(8)}.part"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as fh:
            for pieces in job.buffers():
                for piece in pieces:
                    fh.write(piece)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return job.summary
