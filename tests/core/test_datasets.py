"""The dataset store: imports from paths and streams, refusals that leave nothing behind, the
bundled dataset, deletion, reading back, concurrency and crashes."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_core import datasets as datasets_module
from segmentation_core.datasets import CHUNK_BYTES, DatasetStore
from segmentation_core.enums import ColumnRole
from segmentation_core.errors import (
    ConflictError,
    DataValidationError,
    InvalidParameterError,
    NotFoundError,
    TooLargeError,
)
from segmentation_core.results import DatasetInfo

from .conftest import DATASETS, REPO_ROOT

GOOD = b"customer_id,age,city\n1,30,Paris\n2,41,Lyon\n3,25,Paris\n4,52,Nice\n"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "datasets"


@pytest.fixture
def store(root: Path) -> DatasetStore:
    return DatasetStore(root)


#: What a stored dataset holds: the cells, the manifest, the NUMERIC columns as numbers.
DATASET_FILES = ["data.parquet", "dataset.json", "numbers.parquet"]

def _file(tmp_path: Path, data: bytes, name: str = "upload.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _entries(root: Path) -> list[str]:
    return sorted(os.listdir(root)) if root.exists() else []


def _assert_nothing_stored(root: Path) -> None:
    """Nothing of a refused import on disk: at most the store's lock file."""
    assert _entries(root) in ([], [".lock"])


def _roles(info: DatasetInfo) -> dict[str, ColumnRole]:
    return {c.name: c.role for c in info.columns}


# -- importing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "rows", "roles"),
    [
        (
            DATASETS / "mall_customers.csv",
            200,
            ["IDENTIFIER", "CATEGORICAL", "NUMERIC", "NUMERIC", "NUMERIC"],
        ),
        (DATASETS / "wholesale_customers.csv", 440, ["NUMERIC"] * 8),
        (DATASETS / "online_retail_rfm.csv", 4338, ["IDENTIFIER", "NUMERIC", "NUMERIC", "NUMERIC"]),
        (REPO_ROOT / "data" / "customers.csv", 200, ["IDENTIFIER"] + ["NUMERIC"] * 4),
    ],
    ids=["mall", "wholesale (CRLF)", "rfm", "bundled data"],
)
def test_import_of_the_real_data_sets(
    store: DatasetStore, path: Path, rows: int, roles: list[str]
) -> None:
    result = store.import_file(path)
    info = result.dataset
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert not result.already_present
    assert (info.id, info.sha256) == (digest[:16], digest)
    assert (info.rows, info.bytes, info.format) == (rows, path.stat().st_size, "csv")
    assert info.name == path.stem and info.bundled is False
    assert [c.role.value for c in info.columns] == roles
    assert info.created_at.endswith("Z")
    assert store.get(info.id) == info
    stored = pq.read_table(store.parquet_path(info.id))
    assert all(pa.types.is_string(t) for t in stored.schema.types)  # cells kept as text
    assert stored.num_rows == rows
    assert sorted(os.listdir(store.root / info.id)) == DATASET_FILES


def test_wholesale_keeps_its_line_ends_and_cells(store: DatasetStore) -> None:
    path = DATASETS / "wholesale_customers.csv"
    info = store.import_file(path).dataset
    fmt = store.csv_format(info.id)
    assert fmt is not None and (fmt.line_terminator, fmt.delimiter, fmt.bom) == ("\r\n", ",", False)
    lines = path.read_text().splitlines()
    table = store.read_table(info.id)
    assert table.column_names == lines[0].split(",")
    assert [table.column(j)[0].as_py() for j in range(8)] == lines[1].split(",")
    assert store.preview(info.id, 2) == [line.split(",") for line in lines[1:3]]


def test_the_same_bytes_give_the_same_dataset(store: DatasetStore, tmp_path: Path) -> None:
    path = _file(tmp_path, GOOD, "first.csv")
    first = store.import_file(path, name="My customers")
    again = store.import_file(path, name="Another name")
    streamed = store.import_file(io.BytesIO(GOOD), filename="other.csv")
    assert not first.already_present and again.already_present and streamed.already_present
    assert again.dataset == first.dataset == streamed.dataset
    assert first.dataset.name == "My customers"  # the first name stays
    assert len(store.list()) == 1


def test_stream_and_path_imports_give_the_same_dataset(tmp_path: Path) -> None:
    data = (DATASETS / "mall_customers.csv").read_bytes()
    by_path = DatasetStore(tmp_path / "a").import_file(_file(tmp_path, data, "mall.csv")).dataset
    other = DatasetStore(tmp_path / "b")
    by_stream = other.import_file(io.BytesIO(data), filename="mall.csv").dataset
    assert by_path.created_at != by_stream.created_at
    assert by_stream == DatasetInfo(**{**by_path.__dict__, "created_at": by_stream.created_at})
    assert other.read_table(by_stream.id).equals(
        DatasetStore(tmp_path / "a").read_table(by_path.id)
    )
    assert _entries(tmp_path / "b") == [".lock", by_stream.id]  # the stream's copy is gone


@pytest.mark.parametrize(
    ("data", "delimiter", "bom", "terminator"),
    [
        (b"\xef\xbb\xbfid;age;note\n1;30;a\n2;40;b\n3;50;c\n", ";", True, "\n"),
        (b"id\tage\tnote\r\n1\t30\ta\r\n2\t40\tb\r\n3\t50\tc\r\n", "\t", False, "\r\n"),
        (b'"id","age","note"\r\n1,30,a\r\n2,40,b\r\n3,50,c', ",", False, "\r\n"),
    ],
    ids=["BOM and semicolons", "tabs and CRLF", "quoted header, no final line end"],
)
def test_csv_dialects(
    store: DatasetStore, data: bytes, delimiter: str, bom: bool, terminator: str
) -> None:
    info = store.import_file(io.BytesIO(data)).dataset
    assert store.read_table(info.id).to_pydict() == {
        "id": ["1", "2", "3"],
        "age": ["30", "40", "50"],
        "note": ["a", "b", "c"],
    }
    fmt = store.csv_format(info.id)
    assert fmt is not None
    assert (fmt.delimiter, fmt.bom, fmt.line_terminator) == (delimiter, bom, terminator)
    assert _roles(info)["age"] is ColumnRole.NUMERIC


def test_quoted_fields_with_delimiters_and_newlines_are_cells(store: DatasetStore) -> None:
    data = (
        b'id,spend,comment\n1,10,"likes red, blue"\n2,20,"two\nlines"\n'
        b'3,30,"said ""hi"""\n4, 40 ,\n'
    )
    info = store.import_file(io.BytesIO(data)).dataset
    table = store.read_table(info.id)
    assert table.column("comment").to_pylist() == ["likes red, blue", "two\nlines", 'said "hi"', ""]
    assert table.column("spend").to_pylist() == ["10", "20", "30", " 40 "]  # as written
    assert info.rows == 4 and info.column("spend").mean == 25.0


def test_parquet_round_trip(store: DatasetStore, tmp_path: Path) -> None:
    import datetime

    source = pa.table(
        {
            "user_id": pa.array([10, 11, 12, 13], pa.int64()),
            "spend": [1.5, None, 3.25, 4.0],
            "segment": ["a", "b", "a", None],
            "vip": [True, False, True, True],
            "joined": [datetime.date(2024, 1, d) for d in (1, 2, 3, 4)],
        }
    )
    path = tmp_path / "export.parquet"
    pq.write_table(source, path)
    result = store.import_file(path)
    info = result.dataset
    assert info.format == "parquet" and info.name == "export" and info.rows == 4
    assert _roles(info) == {
        "user_id": ColumnRole.IDENTIFIER,
        "spend": ColumnRole.NUMERIC,
        "segment": ColumnRole.CATEGORICAL,
        "vip": ColumnRole.CATEGORICAL,
        "joined": ColumnRole.IGNORED,
    }
    assert info.column("spend").missing == 1
    assert store.read_table(info.id).equals(source)  # numbers stay numbers
    assert store.csv_format(info.id) is None
    assert store.preview(info.id, 2) == [
        ["10", "1.5", "a", "true", "2024-01-01"],
        ["11", "", "b", "false", "2024-01-02"],
    ]
    assert store.import_file(io.BytesIO(path.read_bytes())).already_present


@pytest.mark.parametrize(
    ("name", "filename", "expected"),
    [
        ("  Spring campaign  ", "x.csv", "Spring campaign"),
        (None, "../../etc/Customers 2024.CSV", "Customers 2024"),
        (None, "C:\\Users\\ann\\Desktop\\export.parquet", "export"),
        (None, "bad\x00\nname.csv", "bad  name"),
        (None, "\x07.csv", None),
        (None, None, None),
    ],
)
def test_dataset_names(
    store: DatasetStore,
    tmp_path: Path,
    name: str | None,
    filename: str | None,
    expected: str | None,
) -> None:
    info = store.import_file(io.BytesIO(GOOD), name=name, filename=filename).dataset
    assert info.name == (expected or f"dataset-{info.id[:8]}")
    assert _entries(store.root) == [".lock", info.id]  # a file name is never a path
    assert _entries(tmp_path) == ["datasets"]


@pytest.mark.parametrize("name", ["", "   ", "x" * 121, "two\nlines", "tab\there"])
def test_bad_names_are_refused_before_anything_is_read(store: DatasetStore, name: str) -> None:
    with pytest.raises(InvalidParameterError) as info:
        store.import_file(io.BytesIO(GOOD), name=name)
    assert info.value.parameter == "name"
    assert not store.root.exists()


def test_a_file_that_changes_while_it_is_imported_is_refused(
    store: DatasetStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, GOOD)
    real_summarise = datasets_module.summarise

    def summarise_while_someone_appends(table: pa.Table) -> object:
        with open(path, "ab") as fh:
            fh.write(b"5,60,Lille\n")
        return real_summarise(table)

    monkeypatch.setattr(datasets_module, "summarise", summarise_while_someone_appends)
    with pytest.raises(DataValidationError, match="the file changed while it was imported"):
        store.import_file(path)
    _assert_nothing_stored(store.root)


def test_a_missing_path_is_not_found(store: DatasetStore, tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        store.import_file(tmp_path / "nope.csv")
    _assert_nothing_stored(store.root)


# -- refusals: a typed error naming line, column and reason, and nothing left on disk --------------


def _lines(n: int) -> bytes:
    return b"".join(b"%d,%d,x\n" % (i, i * 2) for i in range(n))


BAD_FILES: dict[str, tuple[bytes, type[DataValidationError], int | None, str | None, str]] = {
    "latin-1": (
        b"id,city,n\n1,Paris,1\n2,S\xe3o Paulo,2\n3,Rome,3\n",
        DataValidationError, 3, None, "not UTF-8",
    ),
    "latin-1 beyond the sniffed head": (
        b"id,n,t\n" + _lines(10_000) + b"1,2,\xe9\n",
        DataValidationError, 10_002, None, "not UTF-8 text (byte 0xe9",
    ),
    "no header": (b"1,2,3\n4,5,6\n7,8,9\n", DataValidationError, 1, None, "no header row"),
    "unnamed column": (
        b"id,,n\n1,2,3\n4,5,6\n7,8,9\n",
        DataValidationError, 1, None, "column 2 of the header has no name",
    ),
    "duplicate names": (
        b"id,age,age \n1,2,3\n4,5,6\n7,8,9\n",
        DataValidationError, 1, "age", "names this column 2 times",
    ),
    "ragged: too few": (
        b"id,age,city\n1,30,Paris\n2,41,Lyon\n3,25\n4,52,Nice\n",
        DataValidationError, 4, None, "line 4 has 2 fields; the header has 3",
    ),
    "ragged: too many": (
        b"id,age,city\n1,30,Paris\n2,41,Lyon, France\n",
        DataValidationError, 3, None, "line 3 has 4 fields; the header has 3",
    ),
    "ragged after a quoted line break": (
        b'id,age,note\n1,30,"a\nb"\n2,41\n',
        DataValidationError, 4, None, "line 4 has 2 fields; the header has 3",
    ),
    "ragged far down": (
        b"id,n,t\n" + _lines(9_000) + b"1,2\n" + _lines(10),
        DataValidationError, 9_002, None, "line 9002 has 2 fields; the header has 3",
    ),
    "unclosed quote": (
        b'id,age,note\n1,30,ok\n2,41,"open\n3,25,x\n',
        DataValidationError, 3, None, "is never closed",
    ),
    "no numeric column": (
        b"name,city\nAnn,Paris\nBob,Lyon\nCid,Paris\nDan,Nice\n",
        DataValidationError, None, None,
        "no column holds only numbers, so there is nothing to segment on; the columns are: "
        "name (identifier), city (categorical)",
    ),
    "two rows": (
        b"id,age\n1,30\n2,40\n", DataValidationError, None, None,
        "the file has 2 rows of data; a dataset needs at least 3",
    ),
    "binary junk": (
        bytes(range(256)) * 8, DataValidationError, 1, None, "binary data",
    ),
    "a zero byte beyond the sniffed head": (
        b"id,n,t\n" + _lines(8_000) + b"1,2,\x00\n",
        DataValidationError, 8_002, None, "binary data",
    ),
    "an Excel workbook": (
        b"PK\x03\x04" + bytes(200), DataValidationError, 1, None, "Excel workbook",
    ),
    "501 columns": (
        ",".join(f"c{i}" for i in range(501)).encode() + b"\n" + b"1," * 500 + b"1\n",
        TooLargeError, 1, None, "the file has 501 columns; at most 500",
    ),
    "empty": (b"", DataValidationError, 1, None, "the file is empty"),
    "blank": (b"\n\n \r\n", DataValidationError, 1, None, "the file is empty"),
    "header only": (
        b"id,age\n", DataValidationError, None, None, "a header row but no rows of data",
    ),
    "header only, no line end": (
        b"id,age", DataValidationError, None, None, "a header row but no rows of data",
    ),
}  # fmt: skip


@pytest.mark.parametrize("source", ["path", "stream"])
@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_file_is_refused_and_leaves_nothing(
    store: DatasetStore, tmp_path: Path, case: str, source: str
) -> None:
    data, error, line, column, reason = BAD_FILES[case]
    upload: Path | io.BytesIO = _file(tmp_path, data) if source == "path" else io.BytesIO(data)
    with pytest.raises(error) as info:
        store.import_file(upload, filename="upload.csv")
    assert type(info.value) is error
    problem = info.value.problems[0]
    assert reason in problem.reason, problem.reason
    assert (problem.line, problem.column) == (line, column)
    assert len(problem.reason) < 200
    _assert_nothing_stored(store.root)
    assert store.list() == []


def _parquet_bytes(rows: int = 2000) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table({"id": list(range(rows)), "x": [i * 0.5 for i in range(rows)]}), buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "damage",
    ["truncated", "footer lies about its pages", "no numeric column", "two rows"],
)
def test_a_bad_parquet_file_is_refused_and_leaves_nothing(store: DatasetStore, damage: str) -> None:
    data = _parquet_bytes()
    if damage == "truncated":
        data = data[: len(data) * 2 // 3]
        reason = "the Parquet file is damaged or incomplete"
    elif damage == "footer lies about its pages":
        footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
        data = data[:4] + data[footer - 900 : footer - 100] + data[footer:]
        reason = "the Parquet file is damaged or incomplete"
    elif damage == "no numeric column":
        buffer = io.BytesIO()
        pq.write_table(pa.table({"a": ["x", "y", "x"], "b": ["p", "q", "r"]}), buffer)
        data, reason = buffer.getvalue(), "no column holds only numbers"
    else:
        data, reason = _parquet_bytes(2), "the file has 2 rows of data"
    with pytest.raises(DataValidationError) as info:
        store.import_file(io.BytesIO(data), filename="export.parquet")
    assert reason in info.value.problems[0].reason
    _assert_nothing_stored(store.root)


def test_more_bytes_than_allowed(root: Path, tmp_path: Path) -> None:
    store = DatasetStore(root, max_bytes=len(GOOD) - 1)
    for upload in (_file(tmp_path, GOOD), io.BytesIO(GOOD)):
        with pytest.raises(TooLargeError) as info:
            store.import_file(upload)
        assert "larger than" in info.value.problems[0].reason
        _assert_nothing_stored(root)
    assert DatasetStore(root, max_bytes=len(GOOD)).import_file(io.BytesIO(GOOD)).dataset.rows == 4


class _Endless(io.RawIOBase):
    """A stream that never ends, counting what was read from it."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        chunk = (b"id,n\n" if self.served == 0 else b"") + b"1,2\n" * (len(buffer) // 4)
        chunk = chunk[: len(buffer)]
        buffer[: len(chunk)] = chunk
        self.served += len(chunk)
        return len(chunk)


def test_a_stream_is_refused_as_soon_as_it_passes_the_limit(root: Path) -> None:
    limit = 5 * CHUNK_BYTES + 123
    stream = _Endless()
    with pytest.raises(TooLargeError):
        DatasetStore(root, max_bytes=limit).import_file(io.BufferedReader(stream))
    assert stream.served <= limit + 2 * CHUNK_BYTES
    _assert_nothing_stored(root)


def test_more_rows_than_allowed(root: Path) -> None:
    data = b"id,n\n" + b"".join(b"%d,%d\n" % (i, i) for i in range(100))
    with pytest.raises(TooLargeError) as info:
        DatasetStore(root, max_rows=99).import_file(io.BytesIO(data))
    assert "more than 99 rows" in info.value.problems[0].reason
    _assert_nothing_stored(root)
    assert DatasetStore(root, max_rows=100).import_file(io.BytesIO(data)).dataset.rows == 100


def test_failures_while_writing_leave_nothing(
    store: DatasetStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(datasets_module.pq, "write_table", disk_full)
        with pytest.raises(OSError, match="No space"):
            store.import_file(io.BytesIO(GOOD))
    _assert_nothing_stored(store.root)
    with monkeypatch.context() as patch:
        patch.setattr(datasets_module.os, "rename", disk_full)
        with pytest.raises(OSError, match="No space"):
            store.import_file(io.BytesIO(GOOD))
    _assert_nothing_stored(store.root)
    assert store.list() == []
    assert not store.import_file(io.BytesIO(GOOD)).already_present


# -- reading back ----------------------------------------------------------------------------------


def test_read_table_columns_iter_batches_and_preview(store: DatasetStore) -> None:
    data = b"id,n,label\n" + b"".join(b"%d,%d,L%d\n" % (i, i * i, i % 3) for i in range(1, 21))
    info = store.import_file(io.BytesIO(data)).dataset
    table = store.read_table(info.id)
    assert store.read_table(info.id, ["label", "n"]).column_names == ["label", "n"]
    with pytest.raises(DataValidationError) as refused:
        store.read_table(info.id, ["n", "income"])
    assert refused.value.problems[0].column == "income"
    batches = list(store.iter_batches(info.id, batch_rows=7))
    assert [b.num_rows for b in batches] == [7, 7, 6]
    assert pa.Table.from_batches(batches).equals(table)
    assert store.preview(info.id) == [[str(i), str(i * i), f"L{i % 3}"] for i in range(1, 11)]
    assert len(store.preview(info.id, 100)) == 20
    for limit in (0, 101, -1, True):
        with pytest.raises(InvalidParameterError) as bad:
            store.preview(info.id, limit)
        assert bad.value.parameter == "limit"
    with pytest.raises(InvalidParameterError):
        store.iter_batches(info.id, batch_rows=0)


@pytest.mark.parametrize(
    "dataset_id", ["0123456789abcdef", "../../../etc/pas", "ABCDEF0123456789", ""]
)
def test_unknown_ids_are_not_found(store: DatasetStore, dataset_id: str) -> None:
    for call in (store.get, store.delete, store.parquet_path, store.read_table, store.preview):
        with pytest.raises(NotFoundError) as info:
            call(dataset_id)
        assert (info.value.kind, info.value.identifier) == ("dataset", dataset_id)
    assert not store.root.exists()  # an id of the wrong shape never reaches the disk


def test_list_is_newest_first(store: DatasetStore) -> None:
    first = store.import_file(io.BytesIO(GOOD)).dataset
    second = store.import_file(io.BytesIO(GOOD + b"5,60,Lille\n")).dataset
    assert second.created_at > first.created_at
    assert [d.id for d in store.list()] == [second.id, first.id]


def test_from_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SEGMENTATION_DATASETS_DIR", str(tmp_path / "ds"))
    monkeypatch.setenv("SEGMENTATION_DATA", str(tmp_path / "none.csv"))
    monkeypatch.setenv("SEGMENTATION_MAX_UPLOAD_BYTES", "1000")
    monkeypatch.setenv("SEGMENTATION_MAX_ROWS", "7")
    store = DatasetStore.from_settings()
    assert store.root == tmp_path / "ds" and store.bundled_path == tmp_path / "none.csv"
    assert (store.max_bytes, store.max_rows) == (1000, 7)
    assert store.bundled() is None and store.list() == []


# -- the bundled dataset and deleting --------------------------------------------------------------


@pytest.fixture
def bundled_file(tmp_path: Path) -> Path:
    path = tmp_path / "bundled" / "customers.csv"
    path.parent.mkdir()
    shutil.copy(REPO_ROOT / "data" / "customers.csv", path)
    return path


def test_the_bundled_dataset_is_listed_and_cannot_be_deleted(
    root: Path, bundled_file: Path
) -> None:
    store = DatasetStore(root, bundled_path=bundled_file)
    assert not root.exists()  # imported on first use, not at construction
    listed = store.list()
    assert len(listed) == 1
    bundled = listed[0]
    assert bundled.bundled and bundled.name == "customers" and bundled.rows == 200
    assert store.bundled() == bundled == store.get(bundled.id)
    assert _roles(bundled)["customer_id"] is ColumnRole.IDENTIFIER
    other = store.import_file(io.BytesIO(GOOD)).dataset
    assert not other.bundled
    assert [d.id for d in store.list()] == [other.id, bundled.id]
    with pytest.raises(ConflictError) as refused:
        store.delete(bundled.id)
    assert str(refused.value) == (
        f"the bundled dataset {bundled.id} ({bundled_file}) cannot be deleted; "
        "set SEGMENTATION_DATA to another file"
    )
    again = store.import_file(bundled_file)  # uploading the same bytes finds it
    assert again.already_present and again.dataset.bundled


def test_the_bundled_flag_follows_the_file(root: Path, bundled_file: Path) -> None:
    store = DatasetStore(root, bundled_path=bundled_file)
    old = store.bundled()
    assert old is not None
    with open(bundled_file, "a") as fh:
        fh.write("201,40,70.5,50,20\n")
    new = store.bundled()
    assert new is not None and new.id != old.id and new.rows == 201 and new.bundled
    assert {d.id: d.bundled for d in store.list()} == {new.id: True, old.id: False}
    store.delete(old.id)  # no longer the bundled one
    assert [d.id for d in store.list()] == [new.id]
    bundled_file.unlink()
    assert store.bundled() is None
    assert [(d.id, d.bundled) for d in store.list()] == [(new.id, False)]


def test_a_refused_bundled_file_is_left_out_of_the_list(root: Path, tmp_path: Path) -> None:
    path = _file(tmp_path, b"name\nAnn\nBob\nCid\n", "bundled.csv")
    store = DatasetStore(root, bundled_path=path)
    assert store.list() == []
    with pytest.raises(DataValidationError):
        store.bundled()


def test_delete(store: DatasetStore) -> None:
    kept = store.import_file(io.BytesIO(GOOD)).dataset
    gone = store.import_file(io.BytesIO(GOOD + b"5,60,Lille\n")).dataset
    store.delete(gone.id)
    assert [d.id for d in store.list()] == [kept.id]
    with pytest.raises(NotFoundError):
        store.get(gone.id)
    with pytest.raises(NotFoundError):
        store.delete(gone.id)
    assert _entries(store.root) == [".lock", kept.id]
    again = store.import_file(io.BytesIO(GOOD + b"5,60,Lille\n"))
    assert not again.already_present and again.dataset.id == gone.id


# -- concurrency and leftovers ---------------------------------------------------------------------


def test_concurrent_imports_of_the_same_bytes(store: DatasetStore, tmp_path: Path) -> None:
    path = _file(tmp_path, _lines(50_000).join([b"id,n,t\n", b""]))
    start = threading.Barrier(4)

    def run(_: int) -> tuple[str, bool]:
        start.wait()
        result = store.import_file(path)
        return result.dataset.id, result.already_present

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(run, range(4)))
    assert len({dataset_id for dataset_id, _ in results}) == 1
    assert sorted(present for _, present in results) == [False, True, True, True]
    assert len(store.list()) == 1
    assert not list(store.root.glob(".tmp-*"))


def test_leftovers_of_dead_writers_are_removed_but_live_imports_are_not(
    store: DatasetStore,
) -> None:
    store.root.mkdir(parents=True)
    (store.root / ".tmp-dead").mkdir()
    (store.root / ".tmp-dead" / "data.parquet").write_bytes(b"half")
    (store.root / ".tmp-deleted-0123456789abcdef-1234").mkdir()
    live = store.root / ".tmp-live"
    live.mkdir()
    fd = os.open(live, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert store.list() == []  # readers ignore temporary folders
        info = store.import_file(io.BytesIO(GOOD)).dataset
        assert _entries(store.root) == [".lock", ".tmp-live", info.id]
    finally:
        os.close(fd)
    store.import_file(io.BytesIO(GOOD + b"5,60,Lille\n"))
    assert not list(store.root.glob(".tmp-*"))


# -- crashes: a process killed (SIGKILL) in the middle of an import or a delete --------------------

_CHILD = """
import os, shutil, sys, time
from pathlib import Path
from segmentation_core.datasets import DatasetStore

root, mode, arg, marker = sys.argv[1:5]
store = DatasetStore(Path(root))

def stall(message):
    Path(marker).write_text(message)
    time.sleep(600)

if mode == "before rename":
    real_rename = os.rename
    def rename(src, dst):
        if Path(src).name.startswith(".tmp-"):
            stall("written, about to be renamed into place")
        real_rename(src, dst)
    os.rename = rename
    store.import_file(Path(arg))
elif mode == "stream":
    store.import_file(sys.stdin.buffer, filename="piped.csv")
elif mode == "delete":
    shutil.rmtree = lambda *args, **kwargs: stall("renamed away, not yet removed")
    store.delete(arg)
else:
    store.import_file(Path(arg))
Path(marker).write_text("done")
"""


def _child(
    root: Path, mode: str, arg: str, marker: Path, **kwargs: object
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(root), mode, arg, str(marker)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        **kwargs,  # type: ignore[call-overload]
    )


def _wait_for(condition: Callable[[], bool], child: subprocess.Popen[bytes]) -> None:
    """Poll until ``condition`` holds (the child must still run), at most two minutes."""
    deadline = time.monotonic() + 120
    while not condition():
        assert child.poll() is None, "the child process ended before the awaited moment"
        assert time.monotonic() < deadline, "timed out waiting for the child process"
        time.sleep(0.002)


def _kill(child: subprocess.Popen[bytes]) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait()
    if child.stdin is not None:
        child.stdin.close()


def _big_csv(tmp_path: Path, rows: int) -> Path:
    lines = (
        b"%d,%d,%d.5,%s\n" % (i, 18 + i % 60, i % 997, b"ABC"[i % 3 : i % 3 + 1])
        for i in range(rows)
    )
    return _file(tmp_path, b"customer_id,age,spend,tier\n" + b"".join(lines), "big.csv")


def _assert_store_is_sound(store: DatasetStore, complete: list[str]) -> None:
    """The store lists exactly the complete datasets, and each reads back whole."""
    listed = store.list()
    assert sorted(d.id for d in listed) == sorted(complete)
    for info in listed:
        assert store.read_table(info.id).num_rows == info.rows


def _tmp_entries(root: Path) -> list[Path]:
    return list(root.glob(".tmp-*"))


@pytest.mark.slow
def test_killed_while_copying_a_stream(store: DatasetStore, tmp_path: Path) -> None:
    data = _big_csv(tmp_path, 400_000).read_bytes()
    child = _child(store.root, "stream", "-", tmp_path / "marker", stdin=subprocess.PIPE)
    assert child.stdin is not None
    child.stdin.write(data[: 3 * CHUNK_BYTES + 100])
    child.stdin.flush()

    def copied() -> bool:
        uploads = list(store.root.glob(".tmp-*/upload"))
        return bool(uploads) and uploads[0].stat().st_size >= 2 * CHUNK_BYTES

    _wait_for(copied, child)
    _kill(child)
    assert _tmp_entries(store.root)  # what the crash left, invisible
    _assert_store_is_sound(store, [])
    info = store.import_file(io.BytesIO(data)).dataset  # the next writer clears it
    assert not _tmp_entries(store.root)
    _assert_store_is_sound(store, [info.id])


@pytest.mark.slow
def test_killed_after_writing_before_the_rename(store: DatasetStore, tmp_path: Path) -> None:
    path = _big_csv(tmp_path, 50_000)
    marker = tmp_path / "marker"
    child = _child(store.root, "before rename", str(path), marker)
    _wait_for(marker.exists, child)
    (tmp,) = _tmp_entries(store.root)
    assert sorted(os.listdir(tmp)) == DATASET_FILES  # complete, not visible
    _kill(child)
    _assert_store_is_sound(store, [])
    with pytest.raises(NotFoundError):
        store.get(hashlib.sha256(path.read_bytes()).hexdigest()[:16])
    result = store.import_file(path)
    assert not result.already_present and not _tmp_entries(store.root)
    _assert_store_is_sound(store, [result.dataset.id])


@pytest.mark.slow
def test_killed_at_any_instant_of_an_import(store: DatasetStore, tmp_path: Path) -> None:
    path = _big_csv(tmp_path, 400_000)
    dataset_id = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    marker = tmp_path / "marker"
    child = _child(store.root, "import", str(path), marker)

    def writing_or_done() -> bool:
        return bool(list(store.root.glob(".tmp-*/data.parquet"))) or marker.exists()

    deadline = time.monotonic() + 120
    while not writing_or_done() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    _kill(child)
    # a dataset folder appears only by the final rename, so it is complete or absent
    _assert_store_is_sound(store, [dataset_id] if (store.root / dataset_id).exists() else [])
    assert store.import_file(path).dataset.rows == 400_000
    assert not _tmp_entries(store.root)


@pytest.mark.slow
def test_killed_in_the_middle_of_a_delete(store: DatasetStore, tmp_path: Path) -> None:
    kept = store.import_file(io.BytesIO(GOOD)).dataset
    gone = store.import_file(_big_csv(tmp_path, 20_000)).dataset
    marker = tmp_path / "marker"
    child = _child(store.root, "delete", gone.id, marker)
    _wait_for(marker.exists, child)
    _kill(child)
    assert _tmp_entries(store.root)
    _assert_store_is_sound(store, [kept.id])
    with pytest.raises(NotFoundError):
        store.get(gone.id)
    store.delete(kept.id)  # the next writer, a delete too, clears what the kill left
    assert not _tmp_entries(store.root)
    _assert_store_is_sound(store, [])
