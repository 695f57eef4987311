"""Training the user's own data: feature recipes, the reference results, explanations, stability.

Every test trains through the Workspace on datasets imported into a temporary store, the way the
CLI and the API do.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from segmentation_core import (
    DataValidationError,
    InvalidParameterError,
    ModelStore,
    generate_customers,
)
from segmentation_core.datasets import DatasetStore
from segmentation_core.enums import Direction, MissingValues, TrainingStage, Transform
from segmentation_core.recipe import parse_features, resolve_transform, skewness
from segmentation_core.results import FeatureChoice, TrainingParams
from segmentation_core.workspace import Workspace

DATA = Path(__file__).resolve().parents[1] / "data"
SPEND = ("Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen")
RFM = ("Recency", "Frequency", "Monetary")
MALL_2 = ("Annual Income (k$)", "Spending Score (1-100)")


@pytest.fixture
def ws(tmp_path: Path, bundled_csv: Path) -> Workspace:
    return Workspace(
        DatasetStore(tmp_path / "datasets", bundled_path=bundled_csv),
        ModelStore(tmp_path / "models", tmp_path / "secrets" / "key"),
    )


def _import(ws: Workspace, path: Path) -> str:
    return ws.import_dataset(path).dataset.id


def _params(columns: tuple[str, ...], transform: Transform = Transform.AUTO, **kw: object):
    return TrainingParams(features=tuple(FeatureChoice(c, transform) for c in columns), **kw)  # type: ignore[arg-type]


def test_wholesale_with_auto_reproduces_the_published_result(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "wholesale_customers.csv"), _params(SPEND))
    assert [f.transform for f in model.spec.features] == [Transform.LOG] * 6
    assert model.info.k == 2
    assert model.info.silhouette == pytest.approx(0.290, abs=0.01)


def test_online_retail_rfm_with_auto_reproduces_the_published_result(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "online_retail_rfm.csv"), _params(RFM))
    assert [f.transform for f in model.spec.features] == [Transform.LOG] * 3
    assert model.info.k == 2
    assert model.info.silhouette == pytest.approx(0.433, abs=0.01)


def test_mall_income_and_score_as_published(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "mall_customers.csv"), _params(MALL_2))
    assert [f.transform for f in model.spec.features] == [Transform.NONE] * 2
    assert model.info.k == 5
    assert model.info.silhouette == pytest.approx(0.5547, abs=0.01)
    assert [p.size for p in model.info.profiles] == [81, 39, 35, 23, 22]


def test_raw_wholesale_no_longer_makes_a_tiny_segment(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "wholesale_customers.csv"), _params(SPEND, Transform.NONE))
    assert min(p.share for p in model.info.profiles) >= 0.02
    # k=3 had the best silhouette with a 2-customer segment: kept on the curve, marked
    points = {p.k: p for p in model.info.elbow.points}
    assert not points[3].eligible and points[3].smallest_share < 0.02
    assert any("k=3 had the best silhouette" in note for note in model.info.notes)


def test_when_no_k_qualifies_the_smallest_is_taken_and_said(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "online_retail_rfm.csv"), _params(RFM, Transform.NONE))
    assert model.info.k == 2
    assert not any(p.eligible for p in model.info.elbow.points)
    assert any("no k from 2 to 10" in note and "took the smallest" in note
               for note in model.info.notes)


def test_the_bundled_data_keeps_its_model_and_names(ws: Workspace) -> None:
    model = ws.train()  # the bundled dataset, its four columns, AUTO
    assert [f.transform for f in model.spec.features] == [Transform.NONE] * 4
    assert model.info.k == 5 and model.info.silhouette == pytest.approx(0.7370, abs=1e-4)
    assert model.segment_names == (
        "Young Frequent Shoppers",
        "Affluent Shoppers",
        "Affluent Occasional Browsers",
        "Senior Occasional Browsers",
        "Average Customers",
    )
    assert model.info.dataset_name and model.info.engine == "local"


def test_auto_rule() -> None:
    skewed = np.random.default_rng(0).lognormal(size=2000)
    assert skewness(skewed) == pytest.approx(float(pd.Series(skewed).skew()), rel=1e-9)
    assert resolve_transform(Transform.AUTO, 0.0, 1.5) is Transform.LOG
    assert resolve_transform(Transform.AUTO, -0.1, 5.0) is Transform.NONE  # negative: never LOG
    assert resolve_transform(Transform.AUTO, 3.0, 1.0) is Transform.NONE  # not above 1
    assert resolve_transform(Transform.AUTO, 3.0, None) is Transform.NONE
    assert resolve_transform(Transform.NONE, 0.0, 9.0) is Transform.NONE
    assert resolve_transform(Transform.LOG, 0.0, 0.0) is Transform.LOG


def test_feature_syntax() -> None:
    assert parse_features("revenue:log, orders,tenure_months:NONE") == (
        FeatureChoice("revenue", Transform.LOG),
        FeatureChoice("orders", Transform.AUTO),
        FeatureChoice("tenure_months", Transform.NONE),
    )
    with pytest.raises(InvalidParameterError, match="unknown transform 'lg' for 'revenue'"):
        parse_features("revenue:lg")
    with pytest.raises(InvalidParameterError, match="at least one column"):
        parse_features(" , ")


@pytest.fixture
def odd_csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    n = 300
    frame = pd.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "revenue": np.round(rng.lognormal(5, 1, n), 2),
            "balance": np.round(rng.normal(0, 100, n), 2),  # has negatives
            "orders": rng.integers(1, 40, n),
            "constant": 7,
            "plan": rng.choice(["basic", "plus", "pro"], n),
        }
    )
    frame.loc[[3, 50, 51], "revenue"] = np.nan
    path = tmp_path / "odd.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("features", "column", "reason"),
    [
        ((FeatureChoice("balance", Transform.LOG),), "balance", "LOG (log1p) needs values >= 0"),
        ((FeatureChoice("nope"),), "nope", "is not a column of the dataset"),
        ((FeatureChoice("plan"),), "plan", "is CATEGORICAL, not NUMERIC"),
        ((FeatureChoice("customer_id"),), "customer_id", "is IDENTIFIER, not NUMERIC"),
        ((FeatureChoice("constant"),), "constant", "is constant"),
        ((FeatureChoice("orders"), FeatureChoice("orders")), "orders", "chosen twice"),
    ],
    ids=["log-negative", "unknown", "categorical", "identifier", "constant", "twice"],
)
def test_bad_features_are_named(
    ws: Workspace, odd_csv: Path, features: tuple[FeatureChoice, ...], column: str, reason: str
) -> None:
    dataset = _import(ws, odd_csv)
    with pytest.raises(DataValidationError) as caught:
        ws.train(dataset, TrainingParams(features=features))
    assert [(p.column, reason in p.reason) for p in caught.value.problems] == [(column, True)]
    assert ws.models.active_version() is None


def test_an_empty_feature_list_is_refused(ws: Workspace, odd_csv: Path) -> None:
    with pytest.raises(InvalidParameterError, match="features"):
        ws.train(_import(ws, odd_csv), TrainingParams(features=()))


def test_drop_leaves_incomplete_rows_out_and_median_fills_them(
    ws: Workspace, odd_csv: Path
) -> None:
    dataset = _import(ws, odd_csv)
    features = (FeatureChoice("revenue"), FeatureChoice("orders"))
    dropped = ws.train(dataset, TrainingParams(features=features, k=3))
    assert dropped.info.n_customers == 297 and dropped.info.rows_dropped == 3
    assert any("3 rows with a missing feature" in note for note in dropped.info.notes)
    filled = ws.train(
        dataset, TrainingParams(features=features, k=3, missing_values=MissingValues.MEDIAN)
    )
    assert filled.info.n_customers == 300 and filled.info.rows_dropped == 0
    assert filled.missing_values is MissingValues.MEDIAN
    revenue = filled.spec.features[0]
    assert revenue.transform is Transform.LOG and revenue.minimum == 0
    values = pd.read_csv(odd_csv)["revenue"]
    assert revenue.median == pytest.approx(values.median())
    assert (revenue.training_min, revenue.training_max) == (values.min(), values.max())
    # a missing value is filled with the training median: same segment as the median itself
    with_gap = filled.predict_batch(np.array([[np.nan, 10.0], [revenue.median, 10.0]]))
    assert with_gap.cluster_ids[0] == with_gap.cluster_ids[1]
    assert with_gap.confidence[0] == pytest.approx(with_gap.confidence[1])


def test_the_recipe_travels_with_the_stored_model(ws: Workspace, odd_csv: Path) -> None:
    model = ws.train(
        _import(ws, odd_csv),
        TrainingParams(
            features=(FeatureChoice("revenue", Transform.LOG), FeatureChoice("balance")),
            missing_values=MissingValues.MEDIAN,
        ),
    )
    loaded = ws.models.load(model.version)
    X = np.array([[np.nan, 5.0], [120.0, -40.0], [3000.0, 250.0]])
    a, b = model.predict_batch(X), loaded.predict_batch(X)
    np.testing.assert_array_equal(a.cluster_ids, b.cluster_ids)
    np.testing.assert_allclose(a.probabilities, b.probabilities)
    assert loaded.spec == model.spec and loaded.info == model.info
    problems = loaded.validate(np.array([[-1.0, 0.0]]))  # LOG accepts values >= 0 only
    assert [(p.column, p.reason) for p in problems] == [("revenue", "must be at least 0, got -1")]


def test_drivers_are_z_scores_of_segment_means_in_model_space(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "online_retail_rfm.csv"), _params(RFM))
    frame = pd.read_csv(DATA / "online_retail_rfm.csv")
    Z = np.log1p(frame[list(RFM)].to_numpy(float))
    Z = (Z - Z.mean(axis=0)) / Z.std(axis=0)
    labels = model.predict_batch(frame[list(RFM)].to_numpy(float)).cluster_ids
    for profile in model.info.profiles:
        expected = Z[labels == profile.cluster_id].mean(axis=0)
        drivers = {d.feature: d for d in profile.drivers}
        assert [abs(d.z_score) for d in profile.drivers] == sorted(
            (abs(d.z_score) for d in profile.drivers), reverse=True
        )
        for j, column in enumerate(RFM):
            assert drivers[column].z_score == pytest.approx(expected[j], abs=1e-9)
            direction = Direction.HIGHER if expected[j] >= 0 else Direction.LOWER
            assert drivers[column].direction is direction


def test_categorical_profiles_give_shares_and_lift(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "mall_customers.csv"), _params(MALL_2))
    frame = pd.read_csv(DATA / "mall_customers.csv")
    overall = frame["Gender"].value_counts(normalize=True)
    labels = model.predict_batch(frame[list(MALL_2)].to_numpy(float)).cluster_ids
    for profile in model.info.profiles:
        shares = {c.value: c for c in profile.categories if c.column == "Gender"}
        assert set(shares) == {"Female", "Male"}
        assert sum(c.share for c in shares.values()) == pytest.approx(1.0)
        in_segment = frame["Gender"][labels == profile.cluster_id].value_counts(normalize=True)
        for value, c in shares.items():
            assert c.share == pytest.approx(in_segment.get(value, 0.0))
            assert c.lift == pytest.approx(c.share / overall[value])


def test_stability_tells_structure_from_noise(ws: Workspace, tmp_path: Path) -> None:
    planted = ws.train()
    assert planted.info.stability is not None and planted.info.stability >= 0.9
    assert all(p.stability is not None and p.stability >= 0.9 for p in planted.info.profiles)

    # the original design's data: four features drawn uniformly, no structure at all
    rng = np.random.default_rng(11)
    noise = pd.DataFrame(rng.uniform(0, 100, size=(600, 4)), columns=["a", "b", "c", "d"])
    path = tmp_path / "noise.csv"
    noise.to_csv(path, index=False)
    uniform = ws.train(_import(ws, path))
    assert uniform.info.stability is not None and uniform.info.stability < 0.7
    assert planted.info.stability - uniform.info.stability > 0.3


def test_progress_goes_through_every_stage_in_order(ws: Workspace) -> None:
    seen: list[tuple[TrainingStage, int, int]] = []
    seen_by_other_reader: list[object] = []

    def progress(stage: TrainingStage, done: int, total: int) -> None:
        seen.append((stage, done, total))
        seen_by_other_reader.append(ws.training_status())

    ws.train(on_progress=progress)
    stages = list(dict.fromkeys(s for s, _, _ in seen))
    assert stages == list(TrainingStage)
    scanning = [(d, t) for s, d, t in seen if s is TrainingStage.SCANNING]
    assert scanning[-1] == (9, 9) and [d for d, _ in scanning] == list(range(1, 10))
    assert all(status is not None for status in seen_by_other_reader)
    assert ws.training_status() is None  # nothing runs any more


def test_names_describe_any_columns_and_are_unique(ws: Workspace) -> None:
    model = ws.train(_import(ws, DATA / "online_retail_rfm.csv"), _params(RFM, k=4))
    names = model.segment_names
    assert len(set(n.lower() for n in names)) == 4
    assert all(n.endswith("Customers") for n in names)
    assert any("Recent" in n or "Lapsed" in n or "Frequent" in n for n in names)


def test_training_is_deterministic(ws: Workspace) -> None:
    dataset = _import(ws, DATA / "wholesale_customers.csv")
    a = ws.train(dataset, _params(SPEND))
    b = ws.train(dataset, _params(SPEND))
    assert a.info.profiles == b.info.profiles and a.info.elbow == b.info.elbow
    assert a.info.stability == b.info.stability and a.segment_names == b.segment_names


def test_planted_segments_recovered_through_a_dataset(ws: Workspace, tmp_path: Path) -> None:
    from sklearn.metrics import adjusted_rand_score

    data = generate_customers(5000, seed=3)
    path = tmp_path / "planted.csv"
    data.frame.to_csv(path, index=False)
    model = ws.train(_import(ws, path))
    assert model.info.k == 5
    X = data.frame[["age", "annual_income", "spending_score", "purchase_frequency"]].to_numpy(float)
    assert adjusted_rand_score(data.planted, model.predict_batch(X).cluster_ids) >= 0.95
