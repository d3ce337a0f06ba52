"""How GraphQL executes here: graphql-core's executor, with a short path for objects of plain values.

A 20-row page has 360 column values. For each, graphql-core makes a path entry, builds a ResolveInfo, calls
the resolver, checks for an awaitable and completes the value through its general machinery: about 10 µs a
value, most of a page's GraphQL overhead over REST. A column needs none of that: Strawberry resolves it by
reading an attribute (a "basic" field, which ignores the info), and its type is a scalar or an enum, or a
list of them (the filter options' strings).

So when every field selected on an object is such a value (or ``__typename``), the object is completed in
one loop from a plan made once per selection and request: read, serialize, done. Anything unusual (a null
where the type forbids one, a value the scalar refuses, a field with a resolver, arguments or a middleware)
sends the whole object down graphql-core's own path, which reports it exactly as before.
"""

from __future__ import annotations

from typing import Any

from graphql import GraphQLList, GraphQLNonNull, is_leaf_type
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

TYPENAME = "__typename"


class _FullPath(Exception):
    """A value the short path does not complete: graphql-core's executor does, and reports any error."""


class ColumnFastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def execute_fields(
        self,
        parent_type: Any,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set)
        if plan is not None:
            try:
                return {
                    name: parent_type.name
                    if resolve is None
                    else _complete_plain(field_type, resolve(source_value, None))
                    for name, resolve, field_type in plan
                }
            except Exception:  # noqa: S110 - the full path below raises it again and reports it
                pass
        return super().execute_fields(parent_type, source_value, path, grouped_field_set, position_context)

    def _plan(self, parent_type: Any, grouped_field_set: Any) -> list[tuple] | None:
        """(response name, resolver or None for ``__typename``, type) per field, if every field is plain.

        graphql-core collects a selection once per request and type, so the rows of a page share one
        grouped field set; its plan is remembered for the request, by type and set (kept with the plan, so
        that its id stays its own).
        """
        plans = self.__dict__.setdefault("_plain_plans", {})
        key = (id(parent_type), id(grouped_field_set))
        known = plans.get(key)
        if known is not None and known[0] is grouped_field_set:
            return known[1]
        plan: list[tuple] | None = []
        for response_name, field_details_list in grouped_field_set.items():
            field_node = field_details_list[0].node
            name = field_node.name.value
            if name == TYPENAME and not field_node.arguments:
                plan.append((response_name, None, None))
                continue
            field_def = parent_type.fields.get(name)
            resolve = field_def.resolve if field_def is not None else None
            if (
                _reads_an_attribute(field_def)
                and not field_node.arguments
                and _plain_type(field_def.type)
                and self._unwrapped(resolve)
            ):
                plan.append((response_name, resolve, field_def.type))
            else:
                plan = None
                break
        plans[key] = (grouped_field_set, plan)
        return plan

    def _unwrapped(self, resolve: Any) -> bool:
        """No middleware wraps this resolver (an extension's ``resolve`` hook would)."""
        manager = self.middleware_manager
        return manager is None or manager.get_field_resolver(resolve) is resolve


def _reads_an_attribute(field_def: Any) -> bool:
    """Strawberry resolves the field by reading an attribute, without the info (a "basic" field).

    ``_is_default`` alone does not say so: Strawberry also marks the full resolver of a field without a
    resolver function but with extensions (permissions) that way, and that one needs the info.
    """
    if field_def is None or not getattr(field_def.resolve, "_is_default", False):
        return False
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return bool(getattr(definition, "is_basic_field", False))


def _plain_type(field_type: Any) -> bool:
    """A leaf (scalar or enum) or a list of non-null leaves, nullable or not."""
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    if isinstance(inner, GraphQLList):
        return isinstance(inner.of_type, GraphQLNonNull) and is_leaf_type(inner.of_type.of_type)
    return is_leaf_type(inner)


def _complete_plain(field_type: Any, value: Any) -> Any:
    """``value`` serialized as graphql-core would complete it for a plain type; ``_FullPath`` (or the
    scalar's own error) for anything it would report."""
    nullable = not isinstance(field_type, GraphQLNonNull)
    inner = field_type if nullable else field_type.of_type
    if value is None:
        if nullable:
            return None
        raise _FullPath
    if isinstance(inner, GraphQLList):
        if not isinstance(value, list | tuple):  # graphql-core accepts any iterable; its path handles others
            raise _FullPath
        item_type = inner.of_type.of_type
        return [_serialized(item_type, item) for item in value]
    return _serialized(inner, value)


def _serialized(leaf_type: Any, value: Any) -> Any:
    if value is None:
        raise _FullPath
    # graphql-core's own completion of a leaf: it raises on a value that the scalar refuses.
    return StrawberryGraphQLCoreExecutionContext.complete_leaf_value(leaf_type, value)
