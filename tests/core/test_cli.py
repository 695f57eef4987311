"""The command line end to end, in real subprocesses, on a temporary store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture
def run(tmp_path: Path, repo_root: Path):  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "PYTHONPATH": str(repo_root),
        "SEGMENTATION_MODELS_DIR": str(tmp_path / "models"),
        "SEGMENTATION_SIGNING_KEY_FILE": str(tmp_path / "secrets" / "key"),
        "SEGMENTATION_DATASETS_DIR": str(tmp_path / "datasets"),
        "SEGMENTATION_DATA": str(repo_root / "data" / "customers.csv"),
    }

    def _run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "segmentation_core", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    return _run


@pytest.mark.slow
def test_cli_end_to_end(run, tmp_path: Path, mall_csv: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("info")
    assert r.returncode == 3 and "no model has been trained" in r.stderr

    r = run("train", "--if-empty")
    assert r.returncode == 0, r.stderr
    assert "k=5, silhouette 0.7370" in r.stdout and "Young Frequent Shoppers" in r.stdout
    version = json.loads((tmp_path / "models" / "registry.json").read_text())["stack"][-1]

    r = run("train", "--if-empty")
    assert r.returncode == 0 and f"Model {version} is already active" in r.stdout

    r = run("info", "--json")
    info = json.loads(r.stdout)
    assert info["version"] == version and info["k"] == 5 and len(info["elbow"]["points"]) == 9

    r = run(
        "predict",
        "--age",
        "25",
        "--annual-income",
        "40",
        "--spending-score",
        "82",
        "--purchase-frequency",
        "38",
        "--json",
    )
    assert r.returncode == 0, r.stderr
    one = json.loads(r.stdout)
    assert one["segment_name"] == "Young Frequent Shoppers" and one["confidence"] > 0.9

    r = run(
        "predict",
        "--age",
        "150",
        "--annual-income",
        "40",
        "--spending-score",
        "82",
        "--purchase-frequency",
        "38",
    )
    assert r.returncode == 2 and "must be between 18 and 100, got 150" in r.stderr

    r = run("predict", "--age", "25")
    assert r.returncode == 2 and "missing --annual-income" in r.stderr

    out = tmp_path / "more.csv"
    r = run("generate", "--n", "50", "--seed", "9", "--out", str(out))
    assert r.returncode == 0 and len(pd.read_csv(out)) == 50
    r = run("predict", "--csv", str(out))
    assert r.returncode == 0, r.stderr
    rows = pd.read_csv(pd.io.common.StringIO(r.stdout))
    assert list(rows.columns) == ["id", "cluster_id", "segment_name", "confidence"]
    assert len(rows) == 50 and rows["confidence"].between(0, 1).all()

    r = run(
        "train",
        "--data",
        str(mall_csv),
        "--columns",
        "Annual Income (k$),Spending Score (1-100)",
        "--k-max",
        "8",
    )
    assert r.returncode == 0, r.stderr
    assert "k=5, silhouette 0.5547" in r.stdout
    r = run("predict", "--annual-income", "90", "--spending-score", "85")
    assert r.returncode == 0 and "High Annual Income, High Spending Score Customers" in r.stdout


@pytest.mark.slow
def test_cli_refuses_bad_input_and_tampering(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,age,annual_income,spending_score\n1,30,50,50\n2,31,51\n")
    r = run("train", "--data", str(bad))
    assert r.returncode == 2 and "line 3" in r.stderr and "the header has 4" in r.stderr
    assert not (tmp_path / "models" / "registry.json").exists()

    r = run("train", "--k-min", "1")
    assert r.returncode == 2 and "k_min: must be at least 2" in r.stderr

    r = run("train", "--k", "4")
    assert r.returncode == 0 and "k=4" in r.stdout
    version = json.loads((tmp_path / "models" / "registry.json").read_text())["stack"][-1]
    with open(tmp_path / "models" / version / "pipeline.joblib", "ab") as fh:
        fh.write(b"\0")
    r = run("info")
    assert r.returncode == 4 and "changed after it was signed" in r.stderr
    # make run's `train --if-empty` replaces a refused model instead of serving nothing
    r = run("train", "--if-empty")
    assert r.returncode == 0 and "refused" in r.stderr
    assert run("info").returncode == 0


@pytest.mark.slow
def test_cli_reproduces_the_reference_sets(run, repo_root: Path) -> None:  # type: ignore[no-untyped-def]
    data = repo_root / "tests" / "data"
    cases = [
        ("wholesale_customers.csv", "Fresh,Milk,Grocery,Frozen,Detergents_Paper,Delicassen",
         "k=2, silhouette 0.290", 6),
        ("online_retail_rfm.csv", "Recency,Frequency,Monetary", "k=2, silhouette 0.432", 3),
        ("mall_customers.csv", "Annual Income (k$),Spending Score (1-100)",
         "k=5, silhouette 0.5547", 0),
    ]
    for name, features, expected, logged in cases:
        r = run("train", "--data", str(data / name), "--features", features)
        assert r.returncode == 0, r.stderr
        assert expected in r.stdout, r.stdout
        assert r.stdout.count("(LOG)") == logged


@pytest.mark.slow
def test_cli_datasets_models_and_scoring(run, tmp_path: Path, mall_csv: Path) -> None:  # type: ignore[no-untyped-def]
    r = run("datasets", "import", str(mall_csv), "--name", "Mall", "--json")
    assert r.returncode == 0, r.stderr
    imported = json.loads(r.stdout)
    mall = imported["dataset"]["id"]
    assert imported["already_present"] is False
    roles = {c["name"]: c["role"] for c in imported["dataset"]["columns"]}
    assert roles == {
        "CustomerID": "IDENTIFIER",
        "Gender": "CATEGORICAL",
        "Age": "NUMERIC",
        "Annual Income (k$)": "NUMERIC",
        "Spending Score (1-100)": "NUMERIC",
    }
    r = run("datasets", "import", str(mall_csv))
    assert r.returncode == 0 and f"Already imported as dataset {mall}" in r.stdout
    r = run("datasets", "list")
    assert r.returncode == 0 and mall in r.stdout and "(bundled)" in r.stdout
    r = run("datasets", "show", mall)
    assert r.returncode == 0 and "CATEGORICAL" in r.stdout and "Female" in r.stdout

    features = "Annual Income (k$):none,Spending Score (1-100):none"
    r = run("train", "--dataset", mall, "--features", features, "--min-share", "0.05")
    assert r.returncode == 0, r.stderr
    assert "k=5, silhouette 0.5547" in r.stdout and "stability" in r.stdout
    r = run("train", "--dataset", mall, "--features", features, "--k", "3")
    assert r.returncode == 0, r.stderr
    r = run("models", "list", "--json")
    records = json.loads(r.stdout)
    assert [rec["active"] for rec in records] == [True, False]
    three, five = records[0]["info"]["version"], records[1]["info"]["version"]

    r = run("models", "compare", five, three)
    assert r.returncode == 0 and "200 customers" in r.stdout and "adjusted Rand index" in r.stdout
    r = run("models", "rename", three, "0", "  Core shoppers ")
    assert r.returncode == 0 and "'Core shoppers'" in r.stdout
    r = run("models", "rename", three, "1", "core SHOPPERS")
    assert r.returncode == 2 and "name" in r.stderr
    r = run("info")
    assert "Core shoppers" in r.stdout

    r = run("datasets", "delete", mall)
    assert r.returncode == 6 and "active model" in r.stderr
    r = run("models", "delete", three)
    assert r.returncode == 6
    r = run("models", "rollback")
    assert r.returncode == 0 and five in r.stdout
    r = run("models", "rollback")
    assert r.returncode == 6 and "roll back" in r.stderr
    r = run("models", "activate", "nope")
    assert r.returncode == 5

    scored = tmp_path / "scored.csv"
    r = run("score", "--in", str(mall_csv), "--out", str(scored))
    assert r.returncode == 0, r.stderr
    assert "Scored 200 of 200 rows" in r.stdout
    lines = scored.read_text().splitlines()
    original = mall_csv.read_text().splitlines()
    assert len(lines) == len(original)
    assert lines[0] == original[0] + ",segment_id,segment_name,confidence,score_problem"
    assert all(line.startswith(src + ",") for line, src in zip(lines, original, strict=True))
    r = run("score", "--dataset", mall, "--version", three, "--out", str(tmp_path / "d.csv"))
    assert r.returncode == 0 and "Core shoppers" in r.stdout

    r = run("train", "--dataset", mall, "--features", "Gender")
    assert r.returncode == 2 and "is CATEGORICAL" in r.stderr
    r = run("train", "--dataset", mall, "--features", "Age:lg")
    assert r.returncode == 2 and "unknown transform" in r.stderr
    r = run("train", "--dataset", "0123456789abcdef")
    assert r.returncode == 5
