"""The prediction form, built from the active model's `featureSpecs`: one field per feature
with its label, unit and accepted range, so it works for any trained model.

The ranges are the API's (`FeatureSpec.min`/`max`, None = unbounded), so the form can say what is
wrong while the user types; the API's own `InvalidInput` is still shown under the right field if
it ever disagrees. Pure functions, unit-tested without a browser.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import TypedDict

from web.api_client import FeatureSpec, FeatureValue, InvalidInput
from web.formatting import fmt

#: The bundled features keep the element ids the public contract gives them.
BUNDLED_IDS = ("age", "annual_income", "spending_score", "purchase_frequency")


class FormField(TypedDict):
    """One input of the form."""

    name: str  # the feature (column) name, sent as `FeatureValueInput.feature`
    dom_id: str  # `age` ... for the bundled features, `feature-<i>` otherwise
    error_id: str  # `<dom_id>-error`
    label: str
    unit: str
    hint: str  # unit and accepted range (the training range when any number is accepted)
    placeholder: str  # the training median
    minimum: float | None
    maximum: float | None


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{fmt(minimum)}-{fmt(maximum)}"
    if minimum is not None:
        return f"{fmt(minimum)} or more"
    if maximum is not None:
        return f"at most {fmt(maximum)}"
    return "any number"


def form_fields(specs: Sequence[FeatureSpec]) -> list[FormField]:
    """The form's fields, in the model's feature order."""
    fields = []
    for i, s in enumerate(specs):
        dom_id = s.name if s.name in BUNDLED_IDS else f"feature-{i}"
        unit = s.unit or ""
        limits = (
            _range_text(s.min, s.max)
            if s.min is not None or s.max is not None
            else f"usually {fmt(s.training_min)}–{fmt(s.training_max)}"
        )
        fields.append(
            FormField(
                name=s.name,
                dom_id=dom_id,
                error_id=f"{dom_id}-error",
                label=s.label,
                unit=unit,
                hint=f"{unit}, {limits}" if unit else limits,
                placeholder=f"e.g. {fmt(s.median)}",
                minimum=s.min,
                maximum=s.max,
            )
        )
    return fields


def parse_value(field: FormField, raw: str) -> float:
    """The number typed into `field`, or `ValueError` with a message for the user."""
    text = raw.strip()
    if not text:
        raise ValueError(f"Enter the {field['label'].lower()}.")
    try:
        number = float(text)
    except ValueError:
        raise ValueError("Enter a number.") from None
    if not math.isfinite(number):
        raise ValueError("Enter a finite number.")
    low, high = field["minimum"], field["maximum"]
    if (low is not None and number < low) or (high is not None and number > high):
        if low is not None and high is not None:
            raise ValueError(f"Must be between {fmt(low)} and {fmt(high)}.")
        if low is not None:
            raise ValueError(f"Must be {fmt(low)} or more.")
        raise ValueError(f"Must be at most {fmt(high)}.")
    return number


def field_error(field: FormField, raw: str) -> str:
    """The message to show under a field, or "" when the value is valid."""
    try:
        parse_value(field, raw)
    except ValueError as exc:
        return str(exc)
    return ""


def to_values(fields: Sequence[FormField], raw: dict[str, str]) -> list[FeatureValue]:
    """The `FeatureValueInput`s of the form; `ValueError` if any field is invalid."""
    return [FeatureValue(f["name"], parse_value(f, raw.get(f["name"], ""))) for f in fields]


_INDEXED = re.compile(r"^values\[(\d+)\](?:\.(?:value|feature))?$")


def server_field_errors(
    invalid: InvalidInput, sent: Sequence[FeatureValue]
) -> tuple[dict[str, str], list[str]]:
    """The API's `InvalidInput` as messages per feature name, plus the messages no field owns.

    `FieldError.field` names the input as the client wrote it: `values[2].value` is the third
    value sent; a bare feature name is accepted too.
    """
    names = {v.feature for v in sent}
    by_feature: dict[str, str] = {}
    unplaced: list[str] = []
    for error in invalid.errors:
        match = _INDEXED.match(error.field)
        if match and int(match.group(1)) < len(sent):
            by_feature[sent[int(match.group(1))].feature] = error.message
        elif error.field in names:
            by_feature[error.field] = error.message
        else:
            unplaced.append(f"{error.field}: {error.message}")
    if not invalid.errors:
        unplaced.append(invalid.message)
    return by_feature, unplaced
