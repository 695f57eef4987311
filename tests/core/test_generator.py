"""The seeded generator and the bundled data it wrote."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_core import DEFAULT_SPEC, PLANTED_SEGMENTS, generate_customers, load_table
from segmentation_core.generator import segment_sizes


def test_bundled_data_is_the_generator_output(bundled_csv: Path) -> None:
    # written by: python -m segmentation_core generate --n 200 --seed 42 --out data/customers.csv
    bundled = pd.read_csv(bundled_csv)
    pd.testing.assert_frame_equal(bundled, generate_customers(200, seed=42).frame)
    table = load_table(bundled_csv, DEFAULT_SPEC, min_rows=11)  # valid training data
    assert table.n_rows == 200


def test_same_seed_same_rows_other_seed_other_rows() -> None:
    a, b, c = (generate_customers(300, seed=s) for s in (1, 1, 2))
    pd.testing.assert_frame_equal(a.frame, b.frame)
    np.testing.assert_array_equal(a.planted, b.planted)
    assert not a.frame.equals(c.frame)


@pytest.mark.parametrize("n", [1, 4, 7, 200, 1001])
def test_any_n_has_exact_sizes_and_valid_ranges(n: int) -> None:
    data = generate_customers(n, seed=0)
    frame = data.frame
    assert len(frame) == n and frame["customer_id"].tolist() == list(range(1, n + 1))
    expected = segment_sizes(n, tuple(s.share for s in PLANTED_SEGMENTS))
    assert sum(expected) == n
    assert np.bincount(data.planted, minlength=len(PLANTED_SEGMENTS)).tolist() == expected
    assert frame["age"].between(18, 100).all()
    assert frame["annual_income"].between(15, 150).all()
    assert frame["spending_score"].between(1, 100).all()
    assert frame["purchase_frequency"].between(1, 50).all()


def test_segment_sizes_split_exactly() -> None:
    assert segment_sizes(200, (0.26, 0.23, 0.20, 0.17, 0.14)) == [52, 46, 40, 34, 28]
    assert segment_sizes(3, (0.5, 0.5)) == [2, 1]
    with pytest.raises(ValueError):
        generate_customers(0)
