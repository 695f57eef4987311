"""The ASGI app over HTTP (Starlette TestClient): transport errors, limits, GraphiQL, CORS, key."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from graphql import get_introspection_query
from starlette.testclient import TestClient

from graph_api.app import create_app
from graph_api.execution import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, MAX_TOTAL_DEPTH
from graph_api.settings import ApiSettings, get_api_settings

from .conftest import CUSTOMER, PREDICT, TRAIN, Env


def post(client: TestClient, query: str, variables: dict | None = None,
         headers: dict[str, str] | None = None) -> dict:
    r = client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def client(trained: Env) -> Iterator[TestClient]:
    """The app with its lifespan running, over a store holding one model."""
    with TestClient(create_app()) as c:
        yield c


def test_predict_over_http_with_lifespan(client: TestClient) -> None:
    body = post(client, PREDICT, {"c": CUSTOMER})
    assert "errors" not in body
    assert body["data"]["predict"]["__typename"] == "Prediction"
    health = post(client, "{ health { modelLoaded modelVersion } }")["data"]["health"]
    assert health["modelLoaded"] is True and health["modelVersion"]


def test_without_lifespan_the_service_loads_on_first_request(trained: Env) -> None:
    # As when mounted into Reflex's backend, where our lifespan may not run.
    client = TestClient(create_app())
    body = post(client, PREDICT, {"c": CUSTOMER})
    assert body["data"]["predict"]["__typename"] == "Prediction"
    assert body["data"]["predict"]["segmentName"]


@pytest.mark.parametrize(
    ("content", "content_type", "needle"),
    [
        (b"{not json", "application/json", "Unable to parse request body as JSON"),
        (b"[" * 100_000, "application/json", "Unable to parse request body as JSON"),
        (b"42", "application/json", "JSON object"),
        (b'"query"', "application/json", "JSON object"),
        (b"[]", "application/json", "Batching is not enabled"),
        (b"query { health { status } }", "text/plain", "Unsupported content type"),
        (b'{"variables": {}}', "application/json", "No GraphQL query found"),
        (b'{"query": 5}', "application/json", "must be a string"),
        (b'{"query": "{ health { status } }", "variables": [1]}', "application/json",
         "must be an object"),
    ],
    ids=["malformed", "nested-100k-deep", "number", "string", "batch", "text-plain", "no-query",
         "query-not-string", "variables-not-object"],
)
def test_bad_bodies_are_4xx_not_500(client: TestClient, content: bytes, content_type: str,
                                    needle: str) -> None:
    r = client.post("/graphql", content=content, headers={"content-type": content_type})
    assert r.status_code == 400, r.text
    assert needle in r.text


@pytest.mark.parametrize(
    "value,needle",
    [
        (b"NaN", "Float cannot represent non numeric value: nan"),
        (b"1e400", "Float cannot represent non numeric value: inf"),
        (b"18446744073709551616000", None),  # a huge integer stays an integer: still a Float
    ],
    ids=["nan", "overflowing-float", "integer-beyond-64-bits"],
)
def test_json_python_reads_but_rfc_8259_refuses_means_what_it_meant(
    client: TestClient, value: bytes, needle: str | None
) -> None:
    # The view reads bodies with orjson and falls back to json for what orjson refuses or
    # reads differently, so these still reach GraphQL, as they did with json alone.
    body = (b'{"query": "mutation P($c: CustomerInput!) { predict(customer: $c) { __typename } }",'
            b' "variables": {"c": {"age": 30, "annualIncome": ' + value +
            b', "spendingScore": 50, "purchaseFrequency": 3}}}')
    r = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    payload = r.json()
    if needle is None:
        assert payload["data"]["predict"]["__typename"] in {"Prediction", "InvalidInput"}
    else:
        assert payload["data"] is None
        assert needle in payload["errors"][0]["message"]


def test_an_integer_beyond_64_bits_is_still_an_integer(client: TestClient) -> None:
    body = (b'{"query": "mutation P($c: CustomerInput!) { predict(customer: $c) { __typename } }",'
            b' "variables": {"c": {"age": 18446744073709551616, "annualIncome": 1,'
            b' "spendingScore": 50, "purchaseFrequency": 3}}}')
    r = client.post("/graphql", content=body, headers={"content-type": "application/json"})
    assert "non 32-bit signed integer value: 18446744073709551616" in r.json()["errors"][0][
        "message"]


def test_non_ascii_text_arrives_and_returns_intact(client: TestClient) -> None:
    # Echoed back in the error; the response is UTF-8 JSON (not ASCII-escaped), same text.
    body = post(client, PREDICT, {"c": {**CUSTOMER, "age": "caf\u00e9 \u2615"}})
    assert body["data"] is None
    assert "'caf\u00e9 \u2615'" in body["errors"][0]["message"]


def test_mutation_over_get_is_refused(client: TestClient) -> None:
    r = client.get("/graphql", params={"query": "mutation { train { __typename } }"})
    assert r.status_code == 400
    assert "mutations are not allowed when using GET" in r.text


def test_declared_oversized_body_is_refused_with_413(trained: Env) -> None:
    client = TestClient(create_app(ApiSettings(max_body_bytes=10_000)))
    r = client.post("/graphql", content=b"x" * 20_000, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "10000 bytes" in r.text


def test_streamed_oversized_body_is_refused_with_413(trained: Env) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * 4096

    client = TestClient(create_app(ApiSettings(max_body_bytes=10_000)))
    r = client.post("/graphql", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "too large" in r.text


def test_depth_limit(client: TestClient) -> None:
    nested = "x { " * (MAX_DEPTH + 2) + "y" + " }" * (MAX_DEPTH + 2)
    body = post(client, "{ clusters { features { " + nested + " } } }")
    assert body["data"] is None
    messages = [e["message"] for e in body["errors"]]
    assert f"exceeds maximum operation depth of {MAX_DEPTH}" in " ".join(messages)


def test_alias_limit(client: TestClient) -> None:
    fields = " ".join(f"a{i}: health {{ status }}" for i in range(MAX_ALIASES + 1))
    body = post(client, "{ " + fields + " }")
    assert body["data"] is None
    assert body["errors"][0]["message"] == (
        f"{MAX_ALIASES + 1} aliases found. Allowed: {MAX_ALIASES}")
    ok = post(client, "{ " + " ".join(f"a{i}: health {{ status }}" for i in range(MAX_ALIASES))
              + " }")
    assert "errors" not in ok and ok["data"]["a0"] == {"status": "ok"}


def test_token_limit(client: TestClient) -> None:
    body = post(client, "{ " + "health { status } " * (MAX_TOKENS // 4 + 1) + "}")
    assert body["data"] is None
    assert f"more than {MAX_TOKENS} tokens" in body["errors"][0]["message"]


def test_graphiql_introspection_is_answered(client: TestClient) -> None:
    query = get_introspection_query(descriptions=True, input_value_deprecation=True)
    body = post(client, query)
    assert "errors" not in body
    names = {t["name"] for t in body["data"]["__schema"]["types"]}
    assert {"Prediction", "CustomerInput", "TrainResult", "InvalidInput"} <= names


def test_hostile_deep_introspection_is_refused_fast(client: TestClient) -> None:
    deep = "ofType { " * 60 + "name" + " }" * 60
    query = "{ __schema { types { fields { type { " + deep + " } } } } }"
    started = time.perf_counter()
    body = post(client, query)
    elapsed = time.perf_counter() - started
    assert body["data"] is None
    assert f"nested deeper than {MAX_TOTAL_DEPTH}" in body["errors"][0]["message"]
    assert elapsed < 0.5


def test_hostile_fragment_spread_introspection_is_refused(client: TestClient) -> None:
    fragments = "\n".join(
        f"fragment F{i} on __Type {{ ofType {{ ...F{i + 1} }} }}" for i in range(40)
    ) + "\nfragment F40 on __Type { name }"
    query = "{ __schema { types { ...F0 } } }\n" + fragments
    body = post(client, query)
    assert body["data"] is None
    assert any(f"nested deeper than {MAX_TOTAL_DEPTH}" in e["message"] for e in body["errors"])


def test_graphiql_page_uses_local_assets(client: TestClient) -> None:
    r = client.get("/graphql", headers={"accept": "text/html"})
    assert r.status_code == 200
    html = r.text
    assert "unpkg.com" not in html
    assets = re.findall(r'(?:src|href)="(/graphiql-assets/[^"]+)"\s+integrity="([^"]+)"', html)
    assert len(assets) == 7
    for url, integrity in assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert integrity == f"sha384-{digest}", url


@pytest.mark.parametrize(
    "path",
    ["graphiql@3.8.3/package.json", "graphiql@3.8.4/graphiql.min.js",
     "..%2F..%2Fpyproject.toml", "react@18.2.0/../../../pyproject.toml"],
)
def test_only_the_pages_assets_are_served(client: TestClient, path: str) -> None:
    assert client.get(f"/graphiql-assets/{path}").status_code == 404


def test_cors_is_same_origin_by_default(client: TestClient) -> None:
    r = client.options("/graphql", headers={
        "origin": "http://elsewhere.example", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type"})
    assert "access-control-allow-origin" not in r.headers
    r = client.post("/graphql", json={"query": "{ health { status } }"},
                    headers={"origin": "http://elsewhere.example"})
    assert "access-control-allow-origin" not in r.headers


def test_cors_origins_are_configurable(trained: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTATION_CORS_ORIGINS", "http://app.example, http://other.example")
    settings = get_api_settings()
    assert settings.cors_origins == ("http://app.example", "http://other.example")
    client = TestClient(create_app(settings))
    preflight = {"access-control-request-method": "POST",
                 "access-control-request-headers": "content-type, authorization"}
    r = client.options("/graphql", headers={"origin": "http://app.example", **preflight})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "http://app.example"
    r = client.options("/graphql", headers={"origin": "http://evil.example", **preflight})
    assert "access-control-allow-origin" not in r.headers


def test_api_key_over_http(trained: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGMENTATION_API_KEY", "k3y-over-http")
    before = trained.store().active_version()
    with TestClient(create_app()) as client:
        denied = post(client, TRAIN)["data"]["train"]
        assert denied["__typename"] == "Unauthorized"
        assert trained.store().active_version() == before
        ok = post(client, TRAIN, headers={"authorization": "Bearer k3y-over-http"})
        assert ok["data"]["train"]["__typename"] == "TrainSuccess"
        assert trained.store().active_version() == ok["data"]["train"]["model"]["version"]


def test_masked_error_over_http_has_no_trace(env: Env) -> None:
    env.models_dir.write_text("not a folder")
    with TestClient(create_app()) as client:
        body = post(client, TRAIN)
    assert body["data"] is None
    [error] = body["errors"]
    assert re.fullmatch(r"Unexpected error \(id [0-9a-f]{12}\)\.", error["message"])
    assert error["extensions"]["errorId"] in error["message"]
    assert "Traceback" not in str(body) and "not a folder" not in str(body)


def test_mounted_like_reflex_without_our_lifespan(trained: Env) -> None:
    # Reflex mounts the api_transformer app under its own top-level Starlette app, whose lifespan
    # is Reflex's: ours never runs. The service must then load on the first request.
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    ran: list[str] = []

    @asynccontextmanager
    async def host_lifespan(_app: Starlette) -> AsyncIterator[None]:
        ran.append("host")
        yield

    api = create_app()
    api.mount("", Starlette(routes=[Route("/ping", lambda _r: PlainTextResponse("pong"))]))
    top = Starlette(lifespan=host_lifespan)
    top.mount("", api)
    with TestClient(top) as client:
        assert ran == ["host"]
        assert not api.state.service_holder.ready  # our lifespan did not run
        body = post(client, PREDICT, {"c": CUSTOMER})
        assert body["data"]["predict"]["__typename"] == "Prediction"
        assert client.get("/ping").text == "pong"  # the host's own routes still answer
        page = client.get("/graphql", headers={"accept": "text/html"})
        assert "/graphiql-assets/graphiql@3.8.3/graphiql.min.js" in page.text
