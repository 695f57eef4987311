"""Fixtures of the Spark engine's tests: ONE local[2] session for the whole run, generated tables
and the models trained on them (each trained once per run), plus the local engine's results on
the same files for comparison.

These tests run in ``make test`` like every other (they are not skipped): they need pyspark (the
``spark`` extra ``make setup`` installs) and a Java 17+ runtime (``.ci/run`` installs one).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

from segmentation_core.datasets import DatasetStore  # noqa: E402
from segmentation_core.generator import generate_customers  # noqa: E402
from segmentation_core.model import SegmentationModel  # noqa: E402
from segmentation_core.results import TrainingParams  # noqa: E402
from segmentation_core.settings import get_settings  # noqa: E402
from segmentation_core.store import ModelStore  # noqa: E402
from segmentation_core.workspace import Workspace  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA = REPO_ROOT / "tests" / "data"
#: Rows of the equivalence table (the issue's figure).
EQUIVALENCE_ROWS = 200_000


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test here is marked ``spark`` (and ``slow``): ``make test`` runs them; ``pytest -m
    "not spark"`` leaves them out of a quick local run."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.spark)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def spark() -> Iterator[object]:
    """The one SparkSession of the run: local[2], quiet, a few shuffle partitions."""
    if shutil.which("java") is None:
        pytest.fail(
            "the Spark tests need a Java 17+ runtime on PATH "
            "(Debian: apt-get install openjdk-17-jre-headless; .ci/run installs it)"
        )
    from segmentation_core.spark.session import get_session

    settings = dataclasses.replace(get_settings(), spark_master="local[2]", spark_remote=None)
    session = get_session(settings, conf={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def customers_table(n: int, seed: int) -> pd.DataFrame:
    """Generated customers (planted segments) as text cells, with what real exports hold:
    missing values ("NA", blank), a categorical column that follows the segments, and ignored
    text (dates, free text)."""
    frame = generate_customers(n, seed).frame
    rng = np.random.default_rng(seed)
    tiers = np.where(
        frame["annual_income"].to_numpy() > 80,
        rng.choice(["gold", "silver"], n),
        rng.choice(["silver", "bronze", " bronze ", ""], n),
    )
    cells = frame.astype(str).astype(object)
    for column, token in (("age", "NA"), ("purchase_frequency", "")):
        cells.loc[rng.choice(n, n // 100, replace=False), column] = token
    cells["tier"] = tiers
    cells["signup"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 900, n), "D")
    cells["signup"] = cells["signup"].dt.strftime("%Y-%m-%d")
    return cells


@pytest.fixture(scope="session")
def big_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The 200,000-row equivalence table as a CSV file."""
    path = tmp_path_factory.mktemp("big") / "customers.csv"
    customers_table(EQUIVALENCE_ROWS, seed=11).to_csv(path, index=False)
    return path


def train_local(path: Path, params: TrainingParams, folder: Path) -> SegmentationModel:
    """The local engine on the same file, as the CLI and the API run it: import the file as a
    dataset, train on it through the Workspace (stored in a throwaway store)."""
    workspace = Workspace(
        DatasetStore(folder / "datasets"), ModelStore(folder / "models", folder / "key" / "key")
    )
    dataset = workspace.import_dataset(path).dataset
    return workspace.train(dataset.id, params, source=str(path))


@pytest.fixture(scope="session")
def big_local(big_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> SegmentationModel:
    """The local engine's model of the equivalence table."""
    return train_local(big_csv, TrainingParams(), tmp_path_factory.mktemp("datasets"))


@pytest.fixture(scope="session")
def big_spark(spark: object, big_csv: Path) -> SegmentationModel:
    """The Spark engine's model of the equivalence table."""
    from segmentation_core.spark import train_spark

    return train_spark(str(big_csv), TrainingParams(), spark=spark)  # type: ignore[arg-type]
