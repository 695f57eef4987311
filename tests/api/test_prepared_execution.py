"""The prepared execution path (graph_api/executor.py) answers exactly as graphql-core does.

``schema.execute`` reuses per-document plans (field collection, compiled variable coercion);
these tests run the same operations through graphql-core's own ``execute`` on the same schema
and context and require identical data and errors.
"""

from __future__ import annotations

import asyncio
import math
from typing import Any

import pytest
from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLString,
    Undefined,
    parse,
)
from graphql import execute as graphql_execute
from graphql.utilities.coerce_input_value import coerce_input_value
from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.execution import optimized_is_awaitable

from graph_api.executor import compile_coercer
from graph_api.schema import schema

from .conftest import CUSTOMER, PREDICT, PREDICT_BATCH, Env, make_context

SKIP_INCLUDE = (
    "mutation M($c: CustomerInput!, $s: Boolean!) { predict(customer: $c) { "
    "... on Prediction { clusterId @skip(if: $s) segmentName @include(if: $s) } } }"
)
CASES: list[tuple[str, dict[str, Any] | None, str | None]] = [
    (PREDICT, {"c": CUSTOMER}, None),
    (PREDICT, {"c": CUSTOMER}, "Predict"),
    (PREDICT, {"c": {**CUSTOMER, "age": 5, "spendingScore": 0}}, None),  # InvalidInput
    (PREDICT, {"c": {**CUSTOMER, "age": "thirty"}}, None),  # coercion error
    (PREDICT, {"c": {**CUSTOMER, "age": 2**31}}, None),
    (PREDICT, {"c": {**CUSTOMER, "extra": 1}}, None),
    (PREDICT, {"c": {k: v for k, v in CUSTOMER.items() if k != "age"}}, None),
    (PREDICT, {"c": None}, None),
    (PREDICT, {"c": [CUSTOMER]}, None),
    (PREDICT, {}, None),
    (PREDICT, {"c": {**CUSTOMER, "annualIncome": 80}}, None),  # Int for a Float
    (PREDICT, {"c": {**CUSTOMER, "age": True}}, None),
    (PREDICT, {"c": {**CUSTOMER, "age": 30.0}}, None),
    (PREDICT, {"c": {**CUSTOMER, "annualIncome": math.inf}}, None),
    (PREDICT_BATCH, {"c": [CUSTOMER, {**CUSTOMER, "age": 99}]}, None),
    (PREDICT_BATCH, {"c": CUSTOMER}, None),  # a non-list value is a list of one
    (PREDICT_BATCH, {"c": [CUSTOMER, None]}, None),
    (PREDICT_BATCH, {"c": [CUSTOMER, {**CUSTOMER, "age": 1}]}, None),
    ("mutation M($c: CustomerInput!) { a: predict(customer: $c) { ...P __typename } "
     "b: predict(customer: $c) { ... on Prediction { confidence } } } "
     "fragment P on Prediction { clusterId segmentName }", {"c": CUSTOMER}, None),
    (SKIP_INCLUDE, {"c": CUSTOMER, "s": True}, None),
    (SKIP_INCLUDE, {"c": CUSTOMER, "s": False}, None),
    ("mutation M($c: CustomerInput = {age: 40, annualIncome: 1, spendingScore: 2, "
     "purchaseFrequency: 3}) { predict(customer: $c) { __typename ... on Prediction { clusterId } "
     "... on InvalidInput { errors { field } } } }", {}, None),
    ("query A { health { status } } query B { model { k } }", None, "B"),
    ("mutation T($i: TrainInput) { train(input: $i) { __typename } }", {"i": {"kMin": "x"}},
     None),
    ("{ __typename clusters { clusterId name features { feature mean } } "
     "elbow { optimalK points { k } } }", None, None),
    ("{ __schema { queryType { name } types { name kind } } }", None, None),
]


def _generic(query: str, variables: dict[str, Any] | None, operation_name: str | None,
             ctx: object) -> tuple[Any, list[Any] | None]:
    result = graphql_execute(
        schema._schema, parse(query), context_value=ctx, variable_values=variables,
        operation_name=operation_name, is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        executor_class=schema.execution_context_class)
    assert not asyncio.iscoroutine(result)
    return result.data, [e.formatted for e in result.errors or ()] or None  # type: ignore[union-attr]


@pytest.mark.parametrize("query,variables,operation_name", CASES)
def test_prepared_path_answers_like_graphql_core(
    trained: Env, query: str, variables: dict[str, Any] | None, operation_name: str | None
) -> None:
    ctx = make_context(trained)
    expected = _generic(query, variables, operation_name, ctx)
    for _ in range(2):  # the second run uses the plans the first one cached
        result = asyncio.run(schema.execute(query, variable_values=variables, context_value=ctx,
                                            operation_name=operation_name))
        got = result.data, [e.formatted for e in result.errors or ()] or None
        assert got == expected


def test_field_collection_is_not_cached_when_directives_are_used(trained: Env) -> None:
    ctx = make_context(trained)
    skipped = asyncio.run(schema.execute(SKIP_INCLUDE, {"c": CUSTOMER, "s": True}, ctx)).data
    kept = asyncio.run(schema.execute(SKIP_INCLUDE, {"c": CUSTOMER, "s": False}, ctx)).data
    assert skipped is not None and kept is not None
    assert set(skipped["predict"]) == {"segmentName"}
    assert set(kept["predict"]) == {"clusterId"}


COLOUR = GraphQLEnumType("Colour", {"RED": 1, "GREEN": 2})
INNER = GraphQLInputObjectType("Inner", {
    "n": GraphQLInputField(GraphQLNonNull(GraphQLInt)),
    "tags": GraphQLInputField(GraphQLList(GraphQLString)),
})
OUTER = GraphQLInputObjectType("Outer", {
    "id": GraphQLInputField(GraphQLNonNull(GraphQLID)),
    "x": GraphQLInputField(GraphQLFloat, default_value=1.5),
    "flag": GraphQLInputField(GraphQLBoolean, out_name="is_flag"),
    "colour": GraphQLInputField(COLOUR),
    "inner": GraphQLInputField(GraphQLList(GraphQLNonNull(INNER))),
})
TYPES = [GraphQLNonNull(OUTER), OUTER, GraphQLList(OUTER), GraphQLNonNull(GraphQLList(INNER))]

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**33), 2**33), st.floats(),
                    st.text(max_size=3), st.sampled_from(["RED", "GREEN", "BLUE"]))
KEYS = st.sampled_from(["id", "x", "flag", "colour", "inner", "n", "tags", "other"])
VALUES = st.recursive(SCALARS, lambda children: st.one_of(
    st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=5)), max_leaves=12)
# Mostly well-shaped values with a wrong leaf now and then, so both answers are exercised.
INNER_VALUES = st.fixed_dictionaries(
    {"n": st.one_of(st.integers(-(2**32), 2**32), SCALARS)},
    optional={"tags": st.one_of(st.lists(st.text(max_size=3), max_size=3), st.text(max_size=2),
                                st.lists(SCALARS, max_size=2), SCALARS)},
)
OUTER_VALUES = st.fixed_dictionaries(
    {"id": st.one_of(st.text(max_size=3), st.integers(), SCALARS)},
    optional={"x": st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(),
                             SCALARS),
              "flag": st.one_of(st.booleans(), SCALARS),
              "colour": st.one_of(st.sampled_from(["RED", "GREEN"]), SCALARS),
              "inner": st.one_of(INNER_VALUES, st.lists(INNER_VALUES, max_size=3), SCALARS)},
)
ANY_VALUE = st.one_of(VALUES, OUTER_VALUES, st.lists(OUTER_VALUES, max_size=3),
                      INNER_VALUES, st.lists(INNER_VALUES, max_size=3))


@settings(max_examples=400, deadline=None)
@given(value=ANY_VALUE, index=st.integers(0, len(TYPES) - 1))
def test_compiled_coercion_agrees_with_graphql_core(
    value: Any, index: int
) -> None:
    type_ = TYPES[index]
    coercer = compile_coercer(type_)
    assert coercer is not None
    fast, generic = coercer(value), coerce_input_value(value, type_)
    # Same acceptance (Undefined = graphql-core's own coercion runs and reports the errors)...
    assert (fast is Undefined) == (generic is Undefined)
    # ... and the same value (repr: nan != nan, and 1 == 1.0 == True must not pass).
    assert repr(fast) == repr(generic)
