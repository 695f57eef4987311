"""``train --engine spark`` and ``score --engine spark``: the CLI's syntax, errors and output, and
a Spark-trained model served by the ordinary commands. In-process, on the run's session (the
engine's ``getOrCreate`` finds it)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from segmentation_core.cli import main
from tests.spark.conftest import DATA, REPO_ROOT


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SEGMENTATION_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("SEGMENTATION_SIGNING_KEY_FILE", str(tmp_path / "secrets" / "key"))
    monkeypatch.setenv("SEGMENTATION_DATASETS_DIR", str(tmp_path / "datasets"))
    monkeypatch.setenv("SEGMENTATION_DATA", str(REPO_ROOT / "data" / "customers.csv"))
    return tmp_path


def test_train_and_score_on_spark_then_serve_the_model(
    spark: object, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mall = DATA / "mall_customers.csv"
    features = "Annual Income (k$):none,Spending Score (1-100):none"
    assert main(["train", "--engine", "spark", "--data", f"file://{mall}",
                 "--features", features]) == 0
    out = capsys.readouterr().out
    assert "k=5, silhouette 0.5547" in out and "mall_customers.csv" in out
    assert main(["info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["engine"] == "spark" and info["source"] == f"file://{mall}"
    # the ordinary commands serve it: one customer, and a local scoring
    assert main(["predict", "--annual-income-(k$)", "120", "--spending-score-(1-100)", "90"]) == 0
    assert "Segment " in capsys.readouterr().out
    assert main(["score", "--engine", "spark", "--in", str(mall),
                 "--out", str(env / "scored")]) == 0
    out = capsys.readouterr().out
    assert "Scored 200 of 200 rows" in out
    table = pq.read_table(sorted((env / "scored").glob("part-*.parquet")))
    assert table.num_rows == 200 and table.column_names[-4:] == [
        "segment_id", "segment_name", "confidence", "score_problem"
    ]
    assert main(["score", "--in", str(mall), "--out", str(env / "scored.csv")]) == 0
    local = capsys.readouterr().out
    assert local.splitlines()[1:] == out.splitlines()[1:]  # the same segment counts


def test_spark_cli_errors_are_the_local_cli_errors(
    spark: object, env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mall = str(DATA / "mall_customers.csv")
    for engine in ("local", "spark"):
        assert main(["train", "--engine", engine, "--data", mall,
                     "--features", "Gender,Age"]) == 2
        assert "is CATEGORICAL, not NUMERIC" in capsys.readouterr().err
        assert main(["train", "--engine", engine, "--data", mall,
                     "--features", "Age:cube"]) == 2
        assert "unknown transform 'cube'" in capsys.readouterr().err
    assert main(["train", "--engine", "spark", "--dataset", "abc"]) == 2
    assert "needs --data URI" in capsys.readouterr().err
    assert main(["train", "--engine", "spark", "--data", str(env / "missing.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["score", "--engine", "spark", "--in", mall, "--out", str(env / "x")]) == 3
    assert "no model has been trained" in capsys.readouterr().err
