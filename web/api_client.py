"""A thin async client for the GraphQL API: one function per operation, typed results.

Outcomes the schema itself models (the members of a result union, such as `InvalidInput` or
`ModelNotTrained`) come back as dataclasses, so callers `match` on them. Everything else raises an
`ApiError` subclass: the API cannot be reached or answers with a non-JSON/HTTP error
(`ApiUnavailable`), or the response carries top-level GraphQL `errors` or a shape this client does
not know (`ApiProtocolError`). No loose dicts leave this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from web.settings import load_settings

# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class Health:
    """The API's own view of its health."""

    status: str
    model_loaded: bool
    model_version: str | None


@dataclass(frozen=True)
class ModelInfo:
    """The active model."""

    version: str
    k: int
    silhouette: float
    inertia: float
    n_customers: int
    features: tuple[str, ...]
    trained_at: str | None = None


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
class ClusterProfile:
    """One segment of the active model."""

    cluster_id: int
    name: str
    size: int
    share: float
    features: tuple[FeatureStats, ...]


@dataclass(frozen=True)
class ElbowPoint:
    """Inertia and silhouette of the model with `k` segments."""

    k: int
    inertia: float
    silhouette: float


@dataclass(frozen=True)
class ElbowReport:
    """The automatic choice of k: the chosen k, the knee of the inertia curve, every k tried."""

    optimal_k: int
    elbow_k: int | None
    points: tuple[ElbowPoint, ...]


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows, fetched in one request."""

    health: Health
    model: ModelInfo | None
    clusters: tuple[ClusterProfile, ...]
    elbow: ElbowReport | None


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
class FieldError:
    """An input field the API rejected, named as the client wrote it (e.g. `annualIncome`)."""

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
class Customer:
    """The features of one customer, as the `CustomerInput` of the API."""

    age: int
    annual_income: float
    spending_score: int
    purchase_frequency: int

    def to_input(self) -> dict[str, Any]:
        """The GraphQL `CustomerInput` value."""
        return {
            "age": self.age,
            "annualIncome": self.annual_income,
            "spendingScore": self.spending_score,
            "purchaseFrequency": self.purchase_frequency,
        }


PredictOutcome = Prediction | InvalidInput | ModelNotTrained
BatchOutcome = tuple[Prediction, ...] | InvalidInput | ModelNotTrained
TrainOutcome = ModelInfo | InvalidInput | Unauthorized | TrainingInProgress

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
# Documents (fragments keep each type's selection in one place)

_MODEL_FIELDS = "version k silhouette inertia nCustomers features trainedAt"
_PREDICTION_FIELDS = (
    "clusterId segmentName confidence probabilities { clusterId segmentName probability }"
)
_INVALID_FIELDS = "message errors { field message }"

HEALTH_QUERY = "query Health { health { status modelLoaded modelVersion } }"

DASHBOARD_QUERY = f"""
query Dashboard {{
  health {{ status modelLoaded modelVersion }}
  model {{ {_MODEL_FIELDS} }}
  clusters {{
    clusterId name size share
    features {{ feature mean median min max std }}
  }}
  elbow {{ optimalK elbowK points {{ k inertia silhouette }} }}
}}
"""

PREDICT_MUTATION = f"""
mutation Predict($customer: CustomerInput!) {{
  predict(customer: $customer) {{
    __typename
    ... on Prediction {{ {_PREDICTION_FIELDS} }}
    ... on InvalidInput {{ {_INVALID_FIELDS} }}
    ... on ModelNotTrained {{ message }}
  }}
}}
"""

PREDICT_BATCH_MUTATION = f"""
mutation PredictBatch($customers: [CustomerInput!]!) {{
  predictBatch(customers: $customers) {{
    __typename
    ... on BatchPrediction {{ predictions {{ {_PREDICTION_FIELDS} }} }}
    ... on InvalidInput {{ {_INVALID_FIELDS} }}
    ... on ModelNotTrained {{ message }}
  }}
}}
"""

TRAIN_MUTATION = f"""
mutation Train($input: TrainInput) {{
  train(input: $input) {{
    __typename
    ... on TrainSuccess {{ model {{ {_MODEL_FIELDS} }} }}
    ... on InvalidInput {{ {_INVALID_FIELDS} }}
    ... on Unauthorized {{ message }}
    ... on TrainingInProgress {{ message }}
  }}
}}
"""

# --------------------------------------------------------------------------------------------
# Transport


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
    settings = load_settings()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    payload = {"query": document, "variables": variables or {}}
    target = url or settings.graphql_url
    timeout = timeout_s if timeout_s is not None else settings.timeout_s
    try:
        if client is None:
            # No TLS context for plain http (the loopback default): building one costs ~20 ms.
            verify = target.startswith("https:")
            async with httpx.AsyncClient(timeout=timeout, verify=verify) as own:
                response = await own.post(target, json=payload, headers=headers)
        else:
            response = await client.post(target, json=payload, headers=headers, timeout=timeout)
    except httpx.TimeoutException as exc:
        raise ApiUnavailable(f"The API at {target} did not answer within {timeout:g} s.") from exc
    except httpx.HTTPError as exc:
        raise ApiUnavailable(f"The API at {target} cannot be reached ({exc}).") from exc
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


# --------------------------------------------------------------------------------------------
# Parsing (KeyError/TypeError on a malformed payload become ApiProtocolError in `_parse`)


def _health(d: dict[str, Any]) -> Health:
    return Health(
        status=str(d["status"]),
        model_loaded=bool(d["modelLoaded"]),
        model_version=d.get("modelVersion"),
    )


def _model(d: dict[str, Any]) -> ModelInfo:
    return ModelInfo(
        version=str(d["version"]),
        k=int(d["k"]),
        silhouette=float(d["silhouette"]),
        inertia=float(d["inertia"]),
        n_customers=int(d["nCustomers"]),
        features=tuple(str(f) for f in d["features"]),
        trained_at=d.get("trainedAt"),
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
    )


def _elbow(d: dict[str, Any]) -> ElbowReport:
    return ElbowReport(
        optimal_k=int(d["optimalK"]),
        elbow_k=None if d.get("elbowK") is None else int(d["elbowK"]),
        points=tuple(
            ElbowPoint(
                k=int(p["k"]), inertia=float(p["inertia"]), silhouette=float(p["silhouette"])
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


def _invalid(d: dict[str, Any]) -> InvalidInput:
    return InvalidInput(
        message=str(d["message"]),
        errors=tuple(
            FieldError(field=str(e["field"]), message=str(e["message"])) for e in d["errors"]
        ),
    )


def _parse(what: str, parse: Any, value: Any) -> Any:
    """Run a parser, turning a malformed payload into `ApiProtocolError`."""
    try:
        return parse(value)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ApiProtocolError(f"The API's {what} has an unexpected shape ({exc!r}).") from exc


def _unknown(typename: Any, field: str) -> ApiProtocolError:
    return ApiProtocolError(f"`{field}` answered with an unknown type {typename!r}.")


# --------------------------------------------------------------------------------------------
# Operations


async def fetch_health(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> Health:
    """`query { health }`."""
    data = await _execute(HEALTH_QUERY, client=client, url=url)
    return _parse("health", _health, data.get("health"))


async def fetch_dashboard(
    *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> Dashboard:
    """Health, model, clusters and elbow report in ONE request."""
    data = await _execute(DASHBOARD_QUERY, client=client, url=url)

    def parse(d: dict[str, Any]) -> Dashboard:
        return Dashboard(
            health=_health(d["health"]),
            model=None if d.get("model") is None else _model(d["model"]),
            clusters=tuple(_cluster(c) for c in d["clusters"]),
            elbow=None if d.get("elbow") is None else _elbow(d["elbow"]),
        )

    return _parse("dashboard", parse, data)


async def predict(
    customer: Customer, *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> PredictOutcome:
    """`mutation { predict }`: the segment of one customer."""
    data = await _execute(
        PREDICT_MUTATION, {"customer": customer.to_input()}, client=client, url=url
    )
    result = data.get("predict") or {}
    match result.get("__typename"):
        case "Prediction":
            return _parse("prediction", _prediction, result)
        case "InvalidInput":
            return _parse("InvalidInput", _invalid, result)
        case "ModelNotTrained":
            return ModelNotTrained(message=str(result.get("message", "")))
        case other:
            raise _unknown(other, "predict")


async def predict_batch(
    customers: list[Customer], *, client: httpx.AsyncClient | None = None, url: str | None = None
) -> BatchOutcome:
    """`mutation { predictBatch }`: the segments of many customers, in input order."""
    data = await _execute(
        PREDICT_BATCH_MUTATION,
        {"customers": [c.to_input() for c in customers]},
        client=client,
        url=url,
    )
    result = data.get("predictBatch") or {}
    match result.get("__typename"):
        case "BatchPrediction":
            return _parse(
                "batch prediction",
                lambda r: tuple(_prediction(p) for p in r["predictions"]),
                result,
            )
        case "InvalidInput":
            return _parse("InvalidInput", _invalid, result)
        case "ModelNotTrained":
            return ModelNotTrained(message=str(result.get("message", "")))
        case other:
            raise _unknown(other, "predictBatch")


async def train(
    *,
    k: int | None = None,
    k_min: int | None = None,
    k_max: int | None = None,
    random_state: int | None = None,
    api_key: str | None = None,
    client: httpx.AsyncClient | None = None,
    url: str | None = None,
) -> TrainOutcome:
    """`mutation { train }`: fit a new model; on success the new `ModelInfo`.

    Unset parameters are left out, so the server's defaults apply.
    """
    options = {"k": k, "kMin": k_min, "kMax": k_max, "randomState": random_state}
    variables = {"input": {key: v for key, v in options.items() if v is not None}}
    data = await _execute(
        TRAIN_MUTATION,
        variables,
        api_key=api_key,
        timeout_s=load_settings().train_timeout_s,
        client=client,
        url=url,
    )
    result = data.get("train") or {}
    match result.get("__typename"):
        case "TrainSuccess":
            return _parse("trained model", lambda r: _model(r["model"]), result)
        case "InvalidInput":
            return _parse("InvalidInput", _invalid, result)
        case "Unauthorized":
            return Unauthorized(message=str(result.get("message", "")))
        case "TrainingInProgress":
            return TrainingInProgress(message=str(result.get("message", "")))
        case other:
            raise _unknown(other, "train")
