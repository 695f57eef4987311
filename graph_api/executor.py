"""Per-document work done once: field collection and variable coercion plans, and the executor.

graphql-core repeats, on every request, work that depends only on the (cached) document: it
collects each selection's fields, resolves each variable's type from the AST and coerces the
variables through a generic recursive walk. For a cached document this module does that
preparation once and reuses it, with exactly graphql-core's results:

- Field collection depends on the request only through directives (``@skip``/``@include``
  arguments, ``@defer``) and fragment variables. A document without any ``@`` in its text has
  neither, so the fields collected for (runtime type, field nodes) are the same on every
  request and are kept with the document.
- Variables are coerced by a function compiled once per variable type that follows
  graphql-core's ``coerce_input_value`` step by step. It only accepts: on anything it does not
  accept (a wrong type, a missing required value, a variable's default, oneOf and recursive input
  types) graphql-core's own coercion runs and produces the result and the errors, as before.

After execution the executor's reference cycle (it holds resolver helpers bound to itself) is
broken, so a request's objects are freed at once instead of waiting for the cyclic GC.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    is_leaf_type,
    is_required_input_field,
)
from graphql.execution.collect_fields import (
    CollectedFields,
    FieldDetailsList,
    FragmentDetails,
    collect_subfields,
)
from graphql.execution.get_variable_signature import (
    GraphQLVariableSignature,
    get_variable_signature,
)
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
)
from graphql.language.parser import MAX_NESTING_DEPTH
from graphql.pyutils import is_iterable
from graphql.utilities.coerce_input_value import coerce_default_value
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: A compiled coercion: the coerced value, or Undefined when graphql-core must decide.
Coercer = Callable[[Any], Any]


class SegmentationExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, with field collection shared across requests of one document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.field_cache: dict[tuple[Any, ...], CollectedFields] | None = kwargs.pop(
            "field_cache", None
        )
        super().__init__(*args, **kwargs)
        self._collected: dict[tuple[GraphQLObjectType, int],
                              tuple[FieldDetailsList, CollectedFields]] = {}

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> CollectedFields:
        cache = self.field_cache
        if cache is None:
            return super().collect_subfields(return_type, field_details_list)
        # First this request's memo by list identity (graphql-core's own; a list of 10,000
        # items asks 10,000 times), then the document's cache by field node identity. The
        # nodes belong to the cached document, which the cache lives with, so ids are stable.
        memo_key = (return_type, id(field_details_list))
        memo = self._collected.get(memo_key)
        if memo is not None:
            return memo[1]
        key = (return_type, *[id(details.node) for details in field_details_list])
        collected = cache.get(key)
        if collected is None:
            collected = collect_subfields(
                self.schema, self.fragments, self.variable_values, self.operation,
                return_type, field_details_list, self.hide_suggestions,
            )
            cache[key] = collected
        self._collected[memo_key] = (field_details_list, collected)
        return collected

    def release(self) -> None:
        """Break the executor's reference cycle once nothing runs in the background.

        graphql-core's executor holds resolver helpers bound to itself, so without this every
        request's executor, variables, collected fields and context wait for the cyclic GC
        (about 40 objects per request, a gen-0 collection every ~17 requests under load).
        """
        if not self.background_futures and not self.pending_incremental_futures:
            del self.async_helpers


@dataclass(eq=False)
class OperationPlan:
    """One operation of a cached document: its variables' signatures and coercers."""

    operation: OperationDefinitionNode
    variables: list[tuple[GraphQLVariableSignature, Coercer | None, bool]]

    def coerce(self, inputs: Mapping[str, Any]) -> VariableValues | None:
        """The coerced variables, or None when graphql-core's own coercion must run."""
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for signature, coercer, non_null in self.variables:
            name = signature.name
            value = inputs.get(name, Undefined)
            if value is Undefined:
                if non_null or signature.default is not None:
                    return None  # an error or a default: graphql-core handles it
                sources[name] = VariableValueSource(signature)
                continue
            if coercer is None:
                return None
            result = coercer(value)
            if result is Undefined:
                return None
            sources[name] = VariableValueSource(signature, value)
            coerced[name] = result
        return VariableValues(sources, coerced)


@dataclass(eq=False)
class PreparedDocument:
    """What every execution of one cached, valid document can share."""

    document: DocumentNode
    fragment_definitions: dict[str, FragmentDefinitionNode]
    fragments: dict[str, FragmentDetails]
    operations: dict[str | None, OperationPlan]
    field_cache: dict[tuple[Any, ...], CollectedFields] | None = field(default=None)

    def plan(self, operation_name: str | None) -> OperationPlan | None:
        """The operation graphql-core would pick, or None when it would answer an error."""
        return self.operations.get(operation_name)


def prepare_document(schema: GraphQLSchema, query: str,
                     document: DocumentNode) -> PreparedDocument | None:
    """Plans for a valid document, or None when it needs graphql-core's general path."""
    fragment_definitions: dict[str, FragmentDefinitionNode] = {}
    fragments: dict[str, FragmentDetails] = {}
    operations: list[OperationDefinitionNode] = []
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            operations.append(definition)
        elif isinstance(definition, FragmentDefinitionNode):
            if definition.variable_definitions:
                return None  # fragment variables (experimental): general path
            fragment_definitions[definition.name.value] = definition
            fragments[definition.name.value] = FragmentDetails(definition, None)
    plans: dict[str | None, OperationPlan] = {}
    for operation in operations:
        variables = []
        for var_def in operation.variable_definitions or ():
            signature = get_variable_signature(schema, var_def)
            if not isinstance(signature, GraphQLVariableSignature):
                return None
            variables.append((signature, compile_coercer(signature.type),
                              isinstance(signature.type, GraphQLNonNull)))
        plan = OperationPlan(operation, variables)
        if operation.name is not None:
            plans[operation.name.value] = plan
        if len(operations) == 1:
            plans[None] = plan  # like graphql-core: no name needed for the only operation
    # No "@" anywhere: no directive can make field collection depend on the request.
    field_cache: dict[tuple[Any, ...], CollectedFields] | None = {} if "@" not in query else None
    return PreparedDocument(document, fragment_definitions, fragments, plans, field_cache)


def compile_coercer(type_: GraphQLInputType, depth: int = 0,
                    seen: frozenset[str] = frozenset()) -> Coercer | None:
    """A function doing graphql-core's ``coerce_input_value`` for ``type_``, minus dispatch.

    None for types it does not cover (recursive input types, nesting deeper than
    graphql-core's limit), which then always take graphql-core's path. For the covered ones the
    value's nesting is bounded by the type's, so graphql-core's too-deep check cannot fire.
    """
    if depth > MAX_NESTING_DEPTH:
        return None
    if isinstance(type_, GraphQLNonNull):
        inner = compile_coercer(type_.of_type, depth, seen)
        if inner is None:
            return None
        return lambda value: Undefined if value is None else inner(value)
    if isinstance(type_, GraphQLList):
        item = compile_coercer(type_.of_type, depth + 1, seen)
        if item is None:
            return None
        return lambda value: None if value is None else _coerce_list(value, item)
    if isinstance(type_, GraphQLInputObjectType):
        if type_.name in seen or type_.is_one_of:
            return None
        fields = []
        for name, input_field in type_.fields.items():
            coercer = compile_coercer(input_field.type, depth + 1, seen | {type_.name})
            if coercer is None:
                return None
            fields.append((name, input_field.out_name or name, coercer, input_field))
        return _object_coercer(type_, fields)
    if is_leaf_type(type_):
        return _leaf_coercer(type_)
    return None


def _coerce_list(value: Any, item: Coercer) -> Any:
    if not is_iterable(value):
        coerced = item(value)  # a non-list value is a list of one
        return Undefined if coerced is Undefined else [coerced]
    result = []
    for element in value:
        coerced = item(element)
        if coerced is Undefined:
            return Undefined
        result.append(coerced)
    return result


def _object_coercer(type_: GraphQLInputObjectType,
                    fields: list[tuple[str, str, Coercer, Any]]) -> Coercer:
    names = frozenset(name for name, *_ in fields)
    out_type = type_.out_type

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, dict) or not names.issuperset(value):
            return Undefined
        result: dict[str, Any] = {}
        for name, out_name, coercer, input_field in fields:
            field_value = value.get(name, Undefined)
            if field_value is Undefined:
                if is_required_input_field(input_field):
                    return Undefined
                default = coerce_default_value(input_field)
                if default is not Undefined:
                    result[out_name] = default
                continue
            coerced = coercer(field_value)
            if coerced is Undefined:
                return Undefined
            result[out_name] = coerced
        return out_type(result)

    return coerce


def _leaf_coercer(type_: GraphQLLeafType) -> Coercer:
    coerce_input = type_.coerce_input_value

    def coerce(value: Any) -> Any:
        if value is None:
            return None
        try:
            return coerce_input(value)
        except Exception:  # noqa: BLE001 (graphql-core's rule: any failure is "no value")
            return Undefined

    return coerce
