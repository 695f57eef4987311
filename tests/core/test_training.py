"""Training: planted segments recovered, the original method reproduced, determinism, parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.preprocessing import StandardScaler

from segmentation_core import (
    DEFAULT_SPEC,
    InvalidParameterError,
    SegmentationModel,
    Segmenter,
    TrainingParams,
    check_params,
    generate_customers,
    train_model,
)
from segmentation_core.generator import GeneratedCustomers

FEATURES = list(DEFAULT_SPEC.columns)


def _original_method(X: np.ndarray, ks: range) -> dict[int, tuple[float, np.ndarray]]:
    """The original design: scale, K-Means with 10 restarts on every row, exact silhouette."""
    Xs = StandardScaler().fit_transform(X)
    out = {}
    for k in ks:
        km = KMeans(n_clusters=k, init="k-means++", n_init=10, max_iter=300, random_state=42).fit(
            Xs
        )
        out[k] = (float(silhouette_score(Xs, km.labels_)), km.labels_)
    return out


def test_planted_segments_are_recovered(
    model: SegmentationModel, planted_200: GeneratedCustomers
) -> None:
    assert model.info.k == 5
    labels = model.predict_batch(planted_200.frame[FEATURES].to_numpy(float)).cluster_ids
    assert adjusted_rand_score(planted_200.planted, labels) >= 0.95
    # the planted shares are 26/23/20/17/14 %: canonical order is the planted order
    assert [p.size for p in model.info.profiles] == [52, 46, 40, 34, 28]
    assert adjusted_rand_score(planted_200.planted, labels) == pytest.approx(1.0)


def test_planted_k_has_a_clearly_higher_silhouette(model: SegmentationModel) -> None:
    s = {p.k: p.silhouette for p in model.info.elbow.points}
    assert [p.k for p in model.info.elbow.points] == list(range(2, 11))
    assert s[5] == max(s.values())
    assert s[5] - max(s[4], s[6]) >= 0.05
    assert model.info.elbow.optimal_k == 5 and model.info.elbow.elbow_k == 5


@pytest.mark.slow
def test_planted_segments_recovered_on_the_sampled_path() -> None:
    data = generate_customers(30_000, seed=7)
    seg = Segmenter().fit(data.frame[FEATURES].to_numpy(float))
    assert seg.sample_size_ == 4000  # scanned on a sample, then one full fit
    assert seg.k_ == 5
    assert adjusted_rand_score(data.planted, seg.labels_) >= 0.95


def test_small_data_gives_exactly_the_original_method(planted_200: GeneratedCustomers) -> None:
    X = planted_200.frame[FEATURES].to_numpy(float)
    seg = Segmenter().fit(X)
    original = _original_method(X, range(2, 11))
    for point in seg.elbow_.points:
        assert point.silhouette == pytest.approx(original[point.k][0], abs=1e-9)
    best = max(original, key=lambda k: original[k][0])
    assert seg.k_ == best
    assert adjusted_rand_score(original[best][1], seg.labels_) == 1.0
    assert seg.silhouette_ == pytest.approx(original[best][0], abs=1e-9)


@pytest.mark.slow
def test_sampled_silhouette_is_within_0005_of_exact() -> None:
    data = generate_customers(12_000, seed=3)
    X = data.frame[FEATURES].to_numpy(float)
    seg = Segmenter().fit(X)
    exact = silhouette_score(seg.pipeline_[0].transform(X), seg.labels_)
    assert abs(seg.silhouette_ - exact) <= 0.005


def test_training_is_deterministic(planted_200: GeneratedCustomers, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    # a different row order of the same customers gives the same segments, names and ids
    planted_200.frame.to_csv(path, index=False)
    a = train_model(path)
    b = train_model(planted_200.frame)
    assert a.info.version != b.info.version
    assert a.info.data_sha256 == b.info.data_sha256
    assert a.info.profiles == b.info.profiles
    assert a.info.elbow == b.info.elbow
    assert a.segment_names == b.segment_names
    np.testing.assert_array_equal(a.pipeline[-1].cluster_centers_, b.pipeline[-1].cluster_centers_)


def test_names_are_descriptive_unique_and_follow_the_centres(model: SegmentationModel) -> None:
    names = model.segment_names
    assert len(set(names)) == len(names)
    by_size = {p.size: p for p in model.info.profiles}
    # planted: young big spenders buying very often; affluent big spenders; seniors on a budget
    assert by_size[52].name == "Young Frequent Shoppers"
    assert "Affluent" in by_size[46].name and by_size[46].name.endswith("Shoppers")
    assert "Senior" in by_size[34].name and by_size[34].name.endswith("Browsers")
    assert by_size[28].name == "Average Customers"


def test_profiles_describe_each_segment(
    model: SegmentationModel, planted_200: GeneratedCustomers
) -> None:
    frame = planted_200.frame
    labels = model.predict_batch(frame[FEATURES].to_numpy(float)).cluster_ids
    assert sum(p.share for p in model.info.profiles) == pytest.approx(1.0)
    for profile in model.info.profiles:
        rows = frame[labels == profile.cluster_id]
        assert profile.size == len(rows)
        for stats in profile.features:
            col = rows[stats.feature]
            assert stats.mean == pytest.approx(col.mean())
            assert stats.median == pytest.approx(col.median())
            assert (stats.min, stats.max) == (col.min(), col.max())
            assert stats.std == pytest.approx(col.std(ddof=0))


def test_fixed_k_keeps_the_curve(planted_200: GeneratedCustomers) -> None:
    m = train_model(planted_200.frame, TrainingParams(k=3))
    assert m.info.k == 3 and len(m.info.profiles) == 3
    assert m.info.elbow.optimal_k == 5  # the curve still says what the silhouette prefers
    assert [p.k for p in m.info.elbow.points] == list(range(2, 11))
    m12 = train_model(planted_200.frame, TrainingParams(k=12))
    assert m12.info.k == 12 and [p.k for p in m12.info.elbow.points][-1] == 12
    assert len(set(m12.segment_names)) == 12


@pytest.mark.parametrize(
    ("params", "parameter", "reason"),
    [
        pytest.param(TrainingParams(k_min=1), "k_min", "at least 2", id="k_min-below-2"),
        pytest.param(
            TrainingParams(k_min=5, k_max=4), "k_max", "at least k_min", id="k_max-below-k_min"
        ),
        pytest.param(TrainingParams(k_max=51), "k_max", "at most 50", id="k_max-too-large"),
        pytest.param(TrainingParams(k=1), "k", "between 2 and 50", id="k-too-small"),
        pytest.param(TrainingParams(k=99), "k", "between 2 and 50", id="k-too-large"),
        pytest.param(
            TrainingParams(random_state=-1), "random_state", "between 0", id="negative-seed"
        ),
        pytest.param(TrainingParams(k_min=2.5), "k_min", "integer", id="float-k_min"),  # type: ignore[arg-type]
    ],
)
def test_bad_parameters_are_refused(
    params: TrainingParams, parameter: str, reason: str, planted_200: GeneratedCustomers
) -> None:
    with pytest.raises(InvalidParameterError) as info:
        check_params(params)
    assert info.value.parameter == parameter and reason in info.value.reason
    with pytest.raises(InvalidParameterError):
        train_model(planted_200.frame, params)


def test_check_params_knows_the_row_count() -> None:
    check_params(TrainingParams(), n_rows=11)
    with pytest.raises(InvalidParameterError, match="k_max: must be below the number of customers"):
        check_params(TrainingParams(), n_rows=10)
    with pytest.raises(InvalidParameterError, match="^k: "):
        check_params(TrainingParams(k=4), n_rows=4)


def test_segmenter_is_a_scikit_learn_estimator(planted_200: GeneratedCustomers) -> None:
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError

    seg = Segmenter(4, k_max=6, random_state=1)
    assert seg.get_params() == {
        "k": 4,
        "k_min": 2,
        "k_max": 6,
        "random_state": 1,
        "sample_size": 4000,
        "n_threads": 1,
        "min_segment_share": 0.02,
        "n_bootstrap": 20,
    }
    assert clone(seg).get_params() == seg.get_params()
    with pytest.raises(NotFittedError):
        seg.predict(np.zeros((1, 4)))
    X = planted_200.frame[FEATURES].to_numpy(float)
    assert seg.fit(X) is seg
    assert seg.k_ == 4 and seg.n_features_in_ == 4
    np.testing.assert_array_equal(seg.predict(X), seg.labels_)
    assert np.bincount(seg.labels_).tolist() == sorted(
        np.bincount(seg.labels_).tolist(), reverse=True
    )


def test_ties_in_size_are_ordered_by_centre() -> None:
    # two identical, mirrored blobs: equal sizes, so the order comes from the centres alone
    rng = np.random.default_rng(0)
    blob = rng.normal(size=(50, 2)) * 0.1
    X = np.vstack([blob + [5, 0], blob + [-5, 0]])
    for order in (X, X[::-1]):
        seg = Segmenter(2).fit(order)
        assert seg.cluster_centers_[0, 0] < seg.cluster_centers_[1, 0]


def test_too_few_distinct_customers(customers_frame: pd.DataFrame) -> None:
    from segmentation_core import DataValidationError

    frame = pd.concat([customers_frame.head(2)] * 6, ignore_index=True)
    frame["customer_id"] = range(len(frame))
    with pytest.raises(DataValidationError, match="only 2 distinct customers; k=10 segments"):
        train_model(frame, TrainingParams(k=3))
    with pytest.raises(DataValidationError, match="only 2 distinct customers; k=3 segments"):
        train_model(frame, TrainingParams(k=3, k_min=2, k_max=2))
