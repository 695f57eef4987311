"""The pure modules that turn API results into what the pages draw: no browser, no server."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.web import payloads
from web.api_client import (
    ApiUnavailable,
    FeatureValue,
    FieldError,
    Health,
    InvalidInput,
    ScoredDataset,
    SegmentCount,
    TrainingStatus,
    _cluster,
    _comparison,
    _dataset,
    _elbow,
    _model,
)
from web.dashboard_data import (
    category_tables,
    driver_charts,
    driver_domain,
    driver_ticks,
    elbow_rows,
    feature_bars,
    feature_labels,
    heat_background,
    model_stability_words,
    population_means,
    radar_domain,
    radar_rows,
    scatter_points,
    stability_level,
    table_columns,
    table_rows,
)
from web.dataset_view import (
    column_rows,
    dataset_name,
    distribution_bars,
    feature_choices,
    score_summary,
    scored_filename,
    segment_count_rows,
    training_errors,
)
from web.feature_form import field_error, form_fields, server_field_errors, to_values
from web.formatting import fmt, fmt_bytes, fmt_pct, fmt_time
from web.history_view import ari_words, default_pair, flow_table, model_rows
from web.palette import SEGMENT_COLORS, segment_color, text_color_on
from web.training_watch import Done, follow, progress_words, watch

MODEL = _model(payloads.model())
CLUSTERS = tuple(_cluster(c) for c in payloads.clusters())
LABELS = feature_labels(MODEL.feature_specs, MODEL.features)


# -- formatting -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234, "1,234"),
        (72.5, "72.5"),
        (0.0345, "0.0345"),
        (1.256, "1.26"),
        (155.55, "155.6"),
        (None, "–"),
        (float("nan"), "–"),
    ],
)
def test_numbers_read_compactly(value, text) -> None:
    assert fmt(value) == text


def test_sizes_shares_and_times() -> None:
    assert fmt_bytes(3981) == "3.9 KB" and fmt_bytes(268435456) == "256 MB"
    assert fmt_bytes(512) == "512 B"
    assert fmt_pct(0.405) == "40.5%" and fmt_pct(None) == "–"
    assert fmt_time("2026-11-28T03:02:03+02:00") == "2026-11-28 01:02 UTC"
    assert fmt_time(None) == "–" and fmt_time("yesterday") == "yesterday"


def test_palette_has_ten_distinct_readable_colours() -> None:
    assert len(set(SEGMENT_COLORS)) >= 10
    assert segment_color(len(SEGMENT_COLORS)) == segment_color(0)
    assert text_color_on("#F0E442") == "#000000"  # yellow: black text
    assert text_color_on("#332288") == "#ffffff"  # indigo: white text


# -- the prediction form ----------------------------------------------------------------------

BUNDLED_SPECS = _model(
    {
        **payloads.model(),
        "features": ["age", "annual_income"],
        "featureSpecs": [
            {
                "name": "age",
                "label": "Age",
                "unit": "years",
                "transform": "NONE",
                "min": 18.0,
                "max": 100.0,
                "trainingMin": 18.0,
                "trainingMax": 70.0,
                "median": 36.0,
            },
            {
                "name": "annual_income",
                "label": "Annual income",
                "unit": "k$",
                "transform": "LOG",
                "min": 0.0,
                "max": None,
                "trainingMin": 15.0,
                "trainingMax": 137.0,
                "median": 61.5,
            },
        ],
    }
).feature_specs


def test_form_fields_come_from_the_feature_specs() -> None:
    bundled = form_fields(BUNDLED_SPECS)
    assert [(f["dom_id"], f["error_id"]) for f in bundled] == [
        ("age", "age-error"),
        ("annual_income", "annual_income-error"),
    ]
    assert bundled[0]["hint"] == "years, 18-100" and bundled[1]["hint"] == "k$, 0 or more"
    assert bundled[1]["placeholder"] == "e.g. 61.5"
    mall = form_fields(MODEL.feature_specs)
    assert [f["dom_id"] for f in mall] == ["feature-0", "feature-1"]
    assert [f["label"] for f in mall] == ["Annual Income", "Spending Score"]
    assert mall[0]["hint"] == "k$, usually 15–137"


@pytest.mark.parametrize(
    ("index", "raw", "message"),
    [
        (0, "", "Enter the age."),
        (0, "abc", "Enter a number."),
        (0, "17", "Must be between 18 and 100."),
        (0, "inf", "Enter a finite number."),
        (1, "-0.5", "Must be 0 or more."),
        (1, "72.5", ""),
        (0, " 30.5 ", ""),
    ],
)
def test_field_rules_use_the_api_ranges(index, raw, message) -> None:
    assert field_error(form_fields(BUNDLED_SPECS)[index], raw) == message


def test_values_and_the_api_complaints_map_back_to_fields() -> None:
    fields = form_fields(BUNDLED_SPECS)
    values = to_values(fields, {"age": "35", "annual_income": "80"})
    assert values == [FeatureValue("age", 35.0), FeatureValue("annual_income", 80.0)]
    with pytest.raises(ValueError):
        to_values(fields, {"age": "12", "annual_income": "80"})
    invalid = InvalidInput(
        "bad",
        (
            FieldError("values[1].value", "too low"),
            FieldError("version", "unknown"),
            FieldError("age", "not an adult"),
        ),
    )
    by_feature, unplaced = server_field_errors(invalid, values)
    assert by_feature == {"annual_income": "too low", "age": "not an adult"}
    assert unplaced == ["version: unknown"]


# -- the dashboard ----------------------------------------------------------------------------


def test_labels_and_axes_come_from_the_model() -> None:
    assert LABELS["Annual Income (k$)"]["title"] == "Annual Income (k$)"
    assert table_columns(CLUSTERS, LABELS) == ["Annual Income (k$)", "Spending Score (1-100)"]
    bars = feature_bars(CLUSTERS, LABELS)
    assert [b["label"] for b in bars] == ["Annual Income (k$)", "Spending Score (1-100)"]
    assert [r["fill"] for r in bars[0]["rows"]] == [segment_color(i) for i in range(5)]
    # A column without a spec is shown by its name.
    assert feature_labels((), ("Recency",))["Recency"]["title"] == "Recency"


def test_population_means_weight_by_size() -> None:
    means = population_means(CLUSTERS)
    expected = sum(c.size * c.features[0].mean for c in CLUSTERS) / 200
    assert means["Annual Income (k$)"] == pytest.approx(expected)


def test_two_features_draw_a_scatter_three_or_more_a_radar() -> None:
    assert radar_rows(CLUSTERS, LABELS) == []
    points = scatter_points(CLUSTERS)
    assert len(points) == 5 and points[1]["x"] == 86.5 and points[1]["y"] == 82.1
    three = tuple(
        type(c)(**{**c.__dict__, "features": c.features + (c.features[0],)}) for c in CLUSTERS
    )
    rows = radar_rows(three, LABELS)
    assert len(rows) == 3 and scatter_points(three) == []


def test_the_radar_draws_z_scores_on_one_symmetric_scale() -> None:
    """Each segment's drivers, whatever the unit: a skewed column's means no longer sit at the
    centre of a 0-1 min-max scale."""
    three = tuple(
        type(c)(**{**c.__dict__, "features": c.features + (c.features[0],)}) for c in CLUSTERS
    )
    rows = radar_rows(three, LABELS)
    by_feature = {d.feature: d.z_score for d in CLUSTERS[1].drivers}
    assert rows[1]["c1"] == round(by_feature["Spending Score (1-100)"], 2) == 1.2
    assert rows[0]["c1"] == round(by_feature["Annual Income (k$)"], 2)
    largest = max(abs(v) for r in rows for k, v in r.items() if k != "feature")
    assert radar_domain(rows) == driver_domain([largest]) >= largest


def test_drivers_are_diverging_bars_in_the_segment_colour() -> None:
    charts = driver_charts(CLUSTERS, LABELS)
    assert [c["cluster_id"] for c in charts] == list(range(5))
    big = charts[1]
    assert [r["feature"] for r in big["rows"]] == ["Spending Score", "Annual Income"]
    assert big["rows"][0]["z"] == 1.2 and big["rows"][0]["fill"] == segment_color(1)
    assert big["summary"] == "Mostly higher spending score than average (+1.2 sd)"
    assert charts[2]["summary"].startswith("Mostly lower spending score")
    # One symmetric axis for every segment (1.3 -> 1.5 sd): 50% is the average customer.
    assert big["rows"][0]["left"] == "50.00%" and big["rows"][0]["width"] == "40.00%"
    low = charts[4]["rows"][0]  # z = -1.3
    assert (low["left"], low["width"]) == ("6.67%", "43.33%")
    assert driver_domain([1.3, 0.2]) == 1.5 and driver_domain([]) == 1.0
    assert driver_ticks(1.5) == ["-1.5", "-0.75", "0", "+0.75", "+1.5"]


def test_categories_are_shaded_by_lift() -> None:
    (gender,) = category_tables(CLUSTERS)
    assert gender["column"] == "Gender"
    assert [v["name"] for v in gender["values"]] == ["Female", "Male"]
    assert gender["values"][0]["color"] == ""  # values, not segments
    assert gender["rows"][0]["cells"][0]["text"] == "55%"
    assert heat_background(0) == "transparent" and heat_background(1.0) == "var(--accent-8)"
    assert heat_background(0.2) == "var(--accent-4)"


def test_statistics_rows_carry_stability() -> None:
    rows = table_rows(CLUSTERS)
    assert rows[0]["stability"] == "0.90" and rows[0]["stability_level"] == "stable"
    assert rows[4]["stability_level"] == "unstable"
    assert [stability_level(x) for x in (None, 0.75, 0.6, 0.59)] == [
        "",
        "stable",
        "fair",
        "unstable",
    ]
    assert model_stability_words(MODEL) == "0.93 (stable)"


def test_ineligible_k_are_marked_on_the_elbow() -> None:
    elbow = _elbow(
        {
            "optimalK": 3,
            "elbowK": None,
            "points": [
                {"k": 3, "inertia": 10, "silhouette": 0.5, "smallestShare": 0.2, "eligible": True},
                {
                    "k": 2,
                    "inertia": 20,
                    "silhouette": 0.6,
                    "smallestShare": 0.01,
                    "eligible": False,
                },
            ],
        }
    )
    rows = elbow_rows(elbow)
    assert [r["k"] for r in rows] == [2, 3]
    assert rows[0]["ineligible"] == 0.6 and rows[1]["ineligible"] is None


# -- the data page ----------------------------------------------------------------------------

DATASET = _dataset(payloads.dataset())


def test_columns_say_what_they_hold() -> None:
    rows = {r["name"]: r for r in column_rows(DATASET)}
    assert (
        rows["CustomerID"]["numeric"] is False and rows["CustomerID"]["role_label"] == "identifier"
    )
    assert rows["Gender"]["hint"] == "Female, Male"
    assert rows["Revenue"]["suggested"] == "LOG" and rows["Revenue"]["missing"] == "3"
    assert rows["Age"]["range"] == "18 – 70" and rows["Age"]["skewness"] == "+0.49"
    assert [b["title"] for b in rows["Gender"]["bars"]] == ["Female: 112", "Male: 88"]
    assert column_rows(None) == []


def test_histograms_become_mini_bars() -> None:
    raw = payloads.column("x", "NUMERIC", min=0.0, max=10.0, histogram=[1, 4, 0, 2])
    bars = distribution_bars(_dataset({**payloads.dataset(False), "columns": [raw]}).columns[0])
    assert [b["height"] for b in bars] == ["25%", "100%", "4%", "50%"]
    assert bars[0]["title"] == "0–2.5: 1"


def test_feature_choices_keep_file_order_and_transforms() -> None:
    columns = column_rows(DATASET)
    ticked = {"Revenue": True, "Age": True, "Gender": True, "Spending Score (1-100)": False}
    choices = feature_choices(columns, ticked, {"Age": "AUTO"})
    assert [(c.column, c.transform) for c in choices] == [("Age", "AUTO"), ("Revenue", "LOG")]


def test_training_errors_land_beside_their_row() -> None:
    sent = feature_choices(column_rows(DATASET), {"Age": True, "Revenue": True}, {})
    invalid = InvalidInput(
        "Cannot train",
        (
            FieldError("features[1].column", "Revenue has negative values"),
            FieldError("kMax", "must be at least kMin"),
            FieldError("datasetId", "gone"),
        ),
    )
    by_column, by_option, rest = training_errors(invalid, sent)
    assert by_column == {"Revenue": "Revenue has negative values"}
    assert by_option == {"kMax": "must be at least kMin"}
    assert rest == ["gone"]
    assert training_errors(InvalidInput("Too few rows", ()), sent)[2] == ["Too few rows"]


def test_file_names_and_scoring_summary() -> None:
    assert dataset_name("C:\\exports\\Mall Customers.CSV") == "Mall Customers"
    assert dataset_name("data.parquet") == "data" and dataset_name(".csv") == "dataset"
    assert scored_filename("shop.csv") == "shop_segments.csv"
    scored = ScoredDataset(
        "d", "v", 10, 8, (SegmentCount(1, "B", 2), SegmentCount(0, "A", 6)), "/exports/x", "t"
    )
    rows = segment_count_rows(scored)
    assert [r["name"] for r in rows] == ["A", "B"] and rows[0]["share"] == "75.0%"
    assert score_summary(scored).startswith("8 of 10 rows got a segment; 2 could not")


# -- the models page --------------------------------------------------------------------------


def test_history_rows_and_default_comparison() -> None:
    models = [_model(payloads.model("v2")), _model(payloads.model("v1", active=False))]
    rows = model_rows(models)
    assert rows[0]["features"] == "Annual Income, Spending Score" and rows[0]["active"]
    assert default_pair(models) == ("v1", "v2")
    assert default_pair(models[:1]) == ("", "v2")


@pytest.mark.parametrize(
    ("ari", "words"),
    [
        (1.0, "Almost the same"),
        (0.9, "Almost the same"),
        (0.72, "Broadly similar"),
        (0.5, "Partly similar"),
        (0.2, "Substantially different"),
        (0.0, "Unrelated"),
        (-0.1, "Unrelated"),
    ],
)
def test_ari_in_words(ari: float, words: str) -> None:
    assert ari_words(ari)[0].startswith(words)


def test_flows_make_a_heat_mapped_table() -> None:
    table = flow_table(_comparison(payloads.comparison()))
    assert [c["name"] for c in table["columns"]] == [
        "Average",
        "High income, high spending",
        "High income, low spending",
        "Low income, high spending",
        "Low income, low spending",
    ]
    assert table["columns"][0]["color"] == segment_color(0)
    assert [r["name"] for r in table["rows"]] == ["Old A", "Old B", "Old C"]
    first = table["rows"][0]["cells"]
    assert [c["text"] for c in first] == ["81", "·", "·", "22", "·"]
    assert first[0]["background"] == "var(--accent-7)"  # 81 of 103: most of the row
    assert "78.6%" in first[0]["title"]


# -- training progress ------------------------------------------------------------------------


def test_progress_in_words() -> None:
    assert progress_words(None) == ("Starting", "", 0)
    status = TrainingStatus("SCANNING", 3, 9, "t", None)
    # Stage 2 of 5, a third done: one bar over the whole training.
    assert progress_words(status) == ("Trying numbers of segments", "step 2 of 5 · 3 of 9", 27)
    assert progress_words(TrainingStatus("STORING", 0, 1, "t", None))[1:] == ("step 5 of 5", 80)


def test_watch_reports_progress_until_the_call_ends() -> None:
    statuses = [TrainingStatus("LOADING", 0, 1, "t", None), None]

    async def poll() -> Health:
        return Health("ok", True, "v", statuses[0] if statuses else None)

    async def call() -> str:
        await asyncio.sleep(0.05)
        return "trained"

    async def run() -> list:
        return [u async for u in watch(call(), poll, every_s=0.01)]

    updates = asyncio.run(run())
    assert isinstance(updates[-1], Done) and updates[-1].outcome == "trained"
    assert updates[0] == statuses[0]

    async def failing() -> str:
        raise ApiUnavailable("down")

    async def run_failing() -> list:
        return [u async for u in watch(failing(), poll, every_s=0.01)]

    (done,) = asyncio.run(run_failing())
    assert isinstance(done.error, ApiUnavailable)


def test_follow_shows_the_progress_on_the_page_state() -> None:
    class PageState:
        """Stands in for a Reflex state inside a background event (`async with self`)."""

        train_stage = train_steps = train_stage_code = ""
        train_pct = train_elapsed = 0
        entered = 0

        async def __aenter__(self) -> None:
            self.entered += 1

        async def __aexit__(self, *exc: object) -> None:
            return None

    async def poll() -> Health:
        return Health("ok", True, "v", TrainingStatus("SCANNING", 3, 9, "t", None))

    async def call() -> str:
        await asyncio.sleep(0.05)
        return "trained"

    state = PageState()
    done = asyncio.run(follow(state, call(), time.monotonic(), poll, every_s=0.01))
    assert done is not None and done.outcome == "trained" and state.entered >= 1
    assert (state.train_stage, state.train_steps, state.train_pct) == progress_words(
        TrainingStatus("SCANNING", 3, 9, "t", None)
    )
    assert state.train_stage_code == "SCANNING"
