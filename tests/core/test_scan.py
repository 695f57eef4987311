"""The scan's building blocks: silhouettes from one distance matrix, the inertia knee, sampling."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import pairwise_distances, silhouette_score

from segmentation_core.scan import draw_sample, knee_of, silhouette_from_distances


@pytest.mark.parametrize("seed", range(6))
def test_silhouette_from_distances_equals_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(120, 3))
    k = int(rng.integers(2, 8))
    labels = rng.integers(0, k, size=120)
    labels[0] = k - 1  # make sure the top label exists
    labels[1:3] = [0, 0]
    D = pairwise_distances(X)
    assert silhouette_from_distances(D, labels, k) == pytest.approx(
        silhouette_score(X, labels), abs=1e-12
    )


def test_singletons_score_zero_and_empty_clusters_are_ignored() -> None:
    X = np.array([[0.0], [0.1], [0.2], [5.0], [10.0]])
    labels = np.array([0, 0, 0, 1, 3])  # cluster 2 is empty, 1 and 3 are singletons
    D = pairwise_distances(X)
    assert silhouette_from_distances(D, labels, 4) == pytest.approx(
        silhouette_score(X, labels), abs=1e-12
    )
    assert silhouette_from_distances(D, np.zeros(5, dtype=int), 2) == 0.0


def test_knee_of_an_elbow_curve() -> None:
    ks = list(range(2, 11))
    assert knee_of(ks, [100, 60, 30, 10, 9, 8, 7, 6, 5]) == 5
    assert knee_of(ks, [float(10 - k) for k in ks]) is None  # a straight line has no knee
    assert knee_of([2, 3], [10.0, 5.0]) is None
    assert knee_of(ks, [5.0] * 9) is None


def test_sample_is_seeded_sorted_and_only_when_needed() -> None:
    assert draw_sample(4000, 4000, 42) is None
    a, b = draw_sample(10_000, 4000, 42), draw_sample(10_000, 4000, 42)
    assert a is not None and b is not None
    np.testing.assert_array_equal(a, b)
    assert len(np.unique(a)) == 4000 and (np.diff(a) > 0).all()
    c = draw_sample(10_000, 4000, 7)
    assert c is not None and not np.array_equal(a, c)
