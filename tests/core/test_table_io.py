"""Reading customer files: sniffing a CSV, its cells as text, Parquet, errors naming the line."""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from segmentation_core import table_io
from segmentation_core.errors import DataValidationError, TooLargeError
from segmentation_core.table_io import (
    CsvFormat,
    csv_options,
    find_invalid_utf8,
    line_of_offset,
    read_csv_text,
    read_parquet,
    read_table_file,
    sniff_csv,
)


def _write(tmp_path: Path, data: bytes, name: str = "file.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _read(tmp_path: Path, data: bytes, **kwargs: int) -> pa.Table:
    table, fmt = read_table_file(_write(tmp_path, data), **kwargs)
    assert fmt is not None
    return table


def _refusal(tmp_path: Path, data: bytes) -> DataValidationError:
    with pytest.raises(DataValidationError) as info:
        read_table_file(_write(tmp_path, data))
    assert len(info.value.problems) >= 1
    return info.value


# -- sniffing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "delimiter", "bom", "terminator"),
    [
        (b"a,b,c\n1,2,3\n", ",", False, "\n"),
        (b"a;b;c\r\n1,5;2;3\r\n", ";", False, "\r\n"),
        (b"a\tb\tc\n1\t2\t3\n", "\t", False, "\n"),
        (b"\xef\xbb\xbfa;b\r\n1;2\r\n", ";", True, "\r\n"),
    ],
    ids=["comma", "semicolon with decimal commas", "tab", "BOM and CRLF"],
)
def test_sniff_recognises_delimiter_bom_and_line_end(
    data: bytes, delimiter: str, bom: bool, terminator: str
) -> None:
    fmt = sniff_csv(data, complete=True)
    assert (fmt.delimiter, fmt.bom, fmt.line_terminator) == (delimiter, bom, terminator)
    assert fmt.header[0] == "a"


def test_sniff_keeps_header_names_as_written() -> None:
    fmt = sniff_csv(b' id ,"Annual Income (k$)",x \n1,2,3\n', complete=True)
    assert fmt.header == (" id ", "Annual Income (k$)", "x ")


@pytest.mark.parametrize(
    ("data", "reason", "column"),
    [
        (b"", "the file is empty", None),
        (b"\r\n\r\n  \n", "the file is empty", None),
        (b"1,2,3\n4,5,6\n", "no header row", None),
        (b"a,,c\n1,2,3\n", "column 2 of the header has no name", None),
        (b"age,x, age\n1,2,3\n", "names this column 2 times", "age"),
        (b"a,b\n\x00\x01\x02\n", "binary data", None),
        (b"PK\x03\x04\x14\x00\x06\x00", "Excel workbook", None),
        (b"a,b\n1,2\n\xe9t\xe9,3\n", "not UTF-8", None),
    ],
    ids=["empty", "blank lines", "no header", "unnamed", "duplicate", "binary", "xlsx", "latin-1"],
)
def test_sniff_refuses_with_line_and_column(data: bytes, reason: str, column: str | None) -> None:
    with pytest.raises(DataValidationError) as info:
        table_io.refuse_known_binary(data)
        sniff_csv(data, complete=True)
    problem = info.value.problems[0]
    assert reason in problem.reason
    assert problem.column == column
    expected_line = 3 if reason == "not UTF-8" else 2 if reason == "binary data" else 1
    assert problem.line == expected_line


def test_sniff_refuses_more_than_500_columns_as_too_large() -> None:
    header = ",".join(f"c{i}" for i in range(501)).encode()
    with pytest.raises(TooLargeError) as info:
        sniff_csv(header + b"\n", complete=True)
    assert info.value.problems[0].line == 1
    assert "501 columns; at most 500" in info.value.problems[0].reason


# -- CSV cells as text -----------------------------------------------------------------------------


def test_every_cell_is_kept_as_the_text_that_was_read(tmp_path: Path) -> None:
    data = b' id ,name,amount\n1," Smith, John ",  12.5 \n2,,NA\n3,"two\nlines ""quoted""",-\n'
    table = _read(tmp_path, data)
    assert table.column_names == ["id", "name", "amount"]  # header trimmed
    assert all(pa.types.is_string(t) for t in table.schema.types)
    assert sum(c.null_count for c in table.columns) == 0  # empty cells are "", never null
    assert table.to_pydict() == {
        "id": ["1", "2", "3"],
        "name": [" Smith, John ", "", 'two\nlines "quoted"'],
        "amount": ["  12.5 ", "NA", "-"],
    }


def test_semicolon_tab_bom_and_crlf_files_read_the_same(tmp_path: Path) -> None:
    expected = {"a": ["1", "3"], "b": ["x y", "4"]}
    for data in (
        b"a,b\n1,x y\n3,4\n",
        b"a;b\r\n1;x y\r\n3;4\r\n",
        b"\xef\xbb\xbfa\tb\r\n1\tx y\r\n3\t4",
        b'\xef\xbb\xbf"a";"b"\n1;"x y"\n\n3;4\n',
    ):
        assert _read(tmp_path, data).to_pydict() == expected, data


def test_csv_options_are_the_ones_every_reader_uses() -> None:
    fmt = CsvFormat(delimiter=";", bom=False, header=("a", "b"), line_terminator="\n")
    read, parse, convert = csv_options(fmt)
    assert parse.delimiter == ";" and parse.newlines_in_values and parse.double_quote
    assert convert.column_types == {"a": pa.string(), "b": pa.string()}
    assert not convert.strings_can_be_null and not convert.quoted_strings_can_be_null
    assert read.use_threads


@pytest.mark.parametrize("data", [b"a,b,c", b"a,b,c\n", b"a,b,c\r\n\r\n"])
def test_a_header_only_file_has_no_rows(tmp_path: Path, data: bytes) -> None:
    table = _read(tmp_path, data)
    assert table.num_rows == 0 and table.column_names == ["a", "b", "c"]


def test_a_row_longer_than_a_reader_block_is_read(tmp_path: Path) -> None:
    note = b"x" * (3 * table_io.CSV_BLOCK_BYTES)
    table = _read(tmp_path, b'id,note,n\n1,short,2\n2,"' + note + b'",3\n')
    assert table.column("note")[1].as_py() == note.decode()
    assert table.column("n").to_pylist() == ["2", "3"]


def test_more_rows_than_allowed_is_too_large(tmp_path: Path) -> None:
    data = b"a,b\n" + b"1,2\n" * 50
    assert _read(tmp_path, data, max_rows=50).num_rows == 50
    with pytest.raises(TooLargeError, match="more than 49 rows"):
        _read(tmp_path, data, max_rows=49)


@pytest.mark.parametrize(
    ("data", "line", "reason"),
    [
        (b"a,b,c\n1,2,3\n4,5\n6,7,8\n", 3, "line 3 has 2 fields; the header has 3"),
        (b"a;b;c\n1;2;3\n4;5;6;7\n", 3, "line 3 has 4 fields; the header has 3"),
        (
            b'a,b,c\n1,"two\nlines\nhere",3\n\n4,5\n',
            6,
            "line 6 has 2 fields; the header has 3",
        ),
        (b'a,b,c\r\n1,2,3\r\n4,"5,6\r\n7,8,9\r\n', 3, 'never closed: a " is missing'),
    ],
    ids=["too few", "too many", "after a quoted value on three lines", "unclosed quote"],
)
def test_a_ragged_row_is_named_by_its_physical_line(
    tmp_path: Path, data: bytes, line: int, reason: str
) -> None:
    problem = _refusal(tmp_path, data).problems[0]
    assert problem.line == line
    assert reason in problem.reason


def test_a_ragged_row_far_into_a_big_file(tmp_path: Path) -> None:
    rows = [b"%d,%d,x" % (i, i) for i in range(200_000)]
    rows[150_000] = b"150000,oops"
    data = b"id,n,t\n" + b"\n".join(rows) + b"\n"
    problem = _refusal(tmp_path, data).problems[0]
    assert problem.line == 150_002
    assert problem.reason.startswith("line 150002 has 2 fields; the header has 3")


def test_a_quote_inside_an_unquoted_value_is_text(tmp_path: Path) -> None:
    table = _read(tmp_path, b'id,size\n1,5" screen\n2,"7"" screen"\n')
    assert table.column("size").to_pylist() == ['5" screen', '7" screen']


def test_an_unclosed_quote_that_swallows_the_rest_is_refused(tmp_path: Path) -> None:
    rows = b"".join(b"%d,%d,ok\n" % (i, i) for i in range(5000))
    problem = _refusal(tmp_path, b"id,n,note\n" + rows + b'5000,1,"open\n' + rows).problems[0]
    assert problem.line == 5002
    assert "never closed" in problem.reason


def test_invalid_utf8_beyond_the_sniffed_head_names_its_line(tmp_path: Path) -> None:
    lines = [b"id,city"] + [b"%d,Paris" % i for i in range(20_000)]
    lines[12_345] = b"12344,S\xe3o Paulo"  # Latin-1, not UTF-8
    data = b"\n".join(lines) + b"\n"
    assert len(data) > table_io.SNIFF_BYTES
    problem = _refusal(tmp_path, data).problems[0]
    assert problem.line == 12_346
    assert "not UTF-8" in problem.reason and "0xe3" in problem.reason


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7])
def test_invalid_utf8_scan_across_chunk_boundaries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(table_io, "SCAN_BYTES", chunk)
    good = _write(tmp_path, "a,b\nçé,€\n𝄞,x\n".encode(), "good.csv")
    assert find_invalid_utf8(good) is None
    bad = _write(tmp_path, "a,b\nçé,€\n𝄞,x\n".encode() + b"\xff\n", "bad.csv")
    problem = find_invalid_utf8(bad)
    assert problem is not None and problem.line == 4
    cut = _write(tmp_path, "a,b\n€".encode()[:-1], "cut.csv")  # ends inside a character
    problem = find_invalid_utf8(cut)
    assert problem is not None and problem.line == 2


def test_line_of_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a\nbb\n\nccc\n")
    assert [line_of_offset(path, i) for i in (0, 1, 2, 5, 6, 9)] == [1, 1, 2, 3, 4, 4]


def test_read_csv_text_refuses_a_header_read_differently(tmp_path: Path) -> None:
    path = _write(tmp_path, b"a,b\n1,2\n")
    fmt = CsvFormat(delimiter=",", bom=False, header=("a", "c"), line_terminator="\n")
    with pytest.raises(DataValidationError) as info:
        read_csv_text(path, fmt)
    assert info.value.problems[0].line == 1


# -- Parquet ---------------------------------------------------------------------------------------


def _parquet(tmp_path: Path, table: pa.Table, name: str = "file.parquet") -> Path:
    path = tmp_path / name
    pq.write_table(table, path)
    return path


def test_parquet_keeps_its_types_and_trims_names(tmp_path: Path) -> None:
    source = pa.table(
        {" age ": [30, 40, None], "city": ["a", "b", None], "ok": [True, False, True]}
    )
    table, fmt = read_table_file(_parquet(tmp_path, source))
    assert fmt is None
    assert table.column_names == ["age", "city", "ok"]
    assert table.schema.types == [pa.int64(), pa.string(), pa.bool_()]
    assert table.column("age").to_pylist() == [30, 40, None]


def test_parquet_with_too_many_rows_or_columns_is_too_large(tmp_path: Path) -> None:
    path = _parquet(tmp_path, pa.table({"a": list(range(10))}))
    assert read_parquet(path, max_rows=10).num_rows == 10
    with pytest.raises(TooLargeError, match="more than 9 rows"):
        read_parquet(path, max_rows=9)
    wide = _parquet(tmp_path, pa.table({f"c{i}": [1] for i in range(501)}), "wide.parquet")
    with pytest.raises(TooLargeError, match="501 columns"):
        read_parquet(wide)


def test_parquet_with_duplicate_or_empty_names_is_refused(tmp_path: Path) -> None:
    dup = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", " x"])
    with pytest.raises(DataValidationError) as info:
        read_parquet(_parquet(tmp_path, dup))
    assert info.value.problems[0].column == "x"
    empty = pa.Table.from_arrays([pa.array([1]), pa.array([2])], names=["x", " "])
    with pytest.raises(DataValidationError, match="column 2 of the header has no name"):
        read_parquet(_parquet(tmp_path, empty, "empty.parquet"))


def _damaged(tmp_path: Path, how: str) -> Path:
    buffer = io.BytesIO()
    table = pa.table({"id": list(range(5000)), "x": [float(i) for i in range(5000)]})
    pq.write_table(table, buffer, compression="snappy")
    data = buffer.getvalue()
    if how == "truncated":
        data = data[: len(data) // 2]
    elif how == "footer cut":
        data = data[:-10]
    elif how == "pages shifted":  # the footer promises pages where there are none
        footer = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
        data = data[:4] + data[footer - 2000 : footer - 1000] + data[footer:]
    elif how == "pages overwritten":
        data = data[:200] + bytes(len(data) // 2) + data[200 + len(data) // 2 :]
    return _write(tmp_path, data, f"{how}.parquet")


@pytest.mark.parametrize("how", ["truncated", "footer cut", "pages shifted", "pages overwritten"])
def test_a_damaged_parquet_file_is_refused(tmp_path: Path, how: str) -> None:
    path = _damaged(tmp_path, how)
    with pytest.raises(DataValidationError) as info:
        read_table_file(path)
    reason = info.value.problems[0].reason
    assert "damaged or incomplete" in reason and reason.endswith("export it again")
