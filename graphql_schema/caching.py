"""Parse and validate each distinct document once per process, not once per request.

A dashboard sends the same few documents over and over with different variables. Validating a 20-row page's
document walks it with every rule of the GraphQL spec and the limiters: about a fifth of the CPU of the whole
request, measured with the profiler. Validation does not depend on variables, so a document that passed is
remembered by its text (and by whether introspection was allowed when it passed, since that adds a rule); a
document that failed is validated again each time, so its errors are always fresh.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

MAX_DOCUMENTS = 256

_lock = threading.Lock()
_valid: OrderedDict[tuple[str, bool], object] = OrderedDict()  # (query, introspection) -> parsed document


def _introspection_enabled() -> bool:
    from graphql_schema.schema import introspection_enabled  # the schema module imports this one

    return introspection_enabled()


class ValidatedDocumentCache(SchemaExtension):
    """Skip parsing and validation for a document that already passed both in this process.

    Listed first among the extensions, so that for a remembered document the limiters' checks (which it
    passed when it was first seen, under the same fixed limits) are skipped as well.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        self.key = (context.query or "", _introspection_enabled())
        with _lock:
            document = _valid.get(self.key)
            if document is not None:
                _valid.move_to_end(self.key)
        if document is not None:
            context.graphql_document = document  # Strawberry parses only when no document is set
            self.remembered = True
        else:
            self.remembered = False
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if self.remembered:
            context.pre_execution_errors = []  # validated when first seen; Strawberry skips validation
        yield
        if not self.remembered and context.pre_execution_errors == [] and context.graphql_document:
            with _lock:
                _valid[self.key] = context.graphql_document
                while len(_valid) > MAX_DOCUMENTS:
                    _valid.popitem(last=False)


def clear() -> None:
    """Forget every remembered document (tests that change the limits or the schema)."""
    with _lock:
        _valid.clear()
