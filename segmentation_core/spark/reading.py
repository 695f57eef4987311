"""Reading a table from a URI into a Spark DataFrame, with the local engine's conventions.

A URI is anything the session can read: a local path, ``file://``, ``s3a://``, ``hdfs://``,
``abfss://``, ``gs://``... It names a file or a folder of files (the way Spark writes tables).

* **Format.** Parquet when the URI ends in ``.parquet``/``.pq`` or its first bytes are Parquet's
  magic number ``PAR1``; otherwise CSV. A local file (or the first file of a local folder) is
  read directly; any other URI (and every URI on Spark Connect, whose server reads paths on its
  own machine) through a small ``spark.read.text(uri).limit(...)``.
* **CSV** as the local engine reads it (``segmentation_core.table_io``): UTF-8 with or without a
  BOM, a header row, delimiter ``,`` ``;`` or tab sniffed from the first bytes, RFC 4180 quotes.
  The header is checked like an upload's (no header row, empty or duplicate names are refused).
  EVERY column is read as text, so a scored file can write each cell back as it was.
* **Numbers** are read from text with the same rule as :func:`segmentation_core.numeric.to_numeric`
  (:func:`number_of`): trimmed, a missing token or blank is missing, a whole decimal number is a
  number, anything else (and a non-finite number) is invalid. So a column means the same thing on
  both engines. Parquet columns keep their types; numeric ones are read as numbers (NaN missing).
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from pyspark.errors import PySparkException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from segmentation_core.errors import DataValidationError, Problem
from segmentation_core.numeric import MISSING_TOKENS, NUMBER_PATTERN
from segmentation_core.spark.session import is_connect
from segmentation_core.table_io import SNIFF_BYTES, is_parquet, read_head, sniff_csv

#: Lines of a remote file read to recognise it (format, delimiter, header).
SNIFF_LINES = 64
#: Suffixes that say "Parquet" without looking inside.
PARQUET_SUFFIXES = (".parquet", ".pq")
#: The characters ``pyarrow.compute.utf8_trim_whitespace`` trims: Python's ``str.isspace`` (Java's
#: ``\s``, even Unicode-aware, lacks U+001C..U+001F, so Spark's own trim and regex classes differ).
WHITESPACE = "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_MISSING_CELLS = ("", *MISSING_TOKENS)
_NUMBER_TYPES = (
    T.ByteType,
    T.ShortType,
    T.IntegerType,
    T.LongType,
    T.FloatType,
    T.DoubleType,
    T.DecimalType,
)


@dataclass(frozen=True)
class SourceTable:
    """A table read from a URI: the DataFrame (CSV: every column text) and how it was read."""

    uri: str
    frame: DataFrame
    format: str  # "csv" or "parquet"
    delimiter: str | None = None  # CSV only

    @property
    def name(self) -> str:
        """The URI's last path component (``s3a://lake/crm/customers/`` -> ``customers``)."""
        return source_name(self.uri)

    @property
    def dataset_id(self) -> str:
        """A stable id for the URI (a Spark source is not in the dataset store)."""
        return source_id(self.uri)


def source_name(uri: str) -> str:
    """The last path component of a URI or path, without a trailing slash."""
    path = urlparse(uri).path if "://" in uri else uri
    name = unquote(path.rstrip("/").rsplit("/", 1)[-1])
    return name or uri


def source_id(uri: str) -> str:
    """``spark-`` and 12 hex digits of the URI's sha256: the same URI, the same id."""
    return "spark-" + hashlib.sha256(uri.encode()).hexdigest()[:12]


def quoted(name: str) -> str:
    """A column name as Spark SQL reads it literally (dots, spaces, backticks and all)."""
    return "`" + name.replace("`", "``") + "`"


def col(name: str) -> Column:
    """The column called ``name`` (never parsed as a nested field or an expression)."""
    return F.col(quoted(name))


def refuse(uri: str, reason: str) -> DataValidationError:
    """The error of a table that cannot be read."""
    return DataValidationError([Problem(None, f"cannot read {uri}: {reason}")])


def _first_line(exc: BaseException) -> str:
    java = getattr(exc, "java_exception", None)  # py4j's Py4JJavaError: the Java exception
    text = (str(java.toString()) if java is not None else str(exc)).strip() or type(exc).__name__
    line = text.splitlines()[0]
    # Spark prefixes messages with an error class in brackets; keep what a person can act on
    return re.sub(r"^\[[A-Z_.]+\]\s*", "", line)[:300]


#: Spark error conditions (and Java exception names) that mean "the data cannot be read".
READ_FAILURES = (
    "PATH_NOT_FOUND",
    "FAILED_READ_FILE",
    "MALFORMED_RECORD",
    "MALFORMED_CSV_RECORD",
    "CANNOT_READ_FILE",
    "UNABLE_TO_INFER_SCHEMA",
    "FileNotFoundException",
    "UnsupportedFileSystemException",
    "No FileSystem for scheme",
    "AccessDeniedException",
    "java.io.IOException",
)


def _is_read_failure(exc: BaseException) -> bool:
    get_condition = getattr(exc, "getCondition", None)
    condition = get_condition() if callable(get_condition) else None
    text = f"{condition or ''} {exc}"
    return any(marker in text for marker in READ_FAILURES)


@contextlib.contextmanager
def read_errors(uri: str, *, broad: bool = False) -> Iterator[None]:
    """Turn Spark's errors about reading ``uri`` into DataValidationError: a missing path, an
    unknown file system scheme, a file that is not Parquet, a malformed CSV row (they surface
    at the first action that reads the rows, so trainings and scorings run inside this too).

    ``broad``: every Spark error is about reading (while only reading, e.g. the schema).
    """
    try:
        yield
    except DataValidationError:
        raise
    except Exception as exc:  # PySparkException, py4j's Py4JJavaError (a Java exception)
        spark_error = isinstance(exc, PySparkException) or type(exc).__name__ == "Py4JJavaError"
        if not spark_error or not (broad or _is_read_failure(exc)):
            raise
        raise refuse(uri, _first_line(exc)) from exc


def _local_path(uri: str) -> Path | None:
    """The local path a URI names (no scheme, or ``file:``), else None."""
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file") or (len(parsed.scheme) == 1 and ":" in uri[:3]):
        return Path(unquote(parsed.path) if parsed.scheme == "file" else uri).expanduser()
    return None


def _first_file(folder: Path) -> Path | None:
    """The first data file of a folder Spark would read (hidden and ``_`` files skipped)."""
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(p.startswith((".", "_")) for p in parts):
            return path
    return None


def _local_head(uri: str, path: Path) -> tuple[bytes, bool]:
    if not path.exists():
        raise refuse(uri, "no such file or folder")
    if path.is_dir():
        first = _first_file(path)
        if first is None:
            raise refuse(uri, "the folder holds no data file")
        path = first
    try:
        return read_head(path, SNIFF_BYTES)
    except OSError as exc:
        raise refuse(uri, _first_line(exc)) from exc


def _remote_head(spark: SparkSession, uri: str) -> tuple[bytes, bool]:
    with read_errors(uri, broad=True):
        lines = [r[0] for r in spark.read.text(uri).limit(SNIFF_LINES).collect()]
    text = "\n".join(lines)
    return text.encode("utf-8", errors="surrogateescape"), len(lines) < SNIFF_LINES


def read_table(spark: SparkSession, uri: str) -> SourceTable:
    """The table at ``uri`` (see the module doc); DataValidationError when it cannot be read.

    Nothing is read beyond the first bytes and the schema: the DataFrame is lazy.
    """
    uri = uri.strip()
    if not uri:
        raise DataValidationError([Problem(None, "no table URI given")])
    # A Spark Connect server reads paths on its own machine: look at the file through it.
    local = None if is_connect(spark) else _local_path(uri)
    if uri.rstrip("/").lower().endswith(PARQUET_SUFFIXES) and (local is None or local.exists()):
        head, complete = b"PAR1", False
    elif local is not None:
        head, complete = _local_head(uri, local)
    else:
        head, complete = _remote_head(spark, uri)
    with read_errors(uri, broad=True):
        if is_parquet(head):
            return SourceTable(uri, spark.read.parquet(uri), "parquet")
        fmt = sniff_csv(head, complete=complete)
        frame = (
            spark.read.option("header", True)
            .option("sep", fmt.delimiter)
            .option("quote", '"')
            .option("escape", '"')
            .option("inferSchema", False)
            .option("encoding", "UTF-8")
            .option("mode", "FAILFAST")
            .option("ignoreLeadingWhiteSpace", False)
            .option("ignoreTrailingWhiteSpace", False)
            .csv(uri)
        )
        return SourceTable(uri, frame, "csv", fmt.delimiter)


@dataclass(frozen=True)
class NumberColumns:
    """A column read as numbers, as Spark expressions (each never null, except ``value``)."""

    value: Column  # double; null when missing or invalid
    missing: Column  # boolean
    invalid: Column  # boolean: present but not a finite decimal number


def trimmed(column: Column) -> Column:
    """Text with the whitespace ``utf8_trim_whitespace`` trims removed at both ends."""
    return F.btrim(column, F.lit(WHITESPACE))


def number_of(column: Column, data_type: T.DataType) -> NumberColumns:
    """``numeric.to_numeric``'s rule as Spark expressions, for a column of ``data_type``."""
    if isinstance(data_type, _NUMBER_TYPES):
        value = column.cast("double")
        missing = column.isNull() | F.isnan(value)
        infinite = F.abs(value) == F.lit(float("inf"))
        invalid = F.coalesce(~missing & infinite, F.lit(False))
        return NumberColumns(F.when(~missing & ~infinite, value), missing, invalid)
    if isinstance(data_type, T.StringType):
        return number_of_text(trimmed(column))
    # booleans, dates, binary, nested: never numbers
    return NumberColumns(F.lit(None).cast("double"), column.isNull(), column.isNotNull())


def number_of_text(text: Column) -> NumberColumns:
    """:func:`number_of` for text already trimmed by :func:`trimmed` (trim once, use often)."""
    missing = text.isNull() | text.isin(*_MISSING_CELLS)
    parsed = F.when(text.rlike(NUMBER_PATTERN), text.try_cast("double"))
    finite = parsed.isNotNull() & (F.abs(parsed) != F.lit(float("inf")))
    invalid = ~missing & ~F.coalesce(finite, F.lit(False))
    return NumberColumns(F.when(~missing & finite, parsed), missing, invalid)


def column_index(frame: DataFrame, name: str) -> int | None:
    """Where column ``name`` is (its exact name, else its trimmed name), or None."""
    names = frame.columns
    if name in names:
        return names.index(name)
    trimmed_names = [n.strip() for n in names]
    return trimmed_names.index(name.strip()) if name.strip() in trimmed_names else None
