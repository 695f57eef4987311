"""Home (`/`): segment one customer.

The form is built from the active model's `featureSpecs` (labels, units, accepted ranges), so it
works for any trained model. It validates as the user types and the submit button stays disabled
until every field is valid. The result card shows the segment in its colour, the confidence, the
customer's values beside the segment's typical (median) values, and the other segments'
probabilities.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import reflex as rx

from web import api_client
from web.api_client import (
    ApiProtocolError,
    ApiUnavailable,
    FeatureValue,
    HomeData,
    InvalidInput,
    ModelNotTrained,
)
from web.components.layout import template
from web.components.notice import api_down_notice, notice
from web.components.prediction_card import prediction_card
from web.feature_form import FormField, field_error, form_fields, server_field_errors, to_values
from web.formatting import fmt
from web.palette import segment_color, text_color_on


class ComparisonRow(TypedDict):
    """One feature of the result card: the customer's value beside the segment's typical one."""

    label: str
    unit: str
    customer: str
    typical: str
    range: str


class ProbabilityRow(TypedDict):
    """The probability of one (other) segment."""

    name: str
    pct: float
    label: str
    color: str


#: `api_state` values: what the page knows about the API.
CHECKING, READY, NO_MODEL, DOWN = "checking", "ready", "no_model", "down"


class HomeState(rx.State):
    """The prediction form and its result."""

    fields: list[FormField] = []
    values: dict[str, str] = {}
    touched: list[str] = []
    server_errors: dict[str, str] = {}
    loading: bool = False
    api_state: str = CHECKING
    api_message: str = ""
    model_version: str = ""

    has_result: bool = False
    segment_name: str = ""
    segment_color: str = ""
    segment_text_color: str = ""
    confidence_pct: float = 0.0
    comparison: list[ComparisonRow] = []
    others: list[ProbabilityRow] = []

    #: cluster id -> feature column -> (median, min, max), from the last `clusters` fetch.
    _profiles: dict[int, dict[str, tuple[float, float, float]]] = {}

    @rx.var
    def errors(self) -> dict[str, str]:
        """The message under each field: the API's if it disagreed, else the form's own check.

        An empty field only complains once the user has left it, so a fresh form is not red.
        """
        messages = {}
        for f in self.fields:
            raw = self.values.get(f["name"], "")
            if f["name"] in self.server_errors:
                messages[f["name"]] = self.server_errors[f["name"]]
            elif raw.strip() or f["name"] in self.touched:
                messages[f["name"]] = field_error(f, raw)
            else:
                messages[f["name"]] = ""
        return messages

    @rx.var
    def can_submit(self) -> bool:
        """Every field is valid and no request is running."""
        if self.loading or not self.fields:
            return False
        return all(not field_error(f, self.values.get(f["name"], "")) for f in self.fields)

    @rx.event
    def set_value(self, feature: str, value: str) -> None:
        """Keep a field's text; a new value clears the API's complaint about the old one."""
        self.values[feature] = value
        self.server_errors.pop(feature, None)

    @rx.event
    def touch(self, feature: str) -> None:
        """The user left a field: from now on an empty value is reported."""
        if feature not in self.touched:
            self.touched.append(feature)

    @rx.event
    async def check_api(self) -> None:
        """Find out whether the API is up and has a model; build the form from its features."""
        self.api_state = CHECKING
        try:
            home = await api_client.fetch_home()
        except ApiUnavailable as exc:
            self.api_state, self.api_message = DOWN, str(exc)
            return
        except ApiProtocolError as exc:
            self.api_state, self.api_message = DOWN, f"The API answered with an error: {exc}"
            return
        self._apply(home)

    def _apply(self, home: HomeData) -> None:
        self._profiles = {
            c.cluster_id: {f.feature: (f.median, f.min, f.max) for f in c.features}
            for c in home.clusters
        }
        model = home.model
        if model is None:
            self.fields, self.model_version = [], ""
            self.api_state, self.api_message = NO_MODEL, ""
            self.has_result = False
            return
        if model.version != self.model_version:
            fields = form_fields(model.feature_specs)
            # Values typed for a feature the new model also has are kept.
            self.values = {f["name"]: self.values.get(f["name"], "") for f in fields}
            self.touched = [t for t in self.touched if t in self.values]
            self.server_errors = {}
            self.fields = fields
            self.model_version = model.version
        self.api_state, self.api_message = READY, ""

    @rx.event
    async def submit(self, _form_data: dict[str, Any]):
        """Validate, then ask the API for the customer's segment."""
        try:
            values = to_values(self.fields, self.values)
        except ValueError:
            self.touched = [f["name"] for f in self.fields]
            return
        self.loading = True
        self.server_errors = {}
        yield
        try:
            # The health check rides along so a model retrained since the page loaded is noticed
            # (the form and the segment profiles are then refetched).
            outcome, health = await asyncio.gather(
                api_client.predict_record(values), api_client.fetch_health()
            )
        except ApiUnavailable as exc:
            self.api_state, self.api_message = DOWN, str(exc)
            self.has_result = False
            return
        except ApiProtocolError as exc:
            yield rx.toast.error(f"The API rejected the request: {exc}")
            return
        finally:
            self.loading = False

        if health.model_version != self.model_version:
            await self.check_api()
        match outcome:
            case ModelNotTrained(message=message):
                self.api_state, self.api_message = NO_MODEL, message
                self.has_result = False
            case InvalidInput() as invalid:
                self.server_errors, unplaced = server_field_errors(invalid, values)
                for message in unplaced:
                    yield rx.toast.error(message)
                self.has_result = False
            case prediction:
                self.api_state = READY
                self._show(prediction, values)

    def _show(self, prediction: api_client.Prediction, values: list[FeatureValue]) -> None:
        color = segment_color(prediction.cluster_id)
        self.segment_name = prediction.segment_name
        self.segment_color = color
        self.segment_text_color = text_color_on(color)
        self.confidence_pct = round(100 * prediction.confidence, 1)
        profile = self._profiles.get(prediction.cluster_id, {})
        by_name = {f["name"]: f for f in self.fields}
        self.comparison = []
        for v in values:
            field = by_name.get(v.feature)
            stats = profile.get(v.feature)
            self.comparison.append(
                ComparisonRow(
                    label=field["label"] if field else v.feature,
                    unit=field["unit"] if field else "",
                    customer=fmt(v.value),
                    typical=fmt(stats[0]) if stats else "–",
                    range=f"{fmt(stats[1])}–{fmt(stats[2])}" if stats else "–",
                )
            )
        self.others = [
            ProbabilityRow(
                name=p.segment_name,
                pct=round(100 * p.probability, 1),
                label=f"{100 * p.probability:.1f}%",
                color=segment_color(p.cluster_id),
            )
            for p in sorted(prediction.probabilities, key=lambda p: -p.probability)
            if p.cluster_id != prediction.cluster_id
        ]
        self.has_result = True


def _field(field: rx.Var) -> rx.Component:
    name = field["name"].to(str)
    error = HomeState.errors[name]
    return rx.flex(
        rx.el.label(
            rx.text(field["label"], weight="medium", size="2"),
            rx.text(field["hint"], size="1", color_scheme="gray", text_align="right"),
            html_for=field["dom_id"],
            style={"display": "flex", "justify_content": "space-between", "gap": "8px"},
        ),
        rx.input(
            id=field["dom_id"],
            name=field["dom_id"],
            type="text",
            input_mode="decimal",
            placeholder=field["placeholder"],
            value=HomeState.values[name],
            on_change=lambda v: HomeState.set_value(name, v),
            on_blur=lambda _v: HomeState.touch(name),
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=field["error_id"],
            color_scheme=rx.cond(error != "", "red", "gray"),
            size="3",
            width="100%",
            custom_attrs={"data-feature": name},
        ),
        rx.text(
            error,
            id=field["error_id"],
            size="1",
            color_scheme="red",
            role="alert",
            min_height="1.3em",
            custom_attrs={"data-feature-error": name},
        ),
        direction="column",
        spacing="1",
        width="100%",
        min_width="0",
    )


def _api_notices() -> rx.Component:
    return rx.match(
        HomeState.api_state,
        (
            NO_MODEL,
            notice(
                "No model is trained yet",
                "Train one on the dashboard (one click) or on your own data, then come back to "
                "segment customers.",
                icon="graduation-cap",
                color_scheme="amber",
                id="no-model-notice",
                actions=[
                    rx.link(rx.button("Go to the dashboard to train", size="2"), href="/dashboard"),
                    rx.button(
                        "Check again", on_click=HomeState.check_api, variant="soft", size="2"
                    ),
                ],
            ),
        ),
        (
            DOWN,
            api_down_notice(HomeState.api_message, HomeState.check_api),
        ),
        rx.fragment(),
    )


def form_card() -> rx.Component:
    """The customer form: one field per feature of the active model."""
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Customer", size="4"),
                rx.cond(
                    HomeState.fields.length() > 0,
                    rx.grid(
                        rx.foreach(HomeState.fields, _field),
                        columns=rx.breakpoints(initial="1", sm="2"),
                        spacing="3",
                        width="100%",
                    ),
                    rx.cond(
                        HomeState.api_state == CHECKING,
                        rx.skeleton(height="140px", width="100%"),
                        rx.text(
                            "The form appears once a model is trained.",
                            color_scheme="gray",
                            size="2",
                        ),
                    ),
                ),
                rx.button(
                    rx.cond(HomeState.loading, rx.spinner(size="2"), rx.icon("sparkles")),
                    rx.cond(HomeState.loading, "Predicting…", "Find the segment"),
                    id="predict",
                    type="submit",
                    disabled=~HomeState.can_submit,
                    size="3",
                    width="100%",
                ),
                direction="column",
                spacing="4",
            ),
            on_submit=HomeState.submit,
            reset_on_submit=False,
            width="100%",
        ),
        width="100%",
    )


@template
def home() -> rx.Component:
    """The home page."""
    return rx.flex(
        rx.flex(
            rx.heading(
                "Which segment is this customer in?", size=rx.breakpoints(initial="6", md="7")
            ),
            rx.text(
                "Enter a customer's profile; the model trained on your customers places them in "
                "a segment and says how sure it is.",
                color_scheme="gray",
            ),
            direction="column",
            spacing="2",
        ),
        _api_notices(),
        rx.grid(
            form_card(),
            prediction_card(HomeState),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
            align_items="start",
        ),
        direction="column",
        spacing="4",
        width="100%",
    )
