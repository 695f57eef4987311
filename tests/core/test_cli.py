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
    version = (tmp_path / "models" / "ACTIVE").read_text().strip()

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
    bad.write_text("customer_id,age,annual_income,spending_score\n1,30,50,50\n")
    r = run("train", "--data", str(bad))
    assert r.returncode == 2 and "purchase_frequency" in r.stderr and "missing" in r.stderr
    assert not (tmp_path / "models" / "ACTIVE").exists()

    r = run("train", "--k-min", "1")
    assert r.returncode == 2 and "k_min: must be at least 2" in r.stderr

    r = run("train", "--k", "4")
    assert r.returncode == 0 and "k=4" in r.stdout
    version = (tmp_path / "models" / "ACTIVE").read_text().strip()
    with open(tmp_path / "models" / version / "pipeline.joblib", "ab") as fh:
        fh.write(b"\0")
    r = run("info")
    assert r.returncode == 4 and "changed after it was signed" in r.stderr
    # make run's `train --if-empty` replaces a refused model instead of serving nothing
    r = run("train", "--if-empty")
    assert r.returncode == 0 and "refused" in r.stderr
    assert run("info").returncode == 0
