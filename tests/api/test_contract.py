"""The running schema against the public contract, versions 1 and 2, name by name.

``tests/api/contract/v1.graphql`` and ``v2.graphql`` are verbatim copies of the SDL blocks of
``../shared/CONTRACT.md`` (CI runs on a clean clone where that file may be absent); when the
shared contract is present, the copies must still match it.

The contract is a floor: every name, type, nullability, argument and default it shows must be in
the schema exactly; the schema may add fields, types, union members and enum values, and
arguments or input fields as long as clients may leave them out.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLUnionType,
    InputObjectTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
    ScalarTypeDefinitionNode,
    Undefined,
    UnionTypeDefinitionNode,
    build_schema,
    parse,
    print_ast,
)

from graph_api.schema import schema

HERE = Path(__file__).resolve().parent
COPIES = {"v1": HERE / "contract" / "v1.graphql", "v2": HERE / "contract" / "v2.graphql"}
ROOT = HERE.parents[1]
SHARED = [p / "shared" / "CONTRACT.md" for p in (ROOT.parent, ROOT.parent.parent)]
LIVE = build_schema(str(schema))
PREDICTIONS = ("predict", "predictBatch", "predictRecord", "predictRows")


def contract(version: str) -> DocumentNode:
    return parse(COPIES[version].read_text())


def test_the_copies_match_the_shared_contract() -> None:
    shared = next((p for p in SHARED if p.is_file()), None)
    if shared is None:
        pytest.skip("../shared/CONTRACT.md is not here (a clean clone); the copies stand in")
    blocks = re.findall(r"```graphql\n(.*?)```", shared.read_text(), re.S)
    assert [COPIES["v1"].read_text(), COPIES["v2"].read_text()] == blocks


def _default(field: GraphQLInputField | GraphQLArgument) -> str | None:
    """A field's or argument's default as SDL text (graphql-core 3.3 keeps the literal)."""
    default = field.default
    if default is not None and default.literal is not None:
        return print_ast(default.literal)
    if field.default_value is not Undefined:
        return repr(field.default_value)
    return None


def _optional(field: GraphQLInputField | GraphQLArgument) -> bool:
    return not isinstance(field.type, GraphQLNonNull) or _default(field) is not None


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_every_contract_name_type_and_nullability(version: str) -> None:
    problems: list[str] = []
    for node in contract(version).definitions:
        name = node.name.value  # type: ignore[attr-defined]
        live = LIVE.get_type(name)
        if live is None:
            problems.append(f"type {name} is missing")
            continue
        if isinstance(node, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            assert isinstance(live, GraphQLObjectType), name
            for field in node.fields or ():
                fname = field.name.value
                live_field = live.fields.get(fname)
                if live_field is None:
                    problems.append(f"{name}.{fname} is missing")
                    continue
                if str(live_field.type) != print_ast(field.type):
                    problems.append(f"{name}.{fname}: {live_field.type} != {print_ast(field.type)}")
                wanted = {a.name.value: a for a in field.arguments or ()}
                for aname, arg in wanted.items():
                    live_arg = live_field.args.get(aname)
                    if live_arg is None:
                        problems.append(f"{name}.{fname}({aname}) is missing")
                    elif str(live_arg.type) != print_ast(arg.type):
                        problems.append(f"{name}.{fname}({aname}): {live_arg.type}")
                    elif arg.default_value is not None and (
                            _default(live_arg) != print_ast(arg.default_value)):
                        problems.append(f"{name}.{fname}({aname}) default {_default(live_arg)}")
                for aname, live_arg in live_field.args.items():
                    if aname not in wanted and not _optional(live_arg):
                        problems.append(f"{name}.{fname}({aname}) is required but not in the "
                                        "contract")
        elif isinstance(node, InputObjectTypeDefinitionNode):
            assert isinstance(live, GraphQLInputObjectType), name
            wanted = {f.name.value: f for f in node.fields or ()}
            for fname, field in wanted.items():
                live_input = live.fields.get(fname)
                if live_input is None:
                    problems.append(f"{name}.{fname} is missing")
                    continue
                if str(live_input.type) != print_ast(field.type):
                    problems.append(f"{name}.{fname}: {live_input.type} != {print_ast(field.type)}")
                if field.default_value is not None:
                    expected = print_ast(field.default_value)
                    if _default(live_input) != expected:
                        problems.append(f"{name}.{fname} default {_default(live_input)} != "
                                        f"{expected}")
            if version == "v1" or name != "TrainInput":
                for fname, live_input in live.fields.items():
                    if fname not in wanted and not _optional(live_input):
                        problems.append(f"{name}.{fname} is required but not in the contract")
        elif isinstance(node, UnionTypeDefinitionNode):
            assert isinstance(live, GraphQLUnionType), name
            members = {t.name for t in live.types}
            missing = {t.name.value for t in node.types or ()} - members
            if missing:
                problems.append(f"union {name} lacks {sorted(missing)}")
        elif isinstance(node, EnumTypeDefinitionNode):
            assert isinstance(live, GraphQLEnumType), name
            missing = {v.name.value for v in node.values or ()} - set(live.values)
            if missing:
                problems.append(f"enum {name} lacks {sorted(missing)}")
        elif isinstance(node, ScalarTypeDefinitionNode):
            assert isinstance(live, GraphQLScalarType), name
        else:  # pragma: no cover - the contract has no other kinds
            problems.append(f"unexpected contract definition {name}")
    assert problems == []


def test_train_result_gains_training_in_progress() -> None:
    union = LIVE.get_type("TrainResult")
    assert isinstance(union, GraphQLUnionType)
    assert [t.name for t in union.types] == [
        "TrainSuccess", "InvalidInput", "Unauthorized", "TrainingInProgress"]


@pytest.mark.parametrize("field", PREDICTIONS)
def test_every_prediction_takes_an_optional_version(field: str) -> None:
    mutation = LIVE.mutation_type
    assert mutation is not None
    assert str(mutation.fields[field].args["version"].type) == "String"


def test_contract_v2_trains_inputs_keep_the_v1_fields() -> None:
    # v2 restates TrainInput as "v1 fields unchanged, plus:"; both halves must hold.
    train_input = LIVE.get_type("TrainInput")
    assert isinstance(train_input, GraphQLInputObjectType)
    assert list(train_input.fields)[:4] == ["kMin", "kMax", "k", "randomState"]
    assert {"datasetId", "features", "missingValues", "minSegmentShare"} <= set(train_input.fields)
