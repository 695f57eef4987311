"""Fixtures of the core tests: data sets, trained models and isolated model stores."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from segmentation_core import (
    DEFAULT_SPEC,
    ModelStore,
    SegmentationModel,
    TrainingParams,
    generate_customers,
    train_model,
)
from segmentation_core.generator import GeneratedCustomers

REPO_ROOT = Path(__file__).resolve().parents[2]


#: Copies of the shared reference data sets (Mall, Wholesale, Online Retail RFM), checked by
#: sha256 in tests/data/README.md, so the tests need nothing outside the repository.
DATASETS = REPO_ROOT / "tests" / "data"


def _shared_datasets() -> Path:
    return DATASETS


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository the tests run from."""
    return REPO_ROOT


@pytest.fixture(scope="session")
def mall_csv() -> Path:
    """The real Mall customers data set (200 rows, Kaggle)."""
    return _shared_datasets() / "mall_customers.csv"


@pytest.fixture(scope="session")
def bundled_csv() -> Path:
    """The bundled data/customers.csv."""
    return REPO_ROOT / "data" / "customers.csv"


@pytest.fixture(scope="session")
def planted_200() -> GeneratedCustomers:
    """200 generated customers with five planted segments (seed 42: the bundled data)."""
    return generate_customers(200, seed=42)


@pytest.fixture(scope="session")
def model(planted_200: GeneratedCustomers) -> SegmentationModel:
    """A model trained on the bundled data's generator output (auto k)."""
    return train_model(planted_200.frame, TrainingParams(), DEFAULT_SPEC)


@pytest.fixture
def store(tmp_path: Path) -> ModelStore:
    """An empty store with its signing key outside it, both under a fresh temp folder."""
    return ModelStore(tmp_path / "models", tmp_path / "secrets" / "signing.key")


@pytest.fixture
def customers_frame(planted_200: GeneratedCustomers) -> pd.DataFrame:
    """A fresh copy of the 200 generated customers, free to modify."""
    return planted_200.frame.copy()
