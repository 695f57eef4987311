"""A real data set through the generic feature spec: the published Mall customers result."""

from __future__ import annotations

from pathlib import Path

import pytest

from segmentation_core import FeatureSpec, TrainingParams, train_model


def test_mall_income_and_spending_gives_the_published_k_and_silhouette(mall_csv: Path) -> None:
    spec = FeatureSpec.generic(["Annual Income (k$)", "Spending Score (1-100)"])
    model = train_model(mall_csv, TrainingParams(), spec)  # CustomerID, Gender, Age ignored
    assert model.info.k == 5
    assert model.info.silhouette == pytest.approx(0.5547, abs=0.005)
    assert [p.size for p in model.info.profiles] == [81, 39, 35, 23, 22]
    centres = sorted((round(p.centre[0]), round(p.centre[1])) for p in model.info.profiles)
    assert centres == sorted([(55, 50), (87, 82), (88, 17), (26, 79), (26, 21)])
    names = dict(
        zip(
            [(round(p.centre[0]), round(p.centre[1])) for p in model.info.profiles],
            model.segment_names,
            strict=True,
        )
    )
    assert names[(55, 50)] == "Average Customers"
    assert names[(87, 82)] == "High Annual Income, High Spending Score Customers"
    assert names[(26, 21)] == "Low Annual Income, Low Spending Score Customers"
