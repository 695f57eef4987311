"""Prediction: honest confidence, probabilities, vectorised batches and input checks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from segmentation_core import (
    DEFAULT_SPEC,
    DataValidationError,
    FeatureSpec,
    SegmentationModel,
    TrainingParams,
    train_model,
)
from segmentation_core.generator import GeneratedCustomers
from segmentation_core.model import memberships

FEATURES = list(DEFAULT_SPEC.columns)


def _raw_centres(model: SegmentationModel) -> np.ndarray:
    return np.array([p.centre for p in model.info.profiles])


def _reference_memberships(model: SegmentationModel, x: np.ndarray) -> np.ndarray:
    """u_j = (1/d_j^2) / sum_i (1/d_i^2) in the scaled space, written out independently."""
    scaler, kmeans = model.pipeline[-2], model.pipeline[-1]
    z = scaler.transform(x.reshape(1, -1))[0]
    inv = np.array([1.0 / np.sum((z - c) ** 2) for c in kmeans.cluster_centers_])
    return inv / inv.sum()


def test_confidence_is_one_at_every_centre(model: SegmentationModel) -> None:
    for profile in model.info.profiles:
        p = model.predict_one(list(profile.centre))
        assert p.cluster_id == profile.cluster_id
        assert p.confidence == pytest.approx(1.0, abs=1e-9)


def test_zero_distance_is_exact() -> None:
    centres = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, -2.0]])
    ids, confidence, u = memberships(centres.copy(), centres)
    np.testing.assert_array_equal(ids, [0, 1, 2])
    np.testing.assert_array_equal(confidence, [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(u, np.eye(3))


def test_half_way_between_two_segments_is_one_half(planted_200: GeneratedCustomers) -> None:
    two = train_model(planted_200.frame, TrainingParams(k=2))
    a, b = _raw_centres(two)
    p = two.predict_one(list((a + b) / 2))
    assert p.confidence == pytest.approx(0.5, abs=1e-9)
    assert [sp.probability for sp in p.probabilities] == pytest.approx([0.5, 0.5], abs=1e-9)


def test_midpoint_of_two_near_segments_is_near_one_half_when_others_are_far() -> None:
    # two neighbouring segments and a third far away, in a generic two-feature spec
    rng = np.random.default_rng(5)
    blobs = [(0.0, 0.0), (6.0, 0.0), (60.0, 60.0)]
    X = np.vstack(
        [rng.normal(loc=c, scale=0.5, size=(40 + 10 * i, 2)) for i, c in enumerate(blobs)]
    )
    spec = FeatureSpec.generic(["x", "y"])
    m = train_model(pd.DataFrame(X, columns=["x", "y"]), TrainingParams(k=3), spec)
    near = [p for p in m.info.profiles if p.centre[0] < 30]
    a, b = (np.array(p.centre) for p in near)
    p = m.predict_one(list((a + b) / 2))
    pair = [p.probabilities[q.cluster_id].probability for q in near]
    assert pair[0] == pytest.approx(pair[1], abs=1e-9)
    assert p.confidence == pytest.approx(0.5, abs=0.01)
    assert p.confidence <= 0.5


def test_confidence_falls_from_centre_to_boundary(model: SegmentationModel) -> None:
    a, b = _raw_centres(model)[:2]
    steps = [model.predict_one(list(a + t * (b - a))).confidence for t in np.linspace(0, 0.49, 8)]
    assert steps == sorted(steps, reverse=True)
    assert steps[0] == pytest.approx(1.0) and steps[-1] < 0.6


def test_probabilities_match_the_formula_and_sum_to_one(
    model: SegmentationModel, planted_200: GeneratedCustomers
) -> None:
    X = planted_200.frame[FEATURES].to_numpy(float)
    for x in X[:25]:
        p = model.predict_one(list(x))
        got = np.array([sp.probability for sp in p.probabilities])
        np.testing.assert_allclose(got, _reference_memberships(model, x), atol=1e-12)
        assert math.isclose(got.sum(), 1.0, abs_tol=1e-12)
        assert ((got >= 0) & (got <= 1)).all()
        assert p.confidence == got.max() and p.cluster_id == int(got.argmax())
        assert p.segment_name == model.segment_names[p.cluster_id]


def test_batch_equals_one_by_one_and_the_sklearn_pipeline(model: SegmentationModel) -> None:
    rng = np.random.default_rng(1)
    lows = np.array([18, 0, 1, 0])
    highs = np.array([100, 150, 100, 50])
    X = lows + rng.random((5000, 4)) * (highs - lows)
    batch = model.predict_batch(X)
    assert len(batch) == 5000
    np.testing.assert_array_equal(batch.cluster_ids, model.pipeline.predict(X))
    np.testing.assert_allclose(batch.probabilities.sum(axis=1), 1.0, atol=1e-12)
    assert ((batch.confidence > 1 / 5 - 1e-12) & (batch.confidence <= 1 + 1e-12)).all()
    for i in (0, 17, 4999):
        assert batch.prediction(i) == model.predict_one(list(X[i]))


@pytest.mark.parametrize(
    ("values", "column", "reason"),
    [
        pytest.param(
            [150, 50, 50, 10], "age", "must be between 18 and 100, got 150", id="age-range"
        ),
        pytest.param([30, -1, 50, 10], "annual_income", "at least 0, got -1", id="income-negative"),
        pytest.param(
            [30, 50, 0, 10], "spending_score", "between 1 and 100, got 0", id="score-range"
        ),
        pytest.param([30, 50, 50, float("nan")], "purchase_frequency", "empty or NaN", id="nan"),
        pytest.param([30, float("inf"), 50, 10], "annual_income", "finite", id="inf"),
        pytest.param(
            [30, "lots", 50, 10], "annual_income", "must be numeric, got 'lots'", id="text"
        ),
        pytest.param([30, 50, 50], None, "expected 4 values", id="too-few-values"),
    ],
)
def test_bad_customer_is_refused(
    model: SegmentationModel, values: list[object], column: str | None, reason: str
) -> None:
    with pytest.raises(DataValidationError) as info:
        model.predict_one(values)  # type: ignore[arg-type]
    assert [(p.column, p.rows) for p in info.value.problems] == [(column, ())]
    assert reason in info.value.problems[0].reason


def test_bad_batch_lists_every_bad_row(model: SegmentationModel) -> None:
    X = np.tile([30.0, 50.0, 50.0, 10.0], (10, 1))
    X[[2, 7], 0] = 10
    X[5, 2] = np.nan
    problems = model.validate(X)
    assert {(p.column, p.rows) for p in problems} == {("age", (2, 7)), ("spending_score", (5,))}
    with pytest.raises(DataValidationError, match="rows 2, 7"):
        model.predict_batch(X)
    assert model.validate(np.zeros((3, 3)))[0].reason.startswith(
        "expected an array of shape (n, 4)"
    )
    unchecked = model.predict_batch_unchecked(X[[0, 1]])
    assert len(unchecked) == 2


def test_empty_batch(model: SegmentationModel) -> None:
    batch = model.predict_batch(np.empty((0, 4)))
    assert len(batch) == 0 and batch.probabilities.shape == (0, model.info.k)


@pytest.mark.parametrize("income", [1e308, 1e200, 1e160])
def test_astronomical_values_give_a_finite_prediction(
    model: SegmentationModel, income: float
) -> None:
    # the spec has no upper bound on income: a huge value is valid and must not overflow to NaN
    p = model.predict_one([40, income, 50, 5])
    probs = [sp.probability for sp in p.probabilities]
    assert all(math.isfinite(q) and 0 <= q <= 1 for q in probs)
    assert sum(probs) == pytest.approx(1.0)
    assert p.confidence == pytest.approx(1 / model.info.k)  # equally far from every centre
    batch = model.predict_batch(np.array([[40, income, 50, 5], [25, 40, 82, 38]]))
    assert np.isfinite(batch.probabilities).all() and np.isfinite(batch.confidence).all()
    assert batch.prediction(1) == model.predict_one([25, 40, 82, 38])
