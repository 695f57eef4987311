"""Data (`/data`): bring your own customers, look at the columns, train on the ones you choose,
and put a segment on every row of a file.

Uploads stream: the browser sends the file to Reflex's upload endpoint, a background handler
receives it chunk by chunk (`rx.UploadChunkIterator`) and forwards every chunk at once to the
API as a GraphQL multipart request, so no copy lands on disk here (and nothing under Reflex's
public upload folder) and memory stays flat. Uploads, training and scoring are background
events: each shows its own progress and its own errors, and the rest of the page stays usable.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import reflex as rx

from web import api_client
from web.api_client import (
    ApiError,
    ApiUnavailable,
    Dataset,
    DatasetImported,
    InvalidInput,
    ModelInfo,
    ModelNotTrained,
    NotFound,
    ScoredDataset,
    TrainingInProgress,
    Unauthorized,
    UploadRefused,
)
from web.auth_state import AuthState
from web.components.column_table import column_table
from web.components.dataset_list import dataset_list
from web.components.key_dialog import key_dialog
from web.components.layout import template
from web.components.notice import api_down_notice, page_header
from web.components.score_box import score_box
from web.components.train_options import train_options
from web.components.upload_zone import upload_zone
from web.dataset_view import (
    ColumnRow,
    DatasetRow,
    SegmentCountRow,
    column_rows,
    dataset_name,
    dataset_rows,
    feature_choices,
    score_summary,
    scored_filename,
    segment_count_rows,
    training_errors,
)
from web.formatting import fmt_bytes
from web.settings import load_settings
from web.training_watch import POLL_EVERY_S, follow, progress_words

DATASET_UPLOAD_ID = "dataset-upload"
SCORE_UPLOAD_ID = "score-upload"


def _rejection(rejected: list[dict[str, Any]]) -> str:
    """What the browser's drop zone refused, in words (too large, not a table file)."""
    limit = fmt_bytes(load_settings().max_upload_bytes)
    messages = []
    for item in rejected or []:
        name = str((item.get("file") or {}).get("path", "The file")).lstrip("./")
        codes = {str(e.get("code")) for e in item.get("errors") or []}
        if "file-too-large" in codes:
            messages.append(f"{name} is larger than {limit}, the most the server accepts.")
        elif "file-invalid-type" in codes:
            messages.append(f"{name} is not a CSV or Parquet file.")
        elif "too-many-files" in codes:
            messages.append("Choose one file at a time.")
        else:
            messages.append(f"{name} cannot be uploaded.")
    return " ".join(dict.fromkeys(messages)) or "The file cannot be uploaded."


async def _forward(first: rx.UploadChunk, rest: rx.UploadChunkIterator) -> AsyncIterator[bytes]:
    """The uploaded file's bytes as they arrive (only the first file of the drop)."""
    yield first.data
    async for chunk in rest:
        if chunk.filename == first.filename:
            yield chunk.data


def _forget_file(upload_id: str) -> rx.event.EventSpec:
    """Empty the zone's file input, so choosing the same file again starts a new upload (a
    browser fires no change event for the file an input already holds)."""
    return rx.call_script(
        f"document.querySelectorAll('#{upload_id} input[type=file]')"
        ".forEach((input) => { input.value = ''; })"
    )


async def _drain(chunks: rx.UploadChunkIterator) -> None:
    """Read what the API did not (it answered early): the browser's upload then ends cleanly."""
    async for _chunk in chunks:
        pass


class DataState(rx.State):
    """Datasets, the selected one's columns, the training recipe, and scoring."""

    loading: bool = True
    api_error: str = ""
    datasets: list[DatasetRow] = []
    selected_id: str = ""
    selected_name: str = ""
    selected_rows: str = ""
    columns: list[ColumnRow] = []
    columns_loading: bool = False
    active_version: str = ""

    ticked: dict[str, bool] = {}
    transforms: dict[str, str] = {}
    feature_errors: dict[str, str] = {}
    k_min: str = "2"
    k_max: str = "10"
    min_share_pct: str = "2"
    missing_values: str = "DROP"
    option_errors: dict[str, str] = {}

    uploading: bool = False
    upload_pct: int = 0
    upload_file: str = ""
    upload_error: str = ""
    upload_note: str = ""

    training: bool = False
    train_stage: str = ""
    train_stage_code: str = ""
    train_steps: str = ""
    train_pct: int = 0
    train_elapsed: int = 0
    train_error: str = ""
    trained_version: str = ""
    trained_k: int = 0
    trained_silhouette: str = ""
    trained_stability: str = ""
    trained_rows: str = ""
    trained_notes: list[str] = []

    scoring: bool = False
    score_stage: str = ""
    score_pct: int = 0
    score_error: str = ""
    score_filename: str = ""
    score_rows: list[SegmentCountRow] = []
    score_summary: str = ""
    score_href: str = ""
    score_download_name: str = ""

    #: What to retry once the user typed an API key.
    _pending: str = ""
    #: The last list showed a training this page did not start.
    _running_elsewhere: bool = False

    @rx.var
    def n_ticked(self) -> int:
        """How many numeric columns are ticked as features."""
        return len(feature_choices(self.columns, self.ticked, self.transforms))

    @rx.var
    def can_train(self) -> bool:
        """A dataset is selected, a feature is ticked and no training runs from this page."""
        return bool(self.selected_id) and self.n_ticked > 0 and not self.training

    # -- datasets --------------------------------------------------------------------------

    @rx.event
    async def load(self):
        """The dataset list; selects the active model's dataset (or the newest) the first time.

        A training started elsewhere (another tab, another user, the API) is followed here too.
        """
        await self._load()
        if self._running_elsewhere and not self.training:
            return DataState.follow_training
        return None

    async def _load(self) -> None:
        self.loading = True
        try:
            page = await api_client.fetch_datasets()
        except ApiError as exc:
            self.api_error = str(exc)
            self.loading = False
            return
        self.api_error = ""
        self._running_elsewhere = page.training is not None
        self.datasets = dataset_rows(page.datasets, page.active_dataset_id)
        self.active_version = page.active_version or ""
        self.loading = False
        ids = [d.id for d in page.datasets]
        if self.selected_id not in ids:
            wanted = self.router.url.query_parameters.get("dataset", "")
            default = (
                wanted
                if wanted in ids
                else page.active_dataset_id
                if page.active_dataset_id in ids
                else (ids[0] if ids else "")
            )
            if default:
                await self._select(default)
            else:
                self._show_dataset(None)
        else:
            self.selected_name = next(
                (d.name for d in page.datasets if d.id == self.selected_id), ""
            )

    @rx.event
    async def select(self, dataset_id: str) -> None:
        """Show another dataset's columns."""
        if dataset_id != self.selected_id:
            await self._select(dataset_id)

    async def _select(self, dataset_id: str) -> None:
        self.selected_id = dataset_id
        self.columns_loading = True
        try:
            dataset = await api_client.fetch_dataset(dataset_id)
        except ApiError as exc:
            self.api_error = str(exc)
            self.columns_loading = False
            return
        self._show_dataset(dataset)
        self.columns_loading = False

    def _show_dataset(self, dataset: Dataset | None) -> None:
        self.selected_id = dataset.id if dataset else ""
        self.selected_name = dataset.name if dataset else ""
        self.selected_rows = f"{dataset.rows:,}" if dataset else ""
        self.columns = column_rows(dataset)
        self.ticked = {}
        self.transforms = {c["name"]: c["suggested"] for c in self.columns if c["numeric"]}
        self.feature_errors = {}
        self.option_errors = {}

    # -- the recipe ------------------------------------------------------------------------

    @rx.event
    def toggle_feature(self, column: str, checked: bool) -> None:
        """Tick or untick a numeric column as a feature."""
        self.ticked[column] = bool(checked)
        self.feature_errors.pop(column, None)

    @rx.event
    def set_transform(self, column: str, transform: str) -> None:
        """NONE, LOG or AUTO for one feature."""
        self.transforms[column] = transform
        self.feature_errors.pop(column, None)

    @rx.event
    def set_option(self, name: str, value: str) -> None:
        """One training option (`k_min`, `k_max`, `min_share_pct`, `missing_values`)."""
        if name in ("k_min", "k_max", "min_share_pct", "missing_values"):
            setattr(self, name, value)
            field = {"k_min": "kMin", "k_max": "kMax", "min_share_pct": "minSegmentShare"}
            self.option_errors.pop(field.get(name, name), None)

    def _options(self) -> dict[str, Any] | None:
        """The training options as `train` arguments; None (and messages) if one is not valid."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for name, field, low, high in (("k_min", "kMin", 2, 50), ("k_max", "kMax", 2, 50)):
            raw = str(getattr(self, name)).strip()
            if not raw.isdigit() or not low <= int(raw) <= high:
                errors[field] = f"A whole number from {low} to {high}."
            else:
                values[name] = int(raw)
        if not errors and values["k_min"] > values["k_max"]:
            errors["kMax"] = "At least the smallest k."
        try:
            share = float(self.min_share_pct.strip())
            if not 0 <= share < 50:
                raise ValueError
            values["min_segment_share"] = share / 100
        except ValueError:
            errors["minSegmentShare"] = "A percentage from 0 to 49."
        values["missing_values"] = self.missing_values
        self.option_errors = errors
        return None if errors else values

    # -- uploads ---------------------------------------------------------------------------

    @rx.event
    def upload_progress(self, progress: dict[str, Any]) -> None:
        """The browser's upload progress (`on_upload_progress`)."""
        self.upload_pct = int(100 * float(progress.get("progress", 0)))

    @rx.event
    def upload_rejected(self, rejected: list[dict[str, Any]]) -> None:
        """The drop zone refused the file before sending it."""
        self.upload_error = _rejection(rejected)
        self.upload_note = ""

    @rx.event(background=True)
    async def upload_dataset(self, chunks: rx.UploadChunkIterator):
        """Forward the dropped file to the API as it arrives; select it when imported."""
        async with self:
            if self.uploading:
                return
            self.uploading, self.upload_pct = True, 0
            self.upload_error, self.upload_note, self.upload_file = "", "", ""
            api_key = (await self.get_state(AuthState))._key()
        first = await anext(chunks, None)
        outcome: Any = None
        failure = ""
        if first is None:
            failure = "No file arrived."
        else:
            async with self:
                self.upload_file = first.filename
            try:
                outcome = await api_client.upload_dataset(
                    _forward(first, chunks),
                    first.filename,
                    name=dataset_name(first.filename),
                    content_type=first.content_type,
                    api_key=api_key,
                )
            except ApiError as exc:
                failure = f"The upload failed: {exc}"
        await _drain(chunks)
        imported: Dataset | None = None
        async with self:
            self.uploading = False
            self.upload_pct = 100 if outcome is not None else 0
            match outcome:
                case DatasetImported(dataset=dataset, already_present=again):
                    imported = dataset
                    self.upload_note = (
                        f"{dataset.name}: already imported before (same file), selected."
                        if again
                        else f"Imported {dataset.name}: {dataset.rows:,} rows, "
                        f"{len(dataset.columns)} columns."
                    )
                case InvalidInput() as invalid:
                    self.upload_error = "; ".join(e.message for e in invalid.errors) or (
                        invalid.message
                    )
                case UploadRefused(message=text):
                    self.upload_error = text
                case Unauthorized():
                    self.upload_error = "Enter the API key, then drop the file again."
                    (await self.get_state(AuthState))._ask(
                        "This server only lets key holders upload data."
                    )
                case None:
                    self.upload_error = failure
            if imported is not None:
                self._show_dataset(imported)
        yield _forget_file(DATASET_UPLOAD_ID)
        if imported is not None:
            yield DataState.load

    # -- training --------------------------------------------------------------------------

    @rx.event
    async def submit_key(self, form_data: dict[str, Any]):
        """Keep the key on the server only, then retry what was refused."""
        auth = await self.get_state(AuthState)
        auth._accept(form_data)
        pending, self._pending = self._pending, ""
        return DataState.train if pending == "train" else None

    @rx.event(background=True)
    async def train(self):
        """Train on the selected dataset and features, with live progress."""
        async with self:
            if self.training or not self.selected_id:
                return
            options = self._options()
            features = feature_choices(self.columns, self.ticked, self.transforms)
            if options is None or not features:
                if not features:
                    self.train_error = "Tick at least one numeric column as a feature."
                return
            self.training = True
            self.train_error, self.trained_version = "", ""
            self.feature_errors = {}
            self.train_elapsed, self.train_pct = 0, 0
            self.train_stage, self.train_stage_code, self.train_steps = "Starting", "", ""
            dataset_id = self.selected_id
            api_key = (await self.get_state(AuthState))._key()
        started = time.monotonic()
        call = api_client.train(
            dataset_id=dataset_id, features=features, api_key=api_key, **options
        )
        done = await follow(self, call, started)
        async with self:
            self.training = False
            outcome = done.outcome if done else None
            if done is not None and done.error is not None:
                self.train_error = f"Training failed: {done.error}"
                return
            match outcome:
                case ModelInfo() as model:
                    self.trained_version = model.version
                    self.trained_k = model.k
                    self.trained_silhouette = f"{model.silhouette:.3f}"
                    self.trained_stability = (
                        "–" if model.stability is None else f"{model.stability:.2f}"
                    )
                    self.trained_rows = f"{model.n_customers:,}"
                    self.trained_notes = list(model.notes)
                    self.active_version = model.version
                case InvalidInput() as invalid:
                    by_column, by_option, rest = training_errors(invalid, features)
                    self.feature_errors = by_column
                    self.option_errors = by_option
                    self.train_error = " ".join(rest)
                case TrainingInProgress(message=text):
                    self.train_error = text
                case Unauthorized(message=text):
                    self.train_error = f"{text} Enter the API key to train."
                    self._pending = "train"
                    (await self.get_state(AuthState))._ask(
                        "This server only lets key holders train."
                    )
        if isinstance(outcome, ModelInfo):
            yield DataState.load
        elif isinstance(outcome, TrainingInProgress):
            yield DataState.follow_training

    @rx.event(background=True)
    async def follow_training(self):
        """Show the progress of a training this page did not start, until it ends."""
        async with self:
            if self.training:
                return
            self.training = True
            self.train_stage, self.train_stage_code, self.train_steps = "Starting", "", ""
            self.train_error, self.trained_version = "", ""
        started = time.monotonic()
        while True:
            try:
                status = (await api_client.fetch_health()).training
            except ApiError:
                status = None
            if status is None:
                break
            stage, steps, pct = progress_words(status)
            async with self:
                self.train_stage = f"{stage} (a training started elsewhere)"
                self.train_stage_code, self.train_steps, self.train_pct = status.stage, steps, pct
                self.train_elapsed = int(time.monotonic() - started)
            await asyncio.sleep(POLL_EVERY_S)
        async with self:
            self.training = False
            self._running_elsewhere = False
        yield DataState.load

    # -- scoring ---------------------------------------------------------------------------

    @rx.event
    def score_progress(self, progress: dict[str, Any]) -> None:
        """The browser's upload progress of the file to score."""
        self.score_pct = int(100 * float(progress.get("progress", 0)))

    @rx.event
    def score_rejected(self, rejected: list[dict[str, Any]]) -> None:
        """The drop zone refused the file to score before sending it."""
        self.score_error = _rejection(rejected)

    @rx.event(background=True)
    async def score_upload(self, chunks: rx.UploadChunkIterator):
        """Upload a file, score it with the active model, offer the scored file."""
        async with self:
            if self.scoring:
                return
            self.scoring, self.score_pct, self.score_stage = True, 0, "Uploading"
            self.score_error, self.score_rows, self.score_summary = "", [], ""
            self.score_href, self.score_filename = "", ""
            api_key = (await self.get_state(AuthState))._key()
        first = await anext(chunks, None)
        error, scored = "", None
        if first is None:
            error = "No file arrived."
        else:
            async with self:
                self.score_filename = first.filename
            try:
                uploaded = await api_client.upload_dataset(
                    _forward(first, chunks),
                    first.filename,
                    name=dataset_name(first.filename),
                    content_type=first.content_type,
                    api_key=api_key,
                )
                await _drain(chunks)
                match uploaded:
                    case DatasetImported(dataset=dataset):
                        async with self:
                            self.score_stage, self.score_pct = "Scoring", 100
                        result = await api_client.score_dataset(dataset.id, api_key=api_key)
                        match result:
                            case ScoredDataset():
                                scored = result
                            case InvalidInput() as invalid:
                                error = (
                                    "; ".join(f"{e.field}: {e.message}" for e in invalid.errors)
                                    or invalid.message
                                )
                            case ModelNotTrained(message=text) | NotFound(message=text):
                                error = text
                            case Unauthorized():
                                error = "unauthorized"
                    case InvalidInput() as invalid:
                        error = "; ".join(e.message for e in invalid.errors) or invalid.message
                    case UploadRefused(message=text):
                        error = text
                    case Unauthorized():
                        error = "unauthorized"
            except ApiUnavailable as exc:
                error = f"Scoring failed: {exc}"
            except ApiError as exc:
                error = f"Scoring failed: {exc}"
        await _drain(chunks)
        async with self:
            self.scoring, self.score_stage = False, ""
            if error == "unauthorized":
                self.score_error = "Enter the API key, then choose the file again."
                (await self.get_state(AuthState))._ask(
                    "This server only lets key holders score files."
                )
            elif error:
                self.score_error = error
            elif scored is not None:
                self.score_rows = segment_count_rows(scored)
                self.score_summary = score_summary(scored)
                self.score_href = api_client.download_href(scored.download_url)
                self.score_download_name = scored_filename(self.score_filename)
        yield _forget_file(SCORE_UPLOAD_ID)
        if scored is not None:
            yield DataState.load


@template
def data() -> rx.Component:
    """The data page."""
    s = DataState
    return rx.flex(
        page_header(
            "Your data",
            "Drop a customer export (CSV or Parquet), see what its columns hold, choose the "
            "features, and train segments on them. Or put a segment on every row of a file.",
        ),
        rx.cond(
            s.api_error != "",
            api_down_notice(s.api_error, s.load),
        ),
        rx.grid(
            rx.card(
                rx.flex(
                    rx.heading("Import a dataset", size="3"),
                    upload_zone(
                        DATASET_UPLOAD_ID,
                        on_drop=s.upload_dataset(
                            rx.upload_files_chunk(
                                upload_id=DATASET_UPLOAD_ID, on_upload_progress=s.upload_progress
                            )
                        ),
                        on_drop_rejected=s.upload_rejected,
                        busy=s.uploading,
                        pct=s.upload_pct,
                        file=s.upload_file,
                        error=s.upload_error,
                        note=s.upload_note,
                        prompt="Drop a CSV or Parquet file here, or",
                        button="Choose a file",
                    ),
                    direction="column",
                    spacing="3",
                ),
                width="100%",
                min_width="0",
            ),
            dataset_list(s),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="4",
            width="100%",
        ),
        column_table(s),
        train_options(s),
        score_box(
            s,
            upload_zone(
                SCORE_UPLOAD_ID,
                on_drop=s.score_upload(
                    rx.upload_files_chunk(
                        upload_id=SCORE_UPLOAD_ID, on_upload_progress=s.score_progress
                    )
                ),
                on_drop_rejected=s.score_rejected,
                busy=s.scoring,
                pct=s.score_pct,
                file=s.score_filename,
                error=s.score_error,
                note=rx.cond(s.scoring, s.score_stage + "…", ""),
                prompt="Drop a CSV file to score, or",
                button="Choose a file",
            ),
        ),
        key_dialog(s.submit_key),
        direction="column",
        spacing="4",
        width="100%",
    )
