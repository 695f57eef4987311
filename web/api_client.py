"""A thin async client for the GraphQL API: one function per operation, typed results.

Outcomes the schema itself models (the members of a result union, such as `InvalidInput` or
`ModelNotTrained`) come back as dataclasses, so callers `match` on them. Everything else raises an
`ApiError` subclass: the API cannot be reached or answers with a non-JSON/HTTP error
(`ApiUnavailable`), or the response carries top-level GraphQL `errors` or a shape this client does
not know (`ApiProtocolError`). No loose dicts leave this module.

Names follow the public contract (`../shared/CONTRACT.md`, version 2). Uploads use the GraphQL
multipart request spec and stream: the file's bytes go to the API as they arrive, never whole in
memory and never on disk here.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urljoin

import httpx

from web.settings import load_settings

# --------------------------------------------------------------------------------------------
# Results: health, models, segments


@dataclass(frozen=True)
class TrainingStatus:
    """A training that is running now: its stage and how far it got (`completed` of `total`)."""

    stage: str  # LOADING SCANNING FITTING PROFILING STORING
    completed: int
    total: int
    started_at: str
    dataset_id: str | None


@dataclass(frozen=True)
class Health:
    """The API's own view of its health."""

    status: str
    model_loaded: bool
    model_version: str | None
    training: TrainingStatus | None = None


@dataclass(frozen=True)
class FeatureSpec:
    """One feature of a model: how to show it and which values it accepts."""

    name: str
    label: str
    unit: str | None
    transform: str  # NONE or LOG, as resolved at training
    min: float | None  # accepted input range; None = unbounded
    max: float | None
    training_min: float
    training_max: float
    median: float


@dataclass(frozen=True)
class ModelInfo:
    """A stored model version (the active one, or any from the history)."""

    version: str
    k: int
    silhouette: float
    inertia: float
    n_customers: int
    features: tuple[str, ...]
    trained_at: str
    active: bool
    dataset_id: str
    dataset_name: str
    engine: str
    source: str | None
    feature_specs: tuple[FeatureSpec, ...]
    missing_values: str  # DROP or MEDIAN
    min_segment_share: float
    stability: float | None  # mean bootstrap adjusted Rand index, 0..1
    rows_dropped: int = 0  # rows left out for a missing feature value (DROP)
    notes: tuple[str, ...] = ()  # what a user should know, e.g. why this k was taken

    def spec(self, feature: str) -> FeatureSpec | None:
        """The spec of `feature`, or None."""
        return next((s for s in self.feature_specs if s.name == feature), None)


@dataclass(frozen=True)
class ModelSummary:
    """A model version as the dashboard's picker lists it."""

    version: str
    k: int
    silhouette: float
    trained_at: str
    active: bool
    dataset_name: str


@dataclass(frozen=True)
class FeatureStats:
    """One feature's statistics inside one segment."""

    feature: str
    mean: float
    median: float
    min: float
    max: float
    std: float


@dataclass(frozen=True)
class SegmentDriver:
    """How far a segment's mean of one feature lies from everyone's, in standard deviations."""

    feature: str
    z_score: float
    direction: str  # HIGHER or LOWER


@dataclass(frozen=True)
class CategoryShare:
    """The share of one categorical value inside a segment, and its lift over everyone."""

    column: str
    value: str
    share: float
    lift: float


@dataclass(frozen=True)
class ClusterProfile:
    """One segment of a model."""

    cluster_id: int
    name: str
    size: int
    share: float
    features: tuple[FeatureStats, ...]
    drivers: tuple[SegmentDriver, ...] = ()
    categories: tuple[CategoryShare, ...] = ()
    stability: float | None = None


@dataclass(frozen=True)
class ElbowPoint:
    """Inertia and silhouette of the model with `k` segments.

    `eligible` is False when automatic k could not pick this k (a segment smaller than the
    minimum share); `smallest_share` is the smallest segment's share.
    """

    k: int
    inertia: float
    silhouette: float
    smallest_share: float | None = None
    eligible: bool = True


@dataclass(frozen=True)
class ElbowReport:
    """The automatic choice of k: the chosen k, the knee of the inertia curve, every k tried."""

    optimal_k: int
    elbow_k: int | None
    points: tuple[ElbowPoint, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows for one model version, fetched in one request."""

    health: Health
    model: ModelInfo | None
    clusters: tuple[ClusterProfile, ...]
    elbow: ElbowReport | None
    models: tuple[ModelSummary, ...] = ()


@dataclass(frozen=True)
class HomeData:
    """What the prediction form needs: the active model's features and segment profiles."""

    health: Health
    model: ModelInfo | None
    clusters: tuple[ClusterProfile, ...]


# --------------------------------------------------------------------------------------------
# Results: predictions


@dataclass(frozen=True)
class SegmentProbability:
    """The probability that a customer belongs to one segment."""

    cluster_id: int
    segment_name: str
    probability: float


@dataclass(frozen=True)
class Prediction:
    """The segment of one customer and how sure the model is."""

    cluster_id: int
    segment_name: str
    confidence: float
    probabilities: tuple[SegmentProbability, ...]


@dataclass(frozen=True)
class FeatureValue:
    """One feature's value of a customer (`FeatureValueInput`)."""

    feature: str
    value: float


# --------------------------------------------------------------------------------------------
# Results: datasets and scoring


@dataclass(frozen=True)
class ValueCount:
    """A categorical value and how many rows hold it."""

    value: str
    count: int


@dataclass(frozen=True)
class DatasetColumn:
    """One column of an imported dataset: its role and what it holds."""

    name: str
    role: str  # NUMERIC CATEGORICAL IDENTIFIER IGNORED
    missing: int
    distinct: int
    min: float | None
    max: float | None
    mean: float | None
    median: float | None
    std: float | None
    skewness: float | None
    suggested_transform: str  # NONE or LOG
    top_values: tuple[ValueCount, ...]
    histogram: tuple[int, ...] = ()  # equal-width bins from min to max, when the API sends them


@dataclass(frozen=True)
class Dataset:
    """An imported dataset (the bundled one included). `columns` is empty in list queries."""

    id: str
    name: str
    rows: int
    bytes: int
    created_at: str
    bundled: bool
    columns: tuple[DatasetColumn, ...] = ()


@dataclass(frozen=True)
class DatasetImported:
    """An upload the API accepted; `already_present` when the same bytes were imported before."""

    dataset: Dataset
    already_present: bool


@dataclass(frozen=True)
class UploadRefused:
    """The API refused an upload at the HTTP level (413: too large; 400: not an upload)."""

    status: int
    message: str


@dataclass(frozen=True)
class SegmentCount:
    """How many rows of a scored file landed in one segment."""

    cluster_id: int
    segment_name: str
    customers: int


@dataclass(frozen=True)
class ScoredDataset:
    """A scored file, ready to download from `download_url` until `expires_at`."""

    dataset_id: str
    version: str
    rows: int
    scored_rows: int
    segments: tuple[SegmentCount, ...]
    download_url: str
    expires_at: str


# --------------------------------------------------------------------------------------------
# Results: history


@dataclass(frozen=True)
class ModelActivated:
    """A model version became the active one."""

    model: ModelInfo
    previous_version: str | None


@dataclass(frozen=True)
class SegmentRenamed:
    """A segment's new name, with its profile."""

    segment: ClusterProfile


@dataclass(frozen=True)
class SegmentFlow:
    """Customers in segment `from_` of model a that model b puts in segment `to`."""

    from_cluster_id: int
    from_name: str
    to_cluster_id: int
    to_name: str
    customers: int


@dataclass(frozen=True)
class ModelComparison:
    """Two models on the same customers: their agreement and how customers move between them."""

    a: ModelInfo
    b: ModelInfo
    dataset_id: str
    customers: int
    adjusted_rand_index: float
    flows: tuple[SegmentFlow, ...]


@dataclass(frozen=True)
class Deleted:
    """Something was deleted."""

    id: str


# --------------------------------------------------------------------------------------------
# Results: the typed failures every union shares


@dataclass(frozen=True)
class FieldError:
    """An input field the API rejected, named as the client wrote it (e.g. `features[1].column`)."""

    field: str
    message: str


@dataclass(frozen=True)
class InvalidInput:
    """The API rejected the input; `errors` names each bad field."""

    message: str
    errors: tuple[FieldError, ...]


@dataclass(frozen=True)
class ModelNotTrained:
    """No model has been trained yet."""

    message: str


@dataclass(frozen=True)
class Unauthorized:
    """The mutation needs a valid API key."""

    message: str


@dataclass(frozen=True)
class TrainingInProgress:
    """Another training is already running."""

    message: str


@dataclass(frozen=True)
class NotFound:
    """The named dataset or model version does not exist."""

    message: str


@dataclass(frozen=True)
class Conflict:
    """The operation makes no sense in the current state (e.g. nothing to roll back to)."""

    message: str


PredictOutcome = Prediction | InvalidInput | ModelNotTrained
TrainOutcome = ModelInfo | InvalidInput | Unauthorized | TrainingInProgress
UploadOutcome = DatasetImported | InvalidInput | Unauthorized | UploadRefused
ScoreOutcome = ScoredDataset | InvalidInput | NotFound | ModelNotTrained | Unauthorized
ActivateOutcome = ModelActivated | NotFound | Conflict | Unauthorized
RenameOutcome = SegmentRenamed | InvalidInput | NotFound | Unauthorized
CompareOutcome = ModelComparison | InvalidInput | NotFound
DeleteOutcome = Deleted | NotFound | Conflict | Unauthorized

# --------------------------------------------------------------------------------------------
# Errors


class ApiError(Exception):
    """The API could not give a usable answer."""


class ApiUnavailable(ApiError):
    """The API cannot be reached, timed out or answered with an HTTP error."""


class ApiProtocolError(ApiError):
    """The response carried GraphQL `errors` or a shape this client does not understand."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


# --------------------------------------------------------------------------------------------
# Documents (each type's selection in one place)

_TRAINING_FIELDS = "stage completed total startedAt datasetId"
_HEALTH_FIELDS = f"status modelLoaded modelVersion training {{ {_TRAINING_FIELDS} }}"
_SPEC_FIELDS = "name label unit transform min max trainingMin trainingMax median"
_MODEL_FIELDS = (
    "version k silhouette inertia nCustomers features trainedAt active datasetId datasetName "
    "engine source missingValues minSegmentShare stability rowsDropped notes "
    f"featureSpecs {{ {_SPEC_FIELDS} }}"
)
_SUMMARY_FIELDS = "version k silhouette trainedAt active datasetName"
_STATS_FIELDS = "features { feature mean median min max std }"
_CLUSTER_FIELDS = (
    f"clusterId name size share stability {_STATS_FIELDS} "
    "drivers { feature zScore direction } categories { column value share lift }"
)
_ELBOW_FIELDS = "optimalK elbowK points { k inertia silhouette smallestShare eligible }"
_PREDICTION_FIELDS = (
    "clusterId segmentName confidence probabilities { clusterId segmentName probability }"
)
_DATASET_FIELDS = "id name rows bytes createdAt bundled"
_COLUMN_FIELDS = (
    "name role missing distinct min max mean median std skewness suggestedTransform "
    "topValues { value count } histogram"
)
_INVALID = "... on InvalidInput { message errors { field message } }"
_MESSAGE_ONLY = "... on {} {{ message }}"


def _messages(*types: str) -> str:
    return " ".join(_MESSAGE_ONLY.format(t) for t in types)


HEALTH_QUERY = f"query Health {{ health {{ {_HEALTH_FIELDS} }} }}"

DASHBOARD_QUERY = f"""
query Dashboard($version: String) {{
  health {{ {_HEALTH_FIELDS} }}
  model(version: $version) {{ {_MODEL_FIELDS} }}
  clusters(version: $version) {{ {_CLUSTER_FIELDS} }}
  elbow(version: $version) {{ {_ELBOW_FIELDS} }}
  models {{ {_SUMMARY_FIELDS} }}
}}
"""

HOME_QUERY = f"""
query Home {{
  health {{ {_HEALTH_FIELDS} }}
  model {{ {_MODEL_FIELDS} }}
  clusters {{ clusterId name size share {_STATS_FIELDS} }}
}}
"""

DATASETS_QUERY = f"""
query Datasets {{
  health {{ {_HEALTH_FIELDS} }}
  datasets {{ {_DATASET_FIELDS} }}
  model {{ version k datasetId datasetName }}
}}
"""

DATASET_QUERY = f"""
query Dataset($id: ID!) {{
  dataset(id: $id) {{ {_DATASET_FIELDS} columns {{ {_COLUMN_FIELDS} }} }}
}}
"""

MODELS_QUERY = f"query Models {{ models {{ {_MODEL_FIELDS} }} }}"

PREDICT_RECORD_MUTATION = f"""
mutation PredictRecord($values: [FeatureValueInput!]!, $version: String) {{
  predictRecord(values: $values, version: $version) {{
    __typename
    ... on Prediction {{ {_PREDICTION_FIELDS} }}
    {_INVALID}
    {_messages("ModelNotTrained")}
  }}
}}
"""

TRAIN_MUTATION = f"""
mutation Train($input: TrainInput) {{
  train(input: $input) {{
    __typename
    ... on TrainSuccess {{ model {{ {_MODEL_FIELDS} }} }}
    {_INVALID}
    {_messages("Unauthorized", "TrainingInProgress")}
  }}
}}
"""

UPLOAD_MUTATION = f"""
mutation UploadDataset($file: Upload!, $name: String) {{
  uploadDataset(file: $file, name: $name) {{
    __typename
    ... on DatasetImported {{
      alreadyPresent
      dataset {{ {_DATASET_FIELDS} columns {{ {_COLUMN_FIELDS} }} }}
    }}
    {_INVALID}
    {_messages("Unauthorized")}
  }}
}}
"""

DELETE_DATASET_MUTATION = f"""
mutation DeleteDataset($id: ID!) {{
  deleteDataset(id: $id) {{
    __typename
    ... on Deleted {{ id }}
    {_messages("NotFound", "Conflict", "Unauthorized")}
  }}
}}
"""

SCORE_MUTATION = f"""
mutation ScoreDataset($datasetId: ID!, $version: String) {{
  scoreDataset(datasetId: $datasetId, version: $version) {{
    __typename
    ... on ScoredDataset {{
      datasetId version rows scoredRows downloadUrl expiresAt
      segments {{ clusterId segmentName customers }}
    }}
    {_INVALID}
    {_messages("NotFound", "ModelNotTrained", "Unauthorized")}
  }}
}}
"""

_ACTIVATED = f"""
    __typename
    ... on ModelActivated {{ previousVersion model {{ {_MODEL_FIELDS} }} }}
    {_messages("NotFound", "Conflict", "Unauthorized")}
"""

ACTIVATE_MUTATION = f"""
mutation ActivateModel($version: String!) {{
  activateModel(version: $version) {{ {_ACTIVATED} }}
}}
"""

ROLLBACK_MUTATION = f"mutation RollbackModel {{ rollbackModel {{ {_ACTIVATED} }} }}"

RENAME_MUTATION = f"""
mutation RenameSegment($version: String!, $clusterId: Int!, $name: String!) {{
  renameSegment(version: $version, clusterId: $clusterId, name: $name) {{
    __typename
    ... on SegmentRenamed {{ segment {{ {_CLUSTER_FIELDS} }} }}
    {_INVALID}
    {_messages("NotFound", "Unauthorized")}
  }}
}}
"""

COMPARE_QUERY = f"""
query CompareModels($a: String!, $b: String!, $datasetId: ID) {{
  compareModels(a: $a, b: $b, datasetId: $datasetId) {{
    __typename
    ... on ModelComparison {{
      datasetId customers adjustedRandIndex
      a {{ {_MODEL_FIELDS} }}
      b {{ {_MODEL_FIELDS} }}
      flows {{ fromClusterId fromName toClusterId toName customers }}
    }}
    {_INVALID}
    {_messages("NotFound")}
  }}
}}
"""

# --------------------------------------------------------------------------------------------
# Transport


def _headers(api_key: str | None, *, json_body: bool = True) -> dict[str, str]:
    headers = {"Accept": "application/json"}
    if json_body:
        headers["Content-Type"] = "application/json"
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    return headers


async def _send(
    request: Callable[[httpx.AsyncClient, str, float], Any],
    *,
    timeout_s: float | None,
    client: httpx.AsyncClient | None,
    url: str | None,
) -> tuple[httpx.Response, str]:
    """Run `request(client, target, timeout)`; connection problems become `ApiUnavailable`."""
    settings = load_settings()
    target = url or settings.graphql_url
    timeout = timeout_s if timeout_s is not None else settings.timeout_s
    try:
        if client is None:
            # No TLS context for plain http (the loopback default): building one costs ~20 ms.
            verify = target.startswith("https:")
            async with httpx.AsyncClient(timeout=timeout, verify=verify) as own:
                response = await request(own, target, timeout)
        else:
            response = await request(client, target, timeout)
    except httpx.TimeoutException as exc:
        raise ApiUnavailable(f"The API at {target} did not answer within {timeout:g} s.") from exc
    except httpx.HTTPError as exc:
        raise ApiUnavailable(f"The API at {target} cannot be reached ({exc}).") from exc
    return response, target


def _data(response: httpx.Response, target: str) -> dict[str, Any]:
    """The `data` of a GraphQL response, or an `ApiError`."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ApiUnavailable(
            f"The API at {target} answered HTTP {response.status_code} without JSON."
        ) from exc
    if not isinstance(body, dict):
        raise ApiProtocolError("The API answered with something other than a JSON object.")
    errors = body.get("errors")
    if errors:
        messages = "; ".join(str(e.get("message", e)) for e in errors if isinstance(e, dict))
        raise ApiProtocolError(messages or "The API reported an error.", errors)
    if response.status_code >= 400:
        raise ApiUnavailable(f"The API at {target} answered HTTP {response.status_code}.")
    data = body.get("data")
    if not isinstance(data, dict):
        raise ApiProtocolError("The API's response has no data.")
    return data


async def _execute(
    document: str,
    variables: dict[str, Any] | None = None,
    *,
    api_key: str | None = None,
    timeout_s: float | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> dict[str, Any]:
    """POST one GraphQL operation and return its `data`, or raise an `ApiError`.

    `client` lets tests pass an `httpx.AsyncClient` bound to the ASGI app; otherwise a client is
    made for the call against the configured URL.
    """
    payload = {"query": document, "variables": variables or {}}

    async def post(c: httpx.AsyncClient, target: str, timeout: float) -> httpx.Response:
        return await c.post(target, json=payload, headers=_headers(api_key), timeout=timeout)

    response, target = await _send(post, timeout_s=timeout_s, client=client, url=url)
    return _data(response, target)


# --------------------------------------------------------------------------------------------
# Parsing (KeyError/TypeError on a malformed payload become ApiProtocolError in `_parse`)

T = TypeVar("T")


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _training(d: dict[str, Any] | None) -> TrainingStatus | None:
    if d is None:
        return None
    return TrainingStatus(
        stage=str(d["stage"]),
        completed=int(d["completed"]),
        total=int(d["total"]),
        started_at=str(d["startedAt"]),
        dataset_id=None if d.get("datasetId") is None else str(d["datasetId"]),
    )


def _health(d: dict[str, Any]) -> Health:
    return Health(
        status=str(d["status"]),
        model_loaded=bool(d["modelLoaded"]),
        model_version=d.get("modelVersion"),
        training=_training(d.get("training")),
    )


def _spec(d: dict[str, Any]) -> FeatureSpec:
    return FeatureSpec(
        name=str(d["name"]),
        label=str(d["label"]),
        unit=d.get("unit") or None,
        transform=str(d["transform"]),
        min=_opt_float(d.get("min")),
        max=_opt_float(d.get("max")),
        training_min=float(d["trainingMin"]),
        training_max=float(d["trainingMax"]),
        median=float(d["median"]),
    )


def _model(d: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        version=str(d["version"]),
        k=int(d["k"]),
        silhouette=float(d["silhouette"]),
        inertia=float(d["inertia"]),
        n_customers=int(d["nCustomers"]),
        features=tuple(str(f) for f in d["features"]),
        trained_at=str(d["trainedAt"]),
        active=bool(d["active"]),
        dataset_id=str(d["datasetId"]),
        dataset_name=str(d["datasetName"]),
        engine=str(d["engine"]),
        source=d.get("source"),
        feature_specs=tuple(_spec(s) for s in d["featureSpecs"]),
        missing_values=str(d["missingValues"]),
        min_segment_share=float(d["minSegmentShare"]),
        stability=_opt_float(d.get("stability")),
        rows_dropped=int(d.get("rowsDropped") or 0),
        notes=tuple(str(n) for n in d.get("notes") or ()),
    )


def _summary(d: dict[str, Any]) -> ModelSummary:
    return ModelSummary(
        version=str(d["version"]),
        k=int(d["k"]),
        silhouette=float(d["silhouette"]),
        trained_at=str(d["trainedAt"]),
        active=bool(d["active"]),
        dataset_name=str(d["datasetName"]),
    )


def _cluster(d: dict[str, Any]) -> ClusterProfile:
    return ClusterProfile(
        cluster_id=int(d["clusterId"]),
        name=str(d["name"]),
        size=int(d["size"]),
        share=float(d["share"]),
        features=tuple(
            FeatureStats(
                feature=str(f["feature"]),
                mean=float(f["mean"]),
                median=float(f["median"]),
                min=float(f["min"]),
                max=float(f["max"]),
                std=float(f["std"]),
            )
            for f in d["features"]
        ),
        drivers=tuple(
            SegmentDriver(
                feature=str(x["feature"]), z_score=float(x["zScore"]), direction=str(x["direction"])
            )
            for x in d.get("drivers") or ()
        ),
        categories=tuple(
            CategoryShare(
                column=str(x["column"]),
                value=str(x["value"]),
                share=float(x["share"]),
                lift=float(x["lift"]),
            )
            for x in d.get("categories") or ()
        ),
        stability=_opt_float(d.get("stability")),
    )


def _elbow(d: dict[str, Any]) -> ElbowReport:
    return ElbowReport(
        optimal_k=int(d["optimalK"]),
        elbow_k=None if d.get("elbowK") is None else int(d["elbowK"]),
        points=tuple(
            ElbowPoint(
                k=int(p["k"]),
                inertia=float(p["inertia"]),
                silhouette=float(p["silhouette"]),
                smallest_share=_opt_float(p.get("smallestShare")),
                eligible=bool(p.get("eligible", True)),
            )
            for p in d["points"]
        ),
    )


def _prediction(d: dict[str, Any]) -> Prediction:
    return Prediction(
        cluster_id=int(d["clusterId"]),
        segment_name=str(d["segmentName"]),
        confidence=float(d["confidence"]),
        probabilities=tuple(
            SegmentProbability(
                cluster_id=int(p["clusterId"]),
                segment_name=str(p["segmentName"]),
                probability=float(p["probability"]),
            )
            for p in d["probabilities"]
        ),
    )


def _column(d: dict[str, Any]) -> DatasetColumn:
    return DatasetColumn(
        name=str(d["name"]),
        role=str(d["role"]),
        missing=int(d["missing"]),
        distinct=int(d["distinct"]),
        min=_opt_float(d.get("min")),
        max=_opt_float(d.get("max")),
        mean=_opt_float(d.get("mean")),
        median=_opt_float(d.get("median")),
        std=_opt_float(d.get("std")),
        skewness=_opt_float(d.get("skewness")),
        suggested_transform=str(d["suggestedTransform"]),
        top_values=tuple(
            ValueCount(value=str(v["value"]), count=int(v["count"])) for v in d["topValues"]
        ),
        histogram=tuple(int(n) for n in d.get("histogram") or ()),
    )


def _dataset(d: dict[str, Any]) -> Dataset:
    return Dataset(
        id=str(d["id"]),
        name=str(d["name"]),
        rows=int(d["rows"]),
        bytes=int(d["bytes"]),
        created_at=str(d["createdAt"]),
        bundled=bool(d["bundled"]),
        columns=tuple(_column(c) for c in d.get("columns") or ()),
    )


def _scored(d: dict[str, Any]) -> ScoredDataset:
    return ScoredDataset(
        dataset_id=str(d["datasetId"]),
        version=str(d["version"]),
        rows=int(d["rows"]),
        scored_rows=int(d["scoredRows"]),
        segments=tuple(
            SegmentCount(
                cluster_id=int(s["clusterId"]),
                segment_name=str(s["segmentName"]),
                customers=int(s["customers"]),
            )
            for s in d["segments"]
        ),
        download_url=str(d["downloadUrl"]),
        expires_at=str(d["expiresAt"]),
    )


def _comparison(d: dict[str, Any]) -> ModelComparison:
    return ModelComparison(
        a=_model(d["a"]),
        b=_model(d["b"]),
        dataset_id=str(d["datasetId"]),
        customers=int(d["customers"]),
        adjusted_rand_index=float(d["adjustedRandIndex"]),
        flows=tuple(
            SegmentFlow(
                from_cluster_id=int(f["fromClusterId"]),
                from_name=str(f["fromName"]),
                to_cluster_id=int(f["toClusterId"]),
                to_name=str(f["toName"]),
                customers=int(f["customers"]),
            )
            for f in d["flows"]
        ),
    )


def _invalid(d: dict[str, Any]) -> InvalidInput:
    return InvalidInput(
        message=str(d["message"]),
        errors=tuple(
            FieldError(field=str(e["field"]), message=str(e["message"])) for e in d["errors"]
        ),
    )


def _parse(what: str, parse: Callable[[Any], T], value: Any) -> T:
    """Run a parser, turning a malformed payload into `ApiProtocolError`."""
    try:
        return parse(value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ApiProtocolError(f"The API's {what} has an unexpected shape ({exc!r}).") from exc


#: The union members that carry only a message, by `__typename`.
_MESSAGE_TYPES: dict[str, type] = {
    "ModelNotTrained": ModelNotTrained,
    "Unauthorized": Unauthorized,
    "TrainingInProgress": TrainingInProgress,
    "NotFound": NotFound,
    "Conflict": Conflict,
}


def _outcome(field: str, result: Any, success: dict[str, Callable[[dict[str, Any]], Any]]) -> Any:
    """A union result as its dataclass: `success` parses the members with data of their own,
    InvalidInput and the message-only members are shared; anything else is a protocol error."""
    if not isinstance(result, dict):
        raise ApiProtocolError(f"`{field}` answered with no result.")
    typename = result.get("__typename")
    if typename in success:
        return _parse(f"{field} result", success[typename], result)
    if typename == "InvalidInput":
        return _parse("InvalidInput", _invalid, result)
    if typename in _MESSAGE_TYPES:
        return _MESSAGE_TYPES[typename](message=str(result.get("message", "")))
    raise ApiProtocolError(f"`{field}` answered with an unknown type {typename!r}.")


# --------------------------------------------------------------------------------------------
# Queries


async def fetch_health(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> Health:
    """`query { health }`, with the running training's progress when there is one."""
    data = await _execute(HEALTH_QUERY, client=client, url=url)
    return _parse("health", _health, data.get("health"))


async def fetch_dashboard(
    version: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> Dashboard:
    """Health, one model (the active one when `version` is None), its segments with drivers
    and categories, its elbow report, and the list of versions for the picker: ONE request."""
    data = await _execute(DASHBOARD_QUERY, {"version": version}, client=client, url=url)

    def parse(d: dict[str, Any]) -> Dashboard:
        return Dashboard(
            health=_health(d["health"]),
            model=None if d.get("model") is None else _model(d["model"]),
            clusters=tuple(_cluster(c) for c in d["clusters"]),
            elbow=None if d.get("elbow") is None else _elbow(d["elbow"]),
            models=tuple(_summary(m) for m in d["models"]),
        )

    return _parse("dashboard", parse, data)


async def fetch_home(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> HomeData:
    """The active model's feature specs and segment statistics, for the prediction form."""
    data = await _execute(HOME_QUERY, client=client, url=url)

    def parse(d: dict[str, Any]) -> HomeData:
        return HomeData(
            health=_health(d["health"]),
            model=None if d.get("model") is None else _model(d["model"]),
            clusters=tuple(_cluster(c) for c in d["clusters"]),
        )

    return _parse("home data", parse, data)


@dataclass(frozen=True)
class DatasetsPage:
    """The data page's list: datasets (newest first), a training that runs, the active model."""

    datasets: tuple[Dataset, ...]
    training: TrainingStatus | None
    active_version: str | None
    active_dataset_id: str | None


async def fetch_datasets(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> DatasetsPage:
    """Every dataset (without columns), the running training and the active model, in one go."""
    data = await _execute(DATASETS_QUERY, client=client, url=url)

    def parse(d: dict[str, Any]) -> DatasetsPage:
        model = d.get("model")
        return DatasetsPage(
            datasets=tuple(_dataset(x) for x in d["datasets"]),
            training=_health(d["health"]).training,
            active_version=None if model is None else str(model["version"]),
            active_dataset_id=None if model is None else str(model["datasetId"]),
        )

    return _parse("datasets", parse, data)


async def fetch_dataset(
    dataset_id: str, *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> Dataset | None:
    """One dataset with its columns, or None when there is no such dataset."""
    data = await _execute(DATASET_QUERY, {"id": dataset_id}, client=client, url=url)
    found = data.get("dataset")
    return None if found is None else _parse("dataset", _dataset, found)


async def fetch_models(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> tuple[ModelInfo, ...]:
    """Every stored model version, newest first."""
    data = await _execute(MODELS_QUERY, client=client, url=url)
    return _parse("models", lambda d: tuple(_model(m) for m in d["models"]), data)


async def compare_models(
    a: str,
    b: str,
    dataset_id: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> CompareOutcome:
    """`compareModels`: agreement (adjusted Rand index) and the flows between two versions."""
    variables = {"a": a, "b": b, "datasetId": dataset_id}
    data = await _execute(
        COMPARE_QUERY, variables, timeout_s=load_settings().train_timeout_s, client=client, url=url
    )
    return _outcome("compareModels", data.get("compareModels"), {"ModelComparison": _comparison})


# --------------------------------------------------------------------------------------------
# Mutations


async def predict_record(
    values: list[FeatureValue],
    version: str | None = None,
    *,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> PredictOutcome:
    """`predictRecord`: the segment of one customer given as feature values (any model)."""
    variables = {
        "values": [{"feature": v.feature, "value": v.value} for v in values],
        "version": version,
    }
    data = await _execute(PREDICT_RECORD_MUTATION, variables, client=client, url=url)
    return _outcome("predictRecord", data.get("predictRecord"), {"Prediction": _prediction})


@dataclass(frozen=True)
class FeatureChoice:
    """A column to train on and its transform (`FeatureInput`): NONE, LOG or AUTO."""

    column: str
    transform: str = "AUTO"


async def train(
    *,
    dataset_id: str | None = None,
    features: list[FeatureChoice] | None = None,
    k: int | None = None,
    k_min: int | None = None,
    k_max: int | None = None,
    min_segment_share: float | None = None,
    missing_values: str | None = None,
    random_state: int | None = None,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> TrainOutcome:
    """`mutation { train }`: fit a new model (it becomes the active one); on success its info.

    Unset parameters are left out, so the server's defaults apply. This is a long request
    (seconds to minutes): poll `fetch_health().training` meanwhile for progress.
    """
    options: dict[str, Any] = {
        "datasetId": dataset_id,
        "features": (
            None
            if features is None
            else [{"column": f.column, "transform": f.transform} for f in features]
        ),
        "k": k,
        "kMin": k_min,
        "kMax": k_max,
        "minSegmentShare": min_segment_share,
        "missingValues": missing_values,
        "randomState": random_state,
    }
    variables = {"input": {key: v for key, v in options.items() if v is not None}}
    data = await _execute(
        TRAIN_MUTATION,
        variables,
        api_key=api_key,
        timeout_s=load_settings().train_timeout_s,
        client=client,
        url=url,
    )
    return _outcome("train", data.get("train"), {"TrainSuccess": lambda r: _model(r["model"])})


def _multipart_quote(filename: str) -> str:
    """A filename safe inside a multipart `Content-Disposition` header."""
    cleaned = "".join(ch for ch in filename if ch not in "\r\n") or "upload"
    return cleaned.replace("\\", "\\\\").replace('"', "%22")


async def _multipart_body(
    operations: dict[str, Any],
    filename: str,
    content_type: str,
    content: AsyncIterable[bytes],
    boundary: str,
) -> AsyncIterator[bytes]:
    """The GraphQL multipart request (operations, map, the file as part "0"), streamed."""
    dash = f"--{boundary}\r\n".encode()
    yield dash
    yield b'Content-Disposition: form-data; name="operations"\r\n\r\n'
    yield json.dumps(operations).encode() + b"\r\n"
    yield dash
    yield b'Content-Disposition: form-data; name="map"\r\n\r\n'
    yield b'{"0": ["variables.file"]}\r\n'
    yield dash
    yield (
        f'Content-Disposition: form-data; name="0"; filename="{_multipart_quote(filename)}"\r\n'
        f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n"
    ).encode()
    async for chunk in content:
        if chunk:
            yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _refusal_text(response: httpx.Response) -> str:
    """The reason the API gave with an HTTP refusal, if any (JSON `errors`/`detail` or text)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list) and errors and isinstance(errors[0], dict):
            return str(errors[0].get("message", ""))
        for key in ("detail", "message", "error"):
            if body.get(key):
                return str(body[key])
    return ""


async def upload_dataset(
    content: AsyncIterable[bytes] | bytes,
    filename: str,
    *,
    name: str | None = None,
    content_type: str = "application/octet-stream",
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> UploadOutcome:
    """`uploadDataset(file:, name:)` as a GraphQL multipart request, streaming `content`.

    Sends `GraphQL-Require-Preflight: 1`: the API refuses a multipart request without it (or an
    `Authorization` header), so a foreign web page cannot post one. An HTTP refusal (413: the
    file is over the server's limit) comes back as `UploadRefused`; a file that is not a usable
    table as `InvalidInput` (field `file`) with the API's reason.
    """
    operations = {"query": UPLOAD_MUTATION, "variables": {"file": None, "name": name}}
    boundary = "segments-" + os.urandom(12).hex()
    stream = _once(content) if isinstance(content, bytes) else content
    headers = _headers(api_key, json_body=False)
    headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    headers["GraphQL-Require-Preflight"] = "1"

    async def post(c: httpx.AsyncClient, target: str, timeout: float) -> httpx.Response:
        body = _multipart_body(operations, filename, content_type, stream, boundary)
        return await c.post(target, content=body, headers=headers, timeout=timeout)

    response, target = await _send(
        post, timeout_s=load_settings().train_timeout_s, client=client, url=url
    )
    if response.status_code == 413:
        reason = _refusal_text(response)
        return UploadRefused(413, reason or "The file is larger than the server accepts.")
    if response.status_code == 400 and "errors" not in _safe_json(response):
        return UploadRefused(400, _refusal_text(response) or "The server refused the upload.")
    data = _data(response, target)
    return _outcome(
        "uploadDataset",
        data.get("uploadDataset"),
        {
            "DatasetImported": lambda r: DatasetImported(
                dataset=_dataset(r["dataset"]), already_present=bool(r["alreadyPresent"])
            )
        },
    )


def _safe_json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


async def delete_dataset(
    dataset_id: str,
    *,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> DeleteOutcome:
    """`deleteDataset`: remove an imported dataset."""
    data = await _execute(
        DELETE_DATASET_MUTATION, {"id": dataset_id}, api_key=api_key, client=client, url=url
    )
    return _outcome(
        "deleteDataset", data.get("deleteDataset"), {"Deleted": lambda r: Deleted(str(r["id"]))}
    )


async def score_dataset(
    dataset_id: str,
    version: str | None = None,
    *,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> ScoreOutcome:
    """`scoreDataset`: put a segment on every row of an imported dataset (active model when
    `version` is None); the result names a download URL for the scored CSV."""
    data = await _execute(
        SCORE_MUTATION,
        {"datasetId": dataset_id, "version": version},
        api_key=api_key,
        timeout_s=load_settings().train_timeout_s,
        client=client,
        url=url,
    )
    return _outcome("scoreDataset", data.get("scoreDataset"), {"ScoredDataset": _scored})


def _activated(r: dict[str, Any]) -> ModelActivated:
    previous = r.get("previousVersion")
    return ModelActivated(model=_model(r["model"]), previous_version=previous)


async def activate_model(
    version: str,
    *,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> ActivateOutcome:
    """`activateModel`: make a stored version the active one."""
    data = await _execute(
        ACTIVATE_MUTATION, {"version": version}, api_key=api_key, client=client, url=url
    )
    return _outcome("activateModel", data.get("activateModel"), {"ModelActivated": _activated})


async def rollback_model(
    *,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> ActivateOutcome:
    """`rollbackModel`: back to the version that was active before the current one."""
    data = await _execute(ROLLBACK_MUTATION, api_key=api_key, client=client, url=url)
    return _outcome("rollbackModel", data.get("rollbackModel"), {"ModelActivated": _activated})


async def rename_segment(
    version: str,
    cluster_id: int,
    name: str,
    *,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> RenameOutcome:
    """`renameSegment`: give a segment of one model version a name of the user's choosing."""
    data = await _execute(
        RENAME_MUTATION,
        {"version": version, "clusterId": cluster_id, "name": name},
        api_key=api_key,
        client=client,
        url=url,
    )
    return _outcome(
        "renameSegment",
        data.get("renameSegment"),
        {"SegmentRenamed": lambda r: SegmentRenamed(segment=_cluster(r["segment"]))},
    )


def download_href(download_url: str) -> str:
    """Where the browser fetches a scored file from.

    The API answers a path on its own server (`/exports/...`). When the UI calls the API
    mounted on its own backend (the default), that path is already right for the browser; when
    `SEGMENTATION_GRAPHQL_URL` names another server, the path is resolved against it.
    """
    settings = load_settings()
    if "://" in download_url or not settings.api_elsewhere:
        return download_url
    return urljoin(settings.graphql_url, download_url)
