"""Dashboard (`/dashboard`): understand the segments, and retrain.

The page loads with ONE GraphQL request (health, model, clusters and elbow report in one query).
Training runs as a background event so the page stays live while the API fits models; the API
key, when the server asks for one, is kept in backend-only state (`_api_key`) and never sent back
to the browser.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from web import api_client
from web.api_client import (
    ApiError,
    ApiUnavailable,
    Dashboard,
    InvalidInput,
    ModelInfo,
    TrainingInProgress,
    Unauthorized,
)
from web.components.averages_chart import averages_chart
from web.components.cluster_table import cluster_table
from web.components.elbow_chart import elbow_chart
from web.components.layout import template
from web.components.notice import notice
from web.components.profiles_chart import profiles_chart
from web.components.sizes_chart import sizes_chart
from web.components.status_card import status_card
from web.components.train_panel import train_panel
from web.dashboard_data import (
    ElbowRow,
    FeatureBars,
    RadarSeries,
    SizeRow,
    TableRow,
    elbow_rows,
    feature_bars,
    radar_rows,
    radar_series,
    size_rows,
    table_columns,
    table_rows,
)
from web.settings import load_settings

#: `status` values shown by the status light.
HEALTHY, DEGRADED, DOWN, CHECKING = "healthy", "degraded", "down", "checking"


def api_status(health: api_client.Health | None) -> str:
    """Healthy: serving with a model. Degraded: serving without one (or reporting a problem)."""
    if health is None:
        return DOWN
    return HEALTHY if health.status == "ok" and health.model_loaded else DEGRADED


def trained_at_label(iso: str | None) -> str:
    """`2026-11-28T01:02:03+00:00` -> `2026-11-28 01:02 UTC`; the raw text if it is not ISO."""
    if not iso:
        return "–"
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


class DashboardState(rx.State):
    """Everything the dashboard draws, refreshed by `load` and after each training."""

    loading: bool = True
    status: str = CHECKING
    status_detail: str = ""
    has_model: bool = False
    model_version: str = ""
    trained_at: str = "–"
    k: int = 0
    silhouette: str = ""
    n_customers: int = 0

    sizes: list[SizeRow] = []
    averages: list[FeatureBars] = []
    radar: list[dict[str, float | str]] = []
    series: list[RadarSeries] = []
    elbow: list[ElbowRow] = []
    optimal_k: int = 0
    elbow_k: int = 0
    columns: list[str] = []
    rows: list[TableRow] = []

    training: bool = False
    train_elapsed: int = 0
    train_message: str = ""
    train_failed: bool = False
    key_dialog_open: bool = False

    #: Backend-only (leading underscore): never serialised to the browser.
    _api_key: str = ""

    @rx.event
    async def load(self) -> None:
        """Fetch everything in one request and rebuild every chart."""
        self.loading = True
        try:
            dashboard = await api_client.fetch_dashboard()
        except ApiUnavailable as exc:
            self.status, self.status_detail = DOWN, str(exc)
            self.loading = False
            return
        except ApiError as exc:
            self.status, self.status_detail = DEGRADED, f"The API reported an error: {exc}"
            self.loading = False
            return
        self._apply(dashboard)
        self.loading = False

    def _apply(self, d: Dashboard) -> None:
        self.status = api_status(d.health)
        self.status_detail = "" if d.model else "Serving, but no model is trained yet."
        self._apply_model(d.model)
        self.sizes = size_rows(d.clusters)
        self.averages = feature_bars(d.clusters)
        self.radar = radar_rows(d.clusters)
        self.series = radar_series(d.clusters)
        self.elbow = elbow_rows(d.elbow)
        self.optimal_k = d.elbow.optimal_k if d.elbow else 0
        self.elbow_k = (d.elbow.elbow_k or 0) if d.elbow else 0
        self.columns = table_columns(d.clusters)
        self.rows = table_rows(d.clusters)

    def _apply_model(self, model: ModelInfo | None) -> None:
        self.has_model = model is not None
        self.model_version = model.version if model else ""
        self.trained_at = trained_at_label(model.trained_at) if model else "–"
        self.k = model.k if model else 0
        self.silhouette = f"{model.silhouette:.3f}" if model else ""
        self.n_customers = model.n_customers if model else 0

    @rx.event
    async def refresh_status(self, _tick: Any = None) -> None:
        """Poll the API's health for the status light; reload everything if the model changed."""
        try:
            health = await api_client.fetch_health()
        except ApiError as exc:
            self.status, self.status_detail = DOWN, str(exc)
            return
        was_down = self.status == DOWN
        self.status = api_status(health)
        if was_down or (health.model_version or "") != self.model_version:
            await self.load()

    @rx.event
    def set_key_dialog(self, is_open: bool) -> None:
        """Open or close the API key dialog."""
        self.key_dialog_open = is_open

    @rx.event
    def submit_key(self, form_data: dict[str, Any]):
        """Keep the key on the server only, then retry the training."""
        self._api_key = str(form_data.get("api_key", "")).strip()
        self.key_dialog_open = False
        return DashboardState.train

    @rx.event(background=True)
    async def train(self):
        """Train a new model, showing the elapsed time, then refresh every chart."""
        async with self:
            if self.training:
                return
            self.training = True
            self.train_elapsed = 0
            self.train_message = ""
            self.train_failed = False
            api_key = self._api_key or None
        started = time.monotonic()
        task = asyncio.create_task(api_client.train(api_key=api_key))
        while not task.done():
            await asyncio.wait({task}, timeout=0.5)
            async with self:
                self.train_elapsed = int(time.monotonic() - started)
        message, failed, reload, ask_key = "", True, False, False
        try:
            outcome = task.result()
        except ApiError as exc:
            message = f"Training failed: {exc}"
        else:
            match outcome:
                case ModelInfo() as model:
                    message = (
                        f"Trained {model.version}: k = {model.k}, "
                        f"silhouette = {model.silhouette:.3f} "
                        f"({time.monotonic() - started:.1f} s)."
                    )
                    failed, reload = False, True
                case Unauthorized(message=text):
                    message, ask_key = f"{text} Enter the API key to train.", True
                case TrainingInProgress(message=text):
                    message = text
                case InvalidInput(message=text):
                    message = text
        async with self:
            self.training = False
            self.train_message = message
            self.train_failed = failed
            if ask_key:
                self._api_key = ""
                self.key_dialog_open = True
        if reload:
            async with self:
                await self.load()


@template
def dashboard() -> rx.Component:
    """The dashboard page."""
    s = DashboardState
    return rx.flex(
        rx.flex(
            rx.heading("Segments dashboard", size=rx.breakpoints(initial="6", md="7")),
            rx.text(
                "Who your customers are: segment sizes, what sets each segment apart, and how "
                "the number of segments was chosen.",
                color_scheme="gray",
            ),
            direction="column",
            spacing="2",
        ),
        rx.cond(
            s.status == DOWN,
            notice(
                "The segmentation API is not reachable",
                s.status_detail,
                icon="cloud-off",
                color_scheme="red",
                id="api-down-notice",
                actions=[rx.button("Retry", on_click=s.load, size="2")],
            ),
        ),
        rx.grid(
            status_card(s),
            train_panel(s),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        rx.grid(
            sizes_chart(s.sizes, loading=s.loading),
            elbow_chart(s.elbow, optimal_k=s.optimal_k, elbow_k=s.elbow_k, loading=s.loading),
            averages_chart(s.averages, s.series, loading=s.loading),
            profiles_chart(s.radar, s.series, loading=s.loading),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        cluster_table(s.columns, s.rows, loading=s.loading),
        # Ticks in the browser while the page is open, so the status stays live.
        rx.moment(
            interval=int(load_settings().status_every_s * 1000),
            on_change=s.refresh_status,
            display="none",
        ),
        direction="column",
        spacing="4",
        width="100%",
    )
