"""Bulk scoring: text kept, formulas neutralised, reasons, results, inputs, memory, atomicity."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from sklearn.cluster import KMeans
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from segmentation_core import DataValidationError, FeatureSpec, SegmentationModel, TrainingParams
from segmentation_core import scoring as scoring_module
from segmentation_core.enums import MissingValues, Transform
from segmentation_core.features import generic_feature
from segmentation_core.generator import generate_customers
from segmentation_core.recipe import FeatureRecipe
from segmentation_core.results import ClusterProfile, ElbowReport, ModelInfo
from segmentation_core.scoring import (
    OUTPUT_COLUMNS,
    ScoredCsv,
    score_batches,
    score_file,
    write_scored,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
HEADER = "customer_id,age,annual_income,spending_score,purchase_frequency"


# -- helpers ---------------------------------------------------------------------------------


def scored(job: ScoredCsv) -> str:
    """The whole scored file as text."""
    return b"".join(job.chunks()).decode("utf-8")


def score_text(
    model: SegmentationModel, tmp_path: Path, text: str | bytes, name: str = "in.csv"
) -> str:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return scored(score_file(model, path))


def suffix(model: SegmentationModel, values: list[float], d: str = ",") -> str:
    """The four appended cells of a row the model scores (its segment name needing no quoting)."""
    p = model.predict_one(values)
    return f"{d}{p.cluster_id}{d}{p.segment_name}{d}{p.confidence:.4f}{d}"


def records(text: str, delimiter: str = ",") -> list[list[str]]:
    return [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter) if r]


def recipe_model(
    transforms: tuple[str, ...], missing: MissingValues, X: np.ndarray, columns: tuple[str, ...]
) -> SegmentationModel:
    """A 2-segment model whose pipeline starts with a FeatureRecipe (LOG, MEDIAN...)."""
    spec = FeatureSpec(
        features=tuple(
            generic_feature(c, Transform(t)) for c, t in zip(columns, transforms, strict=True)
        ),
        id_column=None,
    )
    pipeline = make_pipeline(
        FeatureRecipe(transforms, missing.value),
        StandardScaler(),
        KMeans(n_clusters=2, n_init=1, random_state=0),
    ).fit(X)
    profiles = tuple(
        ClusterProfile(i, f"Segment {i}", 1, 0.5, (), (0.0,) * len(columns)) for i in range(2)
    )
    info = ModelInfo(
        version="test-recipe",
        k=2,
        silhouette=0.5,
        inertia=1.0,
        n_customers=X.shape[0],
        features=spec.columns,
        trained_at="2026-01-01T00:00:00Z",
        data_sha256="0" * 64,
        params=TrainingParams(),
        elbow=ElbowReport(2, None, ()),
        profiles=profiles,
        library_versions=(),
        missing_values=missing,
    )
    return SegmentationModel(info, spec, pipeline)


@pytest.fixture(scope="module")
def revenue_X() -> np.ndarray:
    rng = np.random.default_rng(3)
    visits = np.concatenate([rng.normal(5, 1, 100), rng.normal(20, 2, 100)])
    revenue = np.concatenate([rng.lognormal(3, 0.3, 100), rng.lognormal(7, 0.3, 100)])
    return np.column_stack([visits, revenue])


@pytest.fixture(scope="module")
def log_drop_model(revenue_X: np.ndarray) -> SegmentationModel:
    return recipe_model(("NONE", "LOG"), MissingValues.DROP, revenue_X, ("visits", "revenue"))


@pytest.fixture(scope="module")
def log_median_model(revenue_X: np.ndarray) -> SegmentationModel:
    return recipe_model(("NONE", "LOG"), MissingValues.MEDIAN, revenue_X, ("visits", "revenue"))


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few dozen bytes: every file crosses many block boundaries."""
    monkeypatch.setattr(scoring_module, "BLOCK_BYTES", 37)
    monkeypatch.setattr(scoring_module, "BATCH_ROWS", 3)


# -- text preserved --------------------------------------------------------------------------


ROWS = [
    ("1", "30", "50", "60", "10"),
    ("007", "41", "1.50", "50", "5"),
    ("3", " 25 ", "40.0", "80", "38 "),
]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_every_line_is_the_input_line_plus_the_scoring_cells(
    model: SegmentationModel, tmp_path: Path, delimiter: str, terminator: str, bom: bool
) -> None:
    d = delimiter
    lines = [HEADER.replace(",", d), *(d.join(r) for r in ROWS)]
    text = ("\ufeff" if bom else "") + terminator.join(lines) + terminator
    out = score_text(model, tmp_path, text)
    expected = [lines[0] + d + d.join(OUTPUT_COLUMNS)] + [
        line + suffix(model, [float(v) for v in row[1:]], d)
        for line, row in zip(lines[1:], ROWS, strict=True)
    ]
    assert out == ("\ufeff" if bom else "") + terminator.join(expected) + terminator


def test_quoted_cells_keep_their_text(model: SegmentationModel, tmp_path: Path) -> None:
    lines = [
        "customer_id,name,age,annual_income,spending_score,purchase_frequency,note",
        '1,"Smith, John",30,50,60,10,"said ""hi"""',
        '2,"multi\nline",41,1.50,50,5, padded ',
        '3,"crlf\r\ninside",25,40,80,38,plain',
    ]
    out = score_text(model, tmp_path, "\n".join(lines) + "\n")
    expected = (
        "\n".join(
            [lines[0] + "," + ",".join(OUTPUT_COLUMNS)]
            + [
                line + suffix(model, values)
                for line, values in zip(
                    lines[1:], [[30, 50, 60, 10], [41, 1.5, 50, 5], [25, 40, 80, 38]], strict=True
                )
            ]
        )
        + "\n"
    )
    assert out == expected


def test_needless_quotes_are_dropped_and_needed_ones_kept(
    model: SegmentationModel, tmp_path: Path
) -> None:
    out = score_text(model, tmp_path, f'{HEADER}\n"1","30",50,60,10\n')
    assert out.splitlines()[1] == "1,30,50,60,10" + suffix(model, [30, 50, 60, 10])


def test_rows_keep_their_order_and_match_predict_batch(
    model: SegmentationModel, tmp_path: Path, small_blocks: None
) -> None:
    frame = generate_customers(500, seed=11).frame
    path = tmp_path / "customers.csv"
    frame.to_csv(path, index=False)
    out = records(scored(score_file(model, path)))
    assert out[0] == [*frame.columns, *OUTPUT_COLUMNS]
    expected = model.predict_batch(frame[list(model.spec.columns)].to_numpy(float))
    assert [r[0] for r in out[1:]] == [str(i) for i in frame["customer_id"]]
    assert [int(r[-4]) for r in out[1:]] == expected.cluster_ids.tolist()
    assert [r[-3] for r in out[1:]] == [model.segment_names[i] for i in expected.cluster_ids]
    assert [r[-2] for r in out[1:]] == [f"{c:.4f}" for c in expected.confidence]
    assert all(r[-1] == "" for r in out[1:])


def test_confidence_has_four_decimals_rounded_like_format() -> None:
    values = np.array([0.2, 0.12345, 0.99995, 0.999949999, 1.0, 0.5, 0.33335, 0.6666500000001])
    index = scoring_module._confidence_index(values)
    assert [f"{i / 10000:.4f}" for i in index.tolist()] == [f"{v:.4f}" for v in values]


@pytest.mark.parametrize("note", ["plain", '"quoted"'], ids=["fast path", "exact path"])
@pytest.mark.parametrize("terminator", ["\n", "\r\n"])
def test_blank_lines_are_dropped_and_terminators_unified(
    model: SegmentationModel, tmp_path: Path, note: str, terminator: str
) -> None:
    """Blank lines are no rows (no parser returns them); a row ending with the other line
    terminator, or with none at the end of the file, ends with the file's own."""
    t = terminator
    text = f"{HEADER},note{t}1,30,50,60,10,{note}{t}{t}\n2,41,1.5,50,5,{note}\n3,25,40,80,38,{note}"
    out = score_text(model, tmp_path, text)
    note = note.strip('"')
    assert out == (
        f"{HEADER},note,{','.join(OUTPUT_COLUMNS)}{t}"
        f"1,30,50,60,10,{note}{suffix(model, [30, 50, 60, 10])}{t}"
        f"2,41,1.5,50,5,{note}{suffix(model, [41, 1.5, 50, 5])}{t}"
        f"3,25,40,80,38,{note}{suffix(model, [25, 40, 80, 38])}{t}"
    )


def test_header_only_file(model: SegmentationModel, tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text(HEADER + "\n")
    job = score_file(model, path)
    assert scored(job) == f"{HEADER},{','.join(OUTPUT_COLUMNS)}\n"
    assert job.summary.rows == 0
    assert job.summary.scored_rows == 0


def test_block_boundaries_change_nothing(
    model: SegmentationModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Quoted newlines, stray quotes, CRLF, blank lines and formulas across every cut."""
    lines = [
        "customer_id,age,annual_income,spending_score,purchase_frequency,note",
        '1,30,50,60,10,"a\r\nb, ""c"""',
        '2,41,1.5,50,5,27" screen',
        "",
        '3,25,40,80,38,"x""\ny"',
        "4,55,100,15,8,=cmd",
        '5,72,30,25,4,""',
        "6,45,70,50,16,-5",
    ]
    path = tmp_path / "in.csv"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    monkeypatch.setattr(scoring_module, "BLOCK_BYTES", 1 << 20)
    reference = scored(score_file(model, path))
    assert records(reference)[2][5] == '27" screen'
    assert records(reference)[4][5] == "'=cmd"
    for size in (1, 7, 16, 33, 64, 100):
        monkeypatch.setattr(scoring_module, "BLOCK_BYTES", size)
        assert scored(score_file(model, path)) == reference, size


# -- formulas --------------------------------------------------------------------------------


@pytest.mark.parametrize("with_quotes", [False, True], ids=["fast path", "exact path"])
def test_formula_cells_are_neutralised_and_numbers_kept(
    model: SegmentationModel, tmp_path: Path, with_quotes: bool
) -> None:
    long_number, long_formula = "-" + "1" * 40, "=" + "x" * 50  # longer than a cell window
    notes = ["=1+1", "+cmd", "-x", "@SUM(A1)", "\tx", "-5", "+3", "-1.5e3", "- 5", "a=b", "-"]
    notes += [long_number, long_formula]
    header = "customer_id,age,annual_income,spending_score,purchase_frequency,note"
    rows = [f"{i},30,50,60,10,{note}" for i, note in enumerate(notes)]
    if with_quotes:
        rows.append('99,30,50,60,10,"quoted, \r"')
    out = records(score_text(model, tmp_path, "\n".join([header, *rows]) + "\n"))
    written = [r[5] for r in out[1 : len(notes) + 1]]
    assert written == [
        "'=1+1",
        "'+cmd",
        "'-x",
        "'@SUM(A1)",
        "'\tx",
        "-5",
        "+3",
        "-1.5e3",
        "'- 5",
        "a=b",
        "'-",
        long_number,
        "'" + long_formula,
    ]
    if with_quotes:
        assert out[-1][5] == "quoted, \r"


def test_formula_in_a_feature_column_and_the_header(
    model: SegmentationModel, tmp_path: Path
) -> None:
    text = "customer_id,age,annual_income,spending_score,purchase_frequency,=h\n1,=2+3,50,60,10,x\n"
    out = score_text(model, tmp_path, text).splitlines()
    assert out[0].endswith(",'=h,segment_id,segment_name,confidence,score_problem")
    assert out[1] == "1,'=2+3,50,60,10,x,,,,age: not a number"


def test_cell_starting_with_cr_or_tab_in_a_tab_file(
    model: SegmentationModel, tmp_path: Path
) -> None:
    header = HEADER.replace(",", "\t") + "\tnote"
    text = f'{header}\n1\t30\t50\t60\t10\t"\tx"\n2\t30\t50\t60\t10\t"\rboo"\n'
    out = records(score_text(model, tmp_path, text), "\t")
    assert [r[5] for r in out[1:]] == ["'\tx", "'\rboo"]


@pytest.mark.parametrize("name", ["=evil", '=HYPERLINK("http://x","click")', "-bad, name"])
def test_segment_names_are_neutralised(model: SegmentationModel, tmp_path: Path, name: str) -> None:
    renamed = model.with_names({0: name})
    centre = list(model.info.profiles[0].centre)
    values = ",".join(f"{v:.6f}" for v in centre)
    out = score_text(renamed, tmp_path, f"{HEADER}\n1,{values}\n").splitlines()
    expected = "'" + name
    if "," in name or '"' in name:
        expected = '"' + expected.replace('"', '""') + '"'
    assert out[1].split(",", 6)[6].startswith(expected)
    assert records("\n".join(out))[1][6] == "'" + name


# -- rows that cannot be scored --------------------------------------------------------------


def test_unscorable_rows_keep_empty_segment_cells_and_say_why(
    model: SegmentationModel, tmp_path: Path
) -> None:
    rows = [
        "1,,50,60,10",  # age missing
        "2,NA,50,60,10",  # missing token
        "3,abc,50,60,10",  # not a number
        "4,150,50,60,10",  # out of range
        "5,30,-1,0,10",  # two features out of range
        "6,,x,60,10",  # missing and not a number
        "7,30,50,60,10",  # fine
    ]
    out = records(score_text(model, tmp_path, "\n".join([HEADER, *rows]) + "\n"))
    problems = [r[5:] for r in out[1:]]
    assert problems[:6] == [
        ["", "", "", "age: missing"],
        ["", "", "", "age: missing"],
        ["", "", "", "age: not a number"],
        ["", "", "", "age: must be between 18 and 100"],
        [
            "",
            "",
            "",
            "annual_income: must be at least 0; spending_score: must be between 1 and 100",
        ],
        ["", "", "", "age: missing; annual_income: not a number"],
    ]
    assert problems[6][3] == "" and problems[6][0] != ""


def test_reasons_with_the_delimiter_are_quoted(model: SegmentationModel, tmp_path: Path) -> None:
    text = HEADER.replace(",", ";") + "\n1;;x;60;10\n"
    out = score_text(model, tmp_path, text)
    assert out.splitlines()[1] == '1;;x;60;10;;;;"age: missing; annual_income: not a number"'


def test_log_feature_refuses_negative_values(
    log_drop_model: SegmentationModel, tmp_path: Path
) -> None:
    out = records(score_text(log_drop_model, tmp_path, "visits,revenue\n5,-3\n5,\n5,20\n"))
    assert [r[-1] for r in out[1:]] == ["revenue: must be at least 0", "revenue: missing", ""]
    assert out[3][2] != ""


def test_median_policy_fills_missing_values(
    log_median_model: SegmentationModel, tmp_path: Path
) -> None:
    out = records(score_text(log_median_model, tmp_path, "visits,revenue\n5,\n,NA\n5,oops\n"))
    expected = log_median_model.predict_batch(np.array([[5.0, np.nan], [np.nan, np.nan]]))
    assert [int(r[2]) for r in out[1:3]] == expected.cluster_ids.tolist()
    assert [r[4] for r in out[1:3]] == [f"{c:.4f}" for c in expected.confidence]
    assert [r[5] for r in out[1:3]] == ["", ""]
    assert out[3][2:] == ["", "", "", "revenue: not a number"]


def test_summary_counts_every_segment_in_order(model: SegmentationModel, tmp_path: Path) -> None:
    centre = model.info.profiles[1].centre
    row = ",".join(f"{v:.6f}" for v in centre)
    path = tmp_path / "in.csv"
    path.write_text(f"{HEADER}\n1,{row}\n2,{row}\n3,,50,60,10\n")
    job = score_file(model, path)
    with pytest.raises(RuntimeError):
        _ = job.summary
    scored(job)
    summary = job.summary
    assert (summary.version, summary.rows, summary.scored_rows) == (model.version, 3, 2)
    assert [s.cluster_id for s in summary.segments] == list(range(model.info.k))
    assert [s.segment_name for s in summary.segments] == list(model.segment_names)
    assert [s.customers for s in summary.segments] == [
        2 if i == 1 else 0 for i in range(model.info.k)
    ]
    with pytest.raises(RuntimeError):
        next(job.chunks())


# -- inputs ----------------------------------------------------------------------------------


def test_feature_columns_found_by_trimmed_name(model: SegmentationModel, tmp_path: Path) -> None:
    text = "customer_id, age ,annual_income,spending_score,purchase_frequency\n1,30,50,60,10\n"
    assert score_text(model, tmp_path, text).splitlines()[1] == "1,30,50,60,10" + suffix(
        model, [30, 50, 60, 10]
    )


def test_parquet_is_recognised_by_content(model: SegmentationModel, tmp_path: Path) -> None:
    table = pa.table(
        {
            "customer_id": pa.array([1, 2, 3], pa.int64()),
            "name": pa.array(["Ann", "=cmd", None]),
            "age": pa.array([30, 41, None], pa.int32()),
            "annual_income": pa.array([50.0, 1.5, 40.0]),
            "spending_score": pa.array([60, 50, 80], pa.int64()),
            "purchase_frequency": pa.array([10, 5, 38], pa.int64()),
            "note": pa.array(["a, b", 'say "x"', "-5"]),
        }
    )
    path = tmp_path / "customers.csv"  # a Parquet file whatever its name says
    pq.write_table(table, path)
    out = score_file(model, path)
    text = scored(out)
    lines = text.splitlines()
    assert lines[0] == (
        "customer_id,name,age,annual_income,spending_score,purchase_frequency,note,"
        + ",".join(OUTPUT_COLUMNS)
    )
    assert lines[1] == '1,Ann,30,50,60,10,"a, b"' + suffix(model, [30, 50, 60, 10])
    assert lines[2] == '2,\'=cmd,41,1.5,50,5,"say ""x"""' + suffix(model, [41, 1.5, 50, 5])
    assert lines[3] == "3,,,40,80,38,-5,,,,age: missing"
    assert out.summary.rows == 3 and out.summary.scored_rows == 2


def test_csv_named_parquet_is_read_as_csv(model: SegmentationModel, tmp_path: Path) -> None:
    out = score_text(model, tmp_path, f"{HEADER}\n1,30,50,60,10\n", name="in.parquet")
    assert out.splitlines()[1] == "1,30,50,60,10" + suffix(model, [30, 50, 60, 10])


def test_dataset_batches_of_text_give_the_same_file(
    model: SegmentationModel, tmp_path: Path, small_blocks: None
) -> None:
    """A stored CSV dataset (every cell a pa.string() of the text read) scores like the file."""
    lines = [
        "customer_id,name,age,annual_income,spending_score,purchase_frequency",
        *(
            f"{i},{name},{age},{income},60,10"
            for i, (name, age, income) in enumerate(
                [
                    ("Ann", "30", "50"),
                    ('"Smith, J"', "41", "1.50"),
                    ("=x", "", "40"),
                    ("-5", "007", "abc"),
                    ("Bo", "25", "40.0"),
                ]
                * 3
            )
        ),
    ]
    text = "\r\n".join(lines) + "\r\n"
    path = tmp_path / "in.csv"
    path.write_text(text, newline="")
    names = lines[0].split(",")
    table = pacsv.read_csv(
        path,
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names}, strings_can_be_null=False
        ),
    )
    job = score_batches(model, table.to_batches(max_chunksize=4), line_terminator="\r\n")
    assert scored(job) == scored(score_file(model, path))
    assert job.summary.rows == 15


def test_dataset_batches_of_parquet_types_and_another_delimiter(
    model: SegmentationModel,
) -> None:
    table = pa.table(
        {
            "age": pa.array([30, 41], pa.int64()),
            "annual_income": pa.array([50.0, 1.5]),
            "spending_score": pa.array([60, 50], pa.int64()),
            "purchase_frequency": pa.array([10.0, None]),
            "city": pa.array(["Lyon; FR", "Paris"]).dictionary_encode(),
        }
    )
    job = score_batches(model, table.to_batches(), delimiter=";")
    assert scored(job).splitlines() == [
        "age;annual_income;spending_score;purchase_frequency;city;" + ";".join(OUTPUT_COLUMNS),
        '30;50;60;10;"Lyon; FR"' + suffix(model, [30, 50, 60, 10], ";"),
        "41;1.5;50;;Paris;;;;purchase_frequency: missing",
    ]


def test_no_batches_at_all(model: SegmentationModel) -> None:
    with pytest.raises(DataValidationError, match="age"):
        score_batches(model, [])


# -- refused inputs --------------------------------------------------------------------------


def test_missing_feature_column_is_refused_before_any_chunk(
    model: SegmentationModel, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    path.write_text("customer_id,age,income,spending_score\n1,30,50,60\n")
    with pytest.raises(DataValidationError) as caught:
        score_file(model, path)
    message = str(caught.value)
    assert "annual_income" in message and "purchase_frequency" in message
    assert "customer_id, age, income, spending_score" in message
    assert {p.column for p in caught.value.problems} == {"annual_income", "purchase_frequency"}


def test_missing_feature_column_in_parquet_and_batches(
    model: SegmentationModel, tmp_path: Path
) -> None:
    table = pa.table({"age": [30], "annual_income": [50.0], "spending_score": [60]})
    pq.write_table(table, tmp_path / "in.parquet")
    with pytest.raises(DataValidationError, match="purchase_frequency"):
        score_file(model, tmp_path / "in.parquet")
    with pytest.raises(DataValidationError, match="purchase_frequency"):
        score_batches(model, table.to_batches())


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (f"{HEADER}\n1,30,50,60,10\n2,caf\xe9,50,60,10\n".encode("latin-1"), 3, "UTF-8"),
        (f"{HEADER}\n1,30,50,60,10\n".encode() + b"\x00\x01\x02\n", 3, "binary"),
        (f"{HEADER}\n1,30,50,60,10\n2,30,50,60\n".encode(), 3, "4 fields"),
        (f'{HEADER}\n1,30,50,60,10\n"2\n",30,50,60,10,11\n'.encode(), 3, "6 fields"),
    ],
    ids=["latin-1", "binary", "ragged", "ragged quoted"],
)
def test_unreadable_files_are_refused_before_any_chunk(
    model: SegmentationModel, tmp_path: Path, content: bytes, line: int, words: str
) -> None:
    path = tmp_path / "in.csv"
    path.write_bytes(content)
    with pytest.raises(DataValidationError, match=words) as caught:
        score_file(model, path)
    assert caught.value.problems[0].line == line


def test_a_ragged_row_far_down_names_its_line(
    model: SegmentationModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring_module, "BLOCK_BYTES", 256)
    rows = [f"{i},30,50,60,10" for i in range(200)]
    rows[150] = "150,30,50"
    path = tmp_path / "in.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    job = score_file(model, path)  # the first blocks are fine
    with pytest.raises(DataValidationError) as caught:
        scored(job)
    assert caught.value.problems[0].line == 152


def test_unreadable_parquet_is_refused(model: SegmentationModel, tmp_path: Path) -> None:
    path = tmp_path / "in.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 100)
    with pytest.raises(DataValidationError, match="Parquet"):
        score_file(model, path)


# -- writing ---------------------------------------------------------------------------------


def test_write_scored_writes_the_chunks_and_leaves_no_temp_file(
    model: SegmentationModel, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"{HEADER}\n1,30,50,60,10\n2,,50,60,10\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "scored.csv"
    summary = write_scored(score_file(model, source), out)
    assert out.read_text() == scored(score_file(model, source))
    assert (summary.rows, summary.scored_rows) == (2, 1)
    assert os.listdir(out_dir) == ["scored.csv"]


def test_write_scored_leaves_nothing_on_error(
    model: SegmentationModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(scoring_module, "BLOCK_BYTES", 64)
    rows = [f"{i},30,50,60,10" for i in range(100)]
    rows[90] = "90,30"
    source = tmp_path / "in.csv"
    source.write_text("\n".join([HEADER, *rows]) + "\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "scored.csv"
    with pytest.raises(DataValidationError):
        write_scored(score_file(model, source), out)
    assert os.listdir(out_dir) == []
    out.write_text("previous")
    with pytest.raises(DataValidationError):
        write_scored(score_file(model, source), out)
    assert os.listdir(out_dir) == ["scored.csv"]
    assert out.read_text() == "previous"


# -- memory ----------------------------------------------------------------------------------

_MEMORY_SCRIPT = """
import json, sys
from pathlib import Path
from segmentation_core import generate_customers, train_model
from segmentation_core.scoring import score_file, write_scored

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

model = train_model(generate_customers(200, seed=42).frame)
small, big, out = (Path(p) for p in sys.argv[1:])
before = status("VmRSS:")
rows_small = write_scored(score_file(model, small), out).rows
peak_small = status("VmHWM:")
rows_big = write_scored(score_file(model, big), out).rows
print(json.dumps({"before": before, "peak_small": peak_small, "peak_big": status("VmHWM:"),
                  "rows": [rows_small, rows_big]}))
"""


def _customer_chunk(rows: int) -> tuple[bytes, bytes, int]:
    """Header line, ``rows`` data lines (9 columns) and their all-text Arrow table's size."""
    frame = generate_customers(rows, seed=5).frame
    index = np.arange(rows)
    frame.insert(1, "email", [f"customer{i}@example.com" for i in index])
    frame.insert(2, "region", np.array(["North", "South", "East", "West"])[index % 4])
    frame["signup"] = [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in index]
    header = (",".join(frame.columns) + "\n").encode()
    lines = frame.to_csv(index=False, header=False).encode()
    table = pacsv.read_csv(
        io.BytesIO(header + lines),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in frame.columns}),
    )
    return header, lines, table.nbytes


def test_memory_stays_bounded_whatever_the_row_count(tmp_path: Path) -> None:
    """A subprocess scores 200,000 rows, then 2,000,000 (a ~130 MB file): its peak RSS grows by
    far less than the big file's all-text Arrow table, and hardly more than for the small file,
    so no file is ever held whole."""
    header, lines, chunk_table = _customer_chunk(10_000)
    paths = {}
    for name, repeats in (("small", 20), ("big", 200)):
        paths[name] = tmp_path / f"{name}.csv"
        with open(paths[name], "wb") as fh:
            fh.write(header)
            for _ in range(repeats):
                fh.write(lines)
    table_bytes = chunk_table * 200
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _MEMORY_SCRIPT,
            str(paths["small"]),
            str(paths["big"]),
            str(tmp_path / "out.csv"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=280,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["rows"] == [200_000, 2_000_000]
    growth_big = report["peak_big"] - report["before"]
    growth_more = report["peak_big"] - report["peak_small"]
    assert growth_big < table_bytes / 2, (growth_big, table_bytes)
    assert growth_more < table_bytes / 8, (growth_more, table_bytes)


# -- random files ----------------------------------------------------------------------------

_TEXTS = [
    "abc",
    "",
    "  pad ",
    "007",
    "1.50",
    "-5",
    "+3",
    "=1+1",
    "@x",
    "-x",
    "a,b",
    "a;b",
    'say "hi"',
    "multi\nline",
    "cr\r\nlf",
    "\tt",
    '27" screen',
    "é ü 中",
    "x\ty",
    "-",
]
_NUMBERS = ["30", " 41 ", "55.5", "2e1", "72", "", "NA", "oops", "-3", "150"]


def _random_file(rng: np.random.Generator, d: str, t: str) -> tuple[str, list[list[str]]]:
    """A CSV text with tricky cells (quoted when needed, sometimes when not, stray quotes
    unquoted) and blank lines, and its records as Python's csv module reads them."""
    columns = [
        "id",
        "note",
        "age",
        "annual_income",
        "spending_score",
        "purchase_frequency",
        "other",
    ]
    rows = []
    for i in range(int(rng.integers(1, 40))):
        cells = [str(i), str(rng.choice(_TEXTS))]
        cells += [
            str(rng.choice(_NUMBERS)) if rng.random() < 0.3 else str(rng.integers(20, 60))
            for _ in range(4)
        ]
        cells.append(str(rng.choice(_TEXTS)))
        rows.append(cells)

    def cell(text: str) -> str:
        special = d in text or "\r" in text or "\n" in text
        stray = '"' in text and not text.startswith('"') and not special
        if special or ('"' in text and not stray) or (rng.random() < 0.1 and not stray):
            return '"' + text.replace('"', '""') + '"'
        return text

    lines = [d.join(columns)]
    for cells in rows:
        lines.append(d.join(cell(c) for c in cells))
        if rng.random() < 0.1:
            lines.append("")
    text = t.join(lines) + (t if rng.random() < 0.8 else "")
    parsed = [r for r in csv.reader(io.StringIO(text, newline=""), delimiter=d) if r]
    return text, parsed


def _neutralised(text: str) -> str:
    """The cell as the scored file holds it once read back."""
    formula = text != "" and text[0] in "=+-@\t\r" and not scoring_module._is_number(text)
    return "'" + text if formula else text


@pytest.mark.parametrize("seed", range(12))
def test_random_files_read_back_as_written(
    model: SegmentationModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    d, t = [",", ";", "\t"][seed % 3], ["\n", "\r\n"][seed % 2]
    text, parsed = _random_file(rng, d, t)
    path = tmp_path / "in.csv"
    path.write_bytes(text.encode())
    outputs = set()
    for size in (13, 100, 1 << 20):
        monkeypatch.setattr(scoring_module, "BLOCK_BYTES", size)
        outputs.add(scored(score_file(model, path)))
    assert len(outputs) == 1
    out = records(outputs.pop(), d)
    assert out[0] == [*parsed[0], *OUTPUT_COLUMNS]
    assert len(out) == len(parsed)
    for got, row in zip(out[1:], parsed[1:], strict=True):
        assert got[:7] == [_neutralised(c) for c in row]
        values = [c.strip() for c in row[2:6]]
        if (
            all(scoring_module._is_number(v) for v in values)
            and 18 <= float(values[0]) <= 100
            and float(values[1]) >= 0
            and 1 <= float(values[2]) <= 100
            and float(values[3]) >= 0
        ):
            p = model.predict_one([float(v) for v in values])
            assert got[7:] == [str(p.cluster_id), p.segment_name, f"{p.confidence:.4f}", ""]
        else:
            assert got[7:10] == ["", "", ""] and got[10] != ""


def test_rare_formula_cells_in_a_long_block(model: SegmentationModel, tmp_path: Path) -> None:
    """A few formula-like cells among thousands of rows (each cell's end found from a small
    window, or with ``find`` past it) and at the very end of a file without a final newline."""
    header = "customer_id,age,annual_income,spending_score,purchase_frequency,note"
    notes = {7: "=A1", 500: "-" + "9" * 40, 900: "@" + "y" * 45, 1500: "-2.5", 2999: "+cmd"}
    rows = [f"{i},30,50,60,10,{notes.get(i, 'ok')}" for i in range(3000)]
    out = records(score_text(model, tmp_path, "\n".join([header, *rows])))
    written = {i: out[i + 1][5] for i in notes}
    assert written == {
        7: "'=A1",
        500: notes[500],
        900: "'" + notes[900],
        1500: "-2.5",
        2999: "'+cmd",
    }
    assert all(r[5] == "ok" for i, r in enumerate(out[1:]) if i not in notes)


def test_written_file_has_the_usual_permissions(model: SegmentationModel, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"{HEADER}\n1,30,50,60,10\n")
    out = tmp_path / "scored.csv"
    write_scored(score_file(model, source), out)
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
