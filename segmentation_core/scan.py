"""The candidate scan behind automatic k: K-Means for every k on (at most) a fixed-size sample.

The original method fitted K-Means (10 restarts) on every row for every k and computed the exact
silhouette over every pair of points: quadratic, 39 s at 20,000 customers on two cores. Here:

- The scan runs on at most ``sample_size`` rows drawn with the seeded generator. At or below that
  size the "sample" is every row, so small tables get exactly the original method's results.
- One pairwise distance matrix of the sample serves the silhouette of every k: per k the
  silhouette needs only each point's summed distance to each cluster, and one product
  ``D @ [onehot(labels_k) for every k]`` gives them all with a single read of ``D``.
- The knee of the inertia curve is reported beside the silhouette's choice.

The caller then fits the winner once on every row, seeded with the sample's centres
(see :class:`segmentation_core.segmenter.Segmenter`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sklearn.cluster import KMeans
from sklearn.metrics import pairwise_distances

from segmentation_core.errors import DataValidationError, Problem

#: Rows the scan fits and the silhouette uses. At 4,000 rows the distance matrix is 128 MB and
#: the sampled silhouette lies within about 0.003 of the exact one (docs/core.md).
SCAN_SAMPLE_SIZE = 4000

#: The original configuration of every K-Means fit.
N_INIT = 10
MAX_ITER = 300


def silhouette_from_distances(
    D: npt.NDArray[np.float64], labels: npt.NDArray[np.integer], k: int
) -> float:
    """Mean silhouette of ``labels`` given the full pairwise distance matrix ``D``.

    Same definition and conventions as ``sklearn.metrics.silhouette_score`` (a point alone in its
    cluster scores 0; empty clusters are ignored), at the cost of one ``(m, m) @ (m, k)`` product.
    """
    return silhouettes_from_distances(D, [(labels, k)])[0]


def silhouettes_from_distances(
    D: npt.NDArray[np.float64], labelings: list[tuple[npt.NDArray[np.integer], int]]
) -> list[float]:
    """Mean silhouette of each ``(labels, k)`` labelling of the same points, from one product.

    Every labelling needs only each point's summed distance to each of its clusters. The one-hot
    matrices of all labellings are stacked side by side, so ``D`` (128 MB at 4,000 points) is read
    once for the whole scan instead of once per k: narrow products are memory-bound, and nine of
    them cost more than the K-Means fits themselves.
    """
    m = D.shape[0]
    rows = np.arange(m)
    offsets = np.cumsum([0] + [k for _, k in labelings])
    onehot = np.zeros((m, int(offsets[-1])), dtype=D.dtype)
    for (labels, _), offset in zip(labelings, offsets, strict=False):
        onehot[rows, offset + labels] = 1.0
    all_sums = D @ onehot  # all_sums[i, offset + j]: total distance from point i to cluster j
    return [
        _silhouette(all_sums[:, offset : offset + k], onehot[:, offset : offset + k], labels)
        for (labels, k), offset in zip(labelings, offsets, strict=False)
    ]


def _silhouette(
    sums: npt.NDArray[np.float64], onehot: npt.NDArray[np.float64], labels: npt.NDArray[np.integer]
) -> float:
    rows = np.arange(labels.shape[0])
    counts = onehot.sum(axis=0)
    if np.count_nonzero(counts) < 2:
        return 0.0  # silhouette is undefined for one cluster; report the neutral value
    own = counts[labels]
    a = sums[rows, labels] / np.maximum(own - 1, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_to = sums / counts
    mean_to[:, counts == 0] = np.inf
    mean_to[rows, labels] = np.inf
    b = mean_to.min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = (b - a) / np.maximum(a, b)
    s[own == 1] = 0.0
    return float(np.nan_to_num(s).mean())


def knee_of(ks: list[int], inertias: list[float]) -> int | None:
    """The knee of a decreasing inertia curve: the k farthest below the chord from first to last.

    Both axes are normalised to [0, 1] (the Kneedle idea). ``None`` with fewer than three points or
    when no point lies below the chord (no knee).
    """
    if len(ks) < 3:
        return None
    x = (np.asarray(ks, dtype=float) - ks[0]) / (ks[-1] - ks[0])
    y = np.asarray(inertias, dtype=float)
    span = y.max() - y.min()
    if span <= 0:
        return None
    y = (y - y.min()) / span
    below = (y[0] + (y[-1] - y[0]) * x) - y
    best = int(np.argmax(below))
    return int(ks[best]) if below[best] > 1e-12 else None


@dataclass(frozen=True)
class ScanResult:
    """Every candidate's fit on the sample, with its inertia (scaled to all rows) and silhouette."""

    ks: tuple[int, ...]
    inertias: tuple[float, ...]  # sample inertia * n / m: an estimate of the full inertia
    silhouettes: tuple[float, ...]
    models: dict[int, KMeans]  # fitted on the sample rows
    sample_index: npt.NDArray[np.int64] | None  # None: the sample is every row
    distances: npt.NDArray[np.float64]  # pairwise distances of the sample rows
    smallest_shares: tuple[float, ...] = ()  # per k: the smallest segment's share of the sample
    sampled: bool = False  # the sample is not every row (sample_index is None on engines whose
    # rows have no positions, such as Spark's)

    def eligible(self, min_share: float) -> tuple[bool, ...]:
        """Per k: whether every segment of its fit holds at least ``min_share`` of the rows."""
        return tuple(s >= min_share for s in self.smallest_shares)

    def best_k_with(self, min_share: float) -> int | None:
        """Highest silhouette among the k whose segments all reach ``min_share`` (ties: smaller
        k); None when no k does."""
        allowed = [i for i, ok in enumerate(self.eligible(min_share)) if ok]
        if not allowed:
            return None
        return self.ks[max(allowed, key=lambda i: (self.silhouettes[i], -i))]

    @property
    def best_k(self) -> int:
        """Highest silhouette; ties go to the smaller k."""
        return self.ks[int(np.argmax(self.silhouettes))]

    @property
    def elbow_k(self) -> int | None:
        """The knee of the inertia curve."""
        return knee_of(list(self.ks), list(self.inertias))


def draw_sample(n: int, size: int, random_state: int) -> npt.NDArray[np.int64] | None:
    """Sorted row positions of a seeded sample of ``size`` rows, or None when ``n <= size``."""
    if n <= size:
        return None
    rng = np.random.default_rng(random_state)
    return np.sort(rng.choice(n, size=size, replace=False))


def scan_k(
    Xs: npt.NDArray[np.float64],
    ks: range,
    *,
    random_state: int,
    sample_size: int = SCAN_SAMPLE_SIZE,
    n_init: int = N_INIT,
    max_iter: int = MAX_ITER,
    on_step: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """Fit K-Means for every k in ``ks`` on a sample of the scaled rows ``Xs``.

    Each fit uses the original configuration (k-means++, ``n_init`` restarts, ``max_iter``,
    ``random_state``). Run it under ``threadpool_limits(1)``: the fits are small, and BLAS/OpenMP
    threads only fight over the cores (docs/core.md). ``on_step(done, total)`` is called after
    each k (training progress).
    """
    n = Xs.shape[0]
    index = draw_sample(n, sample_size, random_state)
    sample = Xs if index is None else Xs[index]
    return scan_sample(
        sample,
        ks,
        n_rows=n,
        sample_index=index,
        sampled=index is not None,
        random_state=random_state,
        n_init=n_init,
        max_iter=max_iter,
        on_step=on_step,
    )


def scan_sample(
    sample: npt.NDArray[np.float64],
    ks: range,
    *,
    n_rows: int,
    sampled: bool,
    random_state: int,
    sample_index: npt.NDArray[np.int64] | None = None,
    n_init: int = N_INIT,
    max_iter: int = MAX_ITER,
    on_step: Callable[[int, int], None] | None = None,
) -> ScanResult:
    """:func:`scan_k` on rows already drawn: ``sample`` (scaled) stands for ``n_rows`` rows,
    ``sampled`` says whether it is a strict sample of them (then inertias are scaled by n/m).

    An engine that draws its sample elsewhere (Spark) calls this with the rows it brought to the
    driver; ``sample_index`` (their positions) only exists for in-memory rows.
    """
    n = n_rows
    m = sample.shape[0]
    distinct = np.unique(sample, axis=0).shape[0]
    if distinct < ks[-1]:
        where = f" among the {m} sampled rows" if sampled else ""
        raise DataValidationError(
            [
                Problem(
                    None,
                    f"the data has only {distinct} distinct customers{where}; "
                    f"k={ks[-1]} segments need at least {ks[-1]}",
                )
            ]
        )
    D = pairwise_distances(sample, metric="euclidean")
    inertias: list[float] = []
    smallest: list[float] = []
    models: dict[int, KMeans] = {}
    for done, k in enumerate(ks, start=1):
        km = KMeans(
            n_clusters=k,
            init="k-means++",
            n_init=n_init,
            max_iter=max_iter,
            random_state=random_state,
        ).fit(sample)
        models[k] = km
        inertias.append(float(km.inertia_) * n / m)
        smallest.append(float(np.bincount(km.labels_, minlength=k).min()) / m)
        if on_step is not None:
            on_step(done, len(ks))
    silhouettes = silhouettes_from_distances(D, [(models[k].labels_, k) for k in ks])
    return ScanResult(
        ks=tuple(ks),
        inertias=tuple(inertias),
        silhouettes=tuple(silhouettes),
        models=models,
        sample_index=sample_index,
        distances=D,
        smallest_shares=tuple(smallest),
        sampled=sampled,
    )
