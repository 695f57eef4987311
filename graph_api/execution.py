"""How operations run: the schema class, query limits, cached parse + validation, error masking.

Everything here is built once at import. Strawberry constructs extensions per request, so these
extensions only hold references to rule classes and caches created at module level; a per-request
rebuild of validation rules would defeat the validation cache (BUILD_NOTES: a prototype went from
11 ms to 4 ms p50 when it stopped doing that).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator
from functools import lru_cache
from inspect import isawaitable
from typing import Any, TypeVar

import strawberry
from graphql import (
    ASTValidationRule,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    assert_valid_schema,
    default_field_resolver,
    default_type_resolver,
    get_operation_ast,
    parse,
    specified_rules,
)
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import execute as graphql_execute
from graphql.execution.executor import UNEXPECTED_MULTIPLE_PAYLOADS
from graphql.execution.values import get_variable_values
from strawberry.execution import optimized_is_awaitable
from strawberry.extensions import (
    MaskErrors,
    MaxAliasesLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import validate_document
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from graph_api.executor import (
    OperationPlan,
    PreparedDocument,
    SegmentationExecutor,
    prepare_document,
)

logger = logging.getLogger(__name__)

#: Deepest selection of data fields (the deepest useful query here nests 3 levels).
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


#: Every validation rule, built once: graphql-core's, Strawberry's limiters, our depth guard.
VALIDATION_RULES: tuple[type[ASTValidationRule], ...] = (
    *specified_rules,
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    TotalDepthRule,
)


@lru_cache(maxsize=QUERY_CACHE_SIZE)
def _prepare(
    schema: strawberry.Schema, query: str
) -> tuple[DocumentNode, list[GraphQLError], PreparedDocument | None]:
    """Parse (token-limited) and validate one query text, and plan a valid one; cached by text."""
    document = parse(query, max_tokens=MAX_TOKENS)
    errors = validate_document(schema._schema, document, VALIDATION_RULES)
    prepared = None if errors else prepare_document(schema._schema, query, document)
    return document, errors, prepared


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
                ctx.graphql_document, self._errors, _ = _prepare(ctx.schema, ctx.query)
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


class MaskUnexpectedErrors(MaskErrors):
    """Strawberry's MaskErrors, masking only unexpected resolver exceptions (with a logged id)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return mask(error)


F = TypeVar("F", bound=Callable[..., Any])


def lean(**converters: Callable[[Any], Any]) -> Callable[[F], F]:
    """Mark a hot resolver to be called straight from graphql-core.

    Strawberry wraps every resolver call (an Info object, argument conversion with name mapping,
    the field-extension chain): measured at about 10% of a ``predict`` request. A resolver
    marked ``@lean(arg=convert)`` is installed as the graphql-core resolver of its field, with
    each argument passed through ``convert`` (graphql-core's coerced value -> the Python value
    the resolver's annotation promises). The resolver must only use ``info.context``, which
    graphql-core's info provides too.
    """

    def mark(resolver: F) -> F:
        resolver.__lean_arguments__ = converters  # type: ignore[attr-defined]
        return resolver

    return mark


def _install_lean_resolvers(graphql_type: GraphQLObjectType | None) -> None:
    if graphql_type is None:
        return
    for field in graphql_type.fields.values():
        definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
        base = getattr(definition, "base_resolver", None)
        function = getattr(base, "wrapped_func", None)
        converters = getattr(function, "__lean_arguments__", None)
        if function is not None and converters is not None:
            field.resolve = _lean_resolver(function, converters)


def _install_attribute_resolvers(schema: GraphQLSchema) -> None:
    """Plain attribute fields read with one getattr instead of Strawberry's generic call.

    Strawberry resolves a field without resolver through ``field.get_result`` (a property
    lookup, fresh empty args, then ``getattr``); graphql-core calls the resolver for every field
    of every item, 30,000 times for a 10,000-customer batch. Only fields Strawberry itself
    treats as basic (no resolver, no extensions) are replaced, with the same ``getattr``.
    """
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for field in graphql_type.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if getattr(field.resolve, "_is_default", False) and definition is not None:
                field.resolve = _attribute_resolver(definition.python_name)


def _attribute_resolver(name: str) -> Callable[..., Any]:
    def resolve(source: Any, _info: Any) -> Any:
        return getattr(source, name)

    return resolve


def _lean_resolver(function: Callable[..., Any],
                   converters: dict[str, Callable[[Any], Any]]) -> Callable[..., Any]:
    def resolve(root: Any, info: Any, **kwargs: Any) -> Any:
        for name, convert in converters.items():
            if name in kwargs:
                kwargs[name] = convert(kwargs[name])
        return function(root, info, **kwargs)

    return resolve


class SegmentationSchema(strawberry.Schema):
    """strawberry.Schema with our extensions, a lean execute path and quiet client mistakes.

    ``execute`` runs well-formed operations straight on graphql-core with Strawberry's resolvers
    and execution context: the cached document and validation result, then execution, then
    masking. That is what Strawberry does, minus its per-request extension machinery (eight
    async context-manager hooks per request), which cost about a third of a ``predict``.
    Anything unusual (no query, a syntax error, no operation) takes Strawberry's own path,
    where the same extensions give the same results. A valid cached document also carries
    per-document plans (graph_api/executor.py: field collection, variable coercion), so its
    executions skip graphql-core's per-request preparation with the same results.
    """

    def __init__(self, query: type, mutation: type, **kwargs: Any) -> None:
        super().__init__(
            query=query,
            mutation=mutation,
            extensions=[CachedQueryPreparation, MaskUnexpectedErrors],
            **kwargs,
        )
        _install_lean_resolvers(self._schema.query_type)
        _install_lean_resolvers(self._schema.mutation_type)
        _install_attribute_resolvers(self._schema)

    async def execute(  # noqa: PLR0913 (Strawberry's signature)
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        def strawberry_path() -> Awaitable[ExecutionResult]:
            return super(SegmentationSchema, self).execute(
                query, variable_values, context_value, root_value, operation_name,
                allowed_operation_types, operation_extensions)

        if query is None:
            return await strawberry_path()
        try:
            document, errors, prepared = _prepare(self, query)
        except GraphQLError:
            return await strawberry_path()
        if errors:
            self.process_errors(errors)
            return ExecutionResult(data=None, errors=list(errors))
        plan = prepared.plan(operation_name) if prepared is not None else None
        operation = plan.operation if plan is not None else get_operation_ast(
            document, operation_name)
        if operation is None:
            return await strawberry_path()
        operation_type = OperationType(operation.operation.value)
        if allowed_operation_types is not None and operation_type not in allowed_operation_types:
            raise InvalidOperationTypeError(operation_type)
        if prepared is None or plan is None:
            result = graphql_execute(
                self._schema,
                document,
                root_value=root_value,
                context_value=context_value,
                variable_values=variable_values,
                operation_name=operation_name,
                is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
                executor_class=self.execution_context_class,
                operation_extensions=operation_extensions,
            )
            if isawaitable(result):
                result = await result
        else:
            result = await self._execute_prepared(prepared, plan, variable_values or {},
                                                  context_value, root_value,
                                                  operation_extensions)
        masked = [mask(e) if is_unexpected(e) else e for e in result.errors or ()]
        return ExecutionResult(data=result.data, errors=masked or None)

    async def _execute_prepared(  # noqa: PLR0913
        self,
        prepared: PreparedDocument,
        plan: OperationPlan,
        raw_variables: dict[str, Any],
        context_value: Any,
        root_value: Any,
        operation_extensions: dict[str, Any] | None,
    ) -> GraphQLExecutionResult:
        """What graphql-core's ``execute`` does, with the document's plans reused."""
        schema = self._schema
        assert_valid_schema(schema)
        operation = plan.operation
        variables = plan.coerce(raw_variables)
        if variables is None:  # anything the plan does not accept: graphql-core's coercion
            coerced = get_variable_values(
                schema, operation.variable_definitions or (), raw_variables, max_errors=50)
            if isinstance(coerced, list):
                return GraphQLExecutionResult(None, coerced)
            variables = coerced
        executor = SegmentationExecutor(
            schema,
            prepared.fragment_definitions,
            prepared.fragments,
            root_value,
            context_value,
            operation,
            variables,
            default_field_resolver,
            default_type_resolver,
            default_field_resolver,
            is_awaitable=optimized_is_awaitable,
            operation_extensions=operation_extensions,
            field_cache=prepared.field_cache,
        )
        result = executor.execute_operation()
        if isawaitable(result):
            result = await result
        executor.release()
        if not isinstance(result, GraphQLExecutionResult):
            # The schema has no @defer/@stream, so validation refuses incremental delivery.
            raise GraphQLError(UNEXPECTED_MULTIPLE_PAYLOADS)
        return result

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client mistakes are the client's business (DEBUG); unexpected ones are logged with
        # their id and stack trace by MaskUnexpectedErrors.
        for error in errors:
            if not is_unexpected(error):
                logger.debug("GraphQL request rejected: %s", error.message)
