"""Dashboard (`/dashboard`): understand the segments of any model version, rename them, retrain.

The page loads with ONE GraphQL request (health, the model, its segments with drivers and
categories, its elbow report, and the version list for the picker). `?version=<v>` pins the
page to a stored version; without it the page follows the active model. Training runs as a
background event with live progress from `health.training`, so the page stays usable.
"""

from __future__ import annotations

import time
from typing import Any

import reflex as rx

from web import api_client
from web.api_client import (
    ApiError,
    ApiUnavailable,
    Dashboard,
    FeatureChoice,
    InvalidInput,
    ModelInfo,
    NotFound,
    SegmentRenamed,
    TrainingInProgress,
    Unauthorized,
)
from web.auth_state import AuthState
from web.components.averages_chart import averages_chart
from web.components.categories_card import categories_card
from web.components.cluster_table import cluster_table
from web.components.drivers_chart import drivers_chart
from web.components.elbow_chart import elbow_chart
from web.components.key_dialog import key_dialog
from web.components.layout import template
from web.components.model_picker import model_picker
from web.components.notice import api_down_notice, page_header
from web.components.profiles_chart import profiles_chart
from web.components.rename_dialog import rename_dialog
from web.components.sizes_chart import sizes_chart
from web.components.status_card import status_card
from web.components.train_panel import train_panel
from web.dashboard_data import (
    CategoryTable,
    DriverChart,
    ElbowRow,
    FeatureBars,
    PickerOption,
    RadarSeries,
    ScatterPoint,
    SizeRow,
    TableRow,
    category_tables,
    driver_charts,
    driver_domain,
    driver_ticks,
    elbow_rows,
    feature_bars,
    feature_labels,
    model_stability_words,
    picker_options,
    radar_domain,
    radar_rows,
    radar_series,
    scatter_points,
    size_rows,
    table_columns,
    table_rows,
)
from web.formatting import fmt_pct, fmt_time
from web.settings import load_settings
from web.training_watch import follow

#: `status` values shown by the status light.
HEALTHY, DEGRADED, DOWN, CHECKING = "healthy", "degraded", "down", "checking"


def api_status(health: api_client.Health | None) -> str:
    """Healthy: serving with a model. Degraded: serving without one (or reporting a problem)."""
    if health is None:
        return DOWN
    return HEALTHY if health.status == "ok" and health.model_loaded else DEGRADED


def retrain_request(model: ModelInfo | None) -> dict[str, Any]:
    """`train` arguments that refit `model`'s recipe: its dataset, features (with the transform
    each resolved to), missing-value policy and minimum share. Empty: the server's defaults."""
    if model is None:
        return {}
    return {
        "dataset_id": model.dataset_id,
        "features": [FeatureChoice(s.name, s.transform) for s in model.feature_specs],
        "missing_values": model.missing_values,
        "min_segment_share": model.min_segment_share,
    }


class DashboardState(rx.State):
    """Everything the dashboard draws, refreshed by `load` and after each change."""

    loading: bool = True
    status: str = CHECKING
    status_detail: str = ""
    has_model: bool = False
    model_version: str = ""
    shown_is_active: bool = True
    dataset_name: str = ""
    trained_at: str = "–"
    k: int = 0
    silhouette: str = ""
    stability: str = "–"
    n_customers: int = 0
    notes: list[str] = []

    selected_version: str = ""
    picker: list[PickerOption] = []

    sizes: list[SizeRow] = []
    averages: list[FeatureBars] = []
    radar: list[dict[str, float | str]] = []
    radar_extent: float = 1.0
    scatter: list[ScatterPoint] = []
    x_title: str = ""
    y_title: str = ""
    series: list[RadarSeries] = []
    elbow: list[ElbowRow] = []
    optimal_k: int = 0
    elbow_k: int = 0
    has_ineligible: bool = False
    min_share: str = ""
    drivers: list[DriverChart] = []
    ticks: list[str] = []
    categories: list[CategoryTable] = []
    columns: list[str] = []
    rows: list[TableRow] = []

    training: bool = False
    train_stage: str = ""
    train_stage_code: str = ""
    train_steps: str = ""
    train_pct: int = 0
    train_elapsed: int = 0
    train_message: str = ""
    train_failed: bool = False

    rename_open: bool = False
    rename_cluster_id: int = -1
    rename_value: str = ""
    rename_error: str = ""
    renaming: bool = False

    #: What to retry once the user typed an API key: "train" or "rename".
    _pending: str = ""
    _model: ModelInfo | None = None

    @rx.event
    async def load(self) -> None:
        """Fetch everything for the version in the URL (or the active one) in one request."""
        self.selected_version = self.router.url.query_parameters.get("version", "")
        await self._fetch()

    async def _fetch(self) -> None:
        self.loading = True
        try:
            dashboard = await api_client.fetch_dashboard(self.selected_version or None)
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
        if d.model is None and self.selected_version:
            self.status_detail = f"There is no model version {self.selected_version}."
        elif d.model is None:
            self.status_detail = "Serving, but no model is trained yet."
        else:
            self.status_detail = ""
        self._apply_model(d.model)
        self.picker = picker_options(d.models)
        labels = feature_labels(
            d.model.feature_specs if d.model else (), d.model.features if d.model else ()
        )
        self.sizes = size_rows(d.clusters)
        self.averages = feature_bars(d.clusters, labels)
        self.radar = radar_rows(d.clusters, labels)
        self.radar_extent = radar_domain(self.radar)
        self.scatter = scatter_points(d.clusters)
        features = list(d.model.features) if d.model else []
        self.x_title = labels[features[0]]["title"] if len(features) == 2 else ""
        self.y_title = labels[features[1]]["title"] if len(features) == 2 else ""
        self.series = radar_series(d.clusters)
        self.elbow = elbow_rows(d.elbow)
        self.has_ineligible = any(r["ineligible"] is not None for r in self.elbow)
        self.optimal_k = d.elbow.optimal_k if d.elbow else 0
        self.elbow_k = (d.elbow.elbow_k or 0) if d.elbow else 0
        self.drivers = driver_charts(d.clusters, labels)
        self.ticks = driver_ticks(
            driver_domain([abs(r["z"]) for chart in self.drivers for r in chart["rows"]])
        )
        self.categories = category_tables(d.clusters)
        self.columns = table_columns(d.clusters, labels)
        self.rows = table_rows(d.clusters)

    def _apply_model(self, model: ModelInfo | None) -> None:
        self._model = model
        self.has_model = model is not None
        self.model_version = model.version if model else ""
        self.shown_is_active = model.active if model else True
        self.dataset_name = model.dataset_name if model else ""
        self.trained_at = fmt_time(model.trained_at) if model else "–"
        self.k = model.k if model else 0
        self.silhouette = f"{model.silhouette:.3f}" if model else ""
        self.stability = model_stability_words(model)
        self.n_customers = model.n_customers if model else 0
        self.notes = list(model.notes) if model else []
        self.min_share = fmt_pct(model.min_segment_share, 0) if model else ""

    @rx.event
    def pick_version(self, version: str):
        """Show another version (its own URL, so it can be shared and the back button works)."""
        return rx.redirect(f"/dashboard?version={version}" if version else "/dashboard")

    @rx.event
    async def refresh_status(self, _tick: Any = None) -> None:
        """Poll the API's health for the status light; reload if the active model changed."""
        try:
            health = await api_client.fetch_health()
        except ApiError as exc:
            self.status, self.status_detail = DOWN, str(exc)
            return
        was_down = self.status == DOWN
        self.status = api_status(health)
        following_active = not self.selected_version
        if was_down or (following_active and (health.model_version or "") != self.model_version):
            await self._fetch()

    # -- training ------------------------------------------------------------------------------

    @rx.event
    async def submit_key(self, form_data: dict[str, Any]):
        """Keep the key on the server only, then retry what was refused."""
        auth = await self.get_state(AuthState)
        auth._accept(form_data)
        pending, self._pending = self._pending, ""
        if pending == "train":
            return DashboardState.train
        if pending == "rename":
            return DashboardState.save_rename({})
        return None

    @rx.event(background=True)
    async def train(self):
        """Retrain the shown model's recipe with live progress, then show the new model."""
        async with self:
            if self.training:
                return
            self.training = True
            self.train_elapsed, self.train_pct = 0, 0
            self.train_stage, self.train_stage_code, self.train_steps = "Starting", "", ""
            self.train_message, self.train_failed = "", False
            request = retrain_request(self._model)
            api_key = (await self.get_state(AuthState))._key()
        started = time.monotonic()
        done = await follow(self, api_client.train(api_key=api_key, **request), started)
        message, failed, reload, ask_key = "", True, False, False
        outcome = done.outcome if done else None
        if done is not None and done.error is not None:
            message = f"Training failed: {done.error}"
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
                case InvalidInput() as invalid:
                    details = "; ".join(f"{e.field}: {e.message}" for e in invalid.errors)
                    message = f"{invalid.message} {details}".strip()
        async with self:
            self.training = False
            self.train_message = message
            self.train_failed = failed
            if ask_key:
                self._pending = "train"
                (await self.get_state(AuthState))._ask("This server only lets key holders train.")
        if reload:
            async with self:
                pinned = self.selected_version != ""
                if not pinned:
                    await self._fetch()
            if pinned:
                # The new model is the active one: follow it (its URL loads it).
                yield DashboardState.pick_version("")

    # -- renaming ------------------------------------------------------------------------------

    @rx.event
    def open_rename(self, cluster_id: int, name: str) -> None:
        """Open the rename dialog for one segment."""
        self.rename_cluster_id = int(cluster_id)
        self.rename_value = name
        self.rename_error = ""
        self.rename_open = True

    @rx.event
    def set_rename_open(self, is_open: bool) -> None:
        """Close (or open) the rename dialog."""
        self.rename_open = is_open

    @rx.event
    def set_rename_value(self, value: str) -> None:
        """The name being typed; a new value clears the API's complaint."""
        self.rename_value = value
        self.rename_error = ""

    @rx.event
    async def save_rename(self, _form_data: dict[str, Any]):
        """Ask the API to rename the segment in the model shown; reload every chart after."""
        if not self.model_version or self.rename_cluster_id < 0:
            return
        self.renaming = True
        self.rename_error = ""
        yield
        auth = await self.get_state(AuthState)
        try:
            outcome = await api_client.rename_segment(
                self.model_version,
                self.rename_cluster_id,
                self.rename_value.strip(),
                api_key=auth._key(),
            )
        except ApiError as exc:
            self.rename_error = f"The segment could not be renamed: {exc}"
            return
        finally:
            self.renaming = False
        match outcome:
            case SegmentRenamed(segment=segment):
                self.rename_open = False
                yield rx.toast.success(f"Renamed to “{segment.name}”.")
                await self._fetch()
            case InvalidInput() as invalid:
                self.rename_error = "; ".join(e.message for e in invalid.errors) or invalid.message
            case NotFound(message=text):
                self.rename_error = text
            case Unauthorized():
                self.rename_open = False
                self._pending = "rename"
                auth._ask("This server only lets key holders rename segments.")


@template
def dashboard() -> rx.Component:
    """The dashboard page."""
    s = DashboardState
    return rx.flex(
        page_header(
            "Segments dashboard",
            "Who your customers are: segment sizes, what sets each segment apart, and how "
            "the number of segments was chosen.",
        ),
        model_picker(s),
        rx.cond(
            s.status == DOWN,
            api_down_notice(s.status_detail, s.load),
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
            elbow_chart(
                s.elbow,
                optimal_k=s.optimal_k,
                elbow_k=s.elbow_k,
                has_ineligible=s.has_ineligible,
                min_share=s.min_share,
                loading=s.loading,
            ),
            averages_chart(s.averages, s.series, loading=s.loading),
            profiles_chart(
                s.radar,
                s.series,
                s.scatter,
                domain=s.radar_extent,
                x_title=s.x_title,
                y_title=s.y_title,
                has_model=s.has_model,
                loading=s.loading,
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        drivers_chart(s.drivers, s.ticks, loading=s.loading),
        categories_card(s.categories, loading=s.loading),
        cluster_table(s.columns, s.rows, loading=s.loading, state=s),
        rename_dialog(s),
        key_dialog(s.submit_key),
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
