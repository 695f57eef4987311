"""The dataset store: a user's CSV or Parquet export imported once into an immutable dataset.

Layout of ``root`` (``SEGMENTATION_DATASETS_DIR``)::

    <id>/data.parquet     the table: a CSV's cells as the text that was read (every column a
                          string), a Parquet file's columns as they were typed
    <id>/dataset.json     the manifest: name, rows, bytes, created time, format, sha256, the
                          columns with their roles and summaries, and a CSV's format
                          (delimiter, BOM, line end, header as written)
    .lock                 serialises writers (flock)
    .tmp-*                an import in progress (locked by its process), or what a crash left
                          (removed by the next writer)

``<id>`` is the first 16 hex digits of the sha256 of the file's bytes: the same bytes always
give the same id, and importing them again returns the stored dataset (``already_present``).

An import works in its own ``.tmp-<random>/`` folder (a stream is first copied there in
chunks, hashed and counted as it arrives), writes ``data.parquet`` and ``dataset.json``, fsyncs
them and the folder, and renames the folder to ``<id>``; a crash at any instant leaves either
no dataset or a complete one. Deleting renames ``<id>`` to a ``.tmp-`` name before removing it.
The bundled data set (``SEGMENTATION_DATA``) is imported on first use and listed with
``bundled`` set.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from segmentation_core.columns import numeric_columns, summarise
from segmentation_core.enums import ColumnRole, Transform
from segmentation_core.errors import (
    ConflictError,
    DataValidationError,
    InvalidParameterError,
    NotFoundError,
    Problem,
    TooLargeError,
)
from segmentation_core.numeric import to_numeric
from segmentation_core.results import ColumnSummary, DatasetInfo, ImportResult, ValueCount
from segmentation_core.settings import (
    DEFAULT_MAX_ROWS,
    DEFAULT_MAX_UPLOAD_BYTES,
    CoreSettings,
    get_settings,
)
from segmentation_core.table_io import (
    CsvFormat,
    binary_data_problem,
    is_parquet,
    quote_count,
    read_csv_text,
    read_head,
    read_parquet,
    refuse_known_binary,
    sniff_csv,
)

logger = logging.getLogger(__name__)

MANIFEST_FORMAT = "segmentation-dataset/1"
DATA_FILE = "data.parquet"
#: The NUMERIC columns again, as float64 (NaN = missing): what training and comparison read, so
#: they never parse text again. Written at import; datasets without it are read from the text.
NUMBERS_FILE = "numbers.parquet"
MANIFEST_FILE = "dataset.json"
LOCK_FILE = ".lock"
#: Name of the copy of a streamed upload inside an import's temporary folder.
UPLOAD_FILE = "upload"
_TMP_PREFIX = ".tmp-"
_ID_RE = re.compile(r"[0-9a-f]{16}")
#: Fewest rows a dataset may have: the smallest training (k = 2) needs k + 1 rows.
MIN_ROWS = 3
#: Longest dataset name, in characters (after trimming).
MAX_NAME = 120
#: Most rows ``preview`` returns.
MAX_PREVIEW = 100
#: Bytes copied, hashed and counted at a time.
CHUNK_BYTES = 1 << 20
_FILE_EXTENSIONS = (".csv", ".tsv", ".txt", ".parquet", ".pq")
#: Cells of each column looked at to choose Parquet's dictionary encoding.
_DICTIONARY_PROBE = 32768


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _size_text(n: int) -> str:
    """``268435456`` -> ``256 MiB``."""
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.4g} {unit}"
    return f"{n} bytes"


def _too_large(max_bytes: int) -> TooLargeError:
    return TooLargeError(
        [
            Problem(
                None,
                f"the file is larger than {_size_text(max_bytes)}, the most an upload may hold "
                "(SEGMENTATION_MAX_UPLOAD_BYTES)",
            )
        ]
    )


def _version(path: Path) -> tuple[int, int]:
    """A file's size and modification time: when either changes, so may its bytes."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def check_name(name: str) -> str:
    """A dataset name as given by a person: trimmed, 1-120 printable characters, else
    InvalidParameterError("name", ...)."""
    clean = name.strip()
    if not 1 <= len(clean) <= MAX_NAME:
        raise InvalidParameterError(
            "name", f"a dataset name needs 1 to {MAX_NAME} characters, got {len(clean)}"
        )
    if not clean.isprintable():
        raise InvalidParameterError(
            "name", "a dataset name may not hold tabs, line breaks or other control characters"
        )
    return clean


def name_from_filename(filename: str) -> str | None:
    """Display text from a client's file name: no folders, no extension, no control
    characters, at most 120 characters; None when nothing is left. Never used as a path."""
    base = re.split(r"[\\/]", filename)[-1]
    for extension in _FILE_EXTENSIONS:
        if base.lower().endswith(extension) and len(base) > len(extension):
            base = base[: -len(extension)]
            break
    clean = "".join(c if c.isprintable() else " " for c in base).strip()
    return clean[:MAX_NAME].strip() or None


@dataclasses.dataclass
class _Digest:
    """What one pass over a file's bytes learnt: sha256, size, first zero byte."""

    sha256: str
    size: int
    first_nul: int | None
    quotes: int  # how many '"' bytes


def _digest_chunks(
    chunks: Iterator[bytes], max_bytes: int, sink: Callable[[bytes], object] | None = None
) -> _Digest:
    digest = hashlib.sha256()
    size = quotes = 0
    first_nul: int | None = None
    for chunk in chunks:
        size += len(chunk)
        if size > max_bytes:
            raise _too_large(max_bytes)
        digest.update(chunk)
        quotes += quote_count(chunk)
        if first_nul is None and (at := chunk.find(b"\x00")) >= 0:
            first_nul = size - len(chunk) + at
        if sink is not None:
            sink(chunk)
    return _Digest(digest.hexdigest(), size, first_nul, quotes)


def _file_chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK_BYTES):
            yield chunk


def _stream_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield bytes(chunk)


class _Background:
    """Run one function in a thread; ``result()`` waits and re-raises its exception."""

    def __init__(self, function: Callable[[], None]) -> None:
        self._error: BaseException | None = None

        def run() -> None:
            try:
                function()
            except BaseException as exc:  # handed to the caller by result()
                self._error = exc

        self._thread = threading.Thread(target=run, name="dataset-writer", daemon=True)
        self._thread.start()

    def result(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


# -- the manifest --------------------------------------------------------------------------------


def _column_to_dict(column: ColumnSummary) -> dict[str, Any]:
    data = dataclasses.asdict(column)
    data["role"] = column.role.value
    data["suggested_transform"] = column.suggested_transform.value
    return data


def _column_from_dict(data: dict[str, Any]) -> ColumnSummary:
    return ColumnSummary(
        name=str(data["name"]),
        role=ColumnRole(data["role"]),
        missing=int(data["missing"]),
        distinct=int(data["distinct"]),
        min=data["min"],
        max=data["max"],
        mean=data["mean"],
        median=data["median"],
        std=data["std"],
        skewness=data["skewness"],
        suggested_transform=Transform(data["suggested_transform"]),
        top_values=tuple(ValueCount(str(v["value"]), int(v["count"])) for v in data["top_values"]),
        histogram=tuple(int(c) for c in data["histogram"]),
        integer=bool(data["integer"]),
    )


def _manifest(info: DatasetInfo, fmt: CsvFormat | None) -> dict[str, Any]:
    return {
        "manifest": MANIFEST_FORMAT,
        "id": info.id,
        "name": info.name,
        "rows": info.rows,
        "bytes": info.bytes,
        "created_at": info.created_at,
        "format": info.format,
        "sha256": info.sha256,
        "csv": None if fmt is None else dataclasses.asdict(fmt),
        "columns": [_column_to_dict(c) for c in info.columns],
    }


def _info_from_manifest(data: dict[str, Any]) -> DatasetInfo:
    if data.get("manifest") != MANIFEST_FORMAT:
        raise ValueError(f"unknown manifest format {data.get('manifest')!r}")
    return DatasetInfo(
        id=str(data["id"]),
        name=str(data["name"]),
        rows=int(data["rows"]),
        bytes=int(data["bytes"]),
        created_at=str(data["created_at"]),
        bundled=False,
        columns=tuple(_column_from_dict(c) for c in data["columns"]),
        format=str(data["format"]),
        sha256=str(data["sha256"]),
    )


def _format_from_manifest(data: dict[str, Any]) -> CsvFormat | None:
    csv_format = data.get("csv")
    if csv_format is None:
        return None
    return CsvFormat(
        delimiter=str(csv_format["delimiter"]),
        bom=bool(csv_format["bom"]),
        header=tuple(str(h) for h in csv_format["header"]),
        line_terminator=str(csv_format["line_terminator"]),
    )


# -- checks of a table ------------------------------------------------------------------------


def check_usable(summaries: Sequence[ColumnSummary], rows: int) -> None:
    """Refuse a table no model could be trained on: fewer than :data:`MIN_ROWS` rows or no
    NUMERIC column (the reason lists every column's role)."""
    if rows == 0:
        raise DataValidationError(
            [
                Problem(
                    None,
                    "the file has a header row but no rows of data; a dataset needs at least "
                    f"{MIN_ROWS} rows of customers",
                )
            ]
        )
    if rows < MIN_ROWS:
        raise DataValidationError(
            [
                Problem(
                    None,
                    f"the file has {rows} row{'s' if rows != 1 else ''} of data; a dataset needs "
                    f"at least {MIN_ROWS} (the smallest segmentation, 2 segments, needs 3 "
                    "customers)",
                )
            ]
        )
    if not numeric_columns(summaries):
        roles = ", ".join(f"{s.name} ({s.role.value.lower()})" for s in summaries)
        raise DataValidationError(
            [
                Problem(
                    None,
                    "no column holds only numbers, so there is nothing to segment on; the "
                    f"columns are: {roles}",
                )
            ]
        )


def _check_columns(info: DatasetInfo, columns: Sequence[str]) -> None:
    """DataValidationError naming each of ``columns`` the dataset does not have."""
    known = {c.name for c in info.columns}
    problems = [
        Problem(
            column,
            "the dataset has no column of this name; it has: "
            + ", ".join(c.name for c in info.columns),
        )
        for column in columns
        if column not in known
    ]
    if problems:
        raise DataValidationError(problems)


def _repetitive_columns(table: pa.Table) -> builtins.list[str]:
    """Columns worth dictionary-encoding in Parquet: their first cells repeat (few distinct
    values). Encoding a column of mostly distinct values costs time and saves nothing."""
    names = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        head = column.slice(0, _DICTIONARY_PROBE)
        try:
            distinct = int(pc.count_distinct(head).as_py())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            continue
        if distinct * 4 <= len(head):
            names.append(name)
    return names


# -- the store --------------------------------------------------------------------------------


class DatasetStore:
    """Imported datasets in ``root``, plus the bundled CSV at ``bundled_path`` (when it exists).

    Safe to share between threads and processes: writers serialise on a lock file, readers
    never wait, and a dataset never changes once it is visible.
    """

    def __init__(
        self,
        root: Path,
        *,
        bundled_path: Path | None = None,
        max_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.bundled_path = None if bundled_path is None else Path(bundled_path).resolve()
        self.max_bytes = max_bytes
        self.max_rows = max_rows
        self._cache_lock = threading.Lock()
        self._bundled_key: tuple[int, int, int] | None = None  # (size, mtime_ns, inode)
        self._bundled_id: str | None = None
        self._manifests: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}

    @classmethod
    def from_settings(cls, settings: CoreSettings | None = None) -> DatasetStore:
        """The store ``SEGMENTATION_DATASETS_DIR`` names, with ``SEGMENTATION_DATA`` bundled and
        the upload limits of the settings."""
        settings = settings or get_settings()
        return cls(
            settings.datasets_dir,
            bundled_path=settings.data_path,
            max_bytes=settings.max_upload_bytes,
            max_rows=settings.max_rows,
        )

    # -- importing -----------------------------------------------------------------------------

    def import_file(
        self,
        source: Path | str | BinaryIO,
        *,
        name: str | None = None,
        filename: str | None = None,
    ) -> ImportResult:
        """Import a CSV or Parquet file from a path or a binary stream.

        ``name`` (trimmed, 1-120 printable characters) names the dataset; without it the
        client's ``filename`` (display text only: folders, extension and control characters
        dropped), else the path's file name, else ``dataset-<id[:8]>``. The same bytes imported
        again return the stored dataset, with its first name, and ``already_present=True``.

        Raises DataValidationError (its Problems name the line and column) for a file that is
        not a usable table, TooLargeError over ``max_bytes``, ``max_rows`` or 500 columns,
        InvalidParameterError("name", ...) for a bad name; nothing is left on disk then.
        """
        display = check_name(name) if name is not None else None
        if display is None and filename is None and isinstance(source, str | os.PathLike):
            filename = Path(source).name
        if display is None and filename is not None:
            display = name_from_filename(filename)
        with self._workspace() as workspace:
            version: tuple[int, int] | None = None  # a path's size and mtime when hashed
            if isinstance(source, str | os.PathLike):
                path = Path(source)
                try:
                    version = _version(path)
                    if version[0] > self.max_bytes:
                        raise _too_large(self.max_bytes)
                    digest = _digest_chunks(_file_chunks(path), self.max_bytes)
                except FileNotFoundError:
                    raise NotFoundError("file", str(path)) from None
            else:
                path = workspace.folder / UPLOAD_FILE
                with open(path, "xb") as copy:
                    digest = _digest_chunks(_stream_chunks(source), self.max_bytes, copy.write)
            dataset_id = digest.sha256[:16]
            existing = self._stored(dataset_id, digest.sha256)
            if existing is not None:
                return ImportResult(self._flagged(existing), already_present=True)
            info = self._build(
                path, workspace.folder, dataset_id, digest, display or f"dataset-{dataset_id[:8]}"
            )
            if version is not None and _version(path) != version:
                raise DataValidationError(
                    [Problem(None, "the file changed while it was imported; import it again")]
                )
            with self._writer_lock():
                existing = self._stored(dataset_id, digest.sha256)
                if existing is not None:  # a concurrent import of the same bytes won
                    return ImportResult(self._flagged(existing), already_present=True)
                (workspace.folder / UPLOAD_FILE).unlink(missing_ok=True)
                os.rename(workspace.folder, self.root / dataset_id)
                workspace.committed = True
                _fsync_dir(self.root)
        return ImportResult(self._flagged(info), already_present=False)

    def _build(
        self, path: Path, folder: Path, dataset_id: str, digest: _Digest, name: str
    ) -> DatasetInfo:
        """Read, check and summarise the file; write the dataset's files into ``folder``."""
        head, complete = read_head(path)
        fmt: CsvFormat | None = None
        if is_parquet(head):
            table = read_parquet(path, self.max_rows)
        else:
            refuse_known_binary(head)
            fmt = sniff_csv(head, complete=complete)
            if digest.first_nul is not None:
                raise DataValidationError([binary_data_problem(path, digest.first_nul)])
            table = read_csv_text(path, fmt, self.max_rows, quotes=digest.quotes)
        if table.num_rows < MIN_ROWS:
            check_usable((), table.num_rows)
        data_path = folder / DATA_FILE

        def write_data() -> None:
            pq.write_table(
                table,
                data_path,
                use_dictionary=_repetitive_columns(table),
                write_statistics=False,  # nothing reads them; they cost a third of the write
            )
            _fsync_file(data_path)

        writer = _Background(write_data)  # the Parquet file is written while columns are read
        try:
            columns = summarise(table)
            check_usable(columns, table.num_rows)
            numbers = pa.table(
                {
                    name: to_numeric(table.column(name)).values
                    for name in numeric_columns(columns)
                }
            )
        finally:
            writer.result()
        pq.write_table(numbers, folder / NUMBERS_FILE, write_statistics=False)
        _fsync_file(folder / NUMBERS_FILE)
        info = DatasetInfo(
            id=dataset_id,
            name=name,
            rows=table.num_rows,
            bytes=digest.size,
            created_at=_now(),
            bundled=False,
            columns=columns,
            format="csv" if fmt is not None else "parquet",
            sha256=digest.sha256,
        )
        manifest = json.dumps(_manifest(info, fmt), indent=1, allow_nan=False).encode()
        with open(folder / MANIFEST_FILE, "xb") as fh:
            fh.write(manifest)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(folder)
        return info

    # -- reading -------------------------------------------------------------------------------

    def list(self) -> list[DatasetInfo]:
        """Every dataset, newest first; the bundled one included (imported on first use; left
        out, with a logged warning, if the bundled file is not a usable table)."""
        try:
            self.bundled()
        except (DataValidationError, NotFoundError) as exc:
            logger.warning("the bundled dataset %s was refused: %s", self.bundled_path, exc)
        if not self.root.is_dir():
            return []
        infos = []
        with os.scandir(self.root) as entries:
            for entry in entries:
                if _ID_RE.fullmatch(entry.name):
                    info = self._stored(entry.name)
                    if info is not None:
                        infos.append(info)
        bundled_id = self._current_bundled_id()
        infos.sort(key=lambda i: (i.created_at, i.id), reverse=True)
        return [dataclasses.replace(i, bundled=i.id == bundled_id) for i in infos]

    def get(self, dataset_id: str) -> DatasetInfo:
        """One dataset; NotFoundError("dataset", id) if there is none."""
        if not isinstance(dataset_id, str) or not _ID_RE.fullmatch(dataset_id):
            raise NotFoundError("dataset", str(dataset_id))
        info = self._stored(dataset_id)
        if info is None and dataset_id == self._current_bundled_id():
            info = self.bundled()
        if info is None:
            raise NotFoundError("dataset", dataset_id)
        return self._flagged(info)

    def bundled(self) -> DatasetInfo | None:
        """The bundled dataset (``SEGMENTATION_DATA``), imported on first use; None when that
        file does not exist."""
        bundled_id = self._current_bundled_id()
        if bundled_id is None or self.bundled_path is None:
            return None
        info = self._stored(bundled_id)
        if info is None:
            info = self.import_file(self.bundled_path, filename=self.bundled_path.name).dataset
        return self._flagged(info)

    def csv_format(self, dataset_id: str) -> CsvFormat | None:
        """How the dataset's CSV was written (delimiter, BOM, header as written, line end), so
        a scored file can be written the same way; None for a Parquet dataset."""
        self.get(dataset_id)
        return _format_from_manifest(self._manifest_data(dataset_id) or {})

    def parquet_path(self, dataset_id: str) -> Path:
        """The dataset's Parquet file (read-only: datasets never change)."""
        self.get(dataset_id)
        return self.root / dataset_id / DATA_FILE

    def read_table(self, dataset_id: str, columns: Sequence[str] | None = None) -> pa.Table:
        """The dataset's cells as stored (a CSV's as text), every column or the ones named;
        DataValidationError naming a column the dataset does not have."""
        info = self.get(dataset_id)
        if columns is not None:
            _check_columns(info, columns)
        return pq.read_table(
            self.root / dataset_id / DATA_FILE,
            columns=None if columns is None else list(columns),
            use_threads=True,
        )

    def read_typed(self, dataset_id: str, columns: Sequence[str]) -> pa.Table:
        """The named columns ready for analysis: NUMERIC ones as float64 (NaN = missing, from
        the numbers written at import), CATEGORICAL ones dictionary-encoded, others as stored.

        DataValidationError naming a column the dataset does not have.
        """
        info = self.get(dataset_id)
        _check_columns(info, columns)
        roles = {c.name: c.role for c in info.columns}
        folder = self.root / dataset_id
        numeric = [c for c in columns if roles.get(c) is ColumnRole.NUMERIC]
        if numeric and (folder / NUMBERS_FILE).is_file():
            typed = pq.read_table(folder / NUMBERS_FILE, columns=numeric)
        else:
            typed = pa.table({c: to_numeric(self.read_table(dataset_id, [c]).column(c)).values
                              for c in numeric})
        rest = [c for c in columns if c not in numeric]
        cells = pq.read_table(
            folder / DATA_FILE,
            columns=rest,
            read_dictionary=[c for c in rest if roles.get(c) is ColumnRole.CATEGORICAL],
        )
        return pa.table(
            {c: typed.column(c) if c in numeric else cells.column(c) for c in columns}
        )

    def iter_batches(self, dataset_id: str, batch_rows: int = 131072) -> Iterator[pa.RecordBatch]:
        """Every column, ``batch_rows`` rows at a time, in row order (bounded memory)."""
        if isinstance(batch_rows, bool) or not isinstance(batch_rows, int) or batch_rows < 1:
            raise InvalidParameterError("batch_rows", "must be a whole number of at least 1")
        path = self.parquet_path(dataset_id)
        return self._batches(path, batch_rows)

    @staticmethod
    def _batches(path: Path, batch_rows: int) -> Iterator[pa.RecordBatch]:
        with contextlib.closing(pq.ParquetFile(path)) as parquet:
            yield from parquet.iter_batches(batch_size=batch_rows, use_threads=True)

    def preview(self, dataset_id: str, limit: int = 10) -> builtins.list[builtins.list[str]]:
        """The first ``limit`` (1..100) rows as text, one list per row in column order; a
        missing cell of a Parquet dataset is an empty string, numbers are written as text."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PREVIEW:
            raise InvalidParameterError("limit", f"must be between 1 and {MAX_PREVIEW}")
        path = self.parquet_path(dataset_id)
        with contextlib.closing(pq.ParquetFile(path)) as parquet:
            batch = next(parquet.iter_batches(batch_size=limit), None)
        if batch is None:
            return []
        columns = [_as_text(batch.column(i)) for i in range(batch.num_columns)]
        return [list(row) for row in zip(*columns, strict=True)]

    # -- deleting ------------------------------------------------------------------------------

    def delete(self, dataset_id: str) -> None:
        """Delete an imported dataset: renamed out of sight first, then removed, so a crash
        leaves nothing visible. ConflictError for the bundled dataset, NotFoundError for an
        unknown id."""
        if not isinstance(dataset_id, str) or not _ID_RE.fullmatch(dataset_id):
            raise NotFoundError("dataset", str(dataset_id))
        if dataset_id == self._current_bundled_id():
            raise ConflictError(
                f"the bundled dataset {dataset_id} ({self.bundled_path}) cannot be deleted; "
                "set SEGMENTATION_DATA to another file"
            )
        if not (self.root / dataset_id).is_dir():
            raise NotFoundError("dataset", dataset_id)
        with self._writer_lock():
            self._remove_leftovers()
            folder = self.root / dataset_id
            if not folder.is_dir():
                raise NotFoundError("dataset", dataset_id)
            trash = self.root / f"{_TMP_PREFIX}deleted-{dataset_id}-{secrets.token_hex(4)}"
            os.rename(folder, trash)
            _fsync_dir(self.root)
            shutil.rmtree(trash, ignore_errors=True)
        with self._cache_lock:
            self._manifests.pop(dataset_id, None)

    # -- internals -----------------------------------------------------------------------------

    def _flagged(self, info: DatasetInfo) -> DatasetInfo:
        bundled = info.id == self._current_bundled_id()
        return info if info.bundled == bundled else dataclasses.replace(info, bundled=bundled)

    def _current_bundled_id(self) -> str | None:
        """The id the bundled file's bytes have now (cached by its size, mtime and inode)."""
        if self.bundled_path is None:
            return None
        try:
            stat = self.bundled_path.stat()
        except OSError:
            return None
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ino)
        with self._cache_lock:
            if key == self._bundled_key:
                return self._bundled_id
        try:
            digest = _digest_chunks(_file_chunks(self.bundled_path), max_bytes=1 << 62)
        except OSError:
            return None
        with self._cache_lock:
            self._bundled_key, self._bundled_id = key, digest.sha256[:16]
        return digest.sha256[:16]

    def _manifest_data(self, dataset_id: str) -> dict[str, Any] | None:
        """A stored dataset's manifest (cached while the file is the same), None if absent."""
        path = self.root / dataset_id / MANIFEST_FILE
        try:
            stat = path.stat()
        except OSError:
            return None
        key = (stat.st_ino, stat.st_mtime_ns)
        with self._cache_lock:
            cached = self._manifests.get(dataset_id)
        if cached is not None and cached[0] == key:
            return cached[1]
        try:
            data: dict[str, Any] = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            logger.warning("dataset %s: unreadable manifest (%s)", dataset_id, exc)
            return None
        with self._cache_lock:
            self._manifests[dataset_id] = (key, data)
        return data

    def _stored(self, dataset_id: str, sha256: str | None = None) -> DatasetInfo | None:
        """A stored dataset's info (bundled flag not set), None if there is none. With
        ``sha256``, a stored dataset of other bytes (an id collision) is a ConflictError."""
        data = self._manifest_data(dataset_id)
        if data is None:
            return None
        try:
            info = _info_from_manifest(data)
        except (KeyError, TypeError, ValueError) as exc:
            logger.warning("dataset %s: unreadable manifest (%s)", dataset_id, exc)
            return None
        if sha256 is not None and info.sha256 != sha256:
            raise ConflictError(
                f"dataset {dataset_id} holds other bytes with the same id prefix; "
                "rename or re-export the file"
            )
        return info

    @contextlib.contextmanager
    def _writer_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+b") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    @contextlib.contextmanager
    def _workspace(self) -> Iterator[_Workspace]:
        """A fresh ``.tmp-<random>`` folder, flock-ed while the import runs (so other writers
        know it is alive), removed afterwards unless it was renamed into place. Leftovers of
        dead imports and deletes are removed when it is created."""
        with self._writer_lock():
            self._remove_leftovers()
            folder = self.root / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
            folder.mkdir()
            fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            fcntl.flock(fd, fcntl.LOCK_EX)
        workspace = _Workspace(folder)
        try:
            yield workspace
        finally:
            try:
                if not workspace.committed:
                    shutil.rmtree(folder, ignore_errors=True)
            finally:
                os.close(fd)  # releases the flock

    def _remove_leftovers(self) -> None:
        """Remove ``.tmp-*`` entries no live process holds (call with the writer lock held)."""
        for path in self.root.glob(f"{_TMP_PREFIX}*"):
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # an import in progress
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            finally:
                os.close(fd)


@dataclasses.dataclass
class _Workspace:
    folder: Path
    committed: bool = False


def _as_text(column: pa.Array) -> list[str]:
    """A column's cells as display text: strings as stored, numbers and dates as Arrow writes
    them, missing cells empty."""
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        try:
            column = pc.cast(column, pa.string())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            return ["" if v is None else str(v) for v in column.to_pylist()]
    return ["" if v is None else str(v) for v in column.to_pylist()]
