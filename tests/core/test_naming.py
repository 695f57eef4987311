"""Segment names: descriptive words from centres, generic fall-backs, always unique."""

from __future__ import annotations

import numpy as np

from segmentation_core import DEFAULT_SPEC, FeatureSpec
from segmentation_core.naming import name_segments


def _names(z: list[list[float]], spec: FeatureSpec = DEFAULT_SPEC) -> list[str]:
    arr = np.array(z, dtype=float)
    return name_segments(arr, arr * 10 + 50, spec)


def test_words_nouns_and_average() -> None:
    # columns: age, annual_income, spending_score (the noun), purchase_frequency
    assert _names([[-1.2, -0.8, 1.0, 0.1], [1.5, 0, -1.0, -0.9], [0.1, 0.2, 0.3, -0.2]]) == [
        "Young Budget Shoppers",
        "Senior Occasional Browsers",
        "Average Customers",
    ]


def test_two_most_distinctive_features_said_in_spec_order() -> None:
    (name,) = _names([[0.6, 2.0, 0.0, 1.5]])
    assert name == "Affluent Frequent Customers"


def test_generic_spec_falls_back_to_high_and_low_labels() -> None:
    spec = FeatureSpec.generic(["Annual Income (k$)", "Spending Score (1-100)"])
    assert _names([[1.0, -1.0], [0.0, 0.0]], spec) == [
        "High Annual Income, Low Spending Score Customers",
        "Average Customers",
    ]


def test_collisions_take_more_words_then_values_then_ordinals() -> None:
    names = _names(
        [
            [1.0, 2.0, 0.0, 0.0],  # Senior Affluent ...
            [1.0, 2.0, 0.0, 0.9],  # ... and Frequent: a third word tells them apart
            [0.0, 3.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],  # both only "Affluent": the income value tells them apart
            [0.0, 1.0, 0.0, 0.0],  # identical centre: an ordinal is all that is left
        ]
    )
    assert len(set(names)) == 5
    assert names[0] == "Senior Affluent Customers"
    assert names[1] == "Senior Affluent Frequent Customers"
    assert names[2].startswith("Affluent Customers (Annual income")
    assert names[4].endswith(" 2")
