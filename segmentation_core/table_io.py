"""Recognising customer files: Parquet or CSV, and a CSV's delimiter, BOM, header and line end.

Everything that reads a user's file starts here (dataset import, bulk scoring), so a file is
understood the same way everywhere, and a file that is not a usable table is refused with a
:class:`~segmentation_core.errors.DataValidationError` naming the line, the column and the reason.
"""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from segmentation_core.errors import DataValidationError, Problem, TooLargeError
from segmentation_core.settings import DEFAULT_MAX_ROWS

#: Most columns a table may have: more is not a customer export but a matrix of something else.
MAX_COLUMNS = 500
#: Bytes read to recognise a file (format, delimiter, header).
SNIFF_BYTES = 64 * 1024
#: Delimiters a CSV may use, in order of preference when several would fit.
DELIMITERS = (",", ";", "\t")
PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"
_QUOTE = ord('"')
#: Bytes a CSV reader block holds. A row longer than a block is read again with one block as
#: large as the file.
CSV_BLOCK_BYTES = 1 << 20
#: Bytes read at a time when a file is scanned for a bad byte or a line number.
SCAN_BYTES = 1 << 20
#: Files people upload by mistake, by their first bytes.
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive or an Excel workbook (.xlsx)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 workbook (.xls)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"%PDF-", "a PDF document"),
)


@dataclass(frozen=True)
class CsvFormat:
    """How a CSV file is written: its delimiter, whether it starts with a UTF-8 BOM, its header
    names (as written, untrimmed), and its line terminator (``\\n`` or ``\\r\\n``)."""

    delimiter: str
    bom: bool
    header: tuple[str, ...]
    line_terminator: str


def _refuse(reason: str, *, line: int | None = None, column: str | None = None) -> None:
    raise DataValidationError([Problem(column, reason, line=line)])


def is_parquet(head: bytes) -> bool:
    """Whether a file starting with ``head`` is Parquet (its magic number)."""
    return head[:4] == PARQUET_MAGIC


def check_text(sample: bytes, *, complete: bool) -> str:
    """The sample decoded as UTF-8 (BOM removed); refuses binary data and other encodings.

    ``complete`` says the sample is the whole file; otherwise a character cut at its end is fine.
    """
    nul = sample.find(b"\x00")
    if nul >= 0:
        _refuse(
            f"the file holds binary data (a zero byte at offset {nul}); "
            "upload a CSV (UTF-8 text) or a Parquet file",
            line=sample.count(b"\n", 0, nul) + 1,
        )
    body = sample[len(_BOM) :] if sample.startswith(_BOM) else sample
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return body[: exc.start].decode("utf-8")
        line = body.count(b"\n", 0, exc.start) + 1
        _refuse(
            f"the file is not UTF-8 text (byte 0x{body[exc.start]:02x} at offset {exc.start}); "
            "save it as 'CSV UTF-8' and upload it again",
            line=line,
        )
    raise AssertionError("unreachable")


def _records(text: str, delimiter: str, limit: int) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    try:
        for row in reader:
            rows.append(row)
            if len(rows) >= limit:
                break
    except csv.Error:
        pass  # a quoted field cut at the end of the sample
    return rows


def _delimiter(text: str, complete: bool) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of fields."""
    best, best_fields = DELIMITERS[0], 1
    for candidate in DELIMITERS:
        rows = _records(text, candidate, 50)
        if not complete and len(rows) > 1:
            rows = rows[:-1]  # the last line may be cut by the sample's end
        rows = [r for r in rows if r]
        if not rows:
            continue
        widths = {len(r) for r in rows}
        if len(widths) == 1 and (fields := widths.pop()) > best_fields:
            best, best_fields = candidate, fields
    if best_fields == 1:
        # No delimiter gives consistent rows: take the one the header uses most (ragged rows are
        # then reported with their line by the reader).
        header = text.split("\n", 1)[0]
        counts = [(header.count(d), -i, d) for i, d in enumerate(DELIMITERS)]
        top = max(counts)
        if top[0] > 0:
            best = top[2]
    return best


def _is_number(cell: str) -> bool:
    try:
        float(cell.strip())
    except ValueError:
        return False
    return bool(cell.strip())


def name_problems(names: tuple[str, ...] | list[str], *, line: int | None) -> list[Problem]:
    """Problems of a table's column names: empty names, and names used twice (after trimming)."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        clean = name.strip()
        if not clean:
            problems.append(
                Problem(None, f"column {position} of the header has no name", line=line)
            )
            continue
        seen[clean] = seen.get(clean, 0) + 1
    problems += [
        Problem(
            name, f"the header names this column {count} times; names must be unique", line=line
        )
        for name, count in seen.items()
        if count > 1
    ]
    return problems


def refuse_known_binary(head: bytes) -> None:
    """Refuse files people often upload by mistake (a workbook, an archive), by their magic
    number, with a reason that says what to do instead."""
    for magic, what in _KNOWN_BINARY:
        if head.startswith(magic):
            _refuse(
                f"the file is {what}, not a table; save the sheet as 'CSV UTF-8' or Parquet "
                "and upload that",
                line=1,
            )


def sniff_csv(sample: bytes, *, complete: bool) -> CsvFormat:
    """Recognise a CSV file from its first bytes (``complete``: the sample is the whole file).

    Raises DataValidationError for an empty file, binary data, non-UTF-8 text, a missing header
    row (every header cell a number), empty or duplicate header names, or more than
    :data:`MAX_COLUMNS` columns.
    """
    if not sample.strip(_BOM + b" \t\r\n"):
        _refuse("the file is empty; it needs a header row and at least one row of data", line=1)
    text = check_text(sample, complete=complete)
    delimiter = _delimiter(text, complete)
    rows = _records(text, delimiter, 1)
    header = tuple(rows[0]) if rows else ()
    first_line = text.split("\n", 1)[0]
    line_terminator = "\r\n" if first_line.endswith("\r") else "\n"
    if len(header) > MAX_COLUMNS:
        raise TooLargeError(
            [
                Problem(
                    None,
                    f"the file has {len(header)} columns; at most {MAX_COLUMNS} are accepted",
                    line=1,
                )
            ]
        )
    problems: list[Problem] = []
    if header and all(_is_number(h) for h in header):
        problems.append(
            Problem(
                None,
                "the first line holds only numbers, so the file has no header row; add a first "
                "line naming the columns",
                line=1,
            )
        )
    else:
        problems += name_problems(header, line=1)
    if problems:
        raise DataValidationError(problems)
    return CsvFormat(
        delimiter=delimiter,
        bom=sample.startswith(_BOM),
        header=header,
        line_terminator=line_terminator,
    )


def read_head(path: Path, size: int = SNIFF_BYTES) -> tuple[bytes, bool]:
    """The first ``size`` bytes of a file and whether that is the whole file."""
    with open(path, "rb") as fh:
        head = fh.read(size + 1)
    return head[:size], len(head) <= size


# -- reading whole tables ----------------------------------------------------------------------

RowHandler = Callable[[pcsv.InvalidRow], str]


def csv_options(
    fmt: CsvFormat,
    *,
    invalid_row_handler: RowHandler | None = None,
    block_size: int = CSV_BLOCK_BYTES,
) -> tuple[pcsv.ReadOptions, pcsv.ParseOptions, pcsv.ConvertOptions]:
    """How every CSV of the product is parsed (import and scoring alike): the sniffed
    delimiter, ``"`` quotes (doubled inside quoted values), newlines allowed inside quoted
    values, blank lines skipped, and every column read as the exact text of its cells (no
    trimming, no type guessing; an empty cell is an empty string, never null).

    The header row gives the column names (Arrow skips a UTF-8 BOM, as :func:`sniff_csv` does).
    """
    read = pcsv.ReadOptions(use_threads=True, block_size=block_size)
    parse = pcsv.ParseOptions(
        delimiter=fmt.delimiter,
        quote_char='"',
        double_quote=True,
        escape_char=False,
        newlines_in_values=True,
        ignore_empty_lines=True,
        invalid_row_handler=invalid_row_handler,
    )
    convert = pcsv.ConvertOptions(
        column_types={name: pa.string() for name in fmt.header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
        check_utf8=True,
    )
    return read, parse, convert


def _too_many_rows(max_rows: int) -> TooLargeError:
    return TooLargeError(
        [
            Problem(
                None,
                f"the file has more than {max_rows:,} rows; at most {max_rows:,} are accepted "
                "(SEGMENTATION_MAX_ROWS)",
            )
        ]
    )


def _read_csv_blocks(
    path: Path, fmt: CsvFormat, max_rows: int, handler: RowHandler, block_size: int
) -> pa.Table:
    read, parse, convert = csv_options(fmt, invalid_row_handler=handler, block_size=block_size)
    with contextlib.closing(
        pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)
    ) as reader:
        batches: list[pa.RecordBatch] = []
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            if rows > max_rows:
                raise _too_many_rows(max_rows)
            batches.append(batch)
        return pa.Table.from_batches(batches, schema=reader.schema)


def read_csv_text(
    path: Path,
    fmt: CsvFormat,
    max_rows: int = DEFAULT_MAX_ROWS,
    *,
    quotes: int | None = None,
) -> pa.Table:
    """Every cell of a CSV file as text (see :func:`csv_options`), columns named by the header
    (trimmed), in file order.

    Raises DataValidationError naming the line for a row with too few or too many fields, for
    a quoted value that is never closed (which would swallow the rest of the file into one
    cell) or for bytes that are not UTF-8, and TooLargeError as soon as the file holds more
    than ``max_rows`` rows. ``quotes``: the number of ``"`` in the file when the caller
    counted them already (else they are counted here, a quick pass).
    """
    if quotes is None:
        quotes = count_quotes(path)
    if quotes % 2:  # an odd number of quotes: maybe one is never closed
        unclosed = locate_unclosed_quote(path, fmt)
        if unclosed is not None:
            raise DataValidationError([unclosed])
    ragged: list[pcsv.InvalidRow] = []

    def stop_at_ragged_row(row: pcsv.InvalidRow) -> str:
        ragged.append(row)
        return "error"

    block_size = CSV_BLOCK_BYTES
    while True:
        try:
            table = _read_csv_blocks(path, fmt, max_rows, stop_at_ragged_row, block_size)
            break
        except pa.ArrowInvalid as exc:
            message = str(exc)
            size = path.stat().st_size
            if "straddl" in message and block_size <= size:
                block_size = min(size + 1, 2**31 - 1)  # a row longer than a block
                continue
            if "Empty CSV file" in message:
                # a header row with no line end after it: no rows
                table = pa.table({name: pa.array([], pa.string()) for name in fmt.header})
                break
            raise _unreadable_csv(path, fmt, message, ragged[0] if ragged else None) from None
    if table.column_names != list(fmt.header) or any(
        not pa.types.is_string(t) for t in table.schema.types
    ):
        _refuse(
            "the header row could not be read consistently; check its quotes and delimiters",
            line=1,
        )
    return table.rename_columns([name.strip() for name in fmt.header])


def _unreadable_csv(
    path: Path, fmt: CsvFormat, message: str, row: pcsv.InvalidRow | None
) -> DataValidationError:
    """The error for a CSV pyarrow refused: the ragged row or the bad byte with its line."""
    if row is not None:
        problem = locate_ragged_row(path, fmt)
        if problem is None:  # pyarrow and Python's csv disagree: report what pyarrow saw
            problem = Problem(
                None,
                f"a row has {row.actual_columns} fields; the header has {row.expected_columns}: "
                f"{row.text[:80]!r}",
                line=row.number,
            )
        return DataValidationError([problem])
    problem = find_invalid_utf8(path)
    if problem is not None:
        return DataValidationError([problem])
    short = message.split("\n", 1)[0][:200]
    return DataValidationError([Problem(None, f"the file could not be read as CSV ({short})")])


@contextlib.contextmanager
def _large_csv_fields() -> Iterator[None]:
    """Let Python's csv module read fields as long as pyarrow does (its default is 128 KiB)."""
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def locate_ragged_row(path: Path, fmt: CsvFormat) -> Problem | None:
    """The first row whose number of fields differs from the header's, with its physical line
    (header = line 1; a quoted value spanning lines counts all of them); None if every row fits.

    Reads the file with Python's csv module under the same dialect as :func:`csv_options`, so
    only for a file pyarrow already refused.
    """
    expected = len(fmt.header)
    with (
        open(path, encoding="utf-8-sig", errors="replace", newline="") as fh,
        _large_csv_fields(),
    ):
        reader = csv.reader(fh, delimiter=fmt.delimiter, quotechar='"', doublequote=True)
        previous = 0
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record or len(record) == expected:
                continue  # blank lines are skipped, as pyarrow does
            found = len(record)
            reason = f"line {start} has {found} field{'s' if found != 1 else ''}; the header has "
            reason += f"{expected}"
            if reader.line_num > start and next(reader, None) is None:
                reason += (
                    f' (a quoted value opened on line {start} is never closed: a " is missing)'
                )
            elif found < expected:
                reason += " (a delimiter is missing, or the row is cut short)"
            else:
                reason += (
                    f" (a value holding {_delimiter_name(fmt.delimiter)} must be in double quotes)"
                )
            return Problem(None, reason, line=start)
    return None


def count_quotes(path: Path) -> int:
    """How many ``"`` the file holds (a chunked pass)."""
    with open(path, "rb") as fh:
        return sum(quote_count(chunk) for chunk in iter(lambda: fh.read(SCAN_BYTES), b""))


def quote_count(chunk: bytes) -> int:
    """How many ``"`` a chunk of bytes holds."""
    return int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) == _QUOTE))


def locate_unclosed_quote(path: Path, fmt: CsvFormat) -> Problem | None:
    """The line of a quoted value still open at the end of the file, or None.

    A quote inside an unquoted value (``5" screen``) is kept as text, by pyarrow too, so an odd
    number of quotes alone proves nothing; Python's csv module in strict mode tells."""
    with (
        open(path, encoding="utf-8-sig", errors="replace", newline="") as fh,
        _large_csv_fields(),
    ):
        reader = csv.reader(
            fh, delimiter=fmt.delimiter, quotechar='"', doublequote=True, strict=True
        )
        previous = 0
        try:
            for _ in reader:
                previous = reader.line_num
        except csv.Error as exc:
            if "unexpected end of data" not in str(exc):
                return None  # loose quoting pyarrow accepts: not our concern here
            line = previous + 1
            return Problem(
                None,
                f'line {line} opens a quoted value that is never closed: a " is missing, so '
                "the rest of the file would be read as one cell",
                line=line,
            )
    return None


def _delimiter_name(delimiter: str) -> str:
    return {",": "a comma", ";": "a semicolon", "\t": "a tab"}.get(delimiter, repr(delimiter))


def find_invalid_utf8(path: Path) -> Problem | None:
    """The first byte of the file that is not UTF-8, as a Problem naming its line; None if the
    whole file is UTF-8. Reads the file in chunks (bounded memory)."""
    carry = b""
    lines_before = 0  # line ends before ``carry``
    base = 0  # file offset of ``carry``
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(SCAN_BYTES)
            data = carry + chunk
            try:
                data.decode("utf-8")
                done = len(data)
            except UnicodeDecodeError as exc:
                cut = exc.reason == "unexpected end of data" and exc.end == len(data)
                if not chunk or not cut:
                    line = lines_before + data.count(b"\n", 0, exc.start) + 1
                    return Problem(
                        None,
                        f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line "
                        f"{line}, offset {base + exc.start}); save it as 'CSV UTF-8' and "
                        "upload it again",
                        line=line,
                    )
                done = exc.start  # a character cut by the chunk's end: decode it with the next
            if not chunk:
                return None
            lines_before += data.count(b"\n", 0, done)
            base += done
            carry = data[done:]


def line_of_offset(path: Path, offset: int) -> int:
    """The 1-based line of the file holding byte ``offset``."""
    lines = 1
    position = 0
    with open(path, "rb") as fh:
        while position < offset and (chunk := fh.read(min(SCAN_BYTES, offset - position))):
            lines += chunk.count(b"\n")
            position += len(chunk)
    return lines


def binary_data_problem(path: Path, offset: int) -> Problem:
    """The Problem of a zero byte at ``offset`` of a file that should be text."""
    return Problem(
        None,
        f"the file holds binary data (a zero byte at offset {offset}); "
        "upload a CSV (UTF-8 text) or a Parquet file",
        line=line_of_offset(path, offset),
    )


def _damaged_parquet(exc: BaseException) -> DataValidationError:
    short = str(exc).split("\n", 1)[0][:200]
    return DataValidationError(
        [
            Problem(
                None,
                f"the Parquet file is damaged or incomplete ({short}); export it again",
            )
        ]
    )


def read_parquet(path: Path, max_rows: int = DEFAULT_MAX_ROWS) -> pa.Table:
    """A Parquet file's table, its columns typed as written, named as written (trimmed).

    The footer is checked before any data is read: more than :data:`MAX_COLUMNS` columns or
    ``max_rows`` rows is a TooLargeError; empty or duplicate column names, a damaged footer or
    data that does not match it (a truncated file, corrupt pages) a DataValidationError.
    """
    try:
        parquet = pq.ParquetFile(path, page_checksum_verification=True)
        metadata = parquet.metadata
        names = list(parquet.schema_arrow.names)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _damaged_parquet(exc) from None
    if len(names) > MAX_COLUMNS:
        raise TooLargeError(
            [
                Problem(
                    None, f"the file has {len(names)} columns; at most {MAX_COLUMNS} are accepted"
                )
            ]
        )
    if metadata.num_rows > max_rows:
        raise _too_many_rows(max_rows)
    problems = name_problems(names, line=None)
    if problems:
        raise DataValidationError(problems)
    try:
        table = parquet.read(use_threads=True)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise _damaged_parquet(exc) from None
    finally:
        parquet.close()
    if table.num_rows != metadata.num_rows or table.column_names != names:
        raise _damaged_parquet(
            ValueError(
                f"its footer promises {metadata.num_rows} rows, its data holds {table.num_rows}"
            )
        )
    return table.rename_columns([name.strip() for name in names])


def read_table_file(
    path: Path, max_rows: int = DEFAULT_MAX_ROWS
) -> tuple[pa.Table, CsvFormat | None]:
    """A CSV or Parquet file (recognised by its first bytes) as a table, and the CSV's format
    (None for Parquet). CSV cells are text (:func:`read_csv_text`), Parquet columns keep their
    types (:func:`read_parquet`)."""
    head, complete = read_head(path)
    if is_parquet(head):
        return read_parquet(path, max_rows), None
    refuse_known_binary(head)
    fmt = sniff_csv(head, complete=complete)
    return read_csv_text(path, fmt, max_rows), fmt
