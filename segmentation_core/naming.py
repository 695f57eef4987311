"""Descriptive, unique segment names from where each centre lies against the whole population.

A centre's position per feature is its z-score: (centre - population mean) / population std, which
is exactly the centre in the StandardScaler's space. A feature at least ``THRESHOLD`` standard
deviations away describes the segment: its ``high_word``/``low_word`` ("Affluent", "Young"), or
"High <label>"/"Low <label>" for specs without words. The spec's ``noun_feature`` picks the noun
(high: "Shoppers", low: "Browsers"); otherwise "Customers". A centre near the mean everywhere is
"Average Customers". Names depend only on centres, never on cluster ids, so the same data gives the
same names whatever order K-Means found the segments in.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

from segmentation_core.features import Feature, FeatureSpec

#: How far (in population standard deviations) a centre must lie from the mean to be described.
THRESHOLD = 0.5
#: Adjectives in a name before collisions ask for more.
BASE_ADJECTIVES = 2


def _short_label(feature: Feature) -> str:
    """The label without a trailing unit such as "(k$)", capitalised."""
    label = re.sub(r"\s*\([^)]*\)\s*$", "", feature.label).strip() or feature.column
    return label[:1].upper() + label[1:]


def _word(feature: Feature, high: bool) -> str:
    word = feature.high_word if high else feature.low_word
    return word or f"{'High' if high else 'Low'} {_short_label(feature)}"


def _noun(z: npt.NDArray[np.float64], spec: FeatureSpec) -> tuple[str, int | None]:
    """The noun and the index of the feature it used (so no adjective repeats it)."""
    if spec.noun_feature is None or spec.noun_feature not in spec.columns:
        return "Customers", None
    j = spec.columns.index(spec.noun_feature)
    if z[j] >= THRESHOLD:
        return spec.nouns[0], j
    if z[j] <= -THRESHOLD:
        return spec.nouns[1], j
    return "Customers", j


def _name(z: npt.NDArray[np.float64], spec: FeatureSpec, n_adjectives: int) -> str:
    noun, noun_index = _noun(z, spec)
    ranked = sorted(
        (j for j in range(len(z)) if j != noun_index and abs(z[j]) >= THRESHOLD),
        key=lambda j: (-abs(float(z[j])), j),
    )
    chosen = sorted(ranked[:n_adjectives])  # the most distinctive features, said in spec order
    words = [_word(spec.features[j], bool(z[j] > 0)) for j in chosen]
    if not words and noun == "Customers":
        return "Average Customers"
    generic = any(not (spec.features[j].high_word and spec.features[j].low_word) for j in chosen)
    return (", " if generic and len(words) > 1 else " ").join(words) + (" " if words else "") + noun


def name_segments(
    z_centres: npt.NDArray[np.float64], centres: npt.NDArray[np.float64], spec: FeatureSpec
) -> list[str]:
    """One unique name per centre (``z_centres`` scaled, ``centres`` in the data's units).

    Colliding names take more adjectives first; if centres still read the same, the colliding ones
    get the centre value of the feature that differs most between them, e.g. "(Age 34)".
    """
    k, n_features = z_centres.shape
    names = [_name(z_centres[i], spec, BASE_ADJECTIVES) for i in range(k)]
    for n_adjectives in range(BASE_ADJECTIVES + 1, n_features + 1):
        clashing = _clashes(names)
        if not clashing:
            return names
        for i in clashing:
            names[i] = _name(z_centres[i], spec, n_adjectives)
    for group in _clash_groups(names):
        spread = z_centres[group].max(axis=0) - z_centres[group].min(axis=0)
        j = int(np.argmax(spread))
        label = _short_label(spec.features[j])
        for i in group:
            names[i] = f"{names[i]} ({label} {centres[i, j]:.3g})"
    # identical centres: only an ordinal is left to tell them apart
    for group in _clash_groups(names):
        for rank, i in enumerate(group[1:], start=2):
            names[i] = f"{names[i]} {rank}"
    return names


def _clash_groups(names: list[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        groups.setdefault(name, []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def _clashes(names: list[str]) -> list[int]:
    return [i for g in _clash_groups(names) for i in g]
