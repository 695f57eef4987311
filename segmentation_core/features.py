"""The feature spec: which columns a model is trained on, what they mean and which values are valid.

This is the only place that names the bundled data's four columns. Everything else (validation,
profiles, segment names, the API's range checks, the UI's form hints) reads a ``FeatureSpec``, so a
model can be trained on any table of numeric customer features.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from segmentation_core.enums import Transform


@dataclass(frozen=True)
class Feature:
    """One numeric customer feature.

    ``minimum``/``maximum`` bound the valid values (inclusive; ``None`` means unbounded).
    ``low_word``/``high_word`` are the adjectives segment names use when a segment's centre lies
    well below/above the population (e.g. "Budget"/"Affluent"); empty words fall back to
    "Low <label>"/"High <label>".

    A trained model's features also carry the resolved ``transform`` (NONE or LOG) and what the
    training data held: ``training_min``/``training_max`` and ``median`` in the data's units
    (``None`` on a spec nobody trained yet).
    """

    column: str
    label: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    integer: bool = False
    low_word: str = ""
    high_word: str = ""
    description: str = ""
    transform: Transform = Transform.NONE
    training_min: float | None = None
    training_max: float | None = None
    median: float | None = None

    def describe_range(self) -> str:
        """Human-readable valid range, e.g. ``18-100`` or ``>= 0``."""
        if self.minimum is not None and self.maximum is not None:
            return f"{self.minimum:g}-{self.maximum:g}"
        if self.minimum is not None:
            return f">= {self.minimum:g}"
        if self.maximum is not None:
            return f"<= {self.maximum:g}"
        return "any number"


@dataclass(frozen=True)
class FeatureSpec:
    """An ordered set of features plus the optional id column of the table."""

    features: tuple[Feature, ...]
    id_column: str | None = "customer_id"
    #: Plural nouns for segment names, chosen by the spending-like feature named here
    #: (high -> first noun, low -> second). ``None`` uses "Customers".
    noun_feature: str | None = None
    nouns: tuple[str, str] = ("Shoppers", "Browsers")

    @property
    def columns(self) -> tuple[str, ...]:
        """Column names in model order."""
        return tuple(f.column for f in self.features)

    def feature(self, column: str) -> Feature:
        """The feature for ``column``; ``KeyError`` if the spec has none."""
        for f in self.features:
            if f.column == column:
                return f
        raise KeyError(column)

    @classmethod
    def generic(
        cls, columns: list[str] | tuple[str, ...], id_column: str | None = None
    ) -> FeatureSpec:
        """A spec for any numeric columns, with no range limits and generic words."""
        return cls(features=tuple(generic_feature(c) for c in columns), id_column=id_column)

    def with_features(self, features: tuple[Feature, ...]) -> FeatureSpec:
        """The same spec with other features (e.g. after training filled in their statistics)."""
        return replace(self, features=features)


#: Words for columns whose meaning their name gives away, by the name's last word (lower case):
#: (low word, high word). "Recent" for a low recency reads better than "Low Recency".
KNOWN_WORDS: dict[str, tuple[str, str]] = {
    "recency": ("Recent", "Lapsed"),
    "frequency": ("Occasional", "Frequent"),
    "orders": ("Occasional", "Frequent"),
    "visits": ("Rare-Visit", "Frequent-Visit"),
    "tenure": ("New", "Long-Standing"),
    "age": ("Young", "Senior"),
    "monetary": ("Low-Value", "High-Value"),
    "revenue": ("Low-Revenue", "High-Revenue"),
    "spend": ("Low-Spend", "High-Spend"),
    "spending": ("Low-Spend", "High-Spend"),
}

_UNIT = re.compile(r"^(?P<label>.*?)\s*\((?P<unit>[^()]*)\)\s*$")
_WORD_SPLIT = re.compile(r"[\s_\-]+|(?<=[a-z0-9])(?=[A-Z])")


def column_words(name: str) -> list[str]:
    """A column name's words: split at spaces, ``_``, ``-`` and lower-to-upper case changes.

    ``customer_id`` -> customer, id; ``CustomerID`` -> Customer, ID; ``user id`` -> user, id.
    """
    return [w for w in _WORD_SPLIT.split(name.strip()) if w]


def generic_feature(column: str, transform: Transform = Transform.NONE) -> Feature:
    """A feature for any numeric column: label and unit from its name, words from its meaning.

    ``Annual Income (k$)`` -> label "Annual Income", unit "k$". A LOG feature accepts values
    >= 0 (log1p is defined there); otherwise any finite number.
    """
    match = _UNIT.match(column)
    label, unit = (match["label"], match["unit"].strip()) if match else (column, "")
    label = " ".join(column_words(label.replace("_", " "))) if "_" in label else label.strip()
    label = label or column
    words = column_words(label)
    low, high = KNOWN_WORDS.get(words[-1].lower(), ("", "")) if words else ("", "")
    return Feature(
        column=column,
        label=label[:1].upper() + label[1:],
        unit=unit,
        minimum=0.0 if transform is Transform.LOG else None,
        low_word=low,
        high_word=high,
        transform=transform,
    )


DEFAULT_SPEC = FeatureSpec(
    features=(
        Feature(
            column="age",
            label="Age",
            unit="years",
            minimum=18,
            maximum=100,
            integer=True,
            low_word="Young",
            high_word="Senior",
            description="Customer age in years.",
        ),
        Feature(
            column="annual_income",
            label="Annual income",
            unit="k$",
            minimum=0,
            maximum=None,
            integer=False,
            low_word="Budget",
            high_word="Affluent",
            description="Annual income in thousands of dollars.",
        ),
        Feature(
            column="spending_score",
            label="Spending score",
            unit="1-100",
            minimum=1,
            maximum=100,
            integer=True,
            low_word="Thrifty",
            high_word="Big-Spending",
            description="Spending score assigned by the store, 1 (lowest) to 100 (highest).",
        ),
        Feature(
            column="purchase_frequency",
            label="Purchase frequency",
            unit="purchases/yr",
            minimum=0,
            maximum=None,
            integer=True,
            low_word="Occasional",
            high_word="Frequent",
            description="Purchases per year.",
        ),
    ),
    id_column="customer_id",
    noun_feature="spending_score",
)
