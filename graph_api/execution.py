"""How operations run: the schema's extensions, query limits, cached parse + validation, masking.

Everything here goes through Strawberry's public extension hooks (``on_operation``, ``on_parse``,
``on_validate``) and graphql-core's public validation rules; operations execute on Strawberry's own
``Schema.execute``, so permission classes, field extensions and exception handlers run on every
field. The rule classes are built once at import: a per-request rebuild of validation rules would
defeat any validation cache (BUILD_NOTES: a prototype went from 11 ms to 4 ms p50 when it stopped
doing that).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator

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
)
from strawberry.extensions import (
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.types import ExecutionContext

logger = logging.getLogger(__name__)

#: Deepest selection of data fields (the deepest useful query here nests 4 levels).
MAX_DEPTH = 10
#: Most aliases in one document.
MAX_ALIASES = 30
#: Most lexical tokens in one document (GraphiQL's introspection query has about 200).
#: Send batches as variables: a 10,000-customer literal would be ~130,000 tokens.
MAX_TOKENS = 2_000
#: Deepest selection counting introspection fields, which QueryDepthLimiter ignores. GraphiQL's
#: introspection query measures 14 (nested `ofType`); hostile ones nest dozens deep.
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


#: Our limits as validation rules, built once: Strawberry's limiters and the total depth guard.
LIMIT_RULES: tuple[type[ASTValidationRule], ...] = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    TotalDepthRule,
)


class _PreparedDocuments:
    """Parsed documents and their validation errors, by query text (bounded LRU, thread-safe)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[str, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, query: str) -> tuple[DocumentNode, list[GraphQLError]] | None:
        with self._lock:
            entry = self._entries.get(query)
            if entry is not None:
                self._entries.move_to_end(query)
            return entry

    def put(self, query: str, document: DocumentNode, errors: list[GraphQLError]) -> None:
        with self._lock:
            self._entries[query] = (document, errors)
            self._entries.move_to_end(query)
            while len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


#: One cache per process: the API serves one schema, and the limits above never change.
PREPARED = _PreparedDocuments(QUERY_CACHE_SIZE)


class QueryLimitsAndCache(SchemaExtension):
    """The query limits, and parse + validation done once per distinct query text.

    Strawberry parses and validates every request (its ``ParserCache`` and ``ValidationCache``
    extensions key the second cache by the parsed document, whose hash walks the whole AST:
    about 20 us per request here). This extension uses the same hooks, keyed by the query
    text: on a hit it hands Strawberry the cached document and validation result, which makes
    Strawberry skip both steps; on a miss Strawberry parses and validates as usual (token limit
    and rules included) and the outcome is stored. Syntax errors are not cached.
    """

    def on_operation(self) -> Iterator[None]:
        ctx = self.execution_context
        ctx.parse_options["max_tokens"] = MAX_TOKENS
        ctx.validation_rules = (*ctx.validation_rules, *LIMIT_RULES)
        yield

    def on_parse(self) -> Iterator[None]:
        ctx = self.execution_context
        self._cached = PREPARED.get(ctx.query) if ctx.query else None
        if self._cached is not None:
            ctx.graphql_document = self._cached[0]  # Strawberry then skips parsing
        yield

    def on_validate(self) -> Iterator[None]:
        ctx = self.execution_context
        if self._cached is not None:
            ctx.pre_execution_errors = list(self._cached[1])  # Strawberry then skips validation
            yield
            return
        yield
        if ctx.query and ctx.graphql_document is not None:
            PREPARED.put(ctx.query, ctx.graphql_document, list(ctx.pre_execution_errors or ()))


def is_unexpected(error: GraphQLError) -> bool:
    """True for exceptions raised inside resolvers (bugs, outages), not for client mistakes.

    Syntax, validation and variable-coercion errors have no Python exception behind them (or
    a GraphQLError); those stay visible so clients can fix their query.
    """
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def mask(error: GraphQLError) -> GraphQLError:
    """"Unexpected error (id ...)" in place of ``error``; the id is logged with the stack trace."""
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


class MaskUnexpectedErrors(SchemaExtension):
    """Replace unexpected resolver exceptions by "Unexpected error (id ...)" (id logged).

    What Strawberry's ``MaskErrors(should_mask_error=is_unexpected)`` does for these results,
    without its per-request ``isinstance`` check against a runtime Protocol (13 us here, on
    every request, errors or not): a result without errors is left alone at the cost of one
    attribute read.
    """

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = [mask(e) if is_unexpected(e) else e for e in errors]  # type: ignore[union-attr]


class SegmentationSchema(strawberry.Schema):
    """strawberry.Schema with our extensions and quiet logging of client mistakes.

    Client mistakes (syntax, validation, variable types) are the client's business and are
    logged at DEBUG; unexpected exceptions are logged with their id and stack trace by
    MaskUnexpectedErrors, which replaces them with "Unexpected error (id ...)".
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            if not is_unexpected(error):
                logger.debug("GraphQL request rejected: %s", error.message)


#: The schema extensions, as classes: Strawberry builds a fresh instance per request.
EXTENSIONS = (QueryLimitsAndCache, MaskUnexpectedErrors)
