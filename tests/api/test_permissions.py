"""One mechanism guards every state-changing mutation: the IsAuthorized permission class.

Read from the schema definition itself, so a mutation added later without the permission fails
here instead of silently accepting callers without the key.
"""

from __future__ import annotations

from strawberry.types.base import StrawberryObjectDefinition

from graph_api.permissions import IsAuthorized
from graph_api.schema import schema

#: Mutations that change nothing (they only compute predictions); every other one is guarded.
READ_ONLY_MUTATIONS = {"predict", "predictBatch", "predictRecord", "predictRows"}


def mutation_fields() -> dict[str, list[type]]:
    definition = schema.get_type_by_name("Mutation")
    assert isinstance(definition, StrawberryObjectDefinition)
    return {
        schema.config.name_converter.get_graphql_name(field): list(field.permission_classes)
        for field in definition.fields
    }


def test_every_state_changing_mutation_lists_the_permission() -> None:
    fields = mutation_fields()
    assert "train" in fields
    missing = [name for name, permissions in fields.items()
               if name not in READ_ONLY_MUTATIONS and IsAuthorized not in permissions]
    assert missing == [], f"state-changing mutations without IsAuthorized: {missing}"


def test_predictions_need_no_key() -> None:
    fields = mutation_fields()
    guarded = [name for name in READ_ONLY_MUTATIONS & set(fields) if fields[name]]
    assert guarded == []


def test_every_guarded_mutation_can_answer_unauthorized() -> None:
    # The refusal is mapped into the field's result union, so the union must have the member.
    result = schema.execute_sync(
        '{ __type(name: "Mutation") { fields { name type { ofType { name possibleTypes '
        "{ name } } } } } }"
    )
    assert result.errors is None and result.data is not None
    for field in result.data["__type"]["fields"]:
        if field["name"] in READ_ONLY_MUTATIONS:
            continue
        members = {t["name"] for t in field["type"]["ofType"]["possibleTypes"] or ()}
        assert "Unauthorized" in members, field["name"]
