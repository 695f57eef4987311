"""How operations run: the schema class, query limits, cached parse + validation, error masking.

Everything here is built once at import. Strawberry constructs extensions per request, so these
extensions only hold references to rule classes and caches created at module level; a per-request
rebuild of validation rules would defeat the validation cache (measured: 11 ms -> 4 ms p50 when a
prototype stopped doing that).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    parse,
    specified_rules,
)
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

logger = logging.getLogger(__name__)

#: Deepest selection of data fields (the deepest useful query here has depth 4).
MAX_DEPTH = 10
#: Most aliases in one document.
MAX_ALIASES = 30
#: Most lexical tokens in one document (GraphiQL's introspection query has about 200).
#: Send batches as variables: a 10,000-customer literal would be ~130,000 tokens.
MAX_TOKENS = 2_000
#: Deepest selection counting introspection fields, which QueryDepthLimiter ignores. GraphiQL's
#: introspection query nests 13 deep (`ofType` 9 times); hostile ones nest dozens deep.
MAX_TOTAL_DEPTH = 16
#: Distinct query texts whose parse + validation result is kept (LRU).
QUERY_CACHE_SIZE = 256


def _selection_depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    limit: int,
    visiting: frozenset[str] = frozenset(),
) -> int:
    """Depth of a selection set counting every field; stops descending past ``limit``."""
    if selection_set is None or limit < 0:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            depth = (
                1 + _selection_depth(selection.selection_set, fragments, limit - 1, visiting)
                if selection.selection_set
                else 0
            )
        elif isinstance(selection, InlineFragmentNode):
            depth = _selection_depth(selection.selection_set, fragments, limit, visiting)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in visiting:  # cycles are reported by NoFragmentCycles
                continue
            depth = _selection_depth(fragment.selection_set, fragments, limit, visiting | {name})
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            break
    return deepest


class TotalDepthRule(ValidationRule):
    """Refuse documents nested deeper than MAX_TOTAL_DEPTH, introspection fields included."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        document = context.document
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            depth = _selection_depth(definition.selection_set, fragments, MAX_TOTAL_DEPTH)
            if depth > MAX_TOTAL_DEPTH:
                context.report_error(
                    GraphQLError(
                        f"Selections nested deeper than {MAX_TOTAL_DEPTH} levels are refused "
                        "(introspection included).",
                        definition,
                    )
                )


#: Every validation rule, built once: graphql-core's, Strawberry's limiters, our depth guard.
VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (
    *specified_rules,
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    TotalDepthRule,
)


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def _prepare(schema: strawberry.Schema, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
    """Parse (token-limited) and validate one query text; cached by text."""
    document = parse(query, max_tokens=MAX_TOKENS)
    return document, validate_document(schema._schema, document, VALIDATION_RULES)


class CachedQueryPreparation(SchemaExtension):
    """Parse and validate each distinct query text once (LRU), with the limits above.

    Replaces Strawberry's ParserCache + ValidationCache + limiter extensions with one lookup
    keyed by the query text (hashing a str is C-speed; hashing a DocumentNode walks the AST).
    """

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = MAX_TOKENS
        self._errors: list[GraphQLError] | None = None
        if ctx.query is not None:
            try:
                ctx.graphql_document, self._errors = _prepare(ctx.schema, ctx.query)
            except GraphQLError:
                # Syntax errors and the token limit are not cached: Strawberry parses again
                # (with the same max_tokens) and reports the error the standard way.
                pass
        yield

    def on_validate(self) -> Iterator[None]:
        errors = self._errors
        if errors is not None:
            # A non-None value tells Strawberry validation already ran.
            self.execution_context.pre_execution_errors = list(errors)
        yield


def is_unexpected(error: GraphQLError) -> bool:
    """True for exceptions raised inside resolvers (bugs, outages), not for client mistakes.

    Syntax, validation and variable-coercion errors have no Python exception behind them (or
    a GraphQLError); those stay visible so clients can fix their query.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class MaskUnexpectedErrors(MaskErrors):
    """Hide unexpected resolver exceptions behind "Unexpected error" and an id in the log."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        error_id = uuid.uuid4().hex[:12]
        path = ".".join(str(p) for p in error.path or ())
        logger.error("Unexpected error %s in %s", error_id, path or "operation",
                     exc_info=error.original_error)
        return GraphQLError(
            f"Unexpected error (id {error_id}).",
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={"errorId": error_id},
        )


class SegmentationSchema(strawberry.Schema):
    """strawberry.Schema with our extensions and quiet logging of client mistakes."""

    def __init__(self, query: type, mutation: type, **kwargs: Any) -> None:
        super().__init__(
            query=query,
            mutation=mutation,
            extensions=[CachedQueryPreparation, MaskUnexpectedErrors],
            **kwargs,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes are the client's business (DEBUG); unexpected ones are logged with
        # their id and stack trace by MaskUnexpectedErrors.
        for error in errors:
            if not is_unexpected(error):
                logger.debug("GraphQL request rejected: %s", error.message)
