"""What one GraphQL document may cost, checked before anything expensive runs.

The values let a real dashboard document through (a page of studies, every statistic, a handful of aliased
variants, GraphiQL's own introspection) and refuse abusive ones. ``tests/test_graphql_limits.py`` holds one
document of each kind.

``DocumentGuard`` runs first, in linear time, before graphql-core's validation and Strawberry's depth and
alias limiters: those expand every fragment spread where it is used, so a "fragment bomb" (ten fragments, each
spreading the next one twice) costs them 2^10 walks of the same selections and more for each further level,
while it is only a few hundred tokens. The guard sizes each fragment once (memoised) and refuses the document
outright, so validation never sees it.
"""

from __future__ import annotations

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
)
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter, SchemaExtension, ValidationCache

# Lexical tokens in one document (MaxTokensLimiter). GraphiQL's introspection query is about 300.
MAX_TOKENS = 2_000
# Nesting of fields below the root (QueryDepthLimiter; introspection fields are not counted). The deepest
# field of this schema is at depth 3 (studyStatistics → turnaround → orderToReport → count).
MAX_DEPTH = 6
# Aliased fields in one document (MaxAliasesLimiter): a dashboard asks a few variants of the same field.
MAX_ALIASES = 20
# Fields of a document once every fragment spread is expanded where it is used (DocumentGuard).
MAX_EXPANDED_FIELDS = 1_000
# Nesting of selection sets, fragment spreads and input values (AND / OR / NOT) (DocumentGuard).
MAX_NESTING = 40
# Items of one list literal, e.g. an `inList` (DocumentGuard); variables are bounded by graphql-core.
MAX_LIST_ITEMS = 1_000
# Distinct documents whose parse and validation Strawberry's ParserCache and ValidationCache keep: a
# dashboard sends the same few documents over and over, and validation is a fifth of a page's CPU.
CACHED_DOCUMENTS = 256

# The depth and alias limits as validation rules, made once. The limiters make a new rule class each time
# one is constructed (per request), and ValidationCache, keyed by the rules, would then never find a
# document it had validated.
LIMIT_RULES = (
    *QueryDepthLimiter(max_depth=MAX_DEPTH).validation_rules,
    *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
)


class DocumentTooComplex(Exception):
    """The document exceeds a limit; the message says which, and is safe to show."""


class _Sizer:
    def __init__(self, document: DocumentNode) -> None:
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.fragment_sizes: dict[str, int] = {}
        self.expanding: set[str] = set()

    def selection_set(self, node: SelectionSetNode, nesting: int) -> int:
        if nesting > MAX_NESTING:
            raise DocumentTooComplex(f"The document is nested more than {MAX_NESTING} levels deep")
        size = 0
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                for argument in selection.arguments or ():
                    check_value(argument.value, nesting)
                size += 1
                if selection.selection_set is not None:
                    size += self.selection_set(selection.selection_set, nesting + 1)
            elif isinstance(selection, InlineFragmentNode):
                size += self.selection_set(selection.selection_set, nesting + 1)
            elif isinstance(selection, FragmentSpreadNode):
                size += self.fragment(selection.name.value, nesting + 1)
            if size > MAX_EXPANDED_FIELDS:
                raise DocumentTooComplex(
                    f"The document selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are "
                    "expanded"
                )
        return size

    def fragment(self, name: str, nesting: int) -> int:
        if name in self.fragment_sizes:
            return self.fragment_sizes[name]
        definition = self.fragments.get(name)
        if definition is None:
            raise DocumentTooComplex(f"Unknown fragment {name!r}")
        if name in self.expanding:
            raise DocumentTooComplex(f"Fragment {name!r} spreads itself")
        self.expanding.add(name)
        size = self.selection_set(definition.selection_set, nesting)
        self.expanding.discard(name)
        self.fragment_sizes[name] = size
        return size


def check_value(value: ValueNode, nesting: int) -> None:
    """Refuse input literals nested too deeply or with too many items."""
    if nesting > MAX_NESTING:
        raise DocumentTooComplex(f"An argument is nested more than {MAX_NESTING} levels deep")
    if isinstance(value, ListValueNode):
        if len(value.values) > MAX_LIST_ITEMS:
            raise DocumentTooComplex(f"A list argument has more than {MAX_LIST_ITEMS} items")
        for item in value.values:
            check_value(item, nesting + 1)
    elif isinstance(value, ObjectValueNode):
        for field in value.fields:
            check_value(field.value, nesting + 1)


def check_document(document: DocumentNode) -> None:
    """Raise DocumentTooComplex if ``document`` is too large once expanded; linear in its size."""
    sizer = _Sizer(document)
    total = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            total += sizer.selection_set(definition.selection_set, 1)
        elif isinstance(definition, FragmentDefinitionNode):
            sizer.fragment(definition.name.value, 1)  # unused fragments too: validation walks them all
        if total > MAX_EXPANDED_FIELDS:
            raise DocumentTooComplex(
                f"The document selects more than {MAX_EXPANDED_FIELDS} fields once its fragments are expanded"
            )


class DocumentGuard(SchemaExtension):
    """Refuse an oversized document before validation runs (see the module's docstring)."""

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is not None and context.pre_execution_errors is None:
            try:
                check_document(context.graphql_document)
            except DocumentTooComplex as error:
                # Strawberry skips validation (and so the costly rules) when errors are already set.
                context.pre_execution_errors = [
                    GraphQLError(str(error), extensions={"code": "QUERY_TOO_COMPLEX"})
                ]
            except RecursionError:
                context.pre_execution_errors = [
                    GraphQLError(
                        "The document is nested too deeply", extensions={"code": "QUERY_TOO_COMPLEX"}
                    )
                ]
        yield


class GuardedValidationCache(ValidationCache):
    """Strawberry's validation cache, which does not validate a document the guard refused.

    ``ValidationCache`` validates (or recalls) whatever document it is given, replacing errors set before
    it; a fragment bomb that ``DocumentGuard`` refused would then be validated in full, and run.
    """

    def __init__(self) -> None:
        super().__init__(maxsize=CACHED_DOCUMENTS)

    def on_validate(self) -> Iterator[None]:
        if self.execution_context.pre_execution_errors is not None:
            yield
            return
        yield from super().on_validate()
