"""Errors every domain's query layer raises and both APIs map the same way."""

from __future__ import annotations


class InvalidQuery(ValueError):
    """An argument the query layer refuses; the message is safe to show to the client (REST: 400, GraphQL:
    an error whose message is shown as it is)."""
