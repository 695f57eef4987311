"""``Segmenter``: StandardScaler + K-Means with automatic k, as a scikit-learn style estimator."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted
from threadpoolctl import threadpool_limits

from segmentation_core.enums import TrainingStage
from segmentation_core.errors import DataValidationError, InvalidParameterError, Problem
from segmentation_core.results import ElbowPoint, ElbowReport, TrainingParams
from segmentation_core.scan import (
    MAX_ITER,
    SCAN_SAMPLE_SIZE,
    ScanResult,
    draw_sample,
    scan_sample,
    silhouette_from_distances,
)
from segmentation_core.stability import N_BOOTSTRAP, bootstrap_stability

#: Reports training progress: the stage, and how many of its steps are done out of how many.
Progress = Callable[[TrainingStage, int, int], None]

#: The largest k anyone may ask for: more segments than this mean nothing to a marketer, and the
#: bound keeps a public ``train`` mutation from asking for unbounded work.
K_LIMIT = 50


def check_params(params: TrainingParams, n_rows: int | None = None) -> None:
    """Raise ``InvalidParameterError`` when the training parameters make no sense.

    Cheap; with ``n_rows`` it also checks that the data has more rows than the largest k
    (a silhouette needs at least one cluster with two points).
    """
    for name in ("k_min", "k_max", "random_state"):
        if not isinstance(getattr(params, name), int) or isinstance(getattr(params, name), bool):
            raise InvalidParameterError(name, f"must be an integer, got {getattr(params, name)!r}")
    if params.k is not None and (not isinstance(params.k, int) or isinstance(params.k, bool)):
        raise InvalidParameterError("k", f"must be an integer, got {params.k!r}")
    if params.k_min < 2:
        raise InvalidParameterError("k_min", f"must be at least 2, got {params.k_min}")
    if params.k_max < params.k_min:
        raise InvalidParameterError(
            "k_max", f"must be at least k_min ({params.k_min}), got {params.k_max}"
        )
    if params.k_max > K_LIMIT:
        raise InvalidParameterError("k_max", f"must be at most {K_LIMIT}, got {params.k_max}")
    if params.k is not None and not 2 <= params.k <= K_LIMIT:
        raise InvalidParameterError("k", f"must be between 2 and {K_LIMIT}, got {params.k}")
    if not 0 <= params.random_state <= 2**32 - 1:
        raise InvalidParameterError(
            "random_state", f"must be between 0 and 4294967295, got {params.random_state}"
        )
    share = params.min_segment_share
    if isinstance(share, bool) or not isinstance(share, int | float) or not 0 <= share < 0.5:
        raise InvalidParameterError(
            "min_segment_share", f"must be a number from 0 to below 0.5, got {share!r}"
        )
    if n_rows is not None:
        name, largest = ("k", params.k) if params.k is not None else ("k_max", params.k_max)
        if largest is not None and largest >= n_rows:
            raise InvalidParameterError(
                name, f"must be below the number of customers ({n_rows}), got {largest}"
            )


def min_rows_for(params: TrainingParams) -> int:
    """The fewest rows a training with ``params`` can use: the largest k asked for, plus one."""
    return max(params.k_max, params.k or 0) + 1


def canonical_order(
    labels: npt.NDArray[np.integer], centres: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Old cluster ids in canonical order: largest first; equal sizes by their centre coordinates.

    Centres are compared after rounding to 9 decimals, so floating-point noise between platforms
    cannot swap two tied segments.
    """
    return canonical_order_of_sizes(np.bincount(labels, minlength=centres.shape[0]), centres)


def canonical_order_of_sizes(
    sizes: npt.NDArray[np.integer], centres: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """:func:`canonical_order` from the clusters' sizes (an engine that counts rows elsewhere)."""
    k = centres.shape[0]
    keys = sorted(range(k), key=lambda j: (-int(sizes[j]), tuple(np.round(centres[j], 9))))
    return np.asarray(keys, dtype=np.int64)


@dataclass(frozen=True)
class FullFit:
    """The chosen k fitted on every row, clusters in the fit's own order (not yet canonical)."""

    kmeans: KMeans  # fitted: ``cluster_centers_`` (scaled space) and ``inertia_`` on every row
    sizes: npt.NDArray[np.int64]  # rows per cluster
    sample_labels: npt.NDArray[np.integer]  # the cluster of each row of the scan's sample
    labels: npt.NDArray[np.integer] | None = None  # every row's cluster (in-memory rows only)


class KMeansRows(Protocol):
    """The rows a :class:`Segmenter` segments, seen through the only steps that touch every row.

    Every decision (the candidates, the minimum share, the canonical order, the silhouette, the
    stability) is the Segmenter's and works on the sample and on aggregates. An engine provides
    these steps: :class:`ArrayRows` for rows in memory, ``segmentation_core.spark`` on a cluster.
    """

    @property
    def n_rows(self) -> int:
        """How many rows there are."""
        ...

    def fit_scaler(self) -> StandardScaler:
        """A StandardScaler fitted on every row (population mean and standard deviation)."""
        ...

    def sample(self, size: int, random_state: int) -> tuple[npt.NDArray[np.float64], bool]:
        """At most ``size`` rows, scaled by the fitted scaler, drawn with the seed; every row
        when there are at most ``size``. Also says whether it is a strict sample."""
        ...

    def fit_full(self, k: int, init: npt.NDArray[np.float64], random_state: int) -> FullFit:
        """K-Means with ``k`` clusters on every scaled row, starting from ``init`` (the sample's
        centres) where the engine can."""
        ...


class ArrayRows:
    """Rows held in memory as a float matrix (the local engine)."""

    def __init__(self, X: npt.NDArray[np.float64]) -> None:
        self.X = X
        self._Xs: npt.NDArray[np.float64] | None = None
        self._index: npt.NDArray[np.int64] | None = None

    @property
    def n_rows(self) -> int:
        """How many rows there are."""
        return int(self.X.shape[0])

    @property
    def scaled(self) -> npt.NDArray[np.float64]:
        """Every row in the scaler's space (after :meth:`fit_scaler`)."""
        if self._Xs is None:
            raise RuntimeError("fit_scaler() comes first")
        return self._Xs

    def fit_scaler(self) -> StandardScaler:
        """The StandardScaler of every row; keeps the scaled rows."""
        scaler = StandardScaler().fit(self.X)
        self._Xs = scaler.transform(self.X)
        return scaler

    def sample(self, size: int, random_state: int) -> tuple[npt.NDArray[np.float64], bool]:
        """The seeded sample of :func:`segmentation_core.scan.draw_sample` (positions kept)."""
        Xs = self.scaled
        self._index = draw_sample(Xs.shape[0], size, random_state)
        return (Xs if self._index is None else Xs[self._index]), self._index is not None

    @property
    def sample_index(self) -> npt.NDArray[np.int64] | None:
        """Positions of the sample's rows (None: every row)."""
        return self._index

    def fit_full(self, k: int, init: npt.NDArray[np.float64], random_state: int) -> FullFit:
        """One K-Means run on every row seeded with ``init``: the restarts already happened on
        the sample, whose centres are already right, so a couple of Lloyd iterations remain."""
        km = KMeans(
            n_clusters=k, init=init, n_init=1, max_iter=MAX_ITER, random_state=random_state
        ).fit(self.scaled)
        labels = km.labels_
        sample_labels = labels if self._index is None else labels[self._index]
        return FullFit(km, np.bincount(labels, minlength=k), sample_labels, labels)


class Segmenter(ClusterMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """K-Means segmentation on standardised features, the number of segments chosen by silhouette.

    Parameters
    ----------
    k : int or None, default=None
        A fixed number of segments. ``None`` picks the k in ``k_min..k_max`` with the highest
        silhouette (ties to the smaller k). The curve over ``k_min..k_max`` is computed either way.
    k_min, k_max : int, default=2, 10
        The candidate range.
    random_state : int, default=42
        Seed of the sample and of every K-Means fit.
    sample_size : int, default=SCAN_SAMPLE_SIZE
        Rows the candidate scan and the silhouette use. Data at or below this size is scanned
        whole, giving exactly the original method's results (every row, 10 restarts, exact
        silhouette). Larger data is scanned on a seeded sample, then the winner is fitted once on
        every row, seeded with the sample's centres.
    n_threads : int or None, default=1
        BLAS/OpenMP threads while fitting (``threadpoolctl``); ``None`` leaves the libraries'
        defaults. One thread is the measured best on a shared two-core machine (docs/core.md).
    min_segment_share : float, default=0.02
        Automatic k never picks a k whose fit (on the scan's sample) has a segment holding less
        than this share of the rows; such k stay on the curve, marked not eligible. When no k of
        the range qualifies, the smallest k is taken and ``notes_`` says so.
    n_bootstrap : int, default=20
        Bootstrap resamples of the scan's sample for the stability figures; 0 skips them.

    Attributes
    ----------
    pipeline_ : Pipeline
        ``make_pipeline(StandardScaler(), KMeans(...))`` fitted on every row, centres in canonical
        order (largest segment first).
    k_ : int
        Number of segments.
    labels_ : ndarray of shape (n_samples,) or None
        Canonical segment of every training row (None when the rows live elsewhere: Spark).
    canonical_ids_ : ndarray of shape (k_,)
        The canonical id of each cluster of the full fit, by the fit's own cluster id.
    sizes_ : ndarray of shape (k_,)
        Rows per segment, canonical order.
    cluster_centers_ : ndarray of shape (k_, n_features)
        Centres in the data's units.
    inertia_ : float
        Within-segment sum of squares of the final fit (scaled space).
    silhouette_ : float
        Silhouette of the final fit: exact when the data fits the sample, else on the sample rows.
    silhouette_scores_ : dict[int, float]
        The scan's silhouette per candidate k.
    elbow_ : ElbowReport
        The curve (inertia and silhouette per k), the silhouette's best k and the inertia knee.
    n_features_in_ : int
    sample_size_ : int
        Rows the scan actually used.
    stability_ : float or None
        Mean bootstrap adjusted Rand index of the model (None when ``n_bootstrap`` is 0).
    segment_stability_ : tuple of float
        Per segment, its mean bootstrap Jaccard similarity (empty when not computed).
    notes_ : tuple of str
        What a user should know about the choice of k.
    """

    def __init__(
        self,
        k: int | None = None,
        *,
        k_min: int = 2,
        k_max: int = 10,
        random_state: int = 42,
        sample_size: int = SCAN_SAMPLE_SIZE,
        n_threads: int | None = 1,
        min_segment_share: float = 0.02,
        n_bootstrap: int = N_BOOTSTRAP,
    ) -> None:
        self.k = k
        self.k_min = k_min
        self.k_max = k_max
        self.random_state = random_state
        self.sample_size = sample_size
        self.n_threads = n_threads
        self.min_segment_share = min_segment_share
        self.n_bootstrap = n_bootstrap

    def fit(
        self, X: npt.ArrayLike, y: object = None, *, on_progress: Progress | None = None
    ) -> Segmenter:
        """Scan the candidates, fit the chosen k on every row, put the segments in canonical order,
        then measure the segments' bootstrap stability.

        ``X`` must already be validated (finite numbers); rows are customers, columns features.
        ``on_progress(stage, done, total)`` hears of every step (SCANNING, FITTING, PROFILING).
        """
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or not np.isfinite(X).all():
            raise DataValidationError([Problem(None, "X must be a 2-D array of finite numbers")])
        return self.fit_rows(ArrayRows(X), on_progress=on_progress)

    def fit_rows(self, rows: KMeansRows, *, on_progress: Progress | None = None) -> Segmenter:
        """:meth:`fit` on rows an engine holds (see :class:`KMeansRows`): the same decisions on
        the sample and on aggregates, whatever holds the rows.

        ``labels_`` is set only when the full fit returns every row's cluster (in-memory rows);
        ``canonical_ids_`` maps the full fit's own cluster ids to the canonical ones either way.
        """
        n_rows = rows.n_rows
        params = TrainingParams(
            k_min=self.k_min,
            k_max=self.k_max,
            k=self.k,
            random_state=self.random_state,
            min_segment_share=self.min_segment_share,
        )
        check_params(params, n_rows)
        if self.sample_size < min_rows_for(params):
            raise InvalidParameterError(
                "sample_size", f"must exceed the largest k, got {self.sample_size}"
            )

        scaler = rows.fit_scaler()
        ks = range(min(self.k_min, self.k or self.k_min), max(self.k_max, self.k or 0) + 1)
        # One thread: the scan is many small fits, where BLAS/OpenMP threads cost more than they
        # give, and a second busy process on two cores makes threaded fits ten times slower.
        def report(stage: TrainingStage) -> Callable[[int, int], None] | None:
            if on_progress is None:
                return None
            return lambda done, total: on_progress(stage, done, total)

        notes: list[str] = []
        with threadpool_limits(limits=self.n_threads):
            sample, sampled = rows.sample(self.sample_size, self.random_state)
            scan = scan_sample(
                sample,
                ks,
                n_rows=n_rows,
                sampled=sampled,
                sample_index=getattr(rows, "sample_index", None),
                random_state=self.random_state,
                on_step=report(TrainingStage.SCANNING),
            )
            if on_progress is not None:
                on_progress(TrainingStage.FITTING, 0, 1)
            k = self._choose_k(scan, notes)
            if not scan.sampled:
                # fitted on every row already: the original method's result
                km = scan.models[k]
                labels = km.labels_
                full = FullFit(km, np.bincount(labels, minlength=k), labels, labels)
            else:
                full = rows.fit_full(k, scan.models[k].cluster_centers_, self.random_state)
        km, sizes = full.kmeans, full.sizes
        if np.count_nonzero(sizes) < k:
            raise DataValidationError(
                [
                    Problem(
                        None,
                        f"the data has fewer than {k} distinct customers; cannot form {k} segments",
                    )
                ]
            )

        if on_progress is not None:
            on_progress(TrainingStage.FITTING, 1, 1)

        order = canonical_order_of_sizes(sizes, km.cluster_centers_)
        new_id = np.empty(k, dtype=np.int64)
        new_id[order] = np.arange(k)
        km.cluster_centers_ = np.ascontiguousarray(km.cluster_centers_[order])
        if full.labels is not None:
            km.labels_ = new_id[full.labels].astype(np.int32)
        sample_labels = new_id[full.sample_labels].astype(np.int32)
        sizes = sizes[order]

        silhouette = silhouette_from_distances(scan.distances, sample_labels, k)
        eligible = scan.eligible(self.min_segment_share)
        points = [
            ElbowPoint(k=kk, inertia=inertia, silhouette=s, smallest_share=share, eligible=ok)
            for kk, inertia, s, share, ok in zip(
                scan.ks, scan.inertias, scan.silhouettes, scan.smallest_shares, eligible,
                strict=True,
            )
        ]
        # the chosen k's point describes the model actually kept (its full fit)
        i = scan.ks.index(k)
        points[i] = ElbowPoint(
            k=k,
            inertia=float(km.inertia_),
            silhouette=silhouette,
            smallest_share=float(sizes.min()) / n_rows,
            eligible=points[i].eligible,
        )

        self.stability_: float | None = None
        self.segment_stability_: tuple[float, ...] = ()
        if self.n_bootstrap > 0:
            with threadpool_limits(limits=self.n_threads):
                stability = bootstrap_stability(
                    sample,
                    sample_labels,
                    k,
                    random_state=self.random_state,
                    n_bootstrap=self.n_bootstrap,
                    on_step=report(TrainingStage.PROFILING),
                )
            self.stability_ = stability.adjusted_rand_index
            self.segment_stability_ = stability.jaccard

        self.pipeline_: Pipeline = make_pipeline(scaler, km)
        self.k_ = k
        self.labels_: npt.NDArray[np.int64] | None = (
            None if full.labels is None else km.labels_.astype(np.int64)
        )
        self.canonical_ids_ = new_id
        self.sizes_ = sizes.astype(np.int64)
        self.cluster_centers_ = scaler.inverse_transform(km.cluster_centers_)
        self.inertia_ = float(km.inertia_)
        self.silhouette_ = silhouette
        self.silhouette_scores_ = dict(zip(scan.ks, scan.silhouettes, strict=True))
        self.elbow_ = ElbowReport(
            optimal_k=scan.best_k_with(self.min_segment_share) or k,
            elbow_k=scan.elbow_k,
            points=tuple(points),
        )
        self.n_features_in_ = int(sample.shape[1])
        self.sample_size_ = int(sample.shape[0])
        self.notes_ = tuple(notes)
        return self

    def _choose_k(self, scan: ScanResult, notes: list[str]) -> int:
        """The fixed k, or the best silhouette among the k whose segments are all big enough."""
        share = self.min_segment_share
        if self.k is not None:
            smallest = scan.smallest_shares[scan.ks.index(self.k)]
            if smallest < share:
                notes.append(
                    f"k={self.k} was fixed; its smallest segment holds {smallest:.1%} of the "
                    f"customers, below the minimum segment share of {share:.0%}"
                )
            return self.k
        best = scan.best_k_with(share)
        if best is not None:
            if best != scan.best_k:
                notes.append(
                    f"k={scan.best_k} had the best silhouette but a segment below "
                    f"{share:.0%} of the customers; k={best} is the best k without one"
                )
            return best
        smallest_k = scan.ks[0]
        notes.append(
            f"no k from {scan.ks[0]} to {scan.ks[-1]} gives every segment at least {share:.0%} "
            f"of the customers; took the smallest, k={smallest_k}"
        )
        return smallest_k

    def predict(self, X: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Canonical segment of every row of ``X`` (through the fitted pipeline)."""
        check_is_fitted(self, "pipeline_")
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features_in_:
            raise DataValidationError(
                [Problem(None, f"X must have {self.n_features_in_} columns, got shape {X.shape}")]
            )
        return np.asarray(self.pipeline_.predict(X), dtype=np.int64)
