"""The committed SDL matches the code, and every type, field and argument is described.

(The contract's names, types and nullability are checked in test_contract.py.)
"""

from __future__ import annotations

from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLObjectType

from graph_api.schema import schema

SDL = Path(__file__).resolve().parents[2] / "graph_api" / "schema.graphql"


def test_committed_sdl_matches_the_code() -> None:
    printed = str(schema).rstrip() + "\n"
    assert SDL.read_text() == printed, (
        "graph_api/schema.graphql is out of date; regenerate it with\n"
        "  .venv/bin/python -c \"from graph_api.schema import schema; "
        "open('graph_api/schema.graphql','w').write(str(schema).rstrip() + '\\n')\""
    )


def test_everything_has_a_description() -> None:
    missing: list[str] = []
    for name, type_ in schema._schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if not type_.description:
            missing.append(name)
        if isinstance(type_, GraphQLObjectType | GraphQLInputObjectType):
            for field_name, field in type_.fields.items():
                if not field.description:
                    missing.append(f"{name}.{field_name}")
                for arg_name, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{field_name}({arg_name})")
    assert missing == []
