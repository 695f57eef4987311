"""Home (`/`): segment one customer.

The form validates as the user types with the API's own ranges, and the submit button stays
disabled until every field is valid. The result card shows the segment in its colour, the
confidence, the customer's values beside the segment's typical (median) values, and the other
segments' probabilities.
"""

from __future__ import annotations

import asyncio
from typing import Any, TypedDict

import reflex as rx

from web import api_client
from web.api_client import ApiProtocolError, ApiUnavailable, InvalidInput, ModelNotTrained
from web.components.layout import template
from web.components.notice import notice
from web.components.prediction_card import prediction_card
from web.customer_fields import (
    CUSTOMER_FIELDS,
    CustomerField,
    field_error,
    server_field_errors,
    to_customer,
)
from web.dashboard_data import feature_label, feature_unit, fmt
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

    values: dict[str, str] = {f.id: "" for f in CUSTOMER_FIELDS}
    touched: list[str] = []
    server_errors: dict[str, str] = {}
    loading: bool = False
    api_state: str = CHECKING
    api_message: str = ""

    has_result: bool = False
    segment_name: str = ""
    segment_color: str = ""
    segment_text_color: str = ""
    confidence_pct: float = 0.0
    comparison: list[ComparisonRow] = []
    others: list[ProbabilityRow] = []

    #: cluster id -> feature column -> (median, min, max), from the last `clusters` fetch.
    _profiles: dict[int, dict[str, tuple[float, float, float]]] = {}
    _model_version: str = ""

    @rx.var
    def errors(self) -> dict[str, str]:
        """The message under each field: the API's if it disagreed, else the form's own check.

        An empty field only complains once the user has left it, so a fresh form is not red.
        """
        messages = {}
        for f in CUSTOMER_FIELDS:
            raw = self.values.get(f.id, "")
            if f.id in self.server_errors:
                messages[f.id] = self.server_errors[f.id]
            elif raw.strip() or f.id in self.touched:
                messages[f.id] = field_error(f.id, raw)
            else:
                messages[f.id] = ""
        return messages

    @rx.var
    def can_submit(self) -> bool:
        """Every field is valid and no request is running."""
        if self.loading:
            return False
        return all(not field_error(f.id, self.values.get(f.id, "")) for f in CUSTOMER_FIELDS)

    @rx.event
    def set_value(self, field_id: str, value: str) -> None:
        """Keep a field's text; a new value clears the API's complaint about the old one."""
        self.values[field_id] = value
        self.server_errors.pop(field_id, None)

    @rx.event
    def touch(self, field_id: str) -> None:
        """The user left a field: from now on an empty value is reported."""
        if field_id not in self.touched:
            self.touched.append(field_id)

    @rx.event
    async def check_api(self) -> None:
        """Find out whether the API is up and has a model, and cache the segment profiles."""
        self.api_state = CHECKING
        try:
            dashboard = await api_client.fetch_dashboard()
        except ApiUnavailable as exc:
            self.api_state, self.api_message = DOWN, str(exc)
            return
        except ApiProtocolError as exc:
            self.api_state, self.api_message = DOWN, f"The API answered with an error: {exc}"
            return
        self._profiles = {
            c.cluster_id: {f.feature: (f.median, f.min, f.max) for f in c.features}
            for c in dashboard.clusters
        }
        self._model_version = dashboard.model.version if dashboard.model else ""
        self.api_state = READY if dashboard.model is not None else NO_MODEL
        self.api_message = ""

    @rx.event
    async def submit(self, _form_data: dict[str, Any]):
        """Validate, then ask the API for the customer's segment."""
        try:
            customer = to_customer(self.values)
        except ValueError:
            self.touched = [f.id for f in CUSTOMER_FIELDS]
            return
        self.loading = True
        self.server_errors = {}
        yield
        try:
            # The health check rides along so a model retrained since the page loaded is noticed
            # (its segment profiles are then refetched for the comparison table).
            outcome, health = await asyncio.gather(
                api_client.predict(customer), api_client.fetch_health()
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

        match outcome:
            case ModelNotTrained(message=message):
                self.api_state, self.api_message = NO_MODEL, message
                self.has_result = False
            case InvalidInput() as invalid:
                self.server_errors, unplaced = server_field_errors(invalid)
                for message in unplaced:
                    yield rx.toast.error(message)
                self.has_result = False
            case prediction:
                if health.model_version != self._model_version:
                    await self.check_api()
                self.api_state = READY
                self._show(prediction, customer)

    def _show(self, prediction: api_client.Prediction, customer: api_client.Customer) -> None:
        color = segment_color(prediction.cluster_id)
        self.segment_name = prediction.segment_name
        self.segment_color = color
        self.segment_text_color = text_color_on(color)
        self.confidence_pct = round(100 * prediction.confidence, 1)
        profile = self._profiles.get(prediction.cluster_id, {})
        customer_values = {
            "age": customer.age,
            "annual_income": customer.annual_income,
            "spending_score": customer.spending_score,
            "purchase_frequency": customer.purchase_frequency,
        }
        self.comparison = [
            ComparisonRow(
                label=feature_label(column),
                unit=feature_unit(column),
                customer=fmt(value),
                typical=fmt(profile[column][0]) if column in profile else "–",
                range=(
                    f"{fmt(profile[column][1])}–{fmt(profile[column][2])}"
                    if column in profile
                    else "–"
                ),
            )
            for column, value in customer_values.items()
        ]
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


def _field(field: CustomerField) -> rx.Component:
    error = HomeState.errors[field.id]
    return rx.flex(
        rx.el.label(
            rx.text(field.label, weight="medium", size="2"),
            rx.text(field.hint, size="1", color_scheme="gray"),
            html_for=field.id,
            style={"display": "flex", "justify_content": "space-between", "gap": "8px"},
        ),
        rx.input(
            id=field.id,
            name=field.id,
            type="text",
            input_mode="numeric" if field.integer else "decimal",
            placeholder=field.placeholder,
            value=HomeState.values[field.id],
            on_change=lambda v: HomeState.set_value(field.id, v),
            on_blur=lambda _v: HomeState.touch(field.id),
            aria_invalid=rx.cond(error != "", "true", "false"),
            aria_describedby=f"{field.id}-error",
            color_scheme=rx.cond(error != "", "red", "gray"),
            size="3",
            width="100%",
        ),
        rx.text(
            error,
            id=f"{field.id}-error",
            size="1",
            color_scheme="red",
            role="alert",
            min_height="1.3em",
        ),
        direction="column",
        spacing="1",
        width="100%",
    )


def _api_notices() -> rx.Component:
    return rx.match(
        HomeState.api_state,
        (
            NO_MODEL,
            notice(
                "No model is trained yet",
                "Train one on the dashboard (one click), then come back to segment customers.",
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
            notice(
                "The segmentation API is not reachable",
                HomeState.api_message,
                icon="cloud-off",
                color_scheme="red",
                id="api-down-notice",
                actions=[rx.button("Retry", on_click=HomeState.check_api, size="2")],
            ),
        ),
        rx.fragment(),
    )


def form_card() -> rx.Component:
    """The customer form."""
    return rx.card(
        rx.form(
            rx.flex(
                rx.heading("Customer", size="4"),
                rx.grid(
                    *[_field(f) for f in CUSTOMER_FIELDS],
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
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
