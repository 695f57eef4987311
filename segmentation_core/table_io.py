"""Recognising customer files: Parquet or CSV, and a CSV's delimiter, BOM, header and line end.

Everything that reads a user's file starts here (dataset import, bulk scoring), so a file is
understood the same way everywhere, and a file that is not a usable table is refused with a
:class:`~segmentation_core.errors.DataValidationError` naming the line, the column and the reason.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from segmentation_core.errors import DataValidationError, Problem, TooLargeError

#: Most columns a table may have: more is not a customer export but a matrix of something else.
MAX_COLUMNS = 500
#: Bytes read to recognise a file (format, delimiter, header).
SNIFF_BYTES = 64 * 1024
#: Delimiters a CSV may use, in order of preference when several would fit.
DELIMITERS = (",", ";", "\t")
PARQUET_MAGIC = b"PAR1"
_BOM = b"\xef\xbb\xbf"


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
        seen: dict[str, int] = {}
        for position, name in enumerate(header, start=1):
            clean = name.strip()
            if not clean:
                problems.append(
                    Problem(None, f"column {position} of the header has no name", line=1)
                )
                continue
            seen[clean] = seen.get(clean, 0) + 1
        problems += [
            Problem(name, f"the header names this column {count} times; names must be unique",
                    line=1)
            for name, count in seen.items()
            if count > 1
        ]
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
