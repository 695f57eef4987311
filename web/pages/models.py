"""Models (`/models`): every trained version, switch between them, roll back, compare two.

Activating a version (or rolling back to the one active before) changes what the home page
predicts with and what the dashboard shows by default. The comparison scores one dataset with
both models and shows how far they agree (the adjusted Rand index, in words) and where the
customers of each segment go.
"""

from __future__ import annotations

from typing import Any

import reflex as rx

from web import api_client
from web.api_client import (
    ApiError,
    Conflict,
    InvalidInput,
    ModelActivated,
    ModelComparison,
    NotFound,
    Unauthorized,
)
from web.auth_state import AuthState
from web.components.comparison_card import comparison_card
from web.components.key_dialog import key_dialog
from web.components.layout import template
from web.components.model_list import model_list
from web.components.notice import api_down_notice, page_header
from web.dashboard_data import HeatColumn, HeatRow
from web.formatting import fmt_time
from web.history_view import (
    ModelRow,
    VersionOption,
    ari_words,
    default_pair,
    flow_table,
    model_rows,
    version_options,
)


class ModelsState(rx.State):
    """The history, the last switch, and the comparison."""

    loading: bool = True
    api_error: str = ""
    rows: list[ModelRow] = []
    options: list[VersionOption] = []

    busy: str = ""  # the version being activated, or "rollback"
    action_message: str = ""
    action_failed: bool = False

    compare_a: str = ""
    compare_b: str = ""
    comparing: bool = False
    compare_error: str = ""
    has_comparison: bool = False
    ari: str = ""
    ari_headline: str = ""
    ari_text: str = ""
    compared_customers: str = ""
    compared_dataset: str = ""
    a_label: str = ""
    b_label: str = ""
    flow_columns: list[HeatColumn] = []
    flow_rows: list[HeatRow] = []

    #: What to retry once the user typed an API key: "activate:<version>" or "rollback".
    _pending: str = ""

    @rx.event
    async def load(self) -> None:
        """The history, newest first."""
        self.loading = True
        try:
            models = await api_client.fetch_models()
        except ApiError as exc:
            self.api_error, self.loading = str(exc), False
            return
        self.api_error = ""
        self.rows = model_rows(models)
        self.options = version_options(models)
        versions = {m.version for m in models}
        if self.compare_a not in versions or self.compare_b not in versions:
            self.compare_a, self.compare_b = default_pair(models)
        self.loading = False

    @rx.event
    async def submit_key(self, form_data: dict[str, Any]):
        """Keep the key on the server only, then retry what was refused."""
        (await self.get_state(AuthState))._accept(form_data)
        pending, self._pending = self._pending, ""
        if pending == "rollback":
            return ModelsState.rollback
        if pending.startswith("activate:"):
            return ModelsState.activate(pending.removeprefix("activate:"))
        return None

    async def _switch(self, what: str, call: Any) -> None:
        """Run an activation or a rollback and report it."""
        self.action_message, self.action_failed = "", False
        try:
            outcome = await call
        except ApiError as exc:
            self.action_message, self.action_failed = f"That did not work: {exc}", True
            return
        match outcome:
            case ModelActivated(model=model, previous_version=previous):
                before = f" (was {previous})" if previous else ""
                self.action_message = (
                    f"Active now: the model of {fmt_time(model.trained_at)} on "
                    f"{model.dataset_name}, k = {model.k}{before}. Predictions and the "
                    "dashboard use it."
                )
                await self.load()
            case Conflict(message=text) | NotFound(message=text):
                self.action_message, self.action_failed = text, True
            case Unauthorized():
                self._pending = what
                self.action_message = "Enter the API key to switch models."
                self.action_failed = True
                (await self.get_state(AuthState))._ask(
                    "This server only lets key holders switch models."
                )

    @rx.event
    async def activate(self, version: str):
        """Make `version` the active model."""
        self.busy = version
        yield
        auth = await self.get_state(AuthState)
        call = api_client.activate_model(version, api_key=auth._key())
        await self._switch(f"activate:{version}", call)
        self.busy = ""

    @rx.event
    async def rollback(self):
        """Back to the version that was active before the current one."""
        self.busy = "rollback"
        yield
        auth = await self.get_state(AuthState)
        await self._switch("rollback", api_client.rollback_model(api_key=auth._key()))
        self.busy = ""

    @rx.event
    def set_compare(self, side: str, version: str) -> None:
        """Pick model a or b of the comparison."""
        if side == "a":
            self.compare_a = version
        else:
            self.compare_b = version
        self.compare_error = ""

    @rx.event(background=True)
    async def compare(self):
        """Compare the two chosen versions on b's dataset."""
        async with self:
            if self.comparing:
                return
            a, b = self.compare_a, self.compare_b
            if not a or not b:
                self.compare_error = "Choose two model versions."
                return
            self.comparing, self.compare_error = True, ""
        try:
            outcome = await api_client.compare_models(a, b)
        except ApiError as exc:
            outcome = None
            error = f"The comparison failed: {exc}"
        async with self:
            self.comparing = False
            match outcome:
                case ModelComparison() as c:
                    self.has_comparison = True
                    self.ari = f"{c.adjusted_rand_index:.2f}"
                    self.ari_headline, self.ari_text = ari_words(c.adjusted_rand_index)
                    self.compared_customers = f"{c.customers:,}"
                    self.compared_dataset = c.b.dataset_name
                    self.a_label = f"{fmt_time(c.a.trained_at)} · k={c.a.k}"
                    self.b_label = f"{fmt_time(c.b.trained_at)} · k={c.b.k}"
                    table = flow_table(c)
                    self.flow_columns, self.flow_rows = table["columns"], table["rows"]
                case InvalidInput() as invalid:
                    self.compare_error = (
                        "; ".join(e.message for e in invalid.errors) or invalid.message
                    )
                case NotFound(message=text):
                    self.compare_error = text
                case None:
                    self.compare_error = error


@template
def models() -> rx.Component:
    """The models page."""
    s = ModelsState
    return rx.flex(
        page_header(
            "Model history",
            "Every model trained here, newest first. Switch to another one, go back to the "
            "previous one, or compare two to see how the segments changed.",
        ),
        rx.cond(
            s.api_error != "",
            api_down_notice(s.api_error, s.load),
        ),
        model_list(s),
        comparison_card(s),
        key_dialog(s.submit_key),
        direction="column",
        spacing="4",
        width="100%",
    )
