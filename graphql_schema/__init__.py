"""Strawberry GraphQL API over the studies query layer (issue 4)."""
