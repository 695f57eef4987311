"""Feature recipes: which columns a model uses and how each is prepared before scaling.

A recipe names NUMERIC columns, each with a transform (NONE, LOG = log1p, or AUTO), and a
missing-value policy (DROP the row, or fill with the training MEDIAN). AUTO is resolved once, at
training time, from the training data:

    AUTO -> LOG  when the column's minimum is >= 0 and its skewness is > 1,
    AUTO -> NONE otherwise

(skewness: the adjusted Fisher-Pearson coefficient of the non-missing values, as pandas computes
it). Skewed, non-negative columns such as revenue or order counts are what K-Means on raw values
gets wrong: a handful of big customers become their own segment and everyone else is "average".

The resolved recipe lives INSIDE the fitted pipeline as its first step (:class:`FeatureRecipe`),
so the stored, signed model applies the same transforms and the same medians whenever it predicts
or scores: a recipe cannot drift from the centres it produced.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from segmentation_core.enums import MissingValues, Transform
from segmentation_core.errors import InvalidParameterError
from segmentation_core.results import FeatureChoice

#: The skewness above which AUTO takes the logarithm of a non-negative column.
AUTO_SKEWNESS = 1.0


def skewness(values: npt.NDArray[np.float64]) -> float | None:
    """Adjusted Fisher-Pearson skewness (pandas' ``Series.skew``) of finite ``values``.

    None with fewer than 3 values or no spread.
    """
    n = values.shape[0]
    if n < 3:
        return None
    centred = values - values.mean()
    m2 = float(np.mean(centred * centred))
    if _no_spread(m2, float(np.mean(values))):
        return None
    m3 = float(np.mean(centred * centred * centred))
    return _adjusted(m3 / m2**1.5, n)


def skewness_from_moments(n: int, mean: float, m2: float, g1: float | None) -> float | None:
    """:func:`skewness` from aggregates, for an engine that does not hold the values: the count,
    the mean, the population variance ``m2`` and the biased coefficient ``g1 = m3 / m2**1.5``
    (what Spark's ``skewness`` aggregate returns). Same None rule as :func:`skewness`."""
    if n < 3 or g1 is None or _no_spread(m2, mean):
        return None
    return _adjusted(g1, n)


def _no_spread(m2: float, mean: float) -> bool:
    """Whether the variance is zero or rounding noise next to the mean (no skewness then)."""
    return m2 <= 0 or m2 <= 1e-14 * max(1.0, mean**2)


def _adjusted(g1: float, n: int) -> float:
    """The adjusted coefficient G1 = g1 * sqrt(n (n - 1)) / (n - 2)."""
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def resolve_transform(
    requested: Transform, minimum: float, skew: float | None
) -> Transform:
    """The transform a training uses: AUTO resolved by the rule above; NONE and LOG as asked."""
    if requested is not Transform.AUTO:
        return requested
    if minimum >= 0 and skew is not None and skew > AUTO_SKEWNESS:
        return Transform.LOG
    return Transform.NONE


def parse_features(text: str) -> tuple[FeatureChoice, ...]:
    """Features written as ``"revenue:log,orders,tenure_months:none"``: comma-separated columns,
    each with an optional ``:none``, ``:log`` or ``:auto`` (default AUTO; case-insensitive).

    A ``:`` followed by anything else stays part of the column name (``Time: 10:30`` columns are
    rare but legal); an unknown transform after a colon is refused only when it looks like one
    (a single word).
    """
    choices: list[FeatureChoice] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        column, sep, suffix = item.rpartition(":")
        if not sep:
            choices.append(FeatureChoice(item))
            continue
        word = suffix.strip().upper()
        if word in Transform.__members__:
            choices.append(FeatureChoice(column.strip(), Transform(word)))
        elif word.isalpha():
            raise InvalidParameterError(
                "features",
                f"unknown transform {suffix.strip()!r} for {column.strip()!r}: "
                "use none, log or auto",
            )
        else:
            choices.append(FeatureChoice(item))
    if not choices:
        raise InvalidParameterError("features", "name at least one column")
    return tuple(choices)


class FeatureRecipe(TransformerMixin, BaseEstimator):  # type: ignore[misc]  # sklearn is untyped
    """The first step of every model's pipeline: fill missing values, then log1p where asked.

    Parameters
    ----------
    transforms : tuple of str, default=()
        ``"NONE"`` or ``"LOG"`` per feature, in model order (empty: every feature NONE).
    missing_values : str, default="DROP"
        ``"MEDIAN"`` fills missing (NaN) values with the training median; ``"DROP"`` fills
        nothing (the caller has left such rows out).

    Attributes
    ----------
    medians_ : ndarray of shape (n_features,)
        The median of every feature in the training data, in the data's units (before log1p).
    n_features_in_ : int
    """

    def __init__(self, transforms: tuple[str, ...] = (), missing_values: str = "DROP") -> None:
        self.transforms = transforms
        self.missing_values = missing_values

    def fit(self, X: npt.ArrayLike, y: object = None) -> FeatureRecipe:
        """Learn the medians of ``X`` (rows may hold NaN for missing values)."""
        X = np.asarray(X, dtype=np.float64)
        with np.errstate(all="ignore"):
            medians = np.array(
                [np.median(col[~np.isnan(col)]) if (~np.isnan(col)).any() else 0.0 for col in X.T]
            )
        self.medians_ = medians
        self.n_features_in_ = X.shape[1]
        return self

    @property
    def log_mask(self) -> npt.NDArray[np.bool_]:
        """Which features take log1p."""
        n = getattr(self, "n_features_in_", len(self.transforms))
        mask = np.zeros(n, dtype=bool)
        for j, name in enumerate(self.transforms):
            mask[j] = Transform(name) is Transform.LOG
        return mask

    @property
    def fills_missing(self) -> bool:
        """Whether missing values are filled with the training medians."""
        return MissingValues(self.missing_values) is MissingValues.MEDIAN

    def transform(self, X: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """Fill (MEDIAN policy) and log1p ``X``; returns a new array."""
        check_is_fitted(self, "medians_")
        out = np.array(X, dtype=np.float64)
        if self.fills_missing:
            rows, cols = np.nonzero(np.isnan(out))
            out[rows, cols] = self.medians_[cols]
        mask = self.log_mask
        if mask.any():
            out[:, mask] = np.log1p(out[:, mask])
        return out
